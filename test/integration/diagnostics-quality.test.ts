// Stagnation on the quality signal, on a real run (issue 7 with issue 6's evaluations during
// training): a DCGAN on MNIST whose G learns at lr 1e-7 (so its FID stays flat) is evaluated every
// 50 steps (N = 128, pixel-8 FID) by the evaluation service; the run manager takes each finished
// evaluation in as an `eval/fid` scalar at the checkpoint's step and feeds it to the detectors late;
// stagnation fires on eval/fid. The G-frozen rules (weights and samples standing still) are turned
// off so only the quality signal can raise it. Measured on the same machine: a healthy G (lr 2e-4)
// went from FID 27 to 3.8 over 400 steps and raised no stagnation alert.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { StudioHarness } from './fixtures/trainer-harness.ts';

const harnesses: StudioHarness[] = [];
after(async () => {
  for (const h of harnesses) {
    await h.close();
    h.dispose();
  }
});

test('a run whose FID stays flat raises stagnation on eval/fid, from the evaluations during training', async (t) => {
  const h = await StudioHarness.create('gan-diag-quality-', { supervision: { heartbeatTimeoutMs: 60_000, killGraceMs: 500 } });
  harnesses.push(h);
  const config = {
    dataset: 'builtin:mnist',
    family: 'dcgan',
    backend: 'wasm',
    seed: 3,
    architecture: { gChannels: 32, dChannels: 16, latentDim: 32 },
    optimizer: { g: { kind: 'adam', lr: 1e-7, beta1: 0.5, beta2: 0.999 } },
    schedule: { steps: 600, batchSize: 16, scalarEvery: 5, checkpointEvery: 50, sampleEverySeconds: 3600 },
    evaluation: { every: 50, n: 128, extractor: 'pixel-8', metrics: ['fid'] },
  };
  const run = await h.client.call('runs.start', { config, diagnostics: { stagnation: { windowSteps: 200, minImprovement: 0.02, updateBelow: 0, driftBelow: 0 } } });
  const end = await h.waitForStatus(run.id, ['completed', 'stopped', 'failed', 'diverged', 'interrupted'], 240_000);
  assert.equal(end.value.status, 'completed', end.value.statusReason ?? '');

  // each finished evaluation during training is an eval/fid scalar at the step it scored
  const evaluations = (await h.client.call('evaluations.list', { runId: run.id, includeDuringTraining: true })).filter((e) => e.protocol.duringTraining);
  const fid = (await h.client.call('runs.scalars', { runId: run.id, tags: ['eval/fid'], maxPoints: 1000 }))['eval/fid']!;
  t.diagnostic(`eval/fid: ${fid.steps.map((s, i) => `${s}: ${fid.values[i]!.toFixed(2)}`).join(', ')}`);
  assert.ok(fid.steps.length >= 4, `evaluations taken in: ${fid.steps.length}`);
  for (const [i, step] of fid.steps.entries()) {
    const e = evaluations.find((x) => x.step === step);
    assert.ok(e, `an evaluation scored step ${step}`);
    assert.equal(fid.values[i], e.scores.fid);
  }

  const alerts = await h.client.call('runs.alerts', { runId: run.id, kind: 'stagnation' });
  assert.equal(alerts.length, 1, JSON.stringify(alerts));
  const a = alerts[0]!;
  assert.equal(a.severity, 'warning');
  assert.deepEqual(a.evidence.tags, ['eval/fid']);
  assert.match(a.explanation, /No improvement in eval\/fid over the last 200 steps/);
  assert.ok(a.evidence.values.qualityBestRecent! > a.evidence.values.qualityBestBefore! * 0.98);
  // it needs evaluations from before the window: not before step 200 plus the sustain rule
  assert.ok(a.startStep > 200, `start ${a.startStep}`);
});
