// The `discriminate` hook of every noise-to-image family (issue 7): D's raw per-sample scores,
// higher = more real (logits, critic scores, minus the reconstruction energy of EBGAN and BEGAN),
// one finite score per image; after a few steps D tells MNIST digits from uniform noise. And the
// trainer's diagnostics probe built on it: D's accuracy where the objective has a decision
// threshold (none for energies), and the real-vs-held-out drift (a conditional D scoring each image
// with its class), read on D's real–fake spread, so not for BEGAN.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { registerWasmTrainingKernels, registerSecondOrderGradients } from '../../electron/core/tf/wasm-kernels.ts';
import { GanTrainer, type HoldoutImages, type TrainingData } from '../../electron/core/trainer/gan-trainer.ts';
import { builtinMnistArrays } from '../../electron/core/datasets/builtin-mnist.ts';
import { resolveRunConfig, type RunConfigInput } from '../../electron/common/config.ts';
import { Rng } from '../../electron/core/models/rng.ts';

const PX = 28 * 28;
/** held-out tail of the built-in MNIST (never trained on here) */
const HOLD = 64;
let mnist: TrainingData;
let holdout: HoldoutImages;

before(async () => {
  registerWasmTrainingKernels();
  // StyleGAN's lazy R1 differentiates through D's gradient
  registerSecondOrderGradients();
  assert.ok(await tf.setBackend('wasm'));
  await tf.ready();
  const { arrays, manifest } = builtinMnistArrays();
  const n = manifest.count - HOLD;
  mnist = { shape: { layout: 'images', height: 28, width: 28, channels: 1, count: n, classes: 10 }, images: arrays.images.subarray(0, n * PX), imagesB: null, countB: 0, labels: arrays.labels.subarray(0, n), points: null };
  holdout = { images: arrays.images.subarray(n * PX, (n + HOLD) * PX), count: HOLD, labels: arrays.labels.subarray(n, n + HOLD) };
});

/** Small widths and batches: seconds per family. */
function trainer(family: string, over: Partial<RunConfigInput> = {}): GanTrainer {
  const config = resolveRunConfig({
    dataset: 'builtin:mnist',
    family,
    seed: 3,
    backend: 'wasm',
    ...over,
    architecture: { gChannels: 16, dChannels: 16, latentDim: 16, ...(family === 'stylegan' ? { mappingLayers: 2 } : {}), ...over.architecture },
    schedule: { batchSize: 16, scalarEvery: 1, checkpointEvery: 0, ...over.schedule },
  });
  return new GanTrainer(config, mnist, { holdout });
}

/** 32 held-out digits and 32 images of uniform noise in [-1, 1], with the digits' classes. */
function probeBatches(): { real: Float32Array; noise: Float32Array; labels: Int32Array } {
  const n = 32;
  const real = new Float32Array(n * PX);
  for (let i = 0; i < real.length; i++) real[i] = holdout.images[i] / 127.5 - 1;
  const rng = new Rng(5);
  const noise = new Float32Array(n * PX);
  for (let i = 0; i < noise.length; i++) noise[i] = rng.uniform() * 2 - 1;
  return { real, noise, labels: Int32Array.from(holdout.labels!.subarray(0, n)) };
}

function scores(t: GanTrainer, x: Float32Array, labels: Int32Array | null): Float32Array {
  const out = tf.tidy(() => t.family.discriminate!(tf.tensor4d(x, [x.length / PX, 28, 28, 1]), labels));
  assert.deepEqual(out.shape, [x.length / PX], 'one score per image');
  const v = out.dataSync() as Float32Array;
  out.dispose();
  return v;
}

/** Share of (real, noise) pairs D orders right: 0.5 is chance, 1 a clean separation. */
function separation(real: Float32Array, noise: Float32Array): number {
  let right = 0;
  for (const r of real) for (const f of noise) right += r > f ? 1 : r === f ? 0.5 : 0;
  return right / (real.length * noise.length);
}

const FAMILIES: { family: string; steps: number; over?: Partial<RunConfigInput>; conditional?: boolean }[] = [
  { family: 'dcgan', steps: 10 },
  { family: 'sagan', steps: 10 },
  { family: 'cgan', steps: 10, conditional: true },
  { family: 'cgan', steps: 10, conditional: true, over: { architecture: { projection: false } } },
  { family: 'ebgan', steps: 60 },
  { family: 'began', steps: 150 },
  { family: 'stylegan', steps: 10, over: { schedule: { batchSize: 8 } } },
];

for (const { family, steps, over, conditional } of FAMILIES) {
  test(`${family}${over?.architecture ? ' (concatenated labels)' : ''}: one finite score per image, digits above noise after ${steps} steps`, () => {
    const t = trainer(family, over);
    try {
      assert.equal(typeof t.family.discriminate, 'function', `${family} has a discriminate hook`);
      const { real, noise, labels } = probeBatches();
      if (conditional) assert.throws(() => scores(t, real, null), /pass one label per image/);
      for (let i = 0; i < steps; i++) t.trainStep(false);
      const r = scores(t, real, conditional ? labels : null);
      const f = scores(t, noise, conditional ? labels : null);
      assert.ok([...r, ...f].every(Number.isFinite), 'finite scores');
      const sep = separation(r, f);
      console.log(`${family}${over?.architecture ? ' (concat)' : ''}: after ${steps} steps, real ${mean(r).toFixed(3)} vs noise ${mean(f).toFixed(3)}, pairs ordered right ${(sep * 100).toFixed(1)} %`);
      assert.ok(sep >= 0.9, `${family}'s D ranks digits above noise: ${(sep * 100).toFixed(1)} % of pairs`);
    } finally {
      t.dispose();
    }
  });
}

const mean = (xs: Float32Array) => xs.reduce((a, b) => a + b, 0) / xs.length;

test('the probe on cgan: D accuracy and the held-out drift, D(x, y) scored with each image\'s class', () => {
  const t = trainer('cgan');
  try {
    for (let i = 0; i < 5; i++) t.trainStep(false);
    const p = t.diagnosticProbe();
    for (const tag of ['d/acc_real', 'd/acc_fake', 'd/train', 'd/holdout', 'd/overfit_gap']) assert.ok(Number.isFinite(p[tag]), `${tag}: ${p[tag]}`);
    assert.ok(p['d/acc_real']! >= 0 && p['d/acc_real']! <= 1 && p['d/acc_fake']! >= 0 && p['d/acc_fake']! <= 1);
    // non-saturating: the probe reports sigmoid(logit), a probability
    assert.ok(p['d/train']! > 0 && p['d/train']! < 1);
  } finally {
    t.dispose();
  }
});

test('the probe on ebgan: the held-out drift on minus the energy once D scores training images above fakes; no accuracy (an energy has no decision threshold)', () => {
  const t = trainer('ebgan');
  try {
    let p: Record<string, number> = {};
    // measured: D's real–fake spread turns positive after ~125 steps with these widths (seed 3)
    for (let i = 1; i <= 200 && !Number.isFinite(p['d/overfit_gap']); i++) {
      t.trainStep(false);
      if (i % 25 === 0) p = t.diagnosticProbe();
    }
    assert.ok(Number.isFinite(p['d/overfit_gap']), `gap ${p['d/overfit_gap']}`);
    // 200 steps on 9,936 images: far from memorising them
    assert.ok(Math.abs(p['d/overfit_gap']!) < 0.5, `gap ${p['d/overfit_gap']}`);
    assert.ok(p['d/train']! < 0 && p['d/holdout']! < 0, 'scores are minus energies');
    assert.equal(p['d/acc_real'], undefined);
    assert.equal(p['d/acc_fake'], undefined);
  } finally {
    t.dispose();
  }
});

test('the probe on began: no drift gap, since its D reconstructs fakes better than real images by design (γ < 1)', () => {
  const t = trainer('began');
  try {
    for (let i = 0; i < 20; i++) t.trainStep(false);
    const p = t.diagnosticProbe();
    assert.ok(Number.isFinite(p['d/train']) && Number.isFinite(p['d/holdout']));
    assert.ok(p['d/train']! < 0, 'minus the L1 energy');
    assert.equal(p['d/overfit_gap'], undefined);
    assert.equal(p['d/acc_real'], undefined);
  } finally {
    t.dispose();
  }
});
