// EBGAN (issue #4) on the wasm backend: shapes and scalars of a step, an exact save/load round
// trip, no tensor leak per step, configs that do not fit are refused, and a short run on MNIST
// moves samples measurably toward the data (diagonal Fréchet distance of pooled pixels falls and
// the digit classifier grows more confident).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { registerWasmTrainingKernels } from '../../electron/core/tf/wasm-kernels.ts';
import { GanTrainer, type TrainingData } from '../../electron/core/trainer/gan-trainer.ts';
import { readCheckpoint, writeCheckpoint } from '../../electron/core/trainer/checkpoint.ts';
import { builtinMnistArrays } from '../../electron/core/datasets/builtin-mnist.ts';
import { resolveRunConfig, type RunConfig, type RunConfigInput } from '../../electron/common/config.ts';
import { checkRun } from '../../electron/core/families/registry.ts';
import { pullingAway } from '../../electron/core/families/ebgan.ts';
import type { DataShape } from '../../electron/core/families/types.ts';
import { diagonalFrechet, digitClassifier, meanConfidence, pooledFeatures } from '../helpers/learning.ts';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gan-ebgan-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

let data: TrainingData;
before(async () => {
  registerWasmTrainingKernels();
  assert.ok(await tf.setBackend('wasm'));
  await tf.ready();
  const { arrays, manifest } = builtinMnistArrays();
  data = { shape: { layout: 'images', height: 28, width: 28, channels: 1, count: manifest.count, classes: null }, images: arrays.images, imagesB: null, countB: 0, labels: null, points: null };
});

/** Tiny widths so every test stays well inside CI time on 2 cores. */
function config(over: Partial<RunConfigInput> = {}): RunConfig {
  return resolveRunConfig({
    dataset: 'builtin:mnist',
    family: 'ebgan',
    backend: 'wasm',
    seed: 1,
    ...over,
    architecture: { gChannels: 16, dChannels: 16, latentDim: 16, ...over.architecture },
    schedule: { batchSize: 16, scalarEvery: 1, checkpointEvery: 0, ...over.schedule },
  });
}

/** The family's generator on a fixed latent batch (inference mode), as a flat NHWC array. */
function samples(t: GanTrainer, n: number, seed: number): Float32Array {
  const z = tf.tidy(() => tf.randomNormal([n, t.config.architecture.latentDim], 0, 1, 'float32', seed) as tf.Tensor2D);
  const out = tf.tidy(() => {
    const s = t.family.sample({ z, labels: null, a: null, b: null, extent: null });
    assert.equal(s.kind, 'grid');
    return tf.clipByValue(s.kind === 'grid' ? s.images : tf.zeros([0]), -1, 1);
  });
  const v = out.dataSync() as Float32Array;
  tf.dispose([z, out]);
  return v;
}

describe('ebgan family', () => {
  test('a step returns the energies, losses and grad norms; samples are 28×28×1 in [-1, 1]', () => {
    const t = new GanTrainer(config(), data);
    try {
      assert.deepEqual(Object.keys(t.family.networks).sort(), ['D', 'G']);
      assert.ok(t.family.networks.D.trainable().some(([n]) => n.startsWith('enc/')) && t.family.networks.D.trainable().some(([n]) => n.startsWith('dec/')), 'D is an encoder and a decoder');
      const s = t.trainStep(true);
      for (const tag of ['loss/d', 'loss/g', 'd/real', 'd/fake', 'grad/d_norm', 'grad/g_norm', 'ebgan/pull_away']) assert.ok(Number.isFinite(s.scalars[tag]), `${tag} is finite`);
      // energies are mean squared reconstruction errors; the pulling-away term is a mean squared cosine
      assert.ok(s.dReal >= 0 && s.dFake >= 0);
      assert.ok(s.scalars['ebgan/pull_away'] >= 0 && s.scalars['ebgan/pull_away'] <= 1);
      // L_D = D(x) + mean [m − D(G(z))]⁺ with m = 1 (the preset): by Jensen at least the hinge of the
      // mean fake energy, at most D(x) + m
      assert.ok(s.dLoss >= s.dReal + Math.max(0, 1 - s.dFake) - 1e-5 && s.dLoss <= s.dReal + 1 + 1e-5, 'D loss is the real energy plus the margin hinge');
      const grid = t.sampleGrid();
      assert.equal(grid.channels, 1);
      const x = tf.tidy(() => {
        const out = t.family.sample({ z: tf.zeros([4, 16]) as tf.Tensor2D, labels: null, a: null, b: null, extent: null });
        return out.kind === 'grid' ? out.images : tf.zeros([0]);
      });
      assert.deepEqual(x.shape, [4, 28, 28, 1]);
      const v = x.dataSync();
      x.dispose();
      assert.ok(v.every((p) => p >= -1 && p <= 1));
    } finally {
      t.dispose();
    }
  });

  test('the pulling-away term is 0 for orthogonal codes and 1 for parallel ones', () => {
    const [ortho, parallel] = tf.tidy(() => [pullingAway(tf.tensor2d([[1, 0, 0], [0, 2, 0], [0, 0, 3]])), pullingAway(tf.tensor2d([[1, 1], [2, 2], [-3, -3]]))].map((t) => tf.keep(t)));
    assert.ok(Math.abs(ortho.dataSync()[0]) < 1e-6);
    assert.ok(Math.abs(parallel.dataSync()[0] - 1) < 1e-5);
    tf.dispose([ortho, parallel]);
  });

  test('snapshot → checkpoint → restore into a fresh trainer gives identical next steps and samples', async () => {
    const a = new GanTrainer(config(), data);
    const b = new GanTrainer(config(), data);
    try {
      for (let i = 0; i < 3; i++) a.trainStep();
      const snap = a.snapshot();
      const written = await writeCheckpoint(path.join(tmp, 'rt'), a.step, 'periodic', snap.tensors, snap.state);
      b.restore(await readCheckpoint(written.dir));
      assert.equal(b.step, 3);
      assert.deepEqual(b.sampleGrid(), a.sampleGrid());
      for (let i = 0; i < 2; i++) assert.deepEqual(b.trainStep(true).scalars, a.trainStep(true).scalars);
      assert.deepEqual(b.sampleGrid(), a.sampleGrid());
    } finally {
      a.dispose();
      b.dispose();
    }
  });

  test('numTensors is flat per step after the first', () => {
    const t = new GanTrainer(config(), data);
    try {
      t.trainStep(true);
      const base = tf.memory().numTensors;
      for (let i = 0; i < 4; i++) {
        t.trainStep(i % 2 === 0);
        assert.equal(tf.memory().numTensors, base, `step ${i + 2}`);
      }
      t.sampleGrid();
      t.snapshot();
      assert.equal(tf.memory().numTensors, base, 'sampling and snapshots free their tensors');
    } finally {
      t.dispose();
    }
  });

  test('checkRun refuses configs that do not fit, naming the mismatch', () => {
    const images = data.shape;
    const points: DataShape = { layout: 'points', height: 1, width: 1, channels: 2, count: 100, classes: null };
    const messages = (cfg: RunConfig, shape: DataShape = images) => checkRun(cfg, shape).map((i) => `${i.path}: ${i.message}`).join('\n');
    assert.equal(messages(config()), '');
    assert.match(messages(config({ objective: 'hinge' })), /objective: ebgan trains with the energy objective, not hinge/);
    assert.match(messages(config(), points), /dataset: ebgan needs an image dataset .*points/);
    assert.match(messages(config({ architecture: { dNorm: 'spectral' } })), /architecture\.dNorm: .*dNorm must be none, not spectral/);
    assert.match(messages(config({ architecture: { gNorm: 'instance' } })), /architecture\.gNorm: .*not instance/);
    assert.match(messages(config({ regularizers: { gradientPenalty: 10 } })), /regularizers\.gradientPenalty/);
    assert.match(messages(config({ tricks: { labelSmoothing: 0.1 } })), /tricks\.labelSmoothing/);
    assert.match(messages(config(), { ...images, height: 28, width: 32 }), /needs square images, the dataset is 28×32/);
  });

  test('a short run moves samples toward MNIST: Fréchet distance falls, classifier confidence rises', () => {
    const n = 256;
    const real = new Float32Array(n * 784);
    for (let i = 0; i < real.length; i++) real[i] = data.images![i] / 127.5 - 1;
    const realFeatures = pooledFeatures(real, n, 28, 28, 1);
    const clf = digitClassifier();
    const t = new GanTrainer(config({ architecture: { latentDim: 16 }, optimizer: { g: { kind: 'adam', lr: 1e-3, beta1: 0.5, beta2: 0.999 }, d: { kind: 'adam', lr: 1e-3, beta1: 0.5, beta2: 0.999 } } }), data);
    try {
      const before = samples(t, n, 7);
      const fdBefore = diagonalFrechet(pooledFeatures(before, n, 28, 28, 1), realFeatures);
      const confBefore = meanConfidence(clf, before, n);
      for (let i = 0; i < 120; i++) t.trainStep();
      const after = samples(t, n, 7);
      const fdAfter = diagonalFrechet(pooledFeatures(after, n, 28, 28, 1), realFeatures);
      const confAfter = meanConfidence(clf, after, n);
      console.log(`ebgan learning: diagonal Fréchet ${fdBefore.toFixed(3)} → ${fdAfter.toFixed(3)}, mean confidence ${confBefore.toFixed(3)} → ${confAfter.toFixed(3)}`);
      assert.ok(fdAfter < fdBefore / 4, `Fréchet distance falls by more than 4× (${fdBefore} → ${fdAfter})`);
      assert.ok(confAfter > confBefore + 0.1, `classifier confidence rises by more than 0.1 (${confBefore} → ${confAfter})`);
    } finally {
      t.dispose();
    }
  });
});
