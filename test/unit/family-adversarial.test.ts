// DCGAN, WGAN, WGAN-GP and LSGAN: one two-player runtime, four presets. Each is shown to learn on
// the ring-of-8 testbed (modes covered rises), to round-trip through a checkpoint exactly, to
// keep its tensor count flat, and to refuse data it cannot use.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { registerWasmTrainingKernels, registerSecondOrderGradients } from '../../electron/core/tf/wasm-kernels.ts';
import { resolveRunConfig, type Family } from '../../electron/common/config.ts';
import { GanTrainer } from '../../electron/core/trainer/gan-trainer.ts';
import type { TrainingData } from '../../electron/core/trainer/data-source.ts';
import { RING_OF_8, samplePointMixture, pointModeCoverage } from '../../electron/core/datasets/builtin-points.ts';
import { builtinMnistArrays } from '../../electron/core/datasets/builtin-mnist.ts';
import { readCheckpoint, writeCheckpoint } from '../../electron/core/trainer/checkpoint.ts';
import { checkRun } from '../../electron/core/families/registry.ts';
import { Rng } from '../../electron/core/models/rng.ts';

const FAMILIES: Family[] = ['dcgan', 'wgan', 'wgan-gp', 'lsgan'];
let ring: TrainingData;
let mnist: TrainingData;

before(async () => {
  registerWasmTrainingKernels();
  registerSecondOrderGradients();
  await tf.setBackend('wasm');
  await tf.ready();
  const { points } = samplePointMixture(RING_OF_8, 10_000);
  ring = { shape: { layout: 'points', height: 1, width: 2, channels: 1, count: 10_000, classes: null }, images: null, imagesB: null, countB: 0, labels: null, points };
  const { arrays } = builtinMnistArrays();
  mnist = { shape: { layout: 'images', height: 28, width: 28, channels: 1, count: 10_000, classes: 10 }, images: arrays.images, imagesB: null, countB: 0, labels: arrays.labels, points: null };
});

/** The family preset with small, fast settings for 2-D data; the objective and regularisers stay the family's. */
const ringConfig = (family: Family, over: Record<string, unknown> = {}) =>
  resolveRunConfig({ dataset: 'x', family, seed: 11, architecture: { latentDim: 16, hiddenUnits: 64 }, optimizer: { g: { lr: 1e-3 }, d: { lr: 1e-3 } }, schedule: { batchSize: 128, dStepsPerG: family === 'wgan-gp' ? 5 : family === 'wgan' ? 2 : 1 }, ...over });

function coverage(trainer: GanTrainer) {
  const z = tf.tensor2d(new Rng(99).fillNormal(new Float32Array(2500 * 16)), [2500, 16]);
  const fake = tf.tidy(() => {
    const s = trainer.family.sample({ z, labels: null, a: null, b: null, extent: [-3, 3] });
    assert.equal(s.kind, 'points');
    return s.kind === 'points' ? s.fake.dataSync() : new Float32Array(0);
  });
  z.dispose();
  return pointModeCoverage(RING_OF_8, fake);
}

for (const family of FAMILIES) {
  test(`${family} learns ring-of-8: modes covered rises`, (t) => {
    const over: Record<string, Record<string, unknown>> = { wgan: { optimizer: { g: { lr: 5e-4 }, d: { lr: 5e-4 } } } };
    const trainer = new GanTrainer(ringConfig(family, over[family]), ring);
    const beforeCov = coverage(trainer);
    for (let i = 0; i < 500; i++) trainer.trainStep(false);
    const afterCov = coverage(trainer);
    trainer.dispose();
    t.diagnostic(`${family}: modes covered ${beforeCov.modesCovered} → ${afterCov.modesCovered}, share within 3σ ${beforeCov.goodShare.toFixed(3)} → ${afterCov.goodShare.toFixed(3)}`);
    assert.ok(afterCov.modesCovered >= 4, `${family} covers only ${afterCov.modesCovered} of 8 modes after 500 steps`);
    assert.ok(afterCov.modesCovered > beforeCov.modesCovered);
  });

  test(`${family} on MNIST: shapes, sample grid, exact checkpoint round trip, flat tensor count`, async () => {
    const config = resolveRunConfig({ dataset: 'x', family, seed: 3, architecture: { gChannels: 16, dChannels: 8, latentDim: 8 }, schedule: { batchSize: 4, dStepsPerG: 1 } });
    const a = new GanTrainer(config, mnist);
    a.trainStep(true);
    const base = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) {
      const s = a.trainStep(i === 1);
      for (const tag of ['loss/g', 'loss/d', 'd/real', 'd/fake']) assert.ok(Number.isFinite(s.scalars[tag]), `${tag} is finite`);
    }
    assert.equal(tf.memory().numTensors, base, 'no tensor leak per step');
    const grid = a.sampleGrid();
    assert.equal(grid.channels, 1);
    assert.equal(grid.width, 8 * 28 + 9 * 2);
    assert.equal(tf.memory().numTensors, base, 'sampling leaks nothing');
    const dir = mkdtempSync(path.join(os.tmpdir(), `gs-${family}-`));
    try {
      const snap = a.snapshot();
      const { dir: ckptDir } = await writeCheckpoint(dir, a.step, 'periodic', snap.tensors, snap.state);
      const b = new GanTrainer(config, mnist);
      b.restore(await readCheckpoint(ckptDir));
      const sa = a.trainStep(false);
      const sb = b.trainStep(false);
      assert.equal(sb.step, sa.step);
      assert.equal(sb.gLoss, sa.gLoss);
      assert.equal(sb.dLoss, sa.dLoss);
      assert.deepEqual(b.sampleGrid().pixels, a.sampleGrid().pixels);
      b.dispose();
    } finally {
      a.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test('configs that do not fit their data are refused naming the mismatch', () => {
  const images = { layout: 'images' as const, height: 28, width: 28, channels: 1, count: 10, classes: 10 };
  const paired = { ...images, layout: 'paired' as const, classes: null };
  assert.match(checkRun(resolveRunConfig({ dataset: 'x', family: 'dcgan' }), paired)[0].message, /dcgan needs unconditional data \(images or points\), but the dataset is paired/);
  assert.match(checkRun(resolveRunConfig({ dataset: 'x', family: 'lsgan', objective: 'energy' }), images)[0].message, /adversarial objective/);
  assert.match(checkRun(resolveRunConfig({ dataset: 'x', family: 'wgan' }), { ...images, width: 20 })[0].message, /square images/);
  assert.match(checkRun(resolveRunConfig({ dataset: 'x', family: 'wgan-gp' }), { ...images, height: 5, width: 5 })[0].message, /halves down to at least 4/);
  assert.deepEqual(checkRun(resolveRunConfig({ dataset: 'x', family: 'wgan-gp' }), images), []);
});

test('dropout in G is a seeded noise source; norms the two-player nets lack are refused, not ignored', () => {
  const images = { layout: 'images' as const, height: 28, width: 28, channels: 1, count: 10, classes: 10 };
  const config = resolveRunConfig({ dataset: 'x', family: 'dcgan', seed: 4, architecture: { gChannels: 16, dChannels: 8, latentDim: 8, dropout: 0.3 }, schedule: { batchSize: 4 } });
  const a = new GanTrainer(config, mnist);
  const b = new GanTrainer(config, mnist);
  for (let i = 0; i < 2; i++) assert.equal(a.trainStep(false).gLoss, b.trainStep(false).gLoss, 'same seed, same masks');
  const withoutDropout = new GanTrainer(resolveRunConfig({ ...config, architecture: { ...config.architecture, dropout: 0 } }), mnist);
  withoutDropout.trainStep(false);
  assert.notEqual(withoutDropout.trainStep(false).gLoss, a.trainStep(false).gLoss);
  for (const t of [a, b, withoutDropout]) t.dispose();
  assert.match(checkRun(resolveRunConfig({ dataset: 'x', family: 'dcgan', architecture: { gNorm: 'spectral' } }), images)[0].message, /batch norm or none, not spectral \(spectral norm and self-attention: use sagan\)/);
  assert.equal(checkRun(resolveRunConfig({ dataset: 'x', family: 'wgan', architecture: { dNorm: 'instance' } }), images)[0].path, 'architecture.dNorm');
  assert.equal(checkRun(resolveRunConfig({ dataset: 'x', family: 'lsgan', architecture: { selfAttention: true } }), images)[0].path, 'architecture.selfAttention');
});
