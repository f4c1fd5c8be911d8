// Automatic rollback (diagnostics.rollback) on real runs: a healthy SGD DCGAN on MNIST trains 150
// steps; its fork continues from the step-150 checkpoint with SGD at lr 1, which blows the losses up
// within a few steps (a critical divergence alert). The run manager stops the trainer, drops the
// checkpoints from the alert on, lowers both learning rates and continues from step 150; the
// rollback is in the run's events and alerts, and the cap holds.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Alert } from '../../electron/common/api.ts';
import { StudioHarness } from './fixtures/trainer-harness.ts';

const harnesses: StudioHarness[] = [];
after(async () => {
  for (const h of harnesses) {
    await h.close();
    h.dispose();
  }
});

const sgd = (lr: number) => ({ kind: 'sgd', lr, beta1: 0, beta2: 0.9 });
const TERMINAL = ['completed', 'stopped', 'failed', 'diverged', 'interrupted'] as const;
/** the run's log lines as the studio announced them (also stored in its events) */
const logMessages = (h: StudioHarness, runId: string) => h.logs(runId).map((l) => l.replace(/^(info|warn|error): /, ''));

async function healthyParent(h: StudioHarness, diagnostics: Record<string, unknown>) {
  const config = {
    dataset: 'builtin:mnist',
    family: 'dcgan',
    backend: 'wasm',
    seed: 7,
    architecture: { gChannels: 16, dChannels: 8, latentDim: 16, gNorm: 'none' },
    optimizer: { g: sgd(0.01), d: sgd(0.01) },
    schedule: { steps: 150, batchSize: 16, scalarEvery: 5, checkpointEvery: 50, sampleEverySeconds: 3600 },
  };
  const parent = await h.client.call('runs.start', { config, diagnostics });
  const end = await h.waitForStatus(parent.id, [...TERMINAL], 120_000);
  assert.equal(end.value.status, 'completed', end.value.statusReason ?? '');
  return parent;
}

test('a critical divergence rolls the run back to the last healthy checkpoint, with lower learning rates, and training continues', async (t) => {
  const h = await StudioHarness.create('gan-diag-rollback-', { supervision: { heartbeatTimeoutMs: 30_000, killGraceMs: 500 } });
  harnesses.push(h);
  const parent = await healthyParent(h, { rollback: { enabled: true, lrFactor: 0.1, maxRollbacks: 3 } });
  const child = await h.client.call('runs.fork', { runId: parent.id, patch: { optimizer: { g: sgd(1), d: sgd(1) }, schedule: { steps: 400 } }, fromCheckpoint: true, fromStep: 150 });
  const end = await h.waitForStatus(child.id, [...TERMINAL], 180_000);
  const messages = logMessages(h, child.id);
  t.diagnostic(messages.filter((m) => /roll|alert/.test(m)).join('\n'));
  assert.equal(end.value.status, 'completed', end.value.statusReason ?? '');
  assert.equal(end.value.step, 400);

  const rolled = messages.filter((m) => m.startsWith('rolled back to step'));
  assert.ok(rolled.length >= 1 && rolled.length <= 3, `rollbacks: ${rolled.length}`);
  assert.match(rolled[0]!, /^rolled back to step 150 \(rollback 1 of 3\) after a critical divergence alert/);
  // the stored config is what trains now: lr 1 × 0.1 per rollback
  const detail = await h.client.call('runs.get', { runId: child.id });
  assert.equal(detail.config.optimizer.g.lr, Number((0.1 ** rolled.length).toPrecision(6)));
  assert.equal(detail.config.optimizer.d.kind, 'sgd');

  const alerts: Alert[] = await h.client.call('runs.alerts', { runId: child.id });
  // each rollback is recorded on the alert that caused it (resolved, with where it went back to)
  const records = alerts.filter((a) => a.evidence.values.rolledBackTo !== undefined).sort((a, b) => a.evidence.values.rollback! - b.evidence.values.rollback!);
  assert.equal(records.length, rolled.length, JSON.stringify(alerts.map((a) => [a.id, a.evidence.values])));
  const record = records[0]!;
  assert.equal(record.kind, 'divergence');
  assert.equal(record.state, 'resolved');
  assert.equal(record.evidence.values.rolledBackTo, 150);
  assert.equal(record.evidence.values.rollback, 1);
  assert.ok(record.startStep > 150);
  assert.match(record.explanation, /Rolled back automatically to the checkpoint at step 150/);
  // training went on from step 150 on the lower learning rate: the stored losses after the
  // rollback are the new trajectory's, finite and far below the divergence limit
  const s = await h.client.call('runs.scalars', { runId: child.id, tags: ['loss/g', 'loss/d'], maxPoints: 100_000 });
  const g = s['loss/g']!;
  assert.ok(g.steps[0]! > 150 && g.steps[0]! <= 160, `first stored step ${g.steps[0]}`);
  assert.ok(g.values.every((v) => Math.abs(v) < 1e6), 'a value of an abandoned trajectory is still stored');
  assert.equal(g.steps.at(-1), 400);
  const tail = g.values.slice(-10);
  t.diagnostic(`G loss over the last 50 steps: ${tail.map((v) => v.toFixed(2)).join(' ')}`);
  assert.ok(tail.every((v) => Number.isFinite(v) && Math.abs(v) < 1e3));
  assert.equal(alerts.filter((a) => a.kind === 'divergence' && a.state === 'active').length, 0);
});

test('the rollback cap: after maxRollbacks the alert takes its course (here stopOnCritical stops the run)', async () => {
  const h = await StudioHarness.create('gan-diag-rollback-cap-', { supervision: { heartbeatTimeoutMs: 30_000, killGraceMs: 500 } });
  harnesses.push(h);
  // lrFactor 1: the rollback does not change what made it diverge, so it diverges again
  const parent = await healthyParent(h, { rollback: { enabled: true, lrFactor: 1, maxRollbacks: 1 }, stopOnCritical: ['divergence'] });
  const child = await h.client.call('runs.fork', { runId: parent.id, patch: { optimizer: { g: sgd(1), d: sgd(1) }, schedule: { steps: 400 } }, fromCheckpoint: true, fromStep: 150 });
  const end = await h.waitForStatus(child.id, [...TERMINAL], 180_000);
  const messages = logMessages(h, child.id);
  assert.equal(messages.filter((m) => m.startsWith('rolled back to step 150 (rollback 1 of 1)')).length, 1, messages.join('\n'));
  assert.ok(messages.some((m) => m.includes('no automatic rollback for the critical divergence alert: the run has already been rolled back 1 times')), messages.join('\n'));
  assert.equal(end.value.status, 'stopped', end.value.statusReason ?? '');
  assert.ok(end.value.step < 400);
  // the same trajectory diverged at the same step again: that alert is the active, critical one
  const alerts = await h.client.call('runs.alerts', { runId: child.id, kind: 'divergence' });
  assert.equal(alerts.filter((a) => a.severity === 'critical' && a.state === 'active').length, 1, JSON.stringify(alerts));
});
