// Issue 3 "keep the last K plus the best", on a real short run (forked trainer, wasm; the trainer's
// own keep-last-3 pruning), real SQLite, the real evaluation thread (real FID on pixel-8 features),
// and the real `gan-studio evaluate` process.
// The schedule makes the evaluated step the best by construction and gets it pruned: checkpoints
// every 3 steps up to step 19 and `evaluation.every` 10, so the only during-training evaluation is
// of the checkpoint at step 12 (the first at or past the 10-step mark; 19 is below the next mark),
// and the trainer keeps 15, 18 and 19. Step 12 must survive as checkpoints/best, load, be listed
// on the run, and be what `--checkpoint best` scores: with the same protocol and seed it
// reproduces the FID the during-training evaluation stored (and the latest checkpoint does not).
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../../electron/core/paths.ts';
import { readCheckpoint } from '../../electron/core/trainer/checkpoint.ts';
import { StudioHarness, tinyConfigInput } from './fixtures/trainer-harness.ts';

const BIN = path.join(PROJECT_ROOT, 'bin', 'gan-studio.js');
let h: StudioHarness;

before(async () => {
  h = await StudioHarness.create('gan-eval-best-', { supervision: { heartbeatTimeoutMs: 30_000, killGraceMs: 500 } });
});
after(async () => {
  await h?.close();
  h?.dispose();
});

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, GAN_STUDIO_HOME: '' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

test('the checkpoint that scored best survives keep-last-K pruning, loads, and is what --checkpoint best scores', async (t) => {
  const run = await h.start(tinyConfigInput('wasm', 5, { steps: 19, batchSize: 32, checkpointEvery: 3 }, { evaluation: { every: 10, n: 80, extractor: 'pixel-8', metrics: ['fid', 'kid'] } }));
  const job = await h.waitFor((e) => (e.type === 'evaluation.job' && e.job.duringTraining && e.job.runId === run.id ? e.job : undefined), 150_000, 'the during-training evaluation');
  assert.match(job.value.label, /@ step 12 \(during training, N = 80\)/);
  const end = await h.core.evaluation.wait(job.value.jobId);
  assert.equal(end.state, 'done', JSON.stringify(end.error));
  const status = await h.waitForStatus(run.id, ['completed', 'failed', 'interrupted'], 150_000);
  assert.equal(status.value.status, 'completed', status.value.statusReason ?? '');
  const promoted = await h.waitFor((e) => (e.type === 'run.log' && e.runId === run.id && /^best checkpoint/.test(e.message) ? e.message : undefined), 30_000, 'the best-checkpoint decision');
  assert.match(promoted.value, /^best checkpoint: step 12 \(FID [\d.]+, the first best of this run\), kept as checkpoints\/best/);
  t.diagnostic(promoted.value);

  // the run lists it, with the score its evaluation stored
  const [evaluation] = await h.client.call('evaluations.list', { runId: run.id, includeDuringTraining: true });
  assert.ok(evaluation && evaluation.step === 12 && Number.isFinite(evaluation.scores.fid));
  const detail = await h.client.call('runs.get', { runId: run.id });
  assert.deepEqual(detail.bestCheckpoint && [detail.bestCheckpoint.step, detail.bestCheckpoint.metric, detail.bestCheckpoint.score, detail.bestCheckpoint.evaluationId], [12, 'fid', evaluation.scores.fid, evaluation.id]);
  // the trainer pruned step 12 (keep-last-3); best holds it, and no pin or temp folder is left
  assert.deepEqual(detail.checkpoints.map((c) => c.step), [15, 18, 19]);
  assert.deepEqual(fs.readdirSync(h.checkpointsDir(run.id)).sort(), ['best', 'step-000000015', 'step-000000018', 'step-000000019']);
  const best = await readCheckpoint(path.join(h.checkpointsDir(run.id), 'best'));
  assert.equal(best.manifest.step, 12);
  assert.equal(best.manifest.kind, 'periodic');

  // `gan-studio evaluate --checkpoint best` in its own process, on the same data folder
  await h.close();
  const t0 = performance.now();
  const r = await cli(['evaluate', '--run', run.id, '--checkpoint', 'best', '--n', '80', '--extractor', 'pixel-8', '--metrics', 'fid,kid', '--seed', '0', '--home', h.home, '--json']);
  t.diagnostic(`gan-studio evaluate --checkpoint best took ${(performance.now() - t0).toFixed(0)} ms`);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { type: string; step: number; scores: { fid: number }; protocol: { duringTraining: boolean } };
  assert.equal(out.type, 'evaluation');
  assert.equal(out.step, 12);
  assert.equal(out.protocol.duringTraining, false);
  // the same checkpoint, latents, real subset and extractor as the during-training evaluation: the same FID
  t.diagnostic(`FID during training ${evaluation.scores.fid}, --checkpoint best ${out.scores.fid}`);
  assert.ok(Math.abs(out.scores.fid - evaluation.scores.fid!) <= 1e-3 * evaluation.scores.fid!, `${out.scores.fid} vs ${evaluation.scores.fid}`);
  assert.deepEqual(fs.readdirSync(h.checkpointsDir(run.id)).filter((n) => n.startsWith('.')), [], 'the CLI released its pin');
  // the baseline that shows the check can fail: the latest checkpoint (step 19) is outside its tolerance
  const latest = await cli(['evaluate', '--run', run.id, '--checkpoint', 'latest', '--n', '80', '--extractor', 'pixel-8', '--metrics', 'fid,kid', '--seed', '0', '--home', h.home, '--json']);
  assert.equal(latest.code, 0, latest.stderr + latest.stdout);
  const latestOut = JSON.parse(latest.stdout.trim().split('\n').at(-1)!) as { step: number; scores: { fid: number } };
  t.diagnostic(`FID of the latest checkpoint (step ${latestOut.step}): ${latestOut.scores.fid}`);
  assert.equal(latestOut.step, 19);
  assert.ok(Math.abs(latestOut.scores.fid - evaluation.scores.fid!) > 1e-3 * evaluation.scores.fid!, `latest ${latestOut.scores.fid} vs best ${evaluation.scores.fid}`);
});
