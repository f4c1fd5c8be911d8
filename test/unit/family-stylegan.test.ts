// StyleGAN (compact) on the built-in MNIST (28×28, cropped from a 32×32 synthesis) and on synthetic
// 32×32 / 64×64 colour data: shapes, an exact checkpoint round trip (w̄ and the lazy-R1 schedule
// included), a flat tensor count, configs that do not fit refused by checkRun, truncation (ψ = 0
// collapses every sample onto w̄'s image, ψ = 1 does not), style mixing really feeding two w's to
// different layers, and learning: the diagonal Fréchet distance of pooled pixels to real digits
// falls by a large factor and below the "every sample is the mean digit" baseline.
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
import { R1_INTERVAL } from '../../electron/core/families/stylegan.ts';
import { buildStyleGenerator, layerStyles, minibatchStddev, type StyleSpec } from '../../electron/core/models/style.ts';
import { builtinMnistArrays } from '../../electron/core/datasets/builtin-mnist.ts';
import { Rng } from '../../electron/core/models/rng.ts';
import type { DataShape, FixedInputs } from '../../electron/core/families/types.ts';
import { diagonalFrechet, digitClassifier, meanConfidence, pooledFeatures } from '../helpers/learning.ts';

const PIXELS = 28 * 28;
let mnist: TrainingData;
let mnistPixels: Uint8Array;
const tmp = mkdtempSync(path.join(os.tmpdir(), 'gs-stylegan-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

before(async () => {
  registerWasmTrainingKernels();
  registerSecondOrderGradients();
  await tf.setBackend('wasm');
  await tf.ready();
  const { arrays, manifest } = builtinMnistArrays();
  mnistPixels = arrays.images;
  mnist = { shape: { layout: 'images', height: 28, width: 28, channels: 1, count: manifest.count, classes: null }, images: arrays.images, imagesB: null, countB: 0, labels: null, points: null };
});

/** The preset with tiny widths so a step takes a fraction of a second. */
function config(over: Partial<RunConfigInput> = {}) {
  const o = over as Record<string, Record<string, unknown> | undefined>;
  return resolveRunConfig({
    dataset: 'builtin:mnist',
    family: 'stylegan',
    seed: 11,
    backend: 'wasm',
    ...over,
    architecture: { gChannels: 32, dChannels: 8, latentDim: 32, mappingLayers: 2, ...o.architecture },
    schedule: { batchSize: 8, scalarEvery: 1, checkpointEvery: 0, ...o.schedule },
  });
}

/** Random colour images of side `size` (uint8), for shapes at 32 and 64. */
function colourData(size: number, count = 32): TrainingData {
  const rng = new Rng(5);
  const images = Uint8Array.from({ length: count * size * size * 3 }, () => rng.int(256));
  return { shape: { layout: 'images', height: size, width: size, channels: 3, count, classes: null }, images, imagesB: null, countB: 0, labels: null, points: null };
}

function latents(n: number, dim: number, seed: number): tf.Tensor2D {
  return tf.tensor2d(new Rng(seed).fillNormal(new Float32Array(n * dim)), [n, dim]);
}

/** Samples for these latents through the family's own sample() (truncation and fixed noise included). */
function samples(t: GanTrainer, z: tf.Tensor2D): { data: Float32Array; shape: number[] } {
  const fixed: FixedInputs = { z, labels: null, a: null, b: null, extent: null };
  const out = tf.tidy(() => {
    const s = t.family.sample(fixed);
    assert.equal(s.kind, 'grid');
    return s.kind === 'grid' ? s.images : tf.zeros([0]);
  });
  const data = out.dataSync() as Float32Array;
  const shape = out.shape;
  out.dispose();
  return { data, shape };
}

async function roundTrip(t: GanTrainer, name: string): Promise<LoadedCheckpoint> {
  const snap = t.snapshot();
  const written = await writeCheckpoint(path.join(tmp, name), t.step, 'periodic', snap.tensors, snap.state);
  return readCheckpoint(written.dir);
}

/** mean absolute difference between image i and image j of a batch */
function imageDiff(x: Float32Array, size: number, i: number, j: number): number {
  let s = 0;
  for (let k = 0; k < size; k++) s += Math.abs(x[i * size + k] - x[j * size + k]);
  return s / size;
}

/** mean over all pairs (0, j) of the image difference: how far samples spread */
function spread(x: Float32Array, n: number, size: number): number {
  let s = 0;
  for (let j = 1; j < n; j++) s += imageDiff(x, size, 0, j);
  return s / (n - 1);
}

test('shapes: 28×28 MNIST (cropped from 32), 32×32 and 64×64 colour; the sample grid is 8 wide', () => {
  const t = new GanTrainer(config(), mnist);
  assert.equal(t.family.networks.G.get('synthesis/const').shape.join('x'), '1x4x4x32');
  const s = samples(t, latents(4, 32, 1));
  assert.deepEqual(s.shape, [4, 28, 28, 1]);
  assert.ok(s.data.every((v) => v >= -1 && v <= 1), 'samples are clipped to [-1, 1]');
  const grid = t.sampleGrid();
  assert.equal(grid.channels, 1);
  t.dispose();

  for (const size of [32, 64]) {
    const c = new GanTrainer(config({ architecture: { resolution: size } }), colourData(size));
    const stats = c.trainStep(true);
    for (const tag of ['loss/g', 'loss/d', 'd/real', 'd/fake', 'grad/g_norm', 'grad/d_norm', 'reg/r1', 'style/mixing']) assert.ok(Number.isFinite(stats.scalars[tag]), `${tag} at ${size}: ${stats.scalars[tag]}`);
    assert.deepEqual(samples(c, latents(2, 32, 2)).shape, [2, size, size, 3]);
    // StyleGAN2's w count: 2·log2(resolution) − 2 per-layer affine inputs; the last toRGB is at full size
    const G = c.family.networks.G;
    assert.equal(G.get(`synthesis/b${size}/torgb/weight`).shape.join('x'), '1x1x4x3');
    c.dispose();
  }
});

test('minibatch stddev adds one constant feature map per group; its value is the group spread', () => {
  tf.tidy(() => {
    const x = tf.tensor4d([0, 0, 2, 2, 0, 0, 2, 2], [4, 1, 1, 2]);
    const y = minibatchStddev(x);
    assert.deepEqual(y.shape, [4, 1, 1, 3]);
    // groups of 4: feature values {0, 2, 0, 2} have population std 1 in both channels
    const last = tf.slice(y, [0, 0, 0, 2], [4, 1, 1, 1]).dataSync();
    for (const v of last) assert.ok(Math.abs(v - 1) < 1e-3, `stddev feature ${v}`);
  });
});

test('round trip: snapshot → checkpoint → fresh trainer gives identical next losses and samples (w̄ and lazy R1 included)', async () => {
  const a = new GanTrainer(config(), mnist);
  for (let i = 0; i < 3; i++) a.trainStep(i === 0);
  const ckpt = await roundTrip(a, 'rt');
  const wAvg = ckpt.tensors.get('G/mapping/w_avg');
  assert.ok(wAvg && wAvg.data.some((v) => v !== 0), 'w̄ is a checkpointed buffer and has moved');
  assert.ok(ckpt.tensors.has('G/synthesis/b32/conv1/noise_fixed'), 'fixed sample noise is in the checkpoint');
  const b = new GanTrainer(config(), mnist);
  b.restore(ckpt);
  assert.deepEqual(b.sampleGrid().pixels, a.sampleGrid().pixels, 'identical samples after restore');
  // run through the next lazy-R1 step (the D optimizer's 16th update) so the schedule is compared too
  const steps = R1_INTERVAL - 3 + 1;
  for (let i = 0; i < steps; i++) {
    const sa = a.trainStep(true);
    const sb = b.trainStep(true);
    assert.deepEqual(sb.scalars, sa.scalars, `step ${sa.step}`);
    if (sa.step === R1_INTERVAL + 1) assert.ok('reg/r1' in sa.scalars, 'R1 runs on every 16th D update');
    else assert.ok(!('reg/r1' in sa.scalars), `no R1 at step ${sa.step}`);
  }
  assert.deepEqual(b.sampleGrid().pixels, a.sampleGrid().pixels);
  a.dispose();
  b.dispose();
});

test('no tensor leak: tf.memory().numTensors is flat over steps (an R1 step and sample grids included)', () => {
  const t = new GanTrainer(config({ extras: { styleMixing: 0.5 } }), mnist);
  t.trainStep(true);
  const base = tf.memory().numTensors;
  for (let i = 0; i < R1_INTERVAL + 2; i++) {
    t.trainStep(i % 3 === 0);
    if (i % 6 === 0) t.sampleGrid();
    assert.equal(tf.memory().numTensors, base, `after step ${t.step}`);
  }
  t.dispose();
});

test('checkRun refuses configs that do not fit, naming the mismatch', () => {
  const issues = (cfg: ReturnType<typeof config>, shape: DataShape) => checkRun(cfg, shape).map((i) => `${i.path}: ${i.message}`).join('\n');
  const img = (size: number): DataShape => ({ layout: 'images', height: size, width: size, channels: 3, count: 10, classes: null });
  assert.equal(issues(config(), mnist.shape), '', 'MNIST fits (28 cropped from 32)');
  assert.equal(issues(config({ architecture: { resolution: null } }), mnist.shape), '', 'resolution auto picks 32 for 28×28');
  assert.equal(issues(config({ architecture: { resolution: 64 } }), img(64)), '');
  assert.match(issues(config({ architecture: { resolution: 48 } }), img(48)), /architecture\.resolution: .*32×32 or 64×64.*48/);
  assert.match(issues(config({ architecture: { resolution: 32 } }), img(64)), /resolution 32 needs 32×32.*64×64/);
  assert.match(issues(config({ architecture: { resolution: 64 } }), mnist.shape), /resolution 64 needs 64×64.*28×28/);
  assert.match(issues(config(), { ...img(32), height: 32, width: 28 }), /square images.*32×28/);
  assert.match(issues(config(), { layout: 'points', height: 1, width: 2, channels: 1, count: 10, classes: null }), /needs an image dataset.*points/);
  assert.match(issues(config({ objective: 'energy' }), mnist.shape), /objective: .*not energy/);
  assert.match(issues(config({ architecture: { gNorm: 'batch' } }), mnist.shape), /architecture\.gNorm: .*demodulation/);
  assert.match(issues(config({ regularizers: { l1: 5 } }), mnist.shape), /regularizers\.l1/);
});

test('truncation: ψ = 0 makes every sample the image of w̄; ψ = 1 keeps them apart; ψ = 0.5 in between', async () => {
  const t = new GanTrainer(config({ extras: { truncation: 1 } }), mnist);
  for (let i = 0; i < 12; i++) t.trainStep(false);
  const ckpt = await roundTrip(t, 'trunc');
  const z = latents(16, 32, 3);
  const spreadAt = (psi: number) => {
    const u = new GanTrainer(config({ extras: { truncation: psi } }), mnist);
    u.restore(ckpt);
    const s = samples(u, z);
    u.dispose();
    return spread(s.data, 16, PIXELS);
  };
  const s0 = spreadAt(0);
  const sHalf = spreadAt(0.5);
  const s1 = spreadAt(1);
  assert.ok(s0 < 1e-5, `ψ = 0: samples identical (spread ${s0})`);
  assert.ok(s1 > 0.02, `ψ = 1: samples differ (spread ${s1})`);
  assert.ok(sHalf > s0 && sHalf < s1, `ψ = 0.5 in between: ${s0} < ${sHalf} < ${s1}`);
  t.dispose();
  z.dispose();
});

test('style mixing: two w vectors feed different layers; the step mixes at the configured rate', () => {
  // the synthesis network really takes one w per layer: a crossover changes the image, and the
  // two ends of the crossover range give the unmixed images of w1 and w2
  const spec: StyleSpec = { resolution: 32, imageSize: 32, imageChannels: 1, latentDim: 16, mappingLayers: 2, gChannels: 16, dChannels: 8, leak: 0.2 };
  const g = buildStyleGenerator(spec, new Rng(1), new Rng(2));
  tf.tidy(() => {
    // non-zero noise strengths and styles away from 1 so every layer matters
    for (const [name, v] of g.params.trainable()) if (name.endsWith('noise_strength')) v.assign(tf.fill(v.shape, 0.1));
    const w1 = g.map(latents(2, 16, 4));
    const w2 = g.map(latents(2, 16, 5));
    const img = (c: number) => g.synthesize(layerStyles(g.numWs, w1, w2, c), { kind: 'fixed' }).dataSync() as Float32Array;
    const only = (w: tf.Tensor2D) => g.synthesize(layerStyles(g.numWs, w, null, g.numWs), { kind: 'fixed' }).dataSync() as Float32Array;
    const maxDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
    assert.equal(g.numWs, 8, '2·log2(32) − 2 per-layer styles');
    assert.equal(maxDiff(img(g.numWs), only(w1)), 0, 'crossover at the end: all w1');
    assert.equal(maxDiff(img(0), only(w2)), 0, 'crossover at 0: all w2');
    const mixed = img(4);
    assert.ok(maxDiff(mixed, only(w1)) > 1e-4 && maxDiff(mixed, only(w2)) > 1e-4, 'a middle crossover differs from both');
  });
  g.params.dispose();

  const rate = (p: number) => {
    const t = new GanTrainer(config({ extras: { styleMixing: p } }), mnist);
    let s = 0;
    for (let i = 0; i < 10; i++) s += t.trainStep(false).scalars['style/mixing'];
    t.dispose();
    return s / 10;
  };
  assert.equal(rate(0), 0);
  assert.equal(rate(1), 1);
  const half = rate(0.5);
  assert.ok(half > 0.2 && half < 0.8, `styleMixing 0.5 mixes about half the forward passes: ${half}`);
});

test('learns MNIST: diagonal Fréchet distance to real digits falls ≥ 4× and below the mean-digit baseline', () => {
  const nReal = 1000;
  const real = Float32Array.from(mnistPixels.subarray(0, nReal * PIXELS), (v) => v / 127.5 - 1);
  const realF = pooledFeatures(real, nReal, 28, 28, 1);
  // baseline: every sample is the mean real digit (right means, no variation)
  const mean = new Float32Array(PIXELS);
  for (let i = 0; i < nReal; i++) for (let j = 0; j < PIXELS; j++) mean[j] += real[i * PIXELS + j] / nReal;
  const N = 256;
  const meanImages = new Float32Array(N * PIXELS);
  for (let i = 0; i < N; i++) meanImages.set(mean, i * PIXELS);
  const meanBaseline = diagonalFrechet(pooledFeatures(meanImages, N, 28, 28, 1), realF);

  const t = new GanTrainer(config({ seed: 1, schedule: { batchSize: 16 } }), mnist);
  const z = latents(N, 32, 9);
  const measure = () => {
    const s = samples(t, z).data;
    return { fd: diagonalFrechet(pooledFeatures(s, N, 28, 28, 1), realF), conf: meanConfidence(digitClassifier(), s, N) };
  };
  const before = measure();
  const started = performance.now();
  for (let i = 0; i < 150; i++) t.trainStep(false);
  const seconds = (performance.now() - started) / 1000;
  const after = measure();
  console.log(`stylegan MNIST: diagonal FD ${before.fd.toFixed(2)} → ${after.fd.toFixed(2)} (mean-digit baseline ${meanBaseline.toFixed(2)}), classifier confidence ${before.conf.toFixed(3)} → ${after.conf.toFixed(3)}, 150 steps in ${seconds.toFixed(1)} s`);
  assert.ok(after.fd < before.fd / 4, `FD falls at least 4×: ${before.fd} → ${after.fd}`);
  assert.ok(after.fd < meanBaseline * 0.8, `FD ${after.fd} beats the mean-digit baseline ${meanBaseline}`);
  t.dispose();
  z.dispose();
});

test('default preset step time on wasm (3 steps after 1 warm-up; set GAN_BENCH=1)', { skip: !process.env.GAN_BENCH }, () => {
  const cfg = resolveRunConfig({ dataset: 'builtin:mnist', family: 'stylegan', seed: 1, backend: 'wasm' });
  const t = new GanTrainer(cfg, mnist);
  t.trainStep(false);
  const times: number[] = [];
  for (let i = 0; i < 3; i++) {
    const s = performance.now();
    t.trainStep(false);
    times.push(performance.now() - s);
  }
  console.log(`stylegan default preset (batch ${cfg.schedule.batchSize}, gChannels ${cfg.architecture.gChannels}, dChannels ${cfg.architecture.dChannels}): ${times.map((v) => v.toFixed(0)).join(', ')} ms per step`);
  t.dispose();
});
