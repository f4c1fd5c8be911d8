// The in-process training engine (GanTrainer) on real MNIST:
// - determinism: the same seed on the same backend gives identical losses step for step;
// - F3: restoring weights only, or weights without the optimizer state, gives visibly different
//   weights after k more steps than an exact restore, which matches the straight run — so the
//   optimizer state really is saved and restored;
// - F2: tf.memory().numTensors stays flat per step after the first (which creates the optimizer
//   slots), across snapshot()/restore() and sample grids, and dispose() frees everything.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { registerWasmTrainingKernels } from '../../electron/core/tf/wasm-kernels.ts';
import { GanTrainer, type StepStats } from '../../electron/core/trainer/gan-trainer.ts';
import { readCheckpoint, writeCheckpoint, type LoadedCheckpoint } from '../../electron/core/trainer/checkpoint.ts';
import { builtinMnistArrays } from '../../electron/core/datasets/builtin-mnist.ts';
import { resolveRunConfig, type RunConfig } from '../../electron/common/config.ts';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gan-engine-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

// The plain image form of the training data (MNIST digits, no labels).
let data: ConstructorParameters<typeof GanTrainer>[1];
before(async () => {
  const { arrays, manifest } = builtinMnistArrays();
  assert.ok(arrays.images, 'MNIST has images');
  data = { images: arrays.images, count: manifest.count, height: manifest.height, width: manifest.width, channels: manifest.channels };
  registerWasmTrainingKernels();
});

function config(backend: 'cpu' | 'wasm', seed: number, steps = 1000): RunConfig {
  return resolveRunConfig({
    dataset: 'builtin:mnist',
    family: 'dcgan',
    backend,
    seed,
    architecture: { gChannels: 16, dChannels: 8, latentDim: 16 },
    schedule: { steps, batchSize: 8, scalarEvery: 1, checkpointEvery: 0 },
  });
}

async function useBackend(name: 'cpu' | 'wasm'): Promise<void> {
  assert.ok(await tf.setBackend(name), `backend ${name} starts`);
  await tf.ready();
}

/** Weights (G/, D/) of a trainer by logical name. */
function weights(t: GanTrainer): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  for (const e of t.snapshot().tensors) if (e.name.startsWith('G/') || e.name.startsWith('D/')) out.set(e.name, e.data);
  return out;
}

function maxDiff(a: Map<string, Float32Array>, b: Map<string, Float32Array>): number {
  assert.deepEqual([...a.keys()].sort(), [...b.keys()].sort());
  let max = 0;
  for (const [name, x] of a) {
    const y = b.get(name)!;
    for (let i = 0; i < x.length; i++) {
      const d = Math.abs(x[i]! - y[i]!);
      if (!(d <= max)) max = Number.isNaN(d) ? Infinity : d;
    }
  }
  return max;
}

async function saveAndLoad(t: GanTrainer, name: string): Promise<LoadedCheckpoint> {
  const snap = t.snapshot();
  const written = await writeCheckpoint(path.join(tmp, name), t.step, 'periodic', snap.tensors, snap.state);
  return readCheckpoint(written.dir);
}

/** The same checkpoint with every optimizer slot removed and the counters reset: a fresh optimizer. */
function withoutOptimizerState(ckpt: LoadedCheckpoint): LoadedCheckpoint {
  const tensors = new Map([...ckpt.tensors].filter(([name]) => name.startsWith('G/') || name.startsWith('D/')));
  assert.ok(tensors.size < ckpt.tensors.size, 'the checkpoint holds optimizer slots to remove');
  // The optimizer update counters (Adam's bias correction) go back to zero too, whatever their key.
  const zero = (v: unknown): unknown => (typeof v === 'number' ? 0 : Array.isArray(v) ? v.map(zero) : v);
  const counters = Object.keys(ckpt.manifest.state).filter((k) => /iterations/i.test(k));
  assert.ok(counters.length > 0, `the checkpoint state holds optimizer counters: ${Object.keys(ckpt.manifest.state).join(', ')}`);
  const state = Object.fromEntries(Object.entries(ckpt.manifest.state).map(([k, v]) => [k, counters.includes(k) ? zero(v) : v]));
  return { ...ckpt, tensors, manifest: { ...ckpt.manifest, state } };
}

describe('determinism', () => {
  test('wasm: the same seed gives identical losses for the first 50 steps; another seed does not', async () => {
    await useBackend('wasm');
    const run = (seed: number, n: number) => {
      const t = new GanTrainer(config('wasm', seed), data);
      const out: StepStats[] = [];
      for (let i = 0; i < n; i++) out.push(t.trainStep(i % 5 === 4));
      t.dispose();
      return out;
    };
    const a = run(77, 50);
    const b = run(77, 50);
    assert.deepEqual(b, a);
    assert.ok(a.every((s) => Number.isFinite(s.gLoss) && Number.isFinite(s.dLoss)));
    const c = run(78, 3);
    assert.notEqual(c[0]!.gLoss, a[0]!.gLoss, 'the seed matters');
  });

  test('cpu: the same seed gives identical losses (few steps: cpu is slow)', async () => {
    await useBackend('cpu');
    const run = () => {
      const t = new GanTrainer(config('cpu', 77), data);
      const out = [t.trainStep(true), t.trainStep(false), t.trainStep(true)];
      t.dispose();
      return out;
    };
    assert.deepEqual(run(), run());
  });
});

describe('F3: the optimizer state is part of the checkpoint', () => {
  test('wasm: exact restore matches the straight run; weights-only or a fresh optimizer visibly differs', async (ctx) => {
    await useBackend('wasm');
    const k = 10;
    const seed = 4242;
    const straight = new GanTrainer(config('wasm', seed), data);
    for (let i = 0; i < 2 * k; i++) straight.trainStep();
    const reference = weights(straight);
    straight.dispose();

    const firstHalf = new GanTrainer(config('wasm', seed), data);
    for (let i = 0; i < k; i++) firstHalf.trainStep();
    const ckpt = await saveAndLoad(firstHalf, 'f3');
    firstHalf.dispose();

    const continueFrom = (restore: (t: GanTrainer) => void) => {
      const t = new GanTrainer(config('wasm', seed), data);
      restore(t);
      assert.equal(t.step, k);
      for (let i = 0; i < k; i++) t.trainStep();
      const w = weights(t);
      t.dispose();
      return maxDiff(w, reference);
    };
    const exact = continueFrom((t) => t.restore(ckpt));
    const weightsOnly = continueFrom((t) => t.restore(ckpt, { weightsOnly: true }));
    const freshOptimizer = continueFrom((t) => t.restore(withoutOptimizerState(ckpt)));
    ctx.diagnostic(`max |Δw| vs straight: exact ${exact}, weights-only ${weightsOnly}, fresh optimizer ${freshOptimizer}`);
    assert.ok(exact < 1e-5, `exact restore: max |Δw| = ${exact}`);
    // Adam moves each weight by about lr (2e-4) per step: a cold optimizer is off by far more than 1e-5.
    assert.ok(weightsOnly > 1e-4, `weights-only restore must differ: max |Δw| = ${weightsOnly}`);
    assert.ok(freshOptimizer > 1e-4, `restore without optimizer state (same RNG and data cursor) must differ: max |Δw| = ${freshOptimizer}`);
  });
});

describe('F2: no tensor leaks', () => {
  for (const { backend, steps } of [
    { backend: 'wasm', steps: 30 },
    { backend: 'cpu', steps: 4 },
  ] as const) {
    test(`${backend}: numTensors is flat per step after warm-up, across snapshot/restore and samples`, async () => {
      await useBackend(backend);
      const before = tf.memory().numTensors;
      const t = new GanTrainer(config(backend, 9), data);
      t.trainStep(true); // warm-up: the optimizer slots appear on the first update
      const base = tf.memory().numTensors;
      const counts: number[] = [];
      for (let i = 0; i < steps; i++) {
        t.trainStep(i % 2 === 0);
        counts.push(tf.memory().numTensors);
      }
      assert.deepEqual(counts, counts.map(() => base), 'flat per step, with and without gradient norms');

      t.sampleGrid();
      assert.equal(tf.memory().numTensors, base, 'sampleGrid frees its tensors');
      const ckpt = await saveAndLoad(t, `leak-${backend}`);
      assert.equal(tf.memory().numTensors, base, 'snapshot frees its tensors');
      for (let i = 0; i < 3; i++) t.restore(ckpt);
      assert.equal(tf.memory().numTensors, base, 'restore (into existing variables) frees its tensors');
      t.restore(ckpt, { weightsOnly: true });
      assert.equal(tf.memory().numTensors, base, 'weights-only restore frees its tensors');
      t.trainStep(true);
      t.trainStep(false);
      assert.equal(tf.memory().numTensors, base, 'flat after restore');

      // A restore into a fresh trainer creates its optimizer slots from the checkpoint: no more
      // tensors than a trainer that trained, and none left after dispose.
      const fresh = new GanTrainer(config(backend, 9), data);
      fresh.restore(ckpt);
      fresh.trainStep(true);
      assert.equal(tf.memory().numTensors, 2 * base - before, 'a restored trainer holds what a trained one holds');
      fresh.dispose();
      t.dispose();
      assert.equal(tf.memory().numTensors, before, 'dispose frees every tensor of the trainer');
    });
  }
});
