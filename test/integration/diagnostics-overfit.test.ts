// D overfitting on small data, for real (the scenario suite's d-overfit-small-mnist): a few dozen
// MNIST digits with a held-out split, a 4× wider D at lr ×10 with 2 D steps per G step. The probe
// scores the held-out digits; as D memorises its training digits they drift towards the fakes in
// its eyes, and d_overfitting opens. Its own file: ~1 minute of training on wasm.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { ScenarioLab } from '../../electron/core/diagnostics/scenario-runner.ts';
import { SMALL_MNIST, checkOutcome, scenarioById } from '../../electron/core/diagnostics/scenarios.ts';

let lab: ScenarioLab | null = null;
after(async () => {
  await lab?.close();
});

test(`a big D on ${SMALL_MNIST.train} digits: held-out digits drift towards the fakes, d_overfitting opens`, async (t) => {
  lab = await ScenarioLab.create({ timeoutMs: 480_000 });
  const s = scenarioById('d-overfit-small-mnist');
  const o = await lab.run(s, s.seeds[0]!);
  t.diagnostic(`${o.status} at ${o.steps} in ${(o.wallMs / 1000).toFixed(1)} s; ${o.alerts.map((a) => `${a.kind}/${a.severity} ${a.startStep}–${a.endStep} @${a.detectedStep} ${JSON.stringify(a.evidence.values)}`).join('; ')}`);
  const c = checkOutcome(s, o);
  assert.deepEqual(c.missing, []);
  assert.deepEqual(c.unexpected.map((a) => a.kind), []);
  const a = o.alerts.find((x) => x.kind === 'd_overfitting')!;
  assert.ok(a.evidence.values.overfitGap! >= 0.5, JSON.stringify(a.evidence.values));
  // D still calls its training digits real, and the held-out ones it never saw are scored far lower
  assert.ok(a.evidence.values.dTrain! - a.evidence.values.dHoldout! > 0.3, JSON.stringify(a.evidence.values));
  assert.ok(a.remedies.some((r) => r.id === 'diff_augment'));
  // the signal is there from the first probes (the held-out split is read), near 0 before D memorises
  const sc = await lab.client.call('runs.scalars', { runId: o.runIds[0]!, tags: ['d/overfit_gap', 'd/holdout'], maxPoints: 100_000 });
  const gap = sc['d/overfit_gap']!;
  assert.ok(gap.total >= 10, `${gap.total} gap points`);
  assert.ok(Math.abs(gap.values[0]!) < 0.2, `first gap ${gap.values[0]}`);
});
