// CycleGAN on the built-in unpaired dataset (MNIST digits ↔ thickened digits from disjoint halves):
// the image pool's semantics, the sample layout, an exact checkpoint round trip that includes the
// pools, a flat tensor count, configs that do not fit refused by checkRun, and learning measured on
// held-out digits whose true thickened versions are known: G_AB(A) moves from A's pixel mass to
// B's, lands closer to the true thickening than A itself is, and the cycle A → B → A closes.
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
import { readCheckpoint, writeCheckpoint, type LoadedCheckpoint } from '../../electron/core/trainer/checkpoint.ts';
import { checkRun } from '../../electron/core/families/registry.ts';
import { ImagePool } from '../../electron/core/families/cyclegan.ts';
import { BUILTIN_TRANSLATION_DATASETS, mnistThickUnpaired, type UnpairedImages } from '../../electron/core/datasets/builtin-translation.ts';
import { buildResnetGenerator } from '../../electron/core/models/resnet-gen.ts';
import { Rng } from '../../electron/core/models/rng.ts';
import type { DataShape, FixedInputs } from '../../electron/core/families/types.ts';

const PIXELS = 28 * 28;
const HELD_OUT = 256;
let domains: UnpairedImages;
let data: TrainingData;
const tmp = mkdtempSync(path.join(os.tmpdir(), 'gs-cyclegan-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

before(async () => {
  registerWasmTrainingKernels();
  registerSecondOrderGradients();
  await tf.setBackend('wasm');
  await tf.ready();
  domains = mnistThickUnpaired();
  data = { shape: { layout: 'unpaired', height: 28, width: 28, channels: 1, count: domains.count, classes: null }, images: domains.a, imagesB: domains.b, countB: domains.countB, labels: null, points: null };
});

/** The preset (least squares, λ_cyc 10, λ_id 5, instance norm, pool 50) with tiny widths. */
function config(over: Partial<RunConfigInput> = {}) {
  const o = over as Record<string, Record<string, unknown> | undefined>;
  return resolveRunConfig({
    dataset: 'builtin:mnist-thick',
    family: 'cyclegan',
    seed: 7,
    backend: 'wasm',
    ...over,
    architecture: { gChannels: 8, dChannels: 8, ...o.architecture },
    schedule: { batchSize: 8, scalarEvery: 1, checkpointEvery: 0, ...o.schedule },
  });
}

const toTensor = (src: Uint8Array, n: number) => tf.tensor4d(Float32Array.from(src.subarray(0, n * PIXELS), (v) => v / 127.5 - 1), [n, 28, 28, 1]);
const meanAbs = (x: tf.Tensor, y: tf.Tensor | number) => tf.tidy(() => tf.mean(tf.abs(tf.sub(x, y))).dataSync()[0]);
/** share of ink: mean of (x + 1)/2 */
const mass = (x: tf.Tensor) => tf.tidy(() => tf.mean(tf.div(tf.add(x, 1), 2)).dataSync()[0]);

/** The six columns of sample(): a | G_AB(a) | G_BA(G_AB(a)) | b | G_BA(b) | G_AB(G_BA(b)). */
function sampleColumns(trainer: GanTrainer, a: tf.Tensor4D, b: tf.Tensor4D): tf.Tensor4D[] {
  return tf.tidy(() => {
    const fixed: FixedInputs = { z: tf.zeros([1, 1]) as tf.Tensor2D, labels: null, a, b, extent: null };
    const s = trainer.family.sample(fixed);
    if (s.kind !== 'grid') throw new Error('grid expected');
    assert.equal(s.cols, 6);
    const n = a.shape[0];
    const rows = tf.reshape(s.images, [n, 6, 28, 28, 1]);
    return [0, 1, 2, 3, 4, 5].map((k) => tf.reshape(tf.slice(rows, [0, k], [n, 1]), [n, 28, 28, 1]) as tf.Tensor4D);
  });
}

test('built-in unpaired data: originals and 3×3-dilated digits from disjoint halves, with held-out true pairs', () => {
  assert.equal(domains.count + domains.countB + domains.holdout.count, 10_000);
  assert.equal(domains.a.length, domains.count * PIXELS);
  assert.equal(domains.b.length, domains.countB * PIXELS);
  assert.equal(BUILTIN_TRANSLATION_DATASETS.find((d) => d.id === 'builtin:mnist-thick')?.layout, 'unpaired');
  // dilation only adds ink, and adds a lot of it
  let a = 0;
  let b = 0;
  for (let i = 0; i < domains.holdout.count * PIXELS; i++) {
    assert.ok(domains.holdout.b[i] >= domains.holdout.a[i]);
    a += domains.holdout.a[i];
    b += domains.holdout.b[i];
  }
  assert.ok(b > 1.5 * a, `thick digits carry more ink: ${b} vs ${a}`);
});

test('ResNet generator keeps the image shape', () => {
  const g = buildResnetGenerator({ channels: 4, imageChannels: 3, norm: 'instance' }, new Rng(1));
  tf.tidy(() => assert.deepEqual(g.apply(tf.zeros([2, 32, 32, 3]) as tf.Tensor4D).shape, [2, 32, 32, 3]));
  g.params.dispose();
});

test('image pool: fills first, then swaps each fake for a stored one with probability ½', () => {
  const pool = new ImagePool(3, [1, 1, 1]);
  const batch = (...v: number[]) => tf.tensor4d(v, [v.length, 1, 1, 1]);
  const run = (values: number[], draws: number[]) => {
    let k = 0;
    const random = () => draws[k++];
    return tf.tidy(() => Array.from(pool.query(batch(...values), random).dataSync()));
  };
  assert.deepEqual(run([1, 2], []), [1, 2], 'while filling, fakes go in and straight through');
  assert.equal(pool.filled, 2);
  // 3 fills the last slot; 4: draw 0.7 ≥ ½ → passes through; 5: draw 0.2 < ½, slot ⌊0.4·3⌋ = 1 → returns 2, stores 5
  assert.deepEqual(run([3, 4, 5], [0.7, 0.2, 0.4]), [3, 4, 2]);
  assert.deepEqual(Array.from(pool.images!.dataSync()), [1, 5, 3]);
  // sequential: 6 replaces slot 0 (returns 1), then 7 draws slot 0 again and gets 6, which was just stored
  assert.deepEqual(run([6, 7], [0.1, 0.0, 0.1, 0.0]), [1, 6]);
  assert.deepEqual(Array.from(pool.images!.dataSync()), [7, 5, 3]);
  pool.dispose();
  const off = new ImagePool(0, [1, 1, 1]);
  tf.tidy(() => assert.deepEqual(Array.from(off.query(batch(9), () => 0).dataSync()), [9], 'poolSize 0: no pool'));
});

test('cyclegan step scalars and the sample grid: A → B → A and B → A → B rows', () => {
  const trainer = new GanTrainer(config(), data);
  const s = trainer.trainStep(true);
  for (const tag of ['loss/g', 'loss/d', 'loss/g_adv', 'cycle/loss', 'identity/loss', 'd/real', 'd/fake', 'grad/g_norm', 'grad/d_norm']) assert.ok(Number.isFinite(s.scalars[tag]), `${tag} is finite: ${s.scalars[tag]}`);
  const expected = s.scalars['loss/g_adv'] + 10 * s.scalars['cycle/loss'] + 5 * s.scalars['identity/loss'];
  assert.ok(Math.abs(s.scalars['loss/g'] - expected) < 1e-3 * expected, 'loss/g = adversarial + λ_cyc·cycle + λ_id·identity');
  assert.deepEqual(Object.keys(trainer.family.networks).sort(), ['D_A', 'D_B', 'G_AB', 'G_BA']);
  assert.equal(trainer.family.generatorKey, 'G_AB');
  const a = toTensor(domains.a, 8);
  const b = toTensor(domains.b, 8);
  const cols = sampleColumns(trainer, a, b);
  assert.equal(meanAbs(cols[0], a), 0, 'column 0 is a');
  assert.equal(meanAbs(cols[3], b), 0, 'column 3 is b');
  tf.dispose([a, b, ...cols]);
  const grid = trainer.sampleGrid();
  assert.ok(grid.width > grid.height / 2, 'six columns, eight rows');
  trainer.dispose();
});

test('cyclegan checkpoint round trip: identical next-step losses and samples, the image pools included', async () => {
  // a small pool that is full and swapping by the snapshot, so its contents matter
  const cfg = config({ extras: { poolSize: 4 }, schedule: { batchSize: 4 }, tricks: { emaDecay: 0.9 } });
  const a = new GanTrainer(cfg, data);
  for (let i = 0; i < 3; i++) a.trainStep();
  const snap = a.snapshot();
  assert.ok(snap.tensors.some((t) => t.name === 'state/pool_A') && snap.tensors.some((t) => t.name === 'state/pool_B'), 'the pools are checkpointed');
  assert.deepEqual(snap.state.family, { poolFilledA: 4, poolFilledB: 4 });
  const written = await writeCheckpoint(path.join(tmp, 'rt'), a.step, 'periodic', snap.tensors, snap.state);
  const ckpt = await readCheckpoint(written.dir);
  const b = new GanTrainer(cfg, data);
  b.restore(ckpt);
  assert.deepEqual(b.sampleGrid().pixels, a.sampleGrid().pixels, 'identical samples after restore');
  // the same restore with empty pools: D sees other fakes, so the losses differ (the pool is real state)
  const emptied: LoadedCheckpoint = { ...ckpt, tensors: new Map([...ckpt.tensors].map(([k, t]) => [k, k.startsWith('state/pool') ? { ...t, data: new Float32Array(t.data.length) } : t])) };
  const c = new GanTrainer(cfg, data);
  c.restore(emptied);
  for (let i = 0; i < 3; i++) {
    const sa = a.trainStep(true);
    const sb = b.trainStep(true);
    const sc = c.trainStep(true);
    assert.deepEqual(sb.scalars, sa.scalars, `identical losses at step ${sa.step}`);
    if (i === 2) assert.notEqual(sc.scalars['loss/d'], sa.scalars['loss/d'], 'restoring without the pool contents changes D’s losses');
  }
  assert.deepEqual(b.sampleGrid().pixels, a.sampleGrid().pixels, 'identical samples three steps later');
  for (const t of [a, b, c]) t.dispose();
});

test('cyclegan keeps tf.memory().numTensors flat per step, and dispose frees everything', () => {
  const start = tf.memory().numTensors;
  const trainer = new GanTrainer(config({ extras: { poolSize: 6 }, schedule: { batchSize: 4, dStepsPerG: 2 }, tricks: { labelFlip: 0.05, instanceNoise: 0.1 } }), data);
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

test('checkRun refuses configs that do not fit cyclegan, naming the mismatch', () => {
  const shape: DataShape = data.shape;
  assert.deepEqual(checkRun(config(), shape), [], 'the preset fits the built-in domains');
  const issues = (over: Partial<RunConfigInput>, s: DataShape = shape) => checkRun(config(over), s).map((i) => `${i.path}: ${i.message}`).join('\n');
  assert.match(issues({}, { ...shape, layout: 'paired' }), /cyclegan needs unpaired data/);
  assert.match(issues({ regularizers: { l1: 100 } }), /regularizers\.l1: .*no paired L1/);
  assert.match(issues({ architecture: { dropout: 0.5 } }), /architecture\.dropout/);
  assert.match(issues({ architecture: { dNorm: 'spectral' } }), /architecture\.dNorm: .*not spectral/);
  assert.match(issues({ objective: 'boundary-equilibrium' }), /objective: /);
  assert.match(issues({}, { ...shape, height: 30, width: 30 }), /dataset: .*halve 2 time/);
});

test('cyclegan learns thin → thick without pairs: mass and distance to the true thickening on held-out digits', () => {
  const trainer = new GanTrainer(config({ seed: 1, optimizer: { g: { kind: 'adam', lr: 2e-3, beta1: 0.5, beta2: 0.999 }, d: { kind: 'adam', lr: 1e-3, beta1: 0.5, beta2: 0.999 } } }), data);
  const a = toTensor(domains.holdout.a, HELD_OUT);
  const b = toTensor(domains.holdout.b, HELD_OUT); // the true thickening of each held-out a
  const measure = () => {
    const cols = sampleColumns(trainer, a, b);
    const out = { l1: meanAbs(cols[1], b), mass: mass(cols[1]), cycle: meanAbs(cols[2], a) };
    tf.dispose(cols);
    return out;
  };
  const massA = mass(a);
  const massB = mass(b);
  const copyL1 = meanAbs(a, b); // what a G_AB that copies its input would score
  const untrained = measure();
  const steps = 70;
  const t0 = Date.now();
  for (let i = 0; i < steps; i++) trainer.trainStep();
  const trained = measure();
  const f = (v: number) => v.toFixed(4);
  const msg =
    `after ${steps} steps (${((Date.now() - t0) / 1000).toFixed(1)} s): L1(G_AB(a), thick(a)) ${f(untrained.l1)} → ${f(trained.l1)} (copying a: ${f(copyL1)}); ` +
    `ink mass ${f(untrained.mass)} → ${f(trained.mass)} (a: ${f(massA)}, thick: ${f(massB)}); cycle L1 ${f(untrained.cycle)} → ${f(trained.cycle)}`;
  console.log(`# ${msg}`);
  trainer.dispose();
  tf.dispose([a, b]);
  assert.ok(trained.l1 < 0.5 * untrained.l1, msg);
  assert.ok(trained.l1 < 0.8 * copyL1, `closer to the true thickening than the input itself: ${msg}`);
  assert.ok(trained.mass - massA > 0.5 * (massB - massA), `ink mass moved more than half way from a's to thick's: ${msg}`);
  assert.ok(trained.cycle < 0.3 * untrained.cycle, msg);
});
