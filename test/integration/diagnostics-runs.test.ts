// The detectors on real runs (forked trainers, wasm), each built to behave in a known way:
// - a healthy tiny DCGAN on MNIST raises nothing at warning or above (live, and when `diagnose`
//   re-runs the detectors over its stored scalars); its probes stay under the 10 % overhead budget;
// - a much stronger D (learning rate ×10, twice the channels) → convergence_failure;
// - ring of 8 with the minimax loss, a 2-D latent and an aggressive G learning rate (1e-2) → mode_collapse,
//   through the diversity signal;
// - plain SGD at lr 1 (the F1 trigger) → divergence, printed by `train --json` as an alert line;
// and from the scenario suite (electron/core/diagnostics/scenarios.ts, also `npm run bench:diagnostics`),
// each fault induced at step 150 by forking a healthy prefix's checkpoint:
// - both learning rates ×25 with β1 0.9 → instability;
// - G's learning rate 1e-9 (G frozen) → stagnation, through G's weight updates;
// - healthy LSGAN and hinge + spectral norm baselines → nothing at warning or above.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import type { Alert } from '../../electron/common/api.ts';
import { PROJECT_ROOT } from '../../electron/core/paths.ts';
import { StudioHarness, makeTempDir, tinyConfigInput } from './fixtures/trainer-harness.ts';
import { ScenarioLab } from '../../electron/core/diagnostics/scenario-runner.ts';
import { checkOutcome, scenarioById } from '../../electron/core/diagnostics/scenarios.ts';

const BIN = path.join(PROJECT_ROOT, 'bin', 'gan-studio.js');
const harnesses: StudioHarness[] = [];
let lab: ScenarioLab | null = null;
after(async () => {
  for (const h of harnesses) {
    await h.close();
    h.dispose();
  }
  await lab?.close();
});

/** Trains a scenario with its first seed; its contract (expected kinds, nothing else serious) must hold. */
async function scenario(t: { diagnostic(m: string): void }, id: string) {
  lab ??= await ScenarioLab.create({ timeoutMs: 150_000 });
  const s = scenarioById(id);
  const o = await lab.run(s, s.seeds[0]!);
  t.diagnostic(`${id}: ${o.status} at ${o.steps} in ${(o.wallMs / 1000).toFixed(1)} s; ${o.alerts.map((a) => `${a.kind}/${a.severity} ${a.startStep}–${a.endStep} @${a.detectedStep} ${JSON.stringify(a.evidence.values)}`).join('; ') || 'no alerts'}`);
  const c = checkOutcome(s, o);
  assert.deepEqual(c.missing, [], `${id}: expected ${s.expect.join(', ')}`);
  assert.deepEqual(c.unexpected.map((a) => `${a.kind}/${a.severity}`), []);
  return o;
}

async function harness(prefix: string): Promise<StudioHarness> {
  const h = await StudioHarness.create(prefix, { supervision: { heartbeatTimeoutMs: 30_000, killGraceMs: 500 } });
  harnesses.push(h);
  return h;
}

function cli(args: string[], timeout = 120_000) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout, env: { ...process.env, GAN_STUDIO_HOME: '' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, lines: r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) };
}

const serious = (alerts: Alert[]) => alerts.filter((a) => a.severity !== 'info');

test('healthy DCGAN on MNIST: no warning or critical alert, live or re-run; probe overhead under 10 %', async (t) => {
  const h = await harness('gan-diag-healthy-');
  const run = await h.start(tinyConfigInput('wasm', 11, { steps: 400, batchSize: 16, scalarEvery: 5, sampleEverySeconds: 2 }));
  const end = await h.waitForStatus(run.id, ['completed', 'failed', 'diverged', 'interrupted'], 150_000);
  assert.equal(end.value.status, 'completed', end.value.statusReason ?? '');
  const alerts = await h.client.call('runs.alerts', { runId: run.id });
  t.diagnostic(`alerts: ${JSON.stringify(alerts.map((a) => [a.kind, a.severity, a.startStep, a.endStep]))}`);
  assert.deepEqual(serious(alerts).map((a) => a.id), []);
  const s = await h.client.call('runs.scalars', { runId: run.id, tags: ['div/ratio', 'div/near_dup', 'd/acc_real', 'diag/overhead', 'diag/probe_ms', 'weights/g_norm'], maxPoints: 10_000 });
  for (const tag of ['div/ratio', 'div/near_dup', 'd/acc_real', 'diag/overhead', 'weights/g_norm']) assert.ok(s[tag]!.total >= 5, `${tag}: ${s[tag]!.total} points`);
  const overhead = s['diag/overhead']!.values.at(-1)!;
  const probeMs = s['diag/probe_ms']!.values;
  t.diagnostic(`probes: ${s['div/ratio']!.total} over 400 steps, median ${[...probeMs].sort((a, b) => a - b)[probeMs.length >> 1]!.toFixed(1)} ms, measured overhead ${(overhead * 100).toFixed(2)} % of training time; final diversity ratio ${s['div/ratio']!.values.at(-1)!.toFixed(2)}`);
  assert.ok(overhead < 0.1, `overhead ${overhead}`);
  await h.close();
  const diag = cli(['diagnose', '--run', run.id, '--home', h.home, '--json']);
  assert.equal(diag.code, 0, diag.stderr);
  const summary = diag.lines.at(-1)!;
  assert.equal(summary.type, 'diagnosis');
  assert.deepEqual(diag.lines.filter((l) => l.type === 'alert' && l.severity !== 'info').map((l) => l.id), []);
});

test('a much stronger D (lr ×10, 2× channels) raises convergence_failure', async (t) => {
  const h = await harness('gan-diag-strongd-');
  const run = await h.start(
    tinyConfigInput('wasm', 3, { steps: 260, batchSize: 16, scalarEvery: 5 }, { architecture: { gChannels: 16, dChannels: 16, latentDim: 16 }, optimizer: { d: { kind: 'adam', lr: 2e-3, beta1: 0.5, beta2: 0.999 } } }),
  );
  const hit = await h.waitFor((e) => e.type === 'run.alert' && e.runId === run.id && e.alert.kind === 'convergence_failure' && e.change === 'opened' && e.alert, 150_000, 'a convergence_failure alert');
  t.diagnostic(`convergence_failure ${hit.value.severity} over ${hit.value.startStep}–${hit.value.endStep}, raised at ${hit.value.detectedStep}: ${JSON.stringify(hit.value.evidence.values)}`);
  assert.ok(hit.value.remedies.some((r) => r.id === 'lower_d_lr'));
  await h.waitForStatus(run.id, ['completed', 'failed', 'diverged', 'interrupted'], 150_000);
  const stored = await h.client.call('runs.alerts', { runId: run.id, kind: 'convergence_failure' });
  assert.equal(stored.length, 1);
  assert.ok(stored[0]!.endStep >= hit.value.endStep);
  // fork with the remedy: a new run from the parent's config with D's learning rate ÷4
  const child = await h.client.call('runs.fork', { runId: run.id, remedy: { alertId: stored[0]!.id, remedyId: 'lower_d_lr' } });
  assert.equal(child.config.optimizer.d.lr, 5e-4);
  assert.equal(child.config.seed, 3);
  await h.client.call('runs.stop', { runId: child.id }).catch(() => undefined);
  await h.waitForStatus(child.id, ['completed', 'stopped', 'failed', 'interrupted', 'diverged'], 60_000);
});

test('ring of 8, minimax loss, 2-D latent, G lr 1e-2: mode_collapse through the diversity signal', async (t) => {
  const h = await harness('gan-diag-collapse-');
  // Probes run on a wall-clock budget, so which steps they see varies from run to run; a
  // persistence horizon inside this short run keeps the test from depending on catching the peak.
  const config = {
    dataset: 'builtin:ring8',
    family: 'dcgan',
    backend: 'wasm',
    seed: 3,
    objective: 'minimax',
    architecture: { latentDim: 2, hiddenUnits: 64 },
    optimizer: { g: { kind: 'adam', lr: 1e-2, beta1: 0.5, beta2: 0.999 } },
    schedule: { steps: 800, batchSize: 16, scalarEvery: 5, checkpointEvery: 0, sampleEverySeconds: 3600 },
  };
  const run = await h.client.call('runs.start', { config, diagnostics: { modeCollapse: { persistAfterSteps: 400 } } });
  const hit = await h.waitFor((e) => e.type === 'run.alert' && e.runId === run.id && e.alert.kind === 'mode_collapse' && e.change !== 'updated' && e.alert, 150_000, 'a mode_collapse alert');
  t.diagnostic(`mode_collapse ${hit.value.severity} over ${hit.value.startStep}–${hit.value.endStep}, raised at ${hit.value.detectedStep}: ${JSON.stringify(hit.value.evidence.values)}`);
  assert.ok(hit.value.evidence.values.diversityRatio! < 0.5);
  await h.client.call('runs.stop', { runId: run.id }).catch(() => undefined);
  await h.waitForStatus(run.id, ['completed', 'stopped', 'failed', 'interrupted', 'diverged'], 60_000);
});

test('SGD at lr 1 diverges: `train --json` prints a critical divergence alert line, and `diagnose` lists it', () => {
  const home = makeTempDir('gan-diag-diverge-');
  const config = path.join(home, 'config.json');
  const sgd = { kind: 'sgd', lr: 1, beta1: 0, beta2: 0.9 };
  spawnSync(process.execPath, ['-e', `require('fs').writeFileSync(${JSON.stringify(config)}, ${JSON.stringify(JSON.stringify({ objective: 'non-saturating', architecture: { gChannels: 16, dChannels: 8, latentDim: 16, gNorm: 'none' }, optimizer: { g: sgd, d: sgd }, schedule: { scalarEvery: 1, checkpointEvery: 0, sampleEverySeconds: 3600 } }))})`]);
  const r = cli(['train', '--dataset', 'builtin:mnist', '--family', 'dcgan', '--steps', '300', '--batch', '8', '--backend', 'wasm', '--seed', '7', '--config', config, '--home', home, '--json']);
  const done = r.lines.at(-1)!;
  assert.equal(done.status, 'diverged', r.stderr);
  const alerts = r.lines.filter((l) => l.type === 'alert');
  const div = alerts.find((a) => a.kind === 'divergence');
  assert.ok(div, JSON.stringify(alerts));
  assert.equal(div.severity, 'critical');
  assert.equal(typeof div.step, 'number');
  assert.equal(typeof div.evidence, 'object');
  const diag = cli(['diagnose', '--run', String(done.runId), '--home', home, '--json']);
  assert.equal(diag.code, 0, diag.stderr);
  assert.ok(diag.lines.some((l) => l.type === 'alert' && l.source === 'stored' && l.kind === 'divergence'));
  assert.ok(diag.lines.some((l) => l.type === 'alert' && l.source === 'replay' && l.kind === 'divergence'));
});

test('both learning rates ×25 with β1 0.9 from step 150: instability', async (t) => {
  const o = await scenario(t, 'instability-high-lr-momentum');
  const a = o.alerts.find((x) => x.kind === 'instability')!;
  assert.ok(a.startStep >= 150, `opened at ${a.startStep}, before the fault`);
  assert.ok(Math.max(a.evidence.values.dLossSwing ?? 0, a.evidence.values.gLossSwing ?? 0) > 0.25 || (a.evidence.values.balanceSwing ?? 0) > 0.6);
});

test("G's learning rate 1e-9 from step 150: stagnation, G's weights have stopped moving", async (t) => {
  const o = await scenario(t, 'stagnation-frozen-g');
  const a = o.alerts.find((x) => x.kind === 'stagnation')!;
  assert.equal(a.severity, 'warning');
  assert.ok(a.startStep >= 150);
  assert.ok(a.evidence.values.maxWeightUpdate! < 1e-5, JSON.stringify(a.evidence.values));
});

test('healthy LSGAN and hinge + spectral norm baselines on MNIST: no warning or critical alert', async (t) => {
  for (const id of ['healthy-lsgan-mnist', 'healthy-hinge-sn-mnist']) {
    const o = await scenario(t, id);
    assert.equal(o.status, 'completed');
  }
});
