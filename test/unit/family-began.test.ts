// BEGAN (issue #4) on the wasm backend: shapes and scalars of a step (k_t and M_global included),
// an exact save/load round trip that carries k_t, no tensor leak per step, configs that do not fit
// are refused, and a short run on MNIST moves samples measurably toward the data (diagonal
// Fréchet distance of pooled pixels falls) while M_global, BEGAN's convergence measure, decreases.
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
import type { DataShape } from '../../electron/core/families/types.ts';
import { diagonalFrechet, pooledFeatures } from '../helpers/learning.ts';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gan-began-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

let data: TrainingData;
before(async () => {
  registerWasmTrainingKernels();
  assert.ok(await tf.setBackend('wasm'));
  await tf.ready();
  const { arrays, manifest } = builtinMnistArrays();
  data = { shape: { layout: 'images', height: 28, width: 28, channels: 1, count: manifest.count, classes: null }, images: arrays.images, imagesB: null, countB: 0, labels: null, points: null };
});

const adam = (lr: number) => ({ kind: 'adam' as const, lr, beta1: 0.5, beta2: 0.999 });

/**
 * Tiny widths so every test stays well inside CI time on 2 cores. The paper's λ_k = 0.001 moves
 * k_t too slowly to matter in a few hundred steps; 0.1 with γ = 0.9 lets the controller act at once.
 */
function config(over: Partial<RunConfigInput> = {}): RunConfig {
  return resolveRunConfig({
    dataset: 'builtin:mnist',
    family: 'began',
    backend: 'wasm',
    seed: 1,
    ...over,
    extras: { gamma: 0.9, lambdaK: 0.1, ...over.extras },
    architecture: { gChannels: 16, dChannels: 16, latentDim: 16, ...over.architecture },
    schedule: { batchSize: 16, scalarEvery: 1, checkpointEvery: 0, ...over.schedule },
  });
}

/** The family's generator on a fixed latent batch (inference mode), as a flat NHWC array. */
function samples(t: GanTrainer, n: number, seed: number): Float32Array {
  const z = tf.tidy(() => tf.randomUniform([n, t.config.architecture.latentDim], -1, 1, 'float32', seed) as tf.Tensor2D);
  const out = tf.tidy(() => {
    const s = t.family.sample({ z, labels: null, a: null, b: null, extent: null });
    assert.equal(s.kind, 'grid');
    return tf.clipByValue(s.kind === 'grid' ? s.images : tf.zeros([0]), -1, 1);
  });
  const v = out.dataSync() as Float32Array;
  tf.dispose([z, out]);
  return v;
}

describe('began family', () => {
  test('a step returns L(x), L(G(z)), k_t, M_global and grad norms; samples are 28×28×1 in [-1, 1]', () => {
    const t = new GanTrainer(config(), data);
    try {
      assert.deepEqual(Object.keys(t.family.networks).sort(), ['D', 'G']);
      assert.ok(t.family.networks.D.trainable().some(([n]) => n.startsWith('enc/')) && t.family.networks.D.trainable().some(([n]) => n.startsWith('dec/')), 'D is an encoder and a decoder');
      assert.ok(t.family.networks.G.all().every(([n]) => !/bn|gamma|beta|mean|variance/.test(n)), 'G has no batch norm');
      const s = t.trainStep(true);
      for (const tag of ['loss/d', 'loss/g', 'd/real', 'd/fake', 'grad/d_norm', 'grad/g_norm', 'began/k', 'began/m_global']) assert.ok(Number.isFinite(s.scalars[tag]), `${tag} is finite`);
      const { gamma, lambdaK } = t.config.extras;
      const lx = s.dReal;
      const lg = s.gLoss;
      // k_0 = 0, so the first D loss is L(x) alone; then k_1 = clip(λ_k(γ·L(x) − L(G(z_G))), 0, 1)
      assert.ok(Math.abs(s.dLoss - lx) < 1e-6);
      assert.ok(Math.abs(s.scalars['began/k'] - Math.min(1, Math.max(0, lambdaK * (gamma * lx - lg)))) < 1e-6);
      assert.ok(Math.abs(s.scalars['began/m_global'] - (lx + Math.abs(gamma * lx - lg))) < 1e-5);
      t.sampleGrid();
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

  test('snapshot → checkpoint → restore into a fresh trainer carries k_t and gives identical next steps and samples', async () => {
    const a = new GanTrainer(config(), data);
    const b = new GanTrainer(config(), data);
    try {
      let k = 0;
      for (let i = 0; i < 3; i++) k = a.trainStep().scalars['began/k'];
      assert.ok(k > 0, 'k_t has moved off 0, so a lost k_t would show');
      const snap = a.snapshot();
      assert.equal((snap.state.family as { k: number }).k, k, 'k_t is family state');
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
      t.family.restoreState(t.snapshot().state.family as Record<string, unknown>);
      assert.equal(tf.memory().numTensors, base, 'sampling, snapshots and restoring k_t free their tensors');
    } finally {
      t.dispose();
    }
  });

  test('checkRun refuses configs that do not fit, naming the mismatch', () => {
    const images = data.shape;
    const points: DataShape = { layout: 'points', height: 1, width: 1, channels: 2, count: 100, classes: null };
    const messages = (cfg: RunConfig, shape: DataShape = images) => checkRun(cfg, shape).map((i) => `${i.path}: ${i.message}`).join('\n');
    assert.equal(messages(config()), '');
    assert.match(messages(config({ objective: 'energy' })), /objective: began trains with the boundary-equilibrium objective, not energy/);
    assert.match(messages(config(), points), /dataset: began needs an image dataset .*points/);
    assert.match(messages(config({ architecture: { gNorm: 'batch' } })), /architecture\.gNorm: .*gNorm must be none, not batch/);
    assert.match(messages(config({ regularizers: { pullAway: 0.1 } })), /regularizers\.pullAway: the pulling-away term is EBGAN's/);
    assert.match(messages(config({ regularizers: { r1: 10 } })), /regularizers\.r1/);
    assert.match(messages(config(), { ...images, height: 6, width: 6 }), /halves down to at least 4/);
  });

  test('a short run moves samples toward MNIST and M_global decreases', () => {
    const n = 256;
    const real = new Float32Array(n * 784);
    for (let i = 0; i < real.length; i++) real[i] = data.images![i] / 127.5 - 1;
    const realFeatures = pooledFeatures(real, n, 28, 28, 1);
    const t = new GanTrainer(config({ optimizer: { g: adam(2e-3), d: adam(2e-3) } }), data);
    try {
      const before = samples(t, n, 7);
      const fdBefore = diagonalFrechet(pooledFeatures(before, n, 28, 28, 1), realFeatures);
      const m: number[] = [];
      for (let i = 0; i < 200; i++) m.push(t.trainStep().scalars['began/m_global']);
      const after = samples(t, n, 7);
      const fdAfter = diagonalFrechet(pooledFeatures(after, n, 28, 28, 1), realFeatures);
      const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
      const mFirst = mean(m.slice(0, 40));
      const mLast = mean(m.slice(-40));
      console.log(`began learning: diagonal Fréchet ${fdBefore.toFixed(3)} → ${fdAfter.toFixed(3)}, M_global ${mFirst.toFixed(4)} (first 40 steps) → ${mLast.toFixed(4)} (last 40)`);
      assert.ok(fdAfter < fdBefore / 4, `Fréchet distance falls by more than 4× (${fdBefore} → ${fdAfter})`);
      assert.ok(mLast < mFirst * 0.75, `M_global decreases by more than a quarter (${mFirst} → ${mLast})`);
    } finally {
      t.dispose();
    }
  });
});
