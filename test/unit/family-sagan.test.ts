// SAGAN (issue #4): shapes (self-attention in G and D, spectral-norm vectors as checkpointed
// buffers), the power-iteration estimate of σ, exact save/load round trip, no tensor leak per step,
// refusal of configs that do not fit, and a learning test: the diagonal Fréchet distance of pooled
// pixel features to real MNIST falls by a clear factor after a short run.
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
import { Rng } from '../../electron/core/models/rng.ts';
import { diagonalFrechet, meanConfidence, digitClassifier, pooledFeatures } from '../helpers/learning.ts';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'family-sagan-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

let mnist: TrainingData;
let realFeatures: Float64Array[];
before(async () => {
  registerWasmTrainingKernels();
  assert.ok(await tf.setBackend('wasm'));
  await tf.ready();
  const { arrays, manifest } = builtinMnistArrays();
  mnist = { shape: { layout: 'images', height: 28, width: 28, channels: 1, count: manifest.count, classes: null }, images: arrays.images, imagesB: null, countB: 0, labels: null, points: null };
  const real = new Float32Array(500 * 784);
  for (let i = 0; i < real.length; i++) real[i] = arrays.images[i] / 127.5 - 1;
  realFeatures = pooledFeatures(real, 500, 28, 28, 1);
});

/** Tiny widths so CI runs in seconds; everything else is the sagan preset (SN in G and D, attention, hinge, TTUR). */
function config(over: Partial<RunConfigInput> = {}, seed = 1): RunConfig {
  return resolveRunConfig({
    dataset: 'builtin:mnist',
    family: 'sagan',
    seed,
    backend: 'wasm',
    ...over,
    architecture: { gChannels: 32, dChannels: 16, latentDim: 32, ...over.architecture },
    schedule: { batchSize: 16, scalarEvery: 1, checkpointEvery: 0, ...over.schedule },
  });
}

function sampleImages(t: GanTrainer, z: Float32Array): Float32Array {
  const latent = t.config.architecture.latentDim;
  const zt = tf.tensor2d(z, [z.length / latent, latent]);
  try {
    const images = tf.tidy(() => {
      const s = t.family.sample({ z: zt, labels: null, a: null, b: null, extent: null });
      assert.equal(s.kind, 'grid');
      return s.kind === 'grid' ? tf.keep(s.images) : tf.zeros([0]);
    });
    const out = images.dataSync() as Float32Array;
    images.dispose();
    return out;
  } finally {
    zt.dispose();
  }
}

/** σ of a kernel reshaped to [−1, last axis], by 200 power iterations. */
function trueSigma(w: tf.Tensor): number {
  return tf.tidy(() => {
    const m = tf.reshape(w, [-1, w.shape[w.rank - 1]]) as tf.Tensor2D;
    let u = tf.ones([m.shape[1], 1]) as tf.Tensor2D;
    for (let i = 0; i < 200; i++) {
      const v = tf.matMul(m, u);
      u = tf.matMul(m, tf.div(v, tf.norm(v)), true, false);
      u = tf.div(u, tf.norm(u));
    }
    return tf.norm(tf.matMul(m, u)).dataSync()[0];
  });
}

describe('sagan family', () => {
  test('shapes: attention at 14×14 in G and D, SN vectors are buffers, γ starts at 0', () => {
    const t = new GanTrainer(config(), mnist);
    try {
      const g = t.family.networks.G;
      const d = t.family.networks.D;
      // G: 7×7×32 → up0 → 14×14×16 (attention) → 28×28×1; D: 28 → down0 14×14×16 (attention) → 7×7×32
      assert.deepEqual(g.get('attention/query/kernel').shape, [16, 2]);
      assert.deepEqual(g.get('attention/value/kernel').shape, [16, 8]);
      assert.deepEqual(d.get('attention/out/kernel').shape, [8, 16]);
      assert.equal(g.get('attention/gamma').dataSync()[0], 0);
      assert.equal(d.get('attention/gamma').dataSync()[0], 0);
      for (const [net, p] of [['G', g], ['D', d]] as const) {
        const kernels = p.trainable().filter(([n]) => n.endsWith('/kernel')).map(([n]) => n.replace(/\/kernel$/, ''));
        const buffers = new Set(p.all().map(([n]) => n));
        for (const k of kernels) assert.ok(buffers.has(`${k}/sn_u`), `${net}/${k} is spectrally normalised`);
        assert.ok(!p.trainable().some(([n]) => n.endsWith('/sn_u')), 'u is not trainable');
      }
      const names = t.snapshot().tensors.map((e) => e.name);
      assert.ok(names.includes('G/project/sn_u') && names.includes('D/logit/sn_u'), 'checkpoints hold the u vectors');
      const s = t.trainStep(true);
      for (const tag of ['loss/g', 'loss/d', 'd/real', 'd/fake', 'grad/g_norm', 'grad/d_norm', 'attention/g_gamma', 'attention/d_gamma']) assert.ok(Number.isFinite(s.scalars[tag]), `${tag} is finite`);
      assert.ok(Math.abs(s.scalars['loss/d'] - 2) < 0.5, `hinge loss starts near 2 (D ≈ 0): ${s.scalars['loss/d']}`);
      assert.notEqual(s.scalars['attention/g_gamma'], 0, 'γ learns');
      const images = sampleImages(t, new Rng(1).fillNormal(new Float32Array(64 * 32)));
      assert.equal(images.length, 64 * 784);
      assert.ok(images.every((v) => v >= -1 && v <= 1));
    } finally {
      t.dispose();
    }
  });

  test('spectral norm: one power iteration per update tracks σ(W), so W/σ has norm ≈ 1', () => {
    const t = new GanTrainer(config(), mnist);
    try {
      for (let i = 0; i < 15; i++) t.trainStep();
      for (const key of ['G', 'D']) {
        const p = t.family.networks[key];
        for (const [name, w] of p.trainable().filter(([n]) => n.endsWith('/kernel'))) {
          const layer = name.replace(/\/kernel$/, '');
          const estimate = tf.tidy(() => tf.norm(tf.matMul(tf.reshape(w, [-1, w.shape[w.rank - 1]]) as tf.Tensor2D, p.get(`${layer}/sn_u`) as tf.Tensor2D)).dataSync()[0]);
          const ratio = estimate / trueSigma(w);
          assert.ok(ratio > 0.8 && ratio <= 1 + 1e-3, `${key}/${layer}: estimated σ / true σ = ${ratio.toFixed(3)}`);
        }
      }
    } finally {
      t.dispose();
    }
  });

  test('save/load round trip: identical next-step losses and samples', async () => {
    const a = new GanTrainer(config(), mnist);
    const b = new GanTrainer(config(), mnist);
    try {
      for (let i = 0; i < 3; i++) a.trainStep();
      const snap = a.snapshot();
      const written = await writeCheckpoint(path.join(tmp, 'rt'), a.step, 'periodic', snap.tensors, snap.state);
      b.restore(await readCheckpoint(written.dir));
      const z = new Rng(5).fillNormal(new Float32Array(16 * 32));
      assert.deepEqual(sampleImages(b, z), sampleImages(a, z), 'identical samples after restore');
      for (let i = 0; i < 2; i++) assert.deepEqual(b.trainStep(true).scalars, a.trainStep(true).scalars, `identical losses at step ${a.step}`);
      assert.deepEqual(sampleImages(b, z), sampleImages(a, z), 'identical samples after further steps');
    } finally {
      a.dispose();
      b.dispose();
    }
  });

  test('no tensor leak: numTensors is flat over steps after the first', () => {
    const t = new GanTrainer(config({ tricks: { emaDecay: 0.99 } }), mnist);
    try {
      t.trainStep(true);
      const n = tf.memory().numTensors;
      for (let i = 0; i < 4; i++) {
        t.trainStep(i % 2 === 0);
        t.sampleGrid();
        assert.equal(tf.memory().numTensors, n, `tensors after step ${t.step}`);
      }
    } finally {
      t.dispose();
    }
  });

  test('checkRun refuses configs that do not fit, naming the mismatch', () => {
    const points = checkRun(config(), { layout: 'points', height: 1, width: 1, channels: 2, count: 1000, classes: 8 });
    assert.equal(points.length, 1);
    assert.match(points[0].message, /sagan needs an image dataset.*2-D points/);
    const paired = checkRun(config(), { ...mnist.shape, layout: 'paired' });
    assert.ok(paired.some((i) => /paired/.test(i.message)));
    const norm = checkRun(config({ architecture: { gNorm: 'instance' } }), mnist.shape);
    assert.ok(norm.some((i) => i.path === 'architecture.gNorm' && /instance/.test(i.message)));
    const energy = checkRun(config({ objective: 'boundary-equilibrium' }), mnist.shape);
    assert.ok(energy.some((i) => i.path === 'objective' && /boundary-equilibrium/.test(i.message)));
    const odd = checkRun(config(), { ...mnist.shape, height: 27, width: 27 });
    assert.ok(odd.length > 0);
    assert.deepEqual(checkRun(config(), mnist.shape), []);
  });

  test('learns: pooled-pixel Fréchet distance to MNIST falls by a clear factor', () => {
    // a short run: the preset's TTUR ratio (D 4× G) at 4× its rates
    const t = new GanTrainer(config({ optimizer: { g: { kind: 'adam', lr: 4e-4, beta1: 0, beta2: 0.9 }, d: { kind: 'adam', lr: 8e-4, beta1: 0, beta2: 0.9 } } }), mnist);
    try {
      const z = new Rng(99).fillNormal(new Float32Array(240 * 32));
      const measure = () => {
        const images = sampleImages(t, z);
        return { fd: diagonalFrechet(pooledFeatures(images, 240, 28, 28, 1), realFeatures), conf: meanConfidence(digitClassifier(), images, 240) };
      };
      const before = measure();
      for (let i = 0; i < 100; i++) t.trainStep();
      const afterTraining = measure();
      console.log(`sagan pooled Fréchet ${before.fd.toFixed(2)} → ${afterTraining.fd.toFixed(2)}; classifier confidence ${before.conf.toFixed(3)} → ${afterTraining.conf.toFixed(3)} after 100 steps`);
      assert.ok(afterTraining.fd < before.fd / 4, `Fréchet distance falls at least 4×: ${before.fd} → ${afterTraining.fd}`);
    } finally {
      t.dispose();
    }
  });
});
