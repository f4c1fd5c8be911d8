// Training faults in a real forked trainer, through a studio core:
// - F1: a run whose losses go non-finite ends `diverged` with the reason, writes no checkpoint of
//   the bad state and keeps the last good one. The trigger is real, not injected: plain SGD at
//   lr 1 without batch norm blows up within a few steps on MNIST.
// - E5: a full disk (ENOSPC, injected through GAN_STUDIO_FAULT_ENOSPC_AT_STEP, the trainer's only
//   fault seam) pauses the run with a clear reason, earlier checkpoints stay intact, and resume
//   retries the failed write and continues to completion — for a checkpoint and for a sample.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { listCheckpointDirs, readCheckpoint } from '../../electron/core/trainer/checkpoint.ts';
import { StudioHarness, pidAlive, tinyConfigInput, waitUntil } from './fixtures/trainer-harness.ts';

const harnesses: StudioHarness[] = [];
after(async () => {
  for (const h of harnesses) {
    await h.close();
    h.dispose();
  }
});

async function harness(prefix: string, trainerEnv?: Record<string, string>): Promise<StudioHarness> {
  const h = await StudioHarness.create(prefix, { trainerEnv, supervision: { heartbeatTimeoutMs: 30_000, killGraceMs: 500 } });
  harnesses.push(h);
  return h;
}

const tempEntries = (dir: string) => fs.readdirSync(dir).filter((n) => n.startsWith('.tmp-'));

test('F1: non-finite losses end the run `diverged`; no checkpoint of the bad state; the last good one stays', async (t) => {
  const h = await harness('gan-diverge-');
  const sgd = { kind: 'sgd', lr: 1, beta1: 0, beta2: 0.9 };
  const run = await h.start(
    tinyConfigInput('wasm', 7, { steps: 500, checkpointEvery: 2 }, { objective: 'non-saturating', architecture: { gChannels: 16, dChannels: 8, latentDim: 16, gNorm: 'none' }, optimizer: { g: sgd, d: sgd } }),
  );
  const end = await h.waitForStatus(run.id, ['diverged', 'completed', 'failed', 'interrupted'], 60_000);
  assert.equal(end.value.status, 'diverged', `diverged (${end.value.statusReason})`);
  const m = /^non-finite values at step (\d+): G loss (\S+), D loss (\S+)/.exec(end.value.statusReason ?? '');
  assert.ok(m, `the reason names the step and the losses: ${end.value.statusReason}`);
  const badStep = Number(m[1]);
  t.diagnostic(`diverged at step ${badStep}: ${end.value.statusReason}`);
  assert.ok([m[2], m[3]].some((v) => v === 'NaN' || /Infinity/.test(v!)), 'a loss is reported as non-finite');
  assert.ok(badStep > 2, 'at least one good checkpoint came first');
  assert.ok(h.logs(run.id).includes(`error: ${end.value.statusReason}`), 'the reason is in the run log');

  // On disk: only checkpoints of good steps, all verifying, all finite; the newest is the last good one.
  const dirs = await listCheckpointDirs(h.checkpointsDir(run.id));
  assert.ok(dirs.length > 0);
  for (const { step, dir } of dirs) {
    assert.ok(step < badStep, `checkpoint at step ${step} precedes the bad step ${badStep}`);
    const ckpt = await readCheckpoint(dir);
    assert.notEqual(ckpt.manifest.kind, 'final');
    for (const [name, e] of ckpt.tensors) assert.ok(e.data.every(Number.isFinite), `${name} at step ${step} is finite`);
  }
  assert.ok(dirs[0]!.step >= badStep - 2, `the last good checkpoint (step ${dirs[0]!.step}) is kept`);
  assert.deepEqual(tempEntries(h.checkpointsDir(run.id)), []);

  const detail = await h.client.call('runs.get', { runId: run.id });
  assert.deepEqual(
    detail.checkpoints.map((c) => c.step),
    dirs.map((d) => d.step).reverse(),
    'the database lists exactly the checkpoints on disk',
  );
  // The stored curves hold only finite values from good steps.
  const scalars = await h.client.call('runs.scalars', { runId: run.id, tags: ['loss/g', 'loss/d'], maxPoints: 10_000 });
  for (const s of Object.values(scalars)) {
    assert.ok(s.steps.every((st) => st < badStep));
    assert.ok(s.values.every(Number.isFinite));
  }
  await waitUntil(() => h.core.runs.activeRunIds.length === 0, 5_000, 'the trainer to exit after reporting the divergence');
});

test('E5: ENOSPC pauses the run with a clear reason, keeps earlier checkpoints, and resume retries the write and continues', async (t) => {
  // Step 20: the periodic checkpoint's tensors.bin is cut short by ENOSPC. Step 40 (the last): the
  // final sample image is refused.
  const h = await harness('gan-enospc-', { GAN_STUDIO_FAULT_ENOSPC_AT_STEP: '20,40' });
  const run = await h.start(tinyConfigInput('wasm', 5, { steps: 40, checkpointEvery: 10 }));
  const ckptDir = h.checkpointsDir(run.id);

  const paused = await h.waitForStatus(run.id, ['paused', 'completed', 'failed', 'interrupted'], 60_000);
  assert.equal(paused.value.status, 'paused', `paused (${paused.value.statusReason})`);
  t.diagnostic(`paused: ${paused.value.statusReason}`);
  assert.match(paused.value.statusReason ?? '', /^the disk is full: the checkpoint at step 20 could not be written \(ENOSPC: no space left on device.*\); free space, then resume$/);
  assert.ok(h.logs(run.id).includes(`error: ${paused.value.statusReason}`));

  // While paused: the trainer waits (alive, not training), the earlier checkpoint is intact, the
  // torn write left nothing behind.
  const pid = h.core.runs.trainerPid(run.id)!;
  const eventsAtPause = h.events.length;
  await new Promise((r) => setTimeout(r, 700));
  assert.ok(pidAlive(pid));
  assert.ok(!h.events.slice(eventsAtPause).some((r) => r.event.type === 'run.progress'), 'no training while paused');
  assert.deepEqual(
    (await listCheckpointDirs(ckptDir)).map((d) => d.step),
    [10],
  );
  assert.equal((await readCheckpoint(path.join(ckptDir, 'step-000000010'))).manifest.step, 10);
  assert.deepEqual(tempEntries(ckptDir), [], 'the half-written temp folder was removed');
  assert.equal((await h.client.call('runs.get', { runId: run.id })).status, 'paused');

  let from = h.events.length;
  await h.client.call('runs.resume', { runId: run.id });
  await h.waitForStatus(run.id, 'running', 10_000, from);
  const second = await h.waitForStatus(run.id, ['paused', 'completed', 'failed', 'interrupted'], 60_000, from);
  assert.equal(second.value.status, 'paused');
  assert.match(second.value.statusReason ?? '', /^the disk is full: the sample image at step 40 could not be written/);

  from = h.events.length;
  await h.client.call('runs.resume', { runId: run.id });
  const end = await h.waitForStatus(run.id, ['completed', 'failed', 'interrupted', 'paused'], 60_000, from);
  assert.equal(end.value.status, 'completed', `completed (${end.value.statusReason})`);
  assert.equal(end.value.statusReason, null, 'the disk-full reason is cleared');

  // The retried checkpoint at step 20 exists (keep-last-3 then pruned step 10); the retried final
  // sample too.
  const detail = await h.client.call('runs.get', { runId: run.id });
  assert.deepEqual(
    detail.checkpoints.map((c) => [c.step, c.kind]),
    [
      [20, 'periodic'],
      [30, 'periodic'],
      [40, 'final'],
    ],
  );
  for (const c of detail.checkpoints) assert.equal((await readCheckpoint(path.join(ckptDir, `step-${String(c.step).padStart(9, '0')}`))).manifest.step, c.step);
  assert.ok(detail.sampleSteps.includes(40), `the final sample was written on retry: ${detail.sampleSteps.join(', ')}`);
  assert.deepEqual(tempEntries(ckptDir), []);
});
