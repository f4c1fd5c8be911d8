// RELIABILITY B2–B5 with real forked trainers training a tiny DCGAN on the built-in MNIST, through
// a studio core with a real SQLite file in a temp home:
// - B2/B3: SIGKILL → `interrupted` naming the signal within 1 s; automatic resume from the last
//   good checkpoint; the run completes with the same weights and losses as an uninterrupted run.
// - B4/B3: SIGSTOP → the heartbeat watchdog terminates it (TERM, grace, KILL), handled as a crash;
//   more crashes than maxRestarts within the window → `failed` with a message; no orphan process.
// - B5: closing the core while runs train writes a `stop` checkpoint; a trainer that misses the
//   deadline is terminated; no trainer process is left.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { checkpointDirName, loadLatestGoodCheckpoint, readCheckpoint, listCheckpointDirs } from '../../electron/core/trainer/checkpoint.ts';
import { openDatabase } from '../../electron/core/db/database.ts';
import { getRunSummary, latestCheckpoint } from '../../electron/core/db/runs-repo.ts';
import { StudioHarness, isWeight, maxAbsDiff, pidAlive, tinyConfigInput, waitUntil } from './fixtures/trainer-harness.ts';

// Generous enough that a trainer still loading tfjs on a busy two-core machine is not taken for hung.
const HEARTBEAT_TIMEOUT_MS = 6000;
const KILL_GRACE_MS = 500;
const BACKOFF_MS = 200;
const MAX_RESTARTS = 2;

let h: StudioHarness;
const pids = new Set<number>();
before(async () => {
  h = await StudioHarness.create('gan-supervision-', {
    supervision: { heartbeatTimeoutMs: HEARTBEAT_TIMEOUT_MS, killGraceMs: KILL_GRACE_MS },
    autoResume: { maxRestarts: MAX_RESTARTS, windowMs: 60_000, backoffMs: BACKOFF_MS },
  });
});
after(async () => {
  // Never leave a stopped or running trainer behind, whatever failed.
  for (const pid of pids) if (pidAlive(pid)) process.kill(pid, 'SIGKILL');
  if (!h) return;
  await h.close();
  h.dispose();
});

function trainerPid(runId: string): number {
  const pid = h.core.runs.trainerPid(runId);
  assert.ok(pid, `run ${runId} has a trainer process`);
  pids.add(pid);
  return pid;
}

test('B2/B3: SIGKILL → interrupted within 1 s, auto-resumed from the last good checkpoint, completes exactly like an uninterrupted run', async (t) => {
  const STEPS = 200;
  const config = tinyConfigInput('wasm', 31, { steps: STEPS, checkpointEvery: 20 });
  const run = await h.start(config);
  await h.waitForStep(run.id, 45, 60_000);
  const pid = trainerPid(run.id);
  const from = h.events.length;
  process.kill(pid, 'SIGKILL');
  const killedAt = performance.now();

  const interrupted = await h.waitForStatus(run.id, 'interrupted', 5_000, from);
  const latency = interrupted.at - killedAt;
  t.diagnostic(`interrupted ${latency.toFixed(0)} ms after SIGKILL`);
  assert.ok(latency < 1000, `interrupted ${latency.toFixed(0)} ms after the kill`);
  assert.match(interrupted.value.statusReason ?? '', /killed by SIGKILL/);
  assert.equal(pidAlive(pid), false, 'the killed trainer is gone');

  // The checkpoint the resumed trainer must start from: the newest one on disk that verifies.
  const { checkpoint: lastGood } = await loadLatestGoodCheckpoint(h.checkpointsDir(run.id));
  assert.ok(lastGood, 'a checkpoint was written before the kill');
  const resumeStep = lastGood.manifest.step;
  t.diagnostic(`resuming from the checkpoint at step ${resumeStep}`);
  assert.ok(resumeStep >= 40 && resumeStep % 20 === 0 && resumeStep < STEPS, `resume step ${resumeStep}`);

  const completed = await h.waitForStatus(run.id, ['completed', 'failed', 'interrupted'], 60_000, interrupted.index + 1);
  assert.equal(completed.value.status, 'completed', `completed after the resume (${completed.value.statusReason})`);
  const after = h.statuses(run.id).slice(h.statuses(run.id).findIndex(([s]) => s === 'interrupted'));
  assert.deepEqual(
    after.map(([s]) => s),
    ['interrupted', 'queued', 'running', 'completed'],
  );
  const logs = h.logs(run.id);
  assert.ok(logs.includes(`warn: automatic resume 1 of ${MAX_RESTARTS} from the last good checkpoint in ${(BACKOFF_MS / 1000).toFixed(1)} s`), logs.join('\n'));
  assert.ok(logs.includes(`info: resumed from the checkpoint at step ${resumeStep}`), `restarts at the checkpoint step: ${logs.join('\n')}`);
  const resumedProgress = h.events.slice(interrupted.index).flatMap((r) => (r.event.type === 'run.progress' && r.event.runId === run.id ? [r.event.step] : []));
  assert.ok(resumedProgress.length > 0 && resumedProgress[0]! > resumeStep && resumedProgress[0]! <= STEPS);

  const detail = await h.client.call('runs.get', { runId: run.id });
  assert.equal(detail.step, STEPS);
  assert.equal(detail.checkpoints.at(-1)?.kind, 'final');
  // The abandoned trajectory's scalars after the checkpoint were rewound: one row per step.
  const scalars = await h.client.call('runs.scalars', { runId: run.id, tags: ['loss/g', 'loss/d'], maxPoints: 10_000 });
  assert.deepEqual(
    scalars['loss/g']?.steps,
    Array.from({ length: STEPS }, (_, i) => i + 1),
  );

  // F3 across a crash: the same seed trained straight through ends with the same weights.
  const straight = await h.start(config);
  const done = await h.waitForStatus(straight.id, ['completed', 'failed', 'interrupted'], 60_000);
  assert.equal(done.value.status, 'completed');
  const finalDir = checkpointDirName(STEPS);
  const [a, b] = await Promise.all([readCheckpoint(path.join(h.checkpointsDir(run.id), finalDir)), readCheckpoint(path.join(h.checkpointsDir(straight.id), finalDir))]);
  const diff = maxAbsDiff(a, b, isWeight);
  t.diagnostic(`max |Δw| crash-resumed vs straight: ${diff.max} over ${diff.compared} weights`);
  assert.ok(diff.max < 1e-5, `max |Δw| crash-resumed vs straight = ${diff.max} at ${diff.worst}`);
  const straightScalars = await h.client.call('runs.scalars', { runId: straight.id, tags: ['loss/g', 'loss/d'], maxPoints: 10_000 });
  assert.deepEqual(scalars, straightScalars, 'identical per-step losses (determinism across processes)');
});

test('B4/B3: a hung trainer (SIGSTOP) is terminated and handled as a crash; too many crashes → failed; no orphans', async (t) => {
  const run = await h.start(tinyConfigInput('wasm', 32, { steps: 1_000_000, checkpointEvery: 20 }));
  await h.waitForStep(run.id, 5, 60_000);
  const pid1 = trainerPid(run.id);
  let from = h.events.length;
  process.kill(pid1, 'SIGSTOP');
  const stoppedAt = performance.now();

  const hung = await h.waitForStatus(run.id, 'interrupted', HEARTBEAT_TIMEOUT_MS + KILL_GRACE_MS + 5_000, from);
  const detectedAfter = hung.at - stoppedAt;
  t.diagnostic(`hung trainer handled ${detectedAfter.toFixed(0)} ms after SIGSTOP`);
  assert.match(hung.value.statusReason ?? '', new RegExp(`stopped responding \\(no heartbeat for over ${HEARTBEAT_TIMEOUT_MS / 1000} s\\) and was terminated`));
  // The watchdog waits out the timeout, then TERM (a stopped process cannot act on it), the grace, KILL.
  assert.ok(detectedAfter >= HEARTBEAT_TIMEOUT_MS + KILL_GRACE_MS - 300, `handled ${detectedAfter.toFixed(0)} ms after SIGSTOP`);
  assert.ok(detectedAfter < HEARTBEAT_TIMEOUT_MS + KILL_GRACE_MS + 2_500, `handled ${detectedAfter.toFixed(0)} ms after SIGSTOP`);
  assert.equal(pidAlive(pid1), false, 'the hung trainer was killed, not left stopped');

  // Handled as a crash: resumed automatically (restart 1 of 2), then crash it until it gives up.
  const seen = [pid1];
  for (let restart = 1; restart <= MAX_RESTARTS; restart++) {
    const running = await h.waitForStatus(run.id, 'running', 60_000, from);
    const pid = trainerPid(run.id);
    assert.ok(!seen.includes(pid), 'a new trainer process');
    seen.push(pid);
    from = h.events.length;
    process.kill(pid, 'SIGKILL');
    assert.ok(running.index < from);
    const crashed = await h.waitForStatus(run.id, 'interrupted', 5_000, from);
    assert.match(crashed.value.statusReason ?? '', /killed by SIGKILL/);
  }
  const failed = await h.waitForStatus(run.id, ['failed', 'queued'], 10_000, from);
  assert.equal(failed.value.status, 'failed', 'no third automatic resume');
  assert.match(failed.value.statusReason ?? '', /^the trainer crashed 3 times within 1 minutes; last: the trainer process was killed by SIGKILL\. Resume it by hand once the cause is fixed\.$/);
  const logs = h.logs(run.id);
  for (let i = 1; i <= MAX_RESTARTS; i++) assert.ok(logs.some((l) => l.startsWith(`warn: automatic resume ${i} of ${MAX_RESTARTS}`)));

  // Nothing restarts later, and no trainer of this run is left.
  await new Promise((r) => setTimeout(r, BACKOFF_MS * 2 ** MAX_RESTARTS + 300));
  assert.ok(!h.core.runs.activeRunIds.includes(run.id));
  assert.equal(h.core.runs.trainerPid(run.id), undefined);
  for (const pid of seen) assert.equal(pidAlive(pid), false, `trainer ${pid} is gone`);
  assert.equal((await h.client.call('runs.get', { runId: run.id })).status, 'failed');
});

test('B5: quitting while runs train: a final `stop` checkpoint within the deadline; a trainer that misses it is killed; no orphans', async (t) => {
  const DEADLINE_MS = 1500;
  const healthy = await h.start(tinyConfigInput('wasm', 33, { steps: 1_000_000, checkpointEvery: 0 }));
  const stuck = await h.start(tinyConfigInput('wasm', 34, { steps: 1_000_000, checkpointEvery: 0 }));
  await h.waitForStep(healthy.id, 10, 60_000);
  await h.waitForStep(stuck.id, 5, 60_000);
  const healthyPid = trainerPid(healthy.id);
  const stuckPid = trainerPid(stuck.id);
  process.kill(stuckPid, 'SIGSTOP');
  const t0 = performance.now();
  await h.core.runs.close(DEADLINE_MS);
  const closeMs = performance.now() - t0;
  t.diagnostic(`closing the run manager took ${closeMs.toFixed(0)} ms (deadline ${DEADLINE_MS} ms, grace ${KILL_GRACE_MS} ms)`);
  assert.ok(closeMs >= DEADLINE_MS - 50 && closeMs < DEADLINE_MS + KILL_GRACE_MS + 2_000, 'close waits out the deadline, then TERM, grace, KILL');
  await h.close();
  await waitUntil(() => !pidAlive(healthyPid) && !pidAlive(stuckPid), 2_000, 'both trainers to be gone');
  assert.deepEqual(h.core.runs.activeRunIds, []);

  const dirs = await listCheckpointDirs(h.checkpointsDir(healthy.id));
  assert.equal(dirs.length, 1, 'one checkpoint: the one written on the way out');
  const ckpt = await readCheckpoint(dirs[0]!.dir);
  assert.equal(ckpt.manifest.kind, 'stop');
  assert.ok(ckpt.manifest.step >= 10);
  assert.deepEqual(await listCheckpointDirs(h.checkpointsDir(stuck.id)), [], 'the stuck trainer wrote nothing');

  const { db } = openDatabase(path.join(h.home, 'studio.db'));
  try {
    const summary = getRunSummary(db, healthy.id)!;
    assert.equal(summary.status, 'stopped');
    assert.equal(summary.step, ckpt.manifest.step);
    const row = latestCheckpoint(db, healthy.id)!;
    assert.equal(row.kind, 'stop');
    assert.equal(row.step, ckpt.manifest.step);
    assert.equal(row.sha256, ckpt.manifest.sha256);
    const lost = getRunSummary(db, stuck.id)!;
    assert.equal(lost.status, 'interrupted', 'resumable from its last checkpoint at the next start');
    assert.match(lost.statusReason ?? '', /^the studio closed before the trainer finished: the trainer process was killed by SIGKILL/);
  } finally {
    db.close();
  }
});
