// The detectors on synthetic scalar streams with known truth: each fires on its failure, after the
// failure starts, within a bounded latency, and the healthy stream raises nothing at warning or
// above. Also: hysteresis (one alert per episode, resolved when it clears), the sustain rule (a
// blip does not fire), determinism of a replay, the thresholds' validation and the remedies'
// patches (every one resolves to a valid config).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DiagnosticsEngine, replayScalars, type EngineAlert, type ScalarRowLike } from '../../electron/core/diagnostics/detectors.ts';
import { DEFAULT_DIAGNOSTICS, resolveDiagnosticsConfig, type DiagnosticsConfig } from '../../electron/core/diagnostics/config.ts';
import { REMEDIES, REMEDIES_BY_KIND, mergePatch, remediesFor, remedyPatch, type RemedyId } from '../../electron/core/diagnostics/remedies.ts';
import { ALERT_KINDS, type AlertKind } from '../../electron/common/api.ts';
import { resolveRunConfig, type Objective } from '../../electron/common/config.ts';
import { checkRun } from '../../electron/core/families/registry.ts';
import { Rng } from '../../electron/core/models/rng.ts';
import { coverage, diversitySignals, overfitGap, realBaseline } from '../../electron/core/diagnostics/signals.ts';

type Fault = 'none' | 'convergence' | 'collapse' | 'instability' | 'exploding' | 'vanishing' | 'blowup' | 'stagnation' | 'overfit' | 'blip';
const FAULT_AT = 800;

/** A healthy-looking non-saturating GAN stream (window means every `every` steps, probes every 25), with one fault from step 800. */
function stream(fault: Fault, steps = 2400, every = 5, seed = 1): ScalarRowLike[] {
  const rng = new Rng(seed);
  const n = () => rng.normal();
  const rows: ScalarRowLike[] = [];
  let k = 0;
  for (let step = every; step <= steps; step += every, k++) {
    const bad = step >= FAULT_AT && !(fault === 'blip' && step > FAULT_AT + 2 * every);
    let dLoss = 1.2 + 0.06 * n();
    let gLoss = 0.9 + 0.1 * n() + 0.3 * Math.min(1, step / 1000);
    let dReal = 0.6 + 0.03 * n();
    let dFake = 0.4 + 0.03 * n();
    let gGrad = 3 + n();
    let dGrad = 5 + 2 * Math.abs(n());
    if (bad && (fault === 'convergence' || fault === 'blip')) {
      dLoss = 0.02 + 0.005 * Math.abs(n());
      gLoss = 4 + (step - FAULT_AT) / 200 + 0.2 * n();
      dReal = 0.99;
      dFake = 0.01;
    }
    if (bad && fault === 'instability') {
      const s = k % 2 ? 1 : -1;
      dLoss = 1.3 + 1.1 * s + 0.1 * n();
      gLoss = 2 - 1.6 * s + 0.2 * n();
      dReal = 0.55 + 0.4 * s;
      dFake = 0.45 - 0.4 * s;
    }
    if (bad && fault === 'exploding') dGrad = 300 + 50 * Math.abs(n());
    if (bad && fault === 'vanishing') gGrad = 1e-6;
    if (bad && fault === 'blowup') gLoss = 1e7 * (1 + (step - FAULT_AT));
    rows.push({ step, tag: 'loss/d', value: dLoss }, { step, tag: 'loss/g', value: gLoss }, { step, tag: 'd/real', value: dReal }, { step, tag: 'd/fake', value: dFake });
    rows.push({ step, tag: 'grad/g_norm', value: gGrad }, { step, tag: 'grad/d_norm', value: dGrad });
    if (step % 25 === 0) {
      // diversity grows from a blurry start, then stays near the real data's
      let ratio = Math.min(0.8, 0.1 + step / 400) + 0.04 * n();
      let dup = step < 200 ? 0.6 : 0.02;
      let drift = 0.1 + 0.02 * Math.abs(n());
      let gap = 0.1 + 0.05 * n();
      if (bad && fault === 'collapse') {
        ratio = 0.12 + 0.03 * Math.abs(n());
        dup = 0.7;
      }
      if (bad && fault === 'stagnation') drift = 1e-4;
      if (bad && fault === 'overfit') gap = Math.min(0.9, 0.3 + (step - FAULT_AT) / 500);
      rows.push({ step, tag: 'div/ratio', value: ratio }, { step, tag: 'div/near_dup', value: dup }, { step, tag: 'div/drift', value: drift }, { step, tag: 'd/overfit_gap', value: gap });
    }
  }
  return rows;
}

function run(rows: ScalarRowLike[], config: DiagnosticsConfig = DEFAULT_DIAGNOSTICS, objective: Objective = 'non-saturating', chunk = 7): EngineAlert[] {
  const engine = new DiagnosticsEngine({ config, objective });
  // delivered in arbitrary chunks, as progress messages would
  const byStep = [...new Set(rows.map((r) => r.step))];
  for (let i = 0; i < byStep.length; i += chunk) {
    const steps = new Set(byStep.slice(i, i + chunk));
    engine.push(rows.filter((r) => steps.has(r.step)));
  }
  return engine.alerts();
}

const serious = (alerts: EngineAlert[]) => alerts.filter((a) => a.severity !== 'info');

describe('detectors on synthetic streams', () => {
  test('healthy stream: nothing at warning or above, at scalarEvery 1, 5 and 20, and for several seeds', () => {
    for (const every of [1, 5, 20]) {
      for (const seed of [1, 2, 3]) {
        const alerts = run(stream('none', 2400, every, seed));
        assert.deepEqual(serious(alerts).map((a) => `${a.kind}@${a.startStep}`), [], `every ${every}, seed ${seed}`);
      }
    }
  });

  const cases: [Fault, AlertKind, number][] = [
    // fault, expected kind, the largest detection latency (steps after the fault) allowed
    ['convergence', 'convergence_failure', 150],
    ['collapse', 'mode_collapse', 100],
    ['instability', 'instability', 150],
    ['exploding', 'gradient', 30],
    ['vanishing', 'gradient', 30],
    ['blowup', 'divergence', 10],
    ['overfit', 'd_overfitting', 300],
  ];
  for (const [fault, kind, maxLatency] of cases) {
    test(`${fault}: raises ${kind} after the fault, within ${maxLatency} steps`, (t) => {
      const alerts = serious(run(stream(fault)));
      const hit = alerts.find((a) => a.kind === kind);
      assert.ok(hit, `${kind} raised; got ${JSON.stringify(alerts.map((a) => a.kind))}`);
      assert.ok(hit.startStep >= FAULT_AT - 25, `starts at the fault (${hit.startStep})`);
      const latency = hit.detectedStep - FAULT_AT;
      t.diagnostic(`${kind}: start ${hit.startStep}, detected ${hit.detectedStep} (latency ${latency} steps), ${hit.severity}; evidence ${JSON.stringify(hit.evidence.values)}`);
      assert.ok(latency <= maxLatency, `latency ${latency}`);
      assert.ok(hit.explanation.length > 40 && hit.remedies.length > 0);
      // no alert of another kind before the fault
      assert.deepEqual(alerts.filter((a) => a.startStep < FAULT_AT - 25).map((a) => a.kind), []);
    });
  }

  test('stagnation: frozen samples over the window raise stagnation', () => {
    const config = resolveDiagnosticsConfig({ stagnation: { windowSteps: 500 } });
    const alerts = run(stream('stagnation', 2400), config);
    const hit = alerts.find((a) => a.kind === 'stagnation');
    assert.ok(hit, JSON.stringify(alerts.map((a) => a.kind)));
    assert.ok(hit.startStep >= FAULT_AT);
    assert.equal(run(stream('none', 2400), config).filter((a) => a.kind === 'stagnation').length, 0);
  });

  test('stagnation on a quality tag: no improvement of metrics/fid over the window', () => {
    const rows = stream('none', 3000);
    for (let step = 100; step <= 3000; step += 100) rows.push({ step, tag: 'metrics/fid', value: step < 1000 ? 200 - step / 10 : 100 + (step % 200 === 0 ? 1 : 0) });
    rows.sort((a, b) => a.step - b.step);
    const alerts = run(rows, resolveDiagnosticsConfig({ stagnation: { windowSteps: 1000 } }));
    const hit = alerts.find((a) => a.kind === 'stagnation');
    assert.ok(hit && hit.severity === 'warning' && hit.startStep >= 1900, JSON.stringify(alerts));
  });

  test('a blip shorter than the sustain window does not fire; hysteresis gives one alert per episode that resolves', () => {
    assert.deepEqual(serious(run(stream('blip'))).map((a) => a.kind), []);
    // an episode of collapse from 800 to 1400, healthy after
    const rows = stream('collapse', 2400).map((r) => (r.step > 1400 && r.tag === 'div/ratio' ? { ...r, value: 0.8 } : r.step > 1400 && r.tag === 'div/near_dup' ? { ...r, value: 0.02 } : r));
    const alerts = run(rows).filter((a) => a.kind === 'mode_collapse');
    assert.equal(alerts.length, 1);
    assert.equal(alerts[0]!.state, 'resolved');
    assert.ok(alerts[0]!.endStep >= 1375 && alerts[0]!.endStep <= 1425, `range ends where it cleared: ${alerts[0]!.endStep}`);
  });

  test('divergence from the run end (the trainer stops on NaN before the scalars show it)', () => {
    const engine = new DiagnosticsEngine({ config: DEFAULT_DIAGNOSTICS, objective: 'non-saturating' });
    engine.push(stream('none', 500));
    const changes = engine.end('diverged', 503, 'non-finite values at step 503');
    assert.equal(changes.length, 1);
    assert.equal(changes[0]!.alert.kind, 'divergence');
    assert.equal(changes[0]!.alert.severity, 'critical');
    assert.equal(changes[0]!.alert.startStep, 503);
    assert.deepEqual(engine.end('completed', 600, null), []);
  });

  test('objectives: convergence failure is read per objective (LSGAN, hinge, minimax); the Wasserstein critic has no such rule', () => {
    const ls = stream('convergence').map((r) => (r.tag === 'loss/d' ? { ...r, value: r.step >= FAULT_AT ? 0.005 : 0.25 } : r.tag === 'loss/g' ? { ...r, value: r.step >= FAULT_AT ? 0.45 : 0.15 } : r));
    assert.ok(run(ls, DEFAULT_DIAGNOSTICS, 'least-squares').some((a) => a.kind === 'convergence_failure'));
    assert.ok(run(stream('convergence'), DEFAULT_DIAGNOSTICS, 'minimax').some((a) => a.kind === 'convergence_failure'));
    assert.ok(!run(stream('convergence'), DEFAULT_DIAGNOSTICS, 'wasserstein').some((a) => a.kind === 'convergence_failure'));
  });

  test('replay is deterministic and equals live delivery; a disabled detector stays quiet', () => {
    const rows = stream('collapse');
    const series: Record<string, { steps: number[]; values: number[] }> = {};
    for (const r of rows) {
      const t = (series[r.tag] ??= { steps: [], values: [] });
      t.steps.push(r.step);
      t.values.push(r.value);
    }
    const a = replayScalars({ config: DEFAULT_DIAGNOSTICS, objective: 'non-saturating' }, series).alerts;
    const b = run(rows, DEFAULT_DIAGNOSTICS, 'non-saturating', 3);
    assert.deepEqual(a.map((x) => [x.id, x.endStep, x.severity]), b.map((x) => [x.id, x.endStep, x.severity]));
    const off = resolveDiagnosticsConfig({ modeCollapse: { enabled: false } });
    assert.equal(run(rows, off).filter((x) => x.kind === 'mode_collapse').length, 0);
  });
});

describe('diagnostics config', () => {
  test('defaults, partial overrides and validation errors that name the field', () => {
    assert.equal(DEFAULT_DIAGNOSTICS.modeCollapse.diversityBelow, 0.5);
    const c = resolveDiagnosticsConfig({ gradient: { explodeAbove: 50 } });
    assert.equal(c.gradient.explodeAbove, 50);
    assert.equal(c.gradient.criticalAbove, 1000);
    assert.throws(() => resolveDiagnosticsConfig({ gradient: { explodeAbove: -1 } }), /gradient\.explodeAbove/);
    assert.throws(() => resolveDiagnosticsConfig({ modeCollapse: { criticalBelow: 0.6 } }), /criticalBelow/);
    assert.throws(() => resolveDiagnosticsConfig({ stopOnCritical: ['nonsense'] }), /stopOnCritical/);
    assert.throws(() => resolveDiagnosticsConfig({ typo: 1 }), /typo/);
  });
});

describe('remedies', () => {
  test('every remedy of every kind yields a config that validates and that the family accepts', () => {
    const image = { layout: 'images' as const, height: 28, width: 28, channels: 1, count: 100, classes: null };
    const points = { layout: 'points' as const, height: 1, width: 1, channels: 1, count: 100, classes: null };
    let checked = 0;
    for (const [family, shape] of [['dcgan', image], ['lsgan', image], ['wgan', image], ['sagan', image], ['dcgan', points]] as const) {
      const parent = resolveRunConfig({ dataset: 'x', family, seed: 1, objective: family === 'dcgan' ? 'minimax' : undefined });
      for (const kind of ALERT_KINDS) {
        for (const r of remediesFor(kind, parent, shape.layout)) {
          const child = resolveRunConfig(mergePatch(parent as unknown as Record<string, unknown>, r.patch));
          assert.deepEqual(checkRun(child, shape), [], `${family}/${shape.layout} ${kind} ${r.id}: ${JSON.stringify(r.patch)}`);
          checked++;
        }
      }
    }
    assert.ok(checked > 50, `${checked} patches checked`);
    for (const ids of Object.values(REMEDIES_BY_KIND)) for (const id of ids) assert.ok(id in REMEDIES);
  });

  test('patches say what they change and skip what is already on', () => {
    const c = resolveRunConfig({ dataset: 'x', family: 'dcgan', seed: 1 });
    assert.deepEqual(remedyPatch('lower_d_lr', c), { optimizer: { d: { ...c.optimizer.d, lr: 5e-5 } } });
    assert.deepEqual(remedyPatch('label_smoothing', c), { tricks: { labelSmoothing: 0.1 } });
    assert.equal(remedyPatch('label_smoothing', { ...c, tricks: { ...c.tricks, labelSmoothing: 0.2 } }), null);
    assert.equal(remedyPatch('fewer_d_steps', c), null);
    assert.equal((remedyPatch('wgan_gp', c) as { family: string }).family, 'wgan-gp');
    assert.equal(remedyPatch('diff_augment' as RemedyId, c, 'points'), null);
  });
});

describe('signals', () => {
  test('diversity ratio, near-duplicates and coverage separate a spread set from a collapsed one', () => {
    const rng = new Rng(3);
    const n = 64;
    const d = 8;
    const real = rng.fillNormal(new Float32Array(n * d));
    const base = realBaseline(real, n, d);
    const spread = diversitySignals(rng.fillNormal(new Float32Array(n * d)), n, d, base, null);
    assert.ok(spread.ratio > 0.9 && spread.ratio < 1.1, `spread ${spread.ratio}`);
    assert.ok(spread.nearDuplicates < 0.1 && spread.coverage > 0.8);
    // collapsed: every sample one of two points plus tiny noise
    const few = new Float32Array(n * d);
    for (let i = 0; i < n; i++) for (let k = 0; k < d; k++) few[i * d + k] = (i % 2 ? 1 : -1) + 0.001 * rng.normal();
    const collapsed = diversitySignals(few, n, d, base, null);
    assert.ok(collapsed.nearDuplicates > 0.9, `near-dups ${collapsed.nearDuplicates}`);
    assert.ok(coverage(few, n, d, base) < 0.3);
    assert.equal(overfitGap(0.8, 0.8, 0.2), 0);
    assert.equal(overfitGap(0.8, 0.2, 0.2), 1);
  });
});
