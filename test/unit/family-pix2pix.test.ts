// Pix2Pix on the built-in paired dataset (MNIST edge maps → digits): the U-Net and PatchGAN shapes,
// the sample layout (input | output | target), an exact checkpoint round trip, a flat tensor count,
// configs that do not fit refused by checkRun, and learning: the mean L1 between G(A) and B on
// held-out pairs falls far below the untrained model's and below the trivial all-background guess.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { registerWasmTrainingKernels, registerSecondOrderGradients } from '../../electron/core/tf/wasm-kernels.ts';
import { resolveRunConfig, type RunConfigInput } from '../../electron/common/config.ts';
import { GanTrainer } from '../../electron/core/trainer/gan-trainer.ts';
import type { TrainingData } from '../../electron/core/trainer/data-source.ts';
import { readCheckpoint, writeCheckpoint } from '../../electron/core/trainer/checkpoint.ts';
import { checkRun } from '../../electron/core/families/registry.ts';
import { BUILTIN_TRANSLATION_DATASETS, mnistEdgesPairs, type PairedImages } from '../../electron/core/datasets/builtin-translation.ts';
import { buildUnetGenerator } from '../../electron/core/models/unet.ts';
import { buildPatchDiscriminator } from '../../electron/core/models/patchgan.ts';
import { Rng } from '../../electron/core/models/rng.ts';
import type { DataShape, FixedInputs } from '../../electron/core/families/types.ts';

const PIXELS = 28 * 28;
/** pairs 0..TRAIN-1 train; the next HELD_OUT pairs are never seen in training */
const TRAIN = 9000;
const HELD_OUT = 256;
let pairs: PairedImages;
let data: TrainingData;
const tmp = mkdtempSync(path.join(os.tmpdir(), 'gs-pix2pix-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

before(async () => {
  registerWasmTrainingKernels();
  registerSecondOrderGradients();
  await tf.setBackend('wasm');
  await tf.ready();
  pairs = mnistEdgesPairs();
  data = { shape: { layout: 'paired', height: 28, width: 28, channels: 1, count: TRAIN, classes: null }, images: pairs.a.subarray(0, TRAIN * PIXELS), imagesB: pairs.b.subarray(0, TRAIN * PIXELS), countB: 0, labels: null, points: null };
});

/** The preset with tiny widths so a step takes a fraction of a second. */
function config(over: Partial<RunConfigInput> = {}) {
  const o = over as Record<string, Record<string, unknown> | undefined>;
  return resolveRunConfig({
    dataset: 'builtin:mnist-edges',
    family: 'pix2pix',
    seed: 7,
    backend: 'wasm',
    ...over,
    architecture: { gChannels: 8, dChannels: 8, ...o.architecture },
    schedule: { batchSize: 8, scalarEvery: 1, checkpointEvery: 0, ...o.schedule },
  });
}

function heldOut(): { a: tf.Tensor4D; b: tf.Tensor4D } {
  const take = (src: Uint8Array) => tf.tensor4d(Float32Array.from(src.subarray(TRAIN * PIXELS, (TRAIN + HELD_OUT) * PIXELS), (v) => v / 127.5 - 1), [HELD_OUT, 28, 28, 1]);
  return { a: take(pairs.a), b: take(pairs.b) };
}

/** G(A) for these inputs, through the family's own sample(): column 1 of its [A, G(A), B] rows. */
function translate(trainer: GanTrainer, a: tf.Tensor4D, b: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => {
    const fixed: FixedInputs = { z: tf.zeros([1, 1]) as tf.Tensor2D, labels: null, a, b, extent: null };
    const s = trainer.family.sample(fixed);
    if (s.kind !== 'grid') throw new Error('grid expected');
    const n = a.shape[0];
    return tf.reshape(tf.slice(tf.reshape(s.images, [n, 3, 28, 28, 1]), [0, 1], [n, 1]), [n, 28, 28, 1]) as tf.Tensor4D;
  });
}

const meanAbs = (x: tf.Tensor, y: tf.Tensor | number) => tf.tidy(() => tf.mean(tf.abs(tf.sub(x, y))).dataSync()[0]);

test('built-in paired data: edge maps of the digits, registered as builtin:mnist-edges', () => {
  assert.equal(pairs.count, 10_000);
  assert.equal(pairs.a.length, pairs.count * PIXELS);
  assert.equal(pairs.b.length, pairs.count * PIXELS);
  assert.deepEqual([pairs.height, pairs.width, pairs.channels], [28, 28, 1]);
  const entry = BUILTIN_TRANSLATION_DATASETS.find((d) => d.id === 'builtin:mnist-edges');
  assert.equal(entry?.layout, 'paired');
  // edges lie on the stroke boundary: off the dilated stroke there are none, and every digit has some
  let inkEdges = 0;
  let edges = 0;
  for (let i = 0; i < 100; i++) {
    let any = 0;
    for (let p = 0; p < PIXELS; p++) {
      const e = pairs.a[i * PIXELS + p];
      if (e === 0) continue;
      any++;
      edges++;
      const y = Math.floor(p / 28);
      const x = p % 28;
      let near = false;
      for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) if (y + dy >= 0 && y + dy < 28 && x + dx >= 0 && x + dx < 28 && pairs.b[i * PIXELS + (y + dy) * 28 + x + dx] > 0) near = true;
      if (near) inkEdges++;
    }
    assert.ok(any > 10, `digit ${i} has an edge map`);
  }
  assert.equal(inkEdges, edges, 'every edge pixel touches ink');
});

test('U-Net and PatchGAN shapes for 28×28, 32×32 and 64×64', () => {
  for (const side of [28, 32, 64]) {
    const g = buildUnetGenerator({ height: side, width: side, inChannels: 1, outChannels: 3, channels: 4, norm: 'batch', leak: 0.2, dropout: 0.5 }, new Rng(1));
    const d = buildPatchDiscriminator({ inChannels: 4, channels: 4, norm: 'instance', leak: 0.2 }, new Rng(2));
    tf.tidy(() => {
      const x = tf.zeros([2, side, side, 1]) as tf.Tensor4D;
      const y = g.apply(x, (shape) => tf.randomUniform(shape));
      assert.deepEqual(y.shape, [2, side, side, 3]);
      assert.deepEqual(d.apply(tf.concat([x, y], 3)).shape, [2, side / 4, side / 4, 1], 'a map of patch logits');
    });
    g.params.dispose();
    d.params.dispose();
  }
});

test('pix2pix step scalars and the sample grid: rows of input | output | target', () => {
  const trainer = new GanTrainer(config(), data);
  const s = trainer.trainStep(true);
  for (const tag of ['loss/g', 'loss/d', 'd/real', 'd/fake', 'l1/loss', 'loss/g_adv', 'grad/g_norm', 'grad/d_norm']) assert.ok(Number.isFinite(s.scalars[tag]), `${tag} is finite: ${s.scalars[tag]}`);
  assert.ok(Math.abs(s.scalars['loss/g'] - (s.scalars['loss/g_adv'] + 100 * s.scalars['l1/loss'])) < 1e-2 * s.scalars['loss/g'], 'loss/g = adversarial + λ·L1 with λ = 100');
  const a = tf.tensor4d(Float32Array.from(pairs.a.subarray(0, 8 * PIXELS), (v) => v / 127.5 - 1), [8, 28, 28, 1]);
  const b = tf.tensor4d(Float32Array.from(pairs.b.subarray(0, 8 * PIXELS), (v) => v / 127.5 - 1), [8, 28, 28, 1]);
  tf.tidy(() => {
    const out = trainer.family.sample({ z: tf.zeros([1, 1]) as tf.Tensor2D, labels: null, a, b, extent: null });
    assert.equal(out.kind, 'grid');
    if (out.kind !== 'grid') return;
    assert.equal(out.cols, 3);
    assert.deepEqual(out.images.shape, [24, 28, 28, 1]);
    const rows = tf.reshape(out.images, [8, 3, 28, 28, 1]);
    assert.equal(meanAbs(tf.reshape(tf.slice(rows, [0, 0], [8, 1]), [8, 28, 28, 1]), a), 0, 'column 0 is the input');
    assert.equal(meanAbs(tf.reshape(tf.slice(rows, [0, 2], [8, 1]), [8, 28, 28, 1]), b), 0, 'column 2 is the target');
  });
  tf.dispose([a, b]);
  const grid = trainer.sampleGrid();
  assert.equal(grid.channels, 1);
  assert.ok(grid.width < grid.height, 'three columns, eight rows');
  trainer.dispose();
});

test('pix2pix checkpoint round trip: identical next-step losses and samples (with EMA and dropout)', async () => {
  const cfg = config({ tricks: { emaDecay: 0.9 } });
  const a = new GanTrainer(cfg, data);
  for (let i = 0; i < 3; i++) a.trainStep();
  const snap = a.snapshot();
  const written = await writeCheckpoint(path.join(tmp, 'rt'), a.step, 'periodic', snap.tensors, snap.state);
  const ckpt = await readCheckpoint(written.dir);
  const b = new GanTrainer(cfg, data);
  b.restore(ckpt);
  assert.equal(b.step, 3);
  assert.deepEqual(b.sampleGrid().pixels, a.sampleGrid().pixels, 'identical samples after restore');
  assert.deepEqual(a.sampleGrid().pixels, a.sampleGrid().pixels, 'the sampling dropout mask is fixed: successive grids agree');
  for (let i = 0; i < 2; i++) {
    const sa = a.trainStep(true);
    const sb = b.trainStep(true);
    assert.deepEqual(sb.scalars, sa.scalars, `identical losses at step ${sa.step}`);
  }
  assert.deepEqual(b.sampleGrid().pixels, a.sampleGrid().pixels, 'identical samples two steps later');
  a.dispose();
  b.dispose();
});

test('pix2pix keeps tf.memory().numTensors flat per step, and dispose frees everything', () => {
  const start = tf.memory().numTensors;
  const trainer = new GanTrainer(config({ tricks: { labelSmoothing: 0.1, instanceNoise: 0.1, diffAugment: ['translation'] } }), data);
  trainer.trainStep(true);
  const base = tf.memory().numTensors;
  for (let i = 0; i < 4; i++) {
    trainer.trainStep(i % 2 === 0);
    assert.equal(tf.memory().numTensors, base, `flat at step ${trainer.step}`);
  }
  trainer.sampleGrid();
  assert.equal(tf.memory().numTensors, base, 'sampling leaks nothing');
  trainer.dispose();
  assert.equal(tf.memory().numTensors, start, 'dispose frees every tensor');
});

test('pix2pix with R1 and a least-squares objective runs (second-order gradients through the norms)', () => {
  const trainer = new GanTrainer(config({ objective: 'least-squares', regularizers: { r1: 1 }, architecture: { dNorm: 'instance' } }), data);
  const s = trainer.trainStep();
  assert.ok(Number.isFinite(s.scalars['loss/d']) && Number.isFinite(s.scalars['loss/g']));
  trainer.dispose();
});

test('checkRun refuses configs that do not fit pix2pix, naming the mismatch', () => {
  const shape: DataShape = data.shape;
  assert.deepEqual(checkRun(config(), shape), [], 'the preset fits the built-in pairs');
  const issues = (over: Partial<RunConfigInput>, s: DataShape = shape) => checkRun(config(over), s).map((i) => `${i.path}: ${i.message}`).join('\n');
  assert.match(issues({}, { ...shape, layout: 'unpaired' }), /paired/);
  assert.match(issues({}, { ...shape, layout: 'images', classes: 10 }), /pix2pix needs paired data/);
  assert.match(issues({ objective: 'energy' }), /objective: .*adversarial objective.*not energy/);
  assert.match(issues({ architecture: { gNorm: 'spectral' } }), /architecture\.gNorm: .*not spectral/);
  assert.match(issues({ regularizers: { cycle: 10 } }), /regularizers\.cycle: .*no cycle/);
  assert.match(issues({}, { ...shape, height: 6, width: 6 }), /dataset: .*halve/);
});

test('pix2pix learns edges → digits: held-out L1(G(A), B) falls far below the untrained model and the all-background guess', () => {
  const trainer = new GanTrainer(
    config({ seed: 1, schedule: { batchSize: 16 }, optimizer: { g: { kind: 'adam', lr: 2e-3, beta1: 0.5, beta2: 0.999 }, d: { kind: 'adam', lr: 5e-4, beta1: 0.5, beta2: 0.999 } } }),
    data,
  );
  const { a, b } = heldOut();
  const measure = () => {
    const fake = translate(trainer, a, b);
    const v = meanAbs(fake, b);
    fake.dispose();
    return v;
  };
  const untrained = measure();
  const background = meanAbs(b, -1); // predicting an empty (all −1) image
  const t0 = Date.now();
  for (let i = 0; i < 120; i++) trainer.trainStep();
  const trained = measure();
  const msg = `held-out L1(G(A), B): untrained ${untrained.toFixed(4)} → trained ${trained.toFixed(4)} after 120 steps (${((Date.now() - t0) / 1000).toFixed(1)} s); all-background guess ${background.toFixed(4)}`;
  console.log(`# ${msg}`);
  trainer.dispose();
  tf.dispose([a, b]);
  assert.ok(trained < 0.3 * untrained, msg);
  assert.ok(trained < 0.75 * background, msg);
});
