// Evaluations during training (issue 6, "metric over steps, small N") and the cancellable metric
// phase, on a real short run (forked trainer, wasm), real SQLite and the real evaluation thread:
// - a run whose config asks for `evaluation: { every: 30, n: 80 }` gets a small-N evaluation of its
//   checkpoints at steps 30 and 60, stored with duringTraining = true, N and the extractor recorded,
//   KID over one subset (N ≤ the subset size), lines in the run's log; a mark reached while one is
//   still running is skipped with a logged reason;
// - a user evaluation cancelled in the middle of KID stops within a second, stores nothing, and its
//   progress ("metrics: kid 40 %") only goes forward.
// To make the steps deterministic on a busy 2-core machine the test pauses the run while the first
// during-training evaluation runs (the scheduler itself never waits for the trainer or blocks it).
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import type { EvaluationJob } from '../../electron/common/api-evaluation.ts';
import type { RunSummary } from '../../electron/common/api.ts';
import { StudioHarness, tinyConfigInput } from './fixtures/trainer-harness.ts';

let h: StudioHarness;
let run: RunSummary;

before(async () => {
  h = await StudioHarness.create('gan-eval-dt-', { supervision: { heartbeatTimeoutMs: 30_000, killGraceMs: 500 } });
});
after(async () => {
  await h?.close();
  h?.dispose();
});

const dtJobs = (from = 0) =>
  h.events
    .slice(from)
    .map((r) => r.event)
    .flatMap((e) => (e.type === 'evaluation.job' && e.job.duringTraining ? [e.job] : []));

test('a run with an evaluation section is scored at its 30-step marks during training, small N, flagged', async (t) => {
  run = await h.start(
    tinyConfigInput('wasm', 11, { steps: 60, batchSize: 32, checkpointEvery: 30 }, { evaluation: { every: 30, n: 80, extractor: 'pixel-8', metrics: ['fid', 'kid'] } }),
  );
  // the first during-training job: pause the run until it ends (see the header)
  const first = await h.waitFor((e) => (e.type === 'evaluation.job' && e.job.duringTraining && e.job.runId === run.id ? e.job : undefined), 150_000, 'the first during-training evaluation');
  await h.client.call('runs.pause', { runId: run.id });
  assert.match(first.value.label, /@ step 30 \(during training, N = 80\)/);
  // a later mark reached while it runs is skipped, with the reason in the run's log
  h.core.evaluation.onCheckpoint({ runId: run.id, step: 60, dir: '' });
  const firstEnd = await h.core.evaluation.wait(first.value.jobId);
  assert.equal(firstEnd.state, 'done', JSON.stringify(firstEnd.error));
  assert.ok(h.logs(run.id).some((l) => /evaluation during training skipped at step 60: the one of step 30 is still running/.test(l)), h.logs(run.id).join('\n'));
  await h.client.call('runs.resume', { runId: run.id });
  const end = await h.waitForStatus(run.id, ['completed', 'failed', 'interrupted'], 150_000);
  assert.equal(end.value.status, 'completed', end.value.statusReason ?? '');
  const second = await h.waitFor((e) => (e.type === 'evaluation.job' && e.job.duringTraining && e.job.runId === run.id && e.job.jobId !== first.value.jobId ? e.job : undefined), 60_000, 'the second during-training evaluation');
  const secondEnd = await h.core.evaluation.wait(second.value.jobId);
  assert.equal(secondEnd.state, 'done', JSON.stringify(secondEnd.error));

  const all = await h.client.call('evaluations.list', { runId: run.id, includeDuringTraining: true });
  const steps = all.map((e) => e.step).sort((a, b) => a! - b!);
  assert.deepEqual(steps, [30, 60]);
  for (const e of all) {
    assert.equal(e.protocol.duringTraining, true);
    assert.deepEqual([e.protocol.nReal, e.protocol.nFake, e.protocol.extractorId, e.protocol.featureDim], [80, 80, 'pixel-8', 64]);
    assert.deepEqual(e.metrics, ['fid', 'kid']);
    assert.ok(Number.isFinite(e.scores.fid) && e.scores.fid! > 0, `fid ${e.scores.fid}`);
    // N = 80 ≤ the subset size 1000: one subset, no fake spread
    assert.deepEqual([e.scores.kid!.subsets, e.scores.kid!.subsetSize, e.scores.kid!.std], [1, 80, 0]);
    assert.match(e.protocol.convention.kid!, /one subset/);
  }
  // the two are comparable with each other (same protocol), and kept out of the default listing
  assert.equal(all[0]!.protocolKey, all[1]!.protocolKey);
  assert.equal((await h.client.call('evaluations.list', { runId: run.id })).length, 0);
  const done = h.logs(run.id).filter((l) => /evaluation during training at step (30|60) .* done: FID/.test(l));
  assert.equal(done.length, 2, h.logs(run.id).join('\n'));
  t.diagnostic(done.join(' | '));
  assert.ok(dtJobs().every((j) => j.runId === run.id && j.kind === 'evaluate'));
});

test('a cancel in the middle of KID stops the job quickly, stores nothing; progress only goes forward', async (t) => {
  const before = (await h.client.call('evaluations.list', { includeDuringTraining: true })).length;
  const from = h.events.length;
  const job = await h.client.call('evaluations.start', {
    source: { kind: 'run', runId: run.id },
    extractorId: 'pixel',
    metrics: ['kid'],
    n: 400,
    options: { kidSubsets: 1000, kidSubsetSize: 200 },
  });
  assert.equal(job.duringTraining, false);
  await h.waitFor((e) => e.type === 'evaluation.job' && e.job.jobId === job.jobId && /^metrics: kid ([1-9]\d*) %$/.test(e.job.phase) && Number(/(\d+) %/.exec(e.job.phase)![1]) >= 3, 120_000, 'KID to be under way', from);
  const t0 = performance.now();
  const end = await h.client.call('evaluations.cancel', { jobId: job.jobId });
  const latency = performance.now() - t0;
  t.diagnostic(`cancel during KID took ${latency.toFixed(0)} ms`);
  assert.equal(end.state, 'cancelled');
  assert.equal(end.resultId, null);
  assert.ok(latency < 3000, `cancel took ${latency.toFixed(0)} ms`);
  assert.equal((await h.client.call('evaluations.list', { includeDuringTraining: true })).length, before);
  const seen: EvaluationJob[] = h.events.slice(from).flatMap((r) => (r.event.type === 'evaluation.job' && r.event.job.jobId === job.jobId ? [r.event.job] : []));
  const fractions = seen.map((j) => j.fraction);
  for (let i = 1; i < fractions.length; i++) assert.ok(fractions[i]! >= fractions[i - 1]!, `fraction went back: ${fractions.join(', ')}`);
  const kidPercents = seen.flatMap((j) => (/^metrics: kid (\d+) %$/.exec(j.phase) ? [Number(/(\d+) %/.exec(j.phase)![1])] : []));
  assert.ok(kidPercents.length >= 2, `phases: ${seen.map((j) => j.phase).join(', ')}`);
  for (let i = 1; i < kidPercents.length; i++) assert.ok(kidPercents[i]! >= kidPercents[i - 1]!, `kid % went back: ${kidPercents.join(', ')}`);
  assert.ok(kidPercents.at(-1)! < 100, 'cancelled before KID ended');
});
