// cGAN (issue #4): shapes and the class grid, exact save/load round trip (concat and projection
// D), no tensor leak per step, refusal of unlabelled or point data, and a learning test: samples
// generated for a requested digit are classified as that digit far above the 10 % of chance.
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
import { conditionalAccuracy, digitClassifier } from '../helpers/learning.ts';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'family-cgan-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

let mnist: TrainingData;
before(async () => {
  registerWasmTrainingKernels();
  assert.ok(await tf.setBackend('wasm'));
  await tf.ready();
  const { arrays, manifest } = builtinMnistArrays();
  mnist = { shape: { layout: 'images', height: 28, width: 28, channels: 1, count: manifest.count, classes: 10 }, images: arrays.images, imagesB: null, countB: 0, labels: arrays.labels, points: null };
});

/** Tiny widths so CI runs in seconds; everything else is the cgan preset. */
function config(over: Partial<RunConfigInput> = {}, seed = 1): RunConfig {
  return resolveRunConfig({
    dataset: 'builtin:mnist',
    family: 'cgan',
    seed,
    backend: 'wasm',
    ...over,
    architecture: { gChannels: 32, dChannels: 16, latentDim: 32, ...over.architecture },
    schedule: { batchSize: 16, scalarEvery: 1, checkpointEvery: 0, ...over.schedule },
  });
}

/** The conditional sample grid for the given latents: 8 columns × one row per class. */
function sampleImages(t: GanTrainer, z: Float32Array): { images: Float32Array; n: number; cols: number } {
  const latent = t.config.architecture.latentDim;
  const zt = tf.tensor2d(z, [z.length / latent, latent]);
  try {
    let cols = 0;
    const grid = tf.tidy(() => {
      const s = t.family.sample({ z: zt, labels: Int32Array.from({ length: zt.shape[0] }, (_, i) => Math.floor(i / 8) % 10), a: null, b: null, extent: null });
      assert.equal(s.kind, 'grid');
      if (s.kind !== 'grid') return tf.zeros([0, 28, 28, 1]);
      cols = s.cols;
      return tf.keep(s.images);
    });
    const images = grid.dataSync() as Float32Array;
    const n = grid.shape[0];
    grid.dispose();
    return { images, n, cols };
  } finally {
    zt.dispose();
  }
}

/** Classifier accuracy of the requested class over 3 grids of 8 latents × 10 classes (240 samples). */
function accuracy(t: GanTrainer): number {
  const rng = new Rng(99);
  const latent = t.config.architecture.latentDim;
  let ok = 0;
  let n = 0;
  for (let r = 0; r < 3; r++) {
    const s = sampleImages(t, rng.fillNormal(new Float32Array(8 * latent)));
    const labels = Array.from({ length: s.n }, (_, i) => Math.floor(i / s.cols));
    ok += conditionalAccuracy(digitClassifier(), s.images, labels) * s.n;
    n += s.n;
  }
  return ok / n;
}

async function roundTrip(over: Partial<RunConfigInput>, name: string): Promise<void> {
  const a = new GanTrainer(config(over), mnist);
  const b = new GanTrainer(config(over), mnist);
  try {
    for (let i = 0; i < 3; i++) a.trainStep();
    const snap = a.snapshot();
    const written = await writeCheckpoint(path.join(tmp, name), a.step, 'periodic', snap.tensors, snap.state);
    b.restore(await readCheckpoint(written.dir));
    const z = new Rng(5).fillNormal(new Float32Array(8 * 32));
    assert.deepEqual(sampleImages(b, z).images, sampleImages(a, z).images, 'identical samples after restore');
    for (let i = 0; i < 2; i++) assert.deepEqual(b.trainStep().scalars, a.trainStep().scalars, `identical losses at step ${a.step}`);
    assert.deepEqual(sampleImages(b, z).images, sampleImages(a, z).images, 'identical samples after further steps');
  } finally {
    a.dispose();
    b.dispose();
  }
}

describe('cgan family', () => {
  test('shapes: labels enter G and D, the grid has one row per class', () => {
    for (const projection of [false, true]) {
      const t = new GanTrainer(config({ architecture: { projection } }), mnist);
      try {
        const g = t.family.networks.G;
        const d = t.family.networks.D;
        assert.deepEqual(g.get('project/kernel').shape, [32 + 10, 7 * 7 * 32], 'z and the one-hot label feed the projection');
        if (projection) {
          assert.deepEqual(d.get('embed/kernel').shape, [10, 7 * 7 * 32], 'one φ-sized embedding per class');
          assert.deepEqual(d.get('down0/kernel').shape, [4, 4, 1, 16]);
        } else {
          assert.deepEqual(d.get('down0/kernel').shape, [4, 4, 1 + 10, 16], 'label maps are extra input channels');
        }
        const s = t.trainStep(true);
        for (const tag of ['loss/g', 'loss/d', 'd/real', 'd/fake', 'grad/g_norm', 'grad/d_norm']) assert.ok(Number.isFinite(s.scalars[tag]), `${tag} is finite`);
        const out = sampleImages(t, new Rng(1).fillNormal(new Float32Array(64 * 32)));
        assert.equal(out.cols, 8);
        assert.equal(out.n, 80, '8 columns × 10 class rows');
        assert.ok(out.images.every((v) => v >= -1 && v <= 1));
        const grid = t.sampleGrid();
        assert.equal(grid.height, 10 * 28 + 11 * 2, 'the rendered grid has ten digit rows');
        assert.equal(grid.width, 8 * 28 + 9 * 2);
      } finally {
        t.dispose();
      }
    }
  });

  test('save/load round trip: identical next-step losses and samples (projection D, the preset)', () => roundTrip({}, 'projection'));
  test('save/load round trip: identical next-step losses and samples (concatenated label maps)', () => roundTrip({ architecture: { projection: false } }, 'concat'));

  test('no tensor leak: numTensors is flat over steps after the first', () => {
    const t = new GanTrainer(config({ architecture: { selfAttention: true, dNorm: 'spectral' } }), mnist);
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

  test('checkRun refuses unlabelled images and point data, naming the mismatch', () => {
    const cfg = config();
    const unlabelled = checkRun(cfg, { ...mnist.shape, classes: null });
    assert.equal(unlabelled.length, 1);
    assert.match(unlabelled[0].message, /labelled|labels/);
    const points = checkRun(cfg, { layout: 'points', height: 1, width: 1, channels: 2, count: 1000, classes: 8 });
    assert.equal(points.length, 1);
    assert.match(points[0].message, /points/);
    const energy = checkRun(config({ objective: 'energy' }), mnist.shape);
    assert.ok(energy.some((i) => i.path === 'objective' && /energy/.test(i.message)));
    const norm = checkRun(config({ architecture: { dNorm: 'instance' } }), mnist.shape);
    assert.ok(norm.some((i) => i.path === 'architecture.dNorm' && /instance/.test(i.message)));
    assert.deepEqual(checkRun(cfg, mnist.shape), []);
  });

  test('learns to condition: samples are classified as the requested digit well above chance', () => {
    const t = new GanTrainer(config({ schedule: { batchSize: 32 } }), mnist);
    try {
      const before = accuracy(t);
      for (let i = 0; i < 200; i++) t.trainStep();
      const afterTraining = accuracy(t);
      console.log(`cgan conditional accuracy: ${(before * 100).toFixed(1)} % untrained → ${(afterTraining * 100).toFixed(1)} % after 200 steps`);
      assert.ok(before < 0.2, `untrained accuracy ${before} is near chance`);
      assert.ok(afterTraining > 0.4, `trained accuracy ${afterTraining} > 40 %`);
    } finally {
      t.dispose();
    }
  });
});
