// Stagnation on the quality signal (issue 7): the FID of the evaluations during training
// (`eval/fid`, recorded by the run manager at the checkpoint's step) is the default quality signal;
// stagnation fires when the best FID of the last window is not better by `minImprovement` than the
// best before it, and not while FID improves. Evaluations arrive late (the run trains on while a
// checkpoint is scored): `pushLate` stores them at their own step and raises the same alert a
// replay of the stored scalars does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DiagnosticsEngine, QUALITY_TAGS, replayScalars, type EngineAlert, type ScalarRowLike } from '../../electron/core/diagnostics/detectors.ts';
import { resolveDiagnosticsConfig } from '../../electron/core/diagnostics/config.ts';
import { Rng } from '../../electron/core/models/rng.ts';

const EVAL_EVERY = 250;
const STEPS = 5000;
/** FID improves until this step, then only wobbles (±1 %, the small-N noise) */
const PLATEAU = 2000;
const config = resolveDiagnosticsConfig({ stagnation: { windowSteps: 1000, minImprovement: 0.02 } });

/** G keeps changing (healthy drift and weight updates every 25 steps): only the quality signal can call it stagnant. */
function probes(steps = STEPS): ScalarRowLike[] {
  const rows: ScalarRowLike[] = [];
  for (let step = 25; step <= steps; step += 25) rows.push({ step, tag: 'div/drift', value: 0.05 }, { step, tag: 'weights/g_delta', value: 1e-3 });
  return rows;
}

/** FID of the evaluation at `step`: falls from 300 towards 60, then flat (or, `improving`, keeps falling 5 % per 1000 steps). */
function fid(step: number, improving: boolean, rng: Rng): number {
  const noise = 1 + 0.01 * (rng.uniform() * 2 - 1);
  const base = step <= PLATEAU || improving ? 60 + 240 * Math.exp(-step / 700) : 60 + 240 * Math.exp(-PLATEAU / 700);
  const slow = improving ? Math.exp((-0.05 * step) / 1000) : 1;
  return base * slow * noise;
}

function evaluations(tag: string, improving: boolean, seed = 1): ScalarRowLike[] {
  const rng = new Rng(seed);
  const rows: ScalarRowLike[] = [];
  for (let step = EVAL_EVERY; step <= STEPS; step += EVAL_EVERY) rows.push({ step, tag, value: fid(step, improving, rng) });
  return rows;
}

const series = (rows: ScalarRowLike[]) => {
  const out: Record<string, { steps: number[]; values: number[] }> = {};
  for (const r of [...rows].sort((a, b) => a.step - b.step)) {
    const s = (out[r.tag] ??= { steps: [], values: [] });
    s.steps.push(r.step);
    s.values.push(r.value);
  }
  return out;
};
const replay = (rows: ScalarRowLike[]) => replayScalars({ config, objective: 'non-saturating' }, series(rows)).alerts;
const stagnation = (alerts: EngineAlert[]) => alerts.filter((a) => a.kind === 'stagnation');

test('eval/fid is the default quality signal: a plateau of FID raises stagnation after the window, an improving FID does not', () => {
  assert.equal(QUALITY_TAGS[0], 'eval/fid');
  const flat = stagnation(replay([...probes(), ...evaluations('eval/fid', false)]));
  assert.equal(flat.length, 1, JSON.stringify(flat));
  const a = flat[0]!;
  console.log(`plateau alert: steps ${a.startStep}–${a.endStep}, detected ${a.detectedStep}, ${JSON.stringify(a.evidence.values)}`);
  assert.equal(a.severity, 'warning');
  // the plateau starts at 2000; the window of 1000 steps has to pass with no 2 % gain first
  assert.ok(a.startStep > PLATEAU + 500 && a.startStep <= PLATEAU + 1000 + 2 * EVAL_EVERY, `start ${a.startStep}`);
  assert.match(a.explanation, /No improvement in eval\/fid over the last 1000 steps/);
  assert.deepEqual(a.evidence.tags, ['eval/fid']);
  assert.ok(a.evidence.values.qualityBestRecent! > a.evidence.values.qualityBestBefore! * 0.98);

  assert.deepEqual(stagnation(replay([...probes(), ...evaluations('eval/fid', true)])), []);
  // the same FID stream, improving by 5 % per 1000 steps throughout: above the 2 % threshold, quiet
});

test('eval/kid stands in when the evaluations compute no FID; FID wins when both are there', () => {
  const kid = stagnation(replay([...probes(), ...evaluations('eval/kid', false)]));
  assert.equal(kid.length, 1);
  assert.deepEqual(kid[0]!.evidence.tags, ['eval/kid']);
  // a flat KID next to an improving FID: FID is the signal, so no stagnation
  assert.deepEqual(stagnation(replay([...probes(), ...evaluations('eval/fid', true), ...evaluations('eval/kid', false, 2)])), []);
});

test('late evaluations (pushLate): stored at their own step, the same alert as the replay, detected when they arrive', () => {
  const LAG = 120;
  const probeRows = probes();
  const evalRows = evaluations('eval/fid', false);
  const engine = new DiagnosticsEngine({ config, objective: 'non-saturating' });
  // training goes on in step order; each evaluation reaches the engine LAG steps after the step it scored
  const pending = [...evalRows];
  for (let step = 25; step <= STEPS; step += 25) {
    engine.push(probeRows.filter((r) => r.step === step));
    while (pending.length && pending[0]!.step + LAG <= step) engine.pushLate([pending.shift()!]);
  }
  const live = stagnation(engine.alerts());
  const replayed = stagnation(replay([...probeRows, ...evalRows]));
  assert.equal(live.length, 1, JSON.stringify(live));
  assert.equal(replayed.length, 1);
  console.log(`stagnation detected live at step ${live[0]!.detectedStep} (evaluations ${LAG} steps late), in the replay at ${replayed[0]!.detectedStep}`);
  // detected no earlier than the replay, and within two evaluations plus the lag of it
  assert.ok(live[0]!.detectedStep >= replayed[0]!.detectedStep && live[0]!.detectedStep <= replayed[0]!.detectedStep + 2 * EVAL_EVERY + LAG, `live ${live[0]!.detectedStep}, replay ${replayed[0]!.detectedStep}`);
  // the late values sit at their own steps: the window compares the same evaluations
  assert.ok(Math.abs(live[0]!.evidence.values.qualityBestBefore! - replayed[0]!.evidence.values.qualityBestBefore!) / replayed[0]!.evidence.values.qualityBestBefore! < 0.03);
  // a late value for an earlier step never moves the engine's step back
  assert.equal(engine.step, STEPS);
});
