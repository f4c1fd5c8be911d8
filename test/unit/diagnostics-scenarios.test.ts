// The scenario suite's bookkeeping and the detector changes it led to, on synthetic data: scoring
// (precision, recall, latency from the fault step), each scenario's contract, the rollback and
// coverage settings of the shared schema, coverage gating of a low diversity ratio, G's weight
// updates as the stagnation signal, and the spectral-norm scale of D's gradient threshold.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Alert, AlertKind } from '../../electron/common/api.ts';
import { DEFAULT_DIAGNOSTICS, DiagnosticsConfigSchema, DIAGNOSTICS_FORM, diagnosticsConfigIssues } from '../../electron/common/diagnostics-config.ts';
import { resolveDiagnosticsConfig } from '../../electron/core/diagnostics/config.ts';
import { DiagnosticsEngine, SPECTRAL_D_GRADIENT_FACTOR, type ScalarRowLike } from '../../electron/core/diagnostics/detectors.ts';
import { SCENARIOS, checkOutcome, scoreDetectors, type Scenario, type ScenarioOutcome } from '../../electron/core/diagnostics/scenarios.ts';
import { resolveRunConfig } from '../../electron/common/config.ts';
import { mergePatch } from '../../electron/core/diagnostics/remedies.ts';

const alert = (kind: AlertKind, severity: Alert['severity'], startStep: number, detectedStep = startStep + 10): Alert => ({
  id: `${kind}:${startStep}`,
  runId: 'r',
  kind,
  severity,
  state: 'active',
  startStep,
  endStep: detectedStep,
  detectedStep,
  sampleStep: null,
  evidence: { values: {}, tags: [] },
  explanation: '',
  remedies: [],
  createdAt: 0,
  updatedAt: 0,
});
const outcome = (scenario: string, alerts: Alert[]): ScenarioOutcome => ({ scenario, seed: 1, runIds: ['r'], status: 'completed', steps: 100, wallMs: 1, overhead: 0.05, probes: 3, alerts });

const suite: Scenario[] = [
  { id: 'ok', title: '', why: '', healthy: true, config: {}, faultStep: 0, expect: [], tolerate: [], seeds: [1] },
  { id: 'fault', title: '', why: '', healthy: false, config: {}, prefix: 100, fault: {}, faultStep: 100, expect: ['instability'], tolerate: ['gradient'], seeds: [1] },
];

test('scoring: recall over expected runs, precision against untolerated serious alerts, latency from the fault step', () => {
  const scores = scoreDetectors(
    [
      outcome('fault', [alert('instability', 'warning', 150, 190), alert('gradient', 'warning', 120)]),
      outcome('fault', []),
      outcome('ok', [alert('instability', 'warning', 40), alert('stagnation', 'info', 50)]),
      outcome('fault', [alert('instability', 'critical', 300, 330)]),
    ],
    suite,
  );
  const inst = scores.find((s) => s.kind === 'instability')!;
  assert.equal(inst.expected, 3);
  assert.equal(inst.truePositives, 2);
  assert.equal(inst.falsePositives, 1);
  assert.equal(inst.recall, 2 / 3);
  assert.equal(inst.precision, 2 / 3);
  assert.deepEqual(inst.latencies, [90, 230]);
  assert.equal(inst.medianLatency, 160);
  // tolerated (gradient) and info-only (stagnation) alerts are no false positives; unexercised kinds have no figures
  const grad = scores.find((s) => s.kind === 'gradient')!;
  assert.deepEqual([grad.falsePositives, grad.precision, grad.recall], [0, null, null]);
  assert.equal(scores.find((s) => s.kind === 'stagnation')!.falsePositives, 0);
});

test("checkOutcome names what breaks a scenario's contract", () => {
  assert.deepEqual(checkOutcome(suite[1]!, outcome('fault', [alert('gradient', 'critical', 110)])).missing, ['instability']);
  const c = checkOutcome(suite[0]!, outcome('ok', [alert('mode_collapse', 'warning', 200), alert('stagnation', 'info', 50)]));
  assert.deepEqual(c.unexpected.map((a) => a.kind), ['mode_collapse']);
});

test('every scenario is a valid run config, fault patches keep the networks and optimizer kinds, and each detector is exercised', () => {
  for (const s of SCENARIOS) {
    const config = resolveRunConfig({ ...s.config, seed: s.seeds[0], backend: 'wasm' });
    assert.ok(s.seeds.length >= 1 && s.faultStep >= 0, s.id);
    if (s.diagnostics) resolveDiagnosticsConfig(s.diagnostics);
    if (s.fault) {
      const faulty = resolveRunConfig(mergePatch({ ...s.config, seed: 1, backend: 'wasm' }, s.fault));
      assert.deepEqual(faulty.architecture, config.architecture, s.id);
      assert.equal(faulty.optimizer.g.kind, config.optimizer.g.kind, s.id);
      assert.equal(s.faultStep, s.prefix, s.id);
    }
    assert.equal(s.healthy, s.expect.length === 0, s.id);
  }
  const exercised = new Set(SCENARIOS.flatMap((s) => s.expect));
  for (const kind of ['mode_collapse', 'convergence_failure', 'instability', 'divergence', 'stagnation', 'd_overfitting'] as const) assert.ok(exercised.has(kind), kind);
  assert.ok(new Set(SCENARIOS.filter((s) => s.healthy).map((s) => s.config.family)).size >= 3);
});

test('the shared schema: rollback defaults and limits, and every form field is a number path of it', () => {
  assert.deepEqual(DEFAULT_DIAGNOSTICS.rollback, { enabled: false, onKinds: ['divergence'], maxRollbacks: 3, lrFactor: 0.5 });
  assert.equal(DiagnosticsConfigSchema.safeParse({ rollback: { lrFactor: 0 } }).success, false);
  assert.equal(DiagnosticsConfigSchema.safeParse({ rollback: { onKinds: [] } }).success, false);
  assert.equal(DiagnosticsConfigSchema.safeParse({ rollback: { maxRollbacks: 21 } }).success, false);
  assert.throws(() => resolveDiagnosticsConfig({ rollback: { onKinds: ['nope'] } }), /invalid diagnostics config/);
  assert.deepEqual(diagnosticsConfigIssues(DiagnosticsConfigSchema.parse({ modeCollapse: { diversityBelow: 0.2 } })), ['modeCollapse.criticalBelow must not exceed diversityBelow']);
  for (const group of DIAGNOSTICS_FORM) {
    for (const field of group.fields) {
      const [section, key] = field.path.split('.') as [string, string];
      assert.equal(section, group.section);
      assert.equal(typeof (DEFAULT_DIAGNOSTICS as unknown as Record<string, Record<string, unknown>>)[section]![key], 'number', field.path);
    }
  }
});

function engine(extra: Record<string, unknown> = {}, runConfig: Record<string, unknown> | null = null) {
  const config = resolveDiagnosticsConfig(extra);
  return new DiagnosticsEngine({ config, objective: 'non-saturating', runConfig: runConfig ? resolveRunConfig({ dataset: 'builtin:mnist', family: 'dcgan', ...runConfig }) : null });
}
const rowsOf = (points: [number, Record<string, number>][]): ScalarRowLike[] => points.flatMap(([step, tags]) => Object.entries(tags).map(([tag, value]) => ({ step, tag, value })));

test('a low diversity ratio with high coverage is no collapse; with low coverage it is', () => {
  const probe = (cov: number) => {
    const pts: [number, Record<string, number>][] = [];
    for (let step = 100; step <= 1600; step += 50) pts.push([step, { 'div/ratio': step < 400 ? 0.7 : 0.45, 'div/near_dup': 0, 'div/coverage': cov }]);
    return engine().push(rowsOf(pts)).filter((c) => c.change === 'opened').map((c) => c.alert.kind);
  };
  assert.deepEqual(probe(0.9), []);
  assert.deepEqual(probe(0.3), ['mode_collapse']);
});

test("stagnation: G's weights that stop moving raise a warning; moving ones do not", () => {
  const run = (delta: number) => {
    const pts: [number, Record<string, number>][] = [];
    for (let step = 100; step <= 1000; step += 25) pts.push([step, { 'weights/g_delta': step < 300 ? 1e-2 : delta, 'div/drift': 0.03 }]);
    return engine({ stagnation: { windowSteps: 200 } }).push(rowsOf(pts)).filter((c) => c.change === 'opened').map((c) => [c.alert.kind, c.alert.severity, c.alert.startStep]);
  };
  const frozen = run(1e-7);
  assert.equal(frozen.length, 1);
  assert.deepEqual(frozen[0]!.slice(0, 2), ['stagnation', 'warning']);
  assert.ok((frozen[0]![2] as number) >= 300);
  assert.deepEqual(run(3e-3), []);
});

test("a spectrally normalised D's gradient norm is read against a threshold ×" + SPECTRAL_D_GRADIENT_FACTOR, () => {
  const pts: [number, Record<string, number>][] = [];
  for (let step = 5; step <= 100; step += 5) pts.push([step, { 'grad/g_norm': 3, 'grad/d_norm': 150 }]);
  const opened = (arch: Record<string, unknown>) => engine({}, { family: 'sagan', objective: 'hinge', architecture: arch }).push(rowsOf(pts)).filter((c) => c.change === 'opened').map((c) => c.alert.kind);
  assert.deepEqual(opened({ dNorm: 'spectral' }), []);
  assert.deepEqual(opened({ dNorm: 'none' }), ['gradient']);
});

test("early spread-out noise is no healthy level: a diversity that was only high before coverage developed does not open mode_collapse early", () => {
  const pts: [number, Record<string, number>][] = [];
  // noise at init: ratio 0.9 with coverage 0; then blurry averages: ratio 0.45, coverage still low
  for (let step = 100; step <= 600; step += 25) pts.push([step, { 'div/ratio': step < 150 ? 0.9 : 0.45, 'div/near_dup': 0, 'div/coverage': step < 150 ? 0 : 0.2 }]);
  const opened = engine().push(rowsOf(pts)).filter((c) => c.change === 'opened');
  assert.deepEqual(opened.map((c) => c.alert.kind), []);
  // a fall from a covered, diverse level does open it
  const pts2: [number, Record<string, number>][] = [];
  for (let step = 100; step <= 600; step += 25) pts2.push([step, step < 300 ? { 'div/ratio': 0.8, 'div/near_dup': 0, 'div/coverage': 0.9 } : { 'div/ratio': 0.4, 'div/near_dup': 0, 'div/coverage': 0.3 }]);
  const opened2 = engine().push(rowsOf(pts2)).filter((c) => c.change === 'opened');
  assert.deepEqual(opened2.map((c) => c.alert.kind), ['mode_collapse']);
  assert.ok(opened2[0]!.alert.startStep >= 300);
});
