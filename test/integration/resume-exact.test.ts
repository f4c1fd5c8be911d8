// RELIABILITY F3, across processes: a trainer that trains k steps and checkpoints, then a NEW
// trainer process that resumes from that checkpoint and trains k more, ends with the weights,
// optimizer state, RNG and data cursor of a straight 2k-step run of the same seed, on cpu and on
// wasm. The per-step losses of the two trajectories match too (determinism across processes).
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { readCheckpoint, type LoadedCheckpoint } from '../../electron/core/trainer/checkpoint.ts';
import { lossRows, makeTempDir, materialiseMnist, maxAbsDiff, isWeight, runTrainer, tinyConfig, type Backend, type TrainerOutcome } from './fixtures/trainer-harness.ts';

const TOL = 1e-5;
const tmp = makeTempDir('gan-resume-exact-');
let dataset: { id: string; dir: string };
before(async () => {
  dataset = await materialiseMnist(path.join(tmp, 'mnist'));
});
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

function assertCompleted(o: TrainerOutcome, label: string): void {
  assert.equal(o.crash, null, `${label}: no crash (${o.crash?.reason})`);
  assert.deepEqual(o.invalid, [], `${label}: every trainer message valid`);
  assert.equal(o.done?.status, 'completed', `${label}: completed (${o.done?.reason})`);
  assert.equal(o.exit.code, 0, `${label}: exit code 0`);
}

async function finalCheckpoint(o: TrainerOutcome, step: number): Promise<LoadedCheckpoint> {
  const m = o.messages.findLast((x) => x.type === 'checkpoint');
  assert.ok(m && m.type === 'checkpoint', 'a final checkpoint was reported');
  assert.equal(m.step, step);
  assert.equal(m.kind, 'final');
  return readCheckpoint(m.dir);
}

// cpu is the deterministic reference backend but slow (~0.7 s per step of this tiny model on two
// cores); wasm runs the project's own training kernels and is fast.
const CASES: { backend: Backend; k: number }[] = [
  { backend: 'cpu', k: 4 },
  { backend: 'wasm', k: 15 },
];

for (const { backend, k } of CASES) {
  test(`F3 on ${backend}: k=${k} steps, a new process resumes for k more, equals 2k straight steps`, async () => {
    const seed = 1234;
    const dirA = path.join(tmp, `${backend}-resumed`);
    const dirC = path.join(tmp, `${backend}-straight`);
    // Straight run and the first half run concurrently: they share nothing but the dataset.
    const [first, straight] = await Promise.all([
      runTrainer({ runId: 'resumed', config: tinyConfig(backend, seed, { steps: k }), runDir: dirA, dataset, resume: false }),
      runTrainer({ runId: 'straight', config: tinyConfig(backend, seed, { steps: 2 * k }), runDir: dirC, dataset, resume: false }),
    ]);
    assertCompleted(first, 'first half');
    assertCompleted(straight, 'straight run');
    assert.equal(first.ready?.backend.name, backend);
    assert.equal(straight.ready?.backend.name, backend);
    await finalCheckpoint(first, k);

    // A new process, the same run folder, the whole schedule: it must pick up at step k.
    const second = await runTrainer({ runId: 'resumed', config: tinyConfig(backend, seed, { steps: 2 * k }), runDir: dirA, dataset, resume: true });
    assertCompleted(second, 'second half');
    assert.equal(second.ready?.startStep, k, 'the second process starts at the checkpoint step');
    assert.ok(
      second.messages.some((m) => m.type === 'log' && m.message === `resumed from the checkpoint at step ${k}`),
      'the trainer says where it resumed from',
    );
    assert.ok(second.messages.every((m) => m.type !== 'progress' || m.step > k), 'no step at or before k is trained again');

    const resumed = await finalCheckpoint(second, 2 * k);
    const reference = await finalCheckpoint(straight, 2 * k);
    const weights = maxAbsDiff(resumed, reference, isWeight);
    assert.ok(weights.compared > 10_000, `compared ${weights.compared} weights`);
    assert.ok(weights.max < TOL, `max |Δw| = ${weights.max} (at ${weights.worst}) must be < ${TOL}`);
    const slots = maxAbsDiff(resumed, reference, (n) => !isWeight(n));
    assert.ok(slots.compared > 10_000, `compared ${slots.compared} optimizer slot values (Adam m and v)`);
    assert.ok(slots.max < TOL, `max |Δ optimizer state| = ${slots.max} (at ${slots.worst})`);
    assert.deepEqual(resumed.manifest.state, reference.manifest.state, 'step, RNG state, data cursor and optimizer counters match');

    // Per-step losses: the first half and the resumed half each match the straight run exactly.
    const want = lossRows(straight.messages);
    const got = new Map([...lossRows(first.messages), ...lossRows(second.messages)]);
    for (let step = 1; step <= 2 * k; step++) for (const tag of ['loss/g', 'loss/d']) assert.ok(want.has(`${tag}@${step}`), `the straight run reported ${tag} at step ${step}`);
    assert.equal(got.size, want.size, 'the same loss rows');
    for (const [key, value] of want) assert.equal(got.get(key), value, `loss row ${key}`);
  });
}
