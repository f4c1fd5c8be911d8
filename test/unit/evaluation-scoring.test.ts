// The metric phase of an evaluation (electron/core/evaluation/scoring.ts): KID and the manifold
// metrics run cooperatively (cancel seen mid-metric, progress forwarded and monotonic, float32 Gram
// path recorded), KID at small N is one subset with no fake spread, and the optional run-config
// section for evaluations during training is validated.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EvaluationOptionsSchema, type EvalMetric } from '../../electron/common/api-evaluation.ts';
import { resolveRunConfig } from '../../electron/common/config.ts';
import { computeScores, kidPlan, type ScoreInputs } from '../../electron/core/evaluation/scoring.ts';
import { asMatrix, kernelInceptionDistance } from '../../electron/core/metrics/index.ts';
import { Rng } from '../../electron/core/models/rng.ts';
import { scoreText, SCORE_COLUMNS } from '../../renderer/src/lib/evaluate.ts';

function features(n: number, d: number, seed: number, shift = 0): Float32Array {
  const x = new Float32Array(n * d);
  new Rng(seed).fillNormal(x);
  for (let i = 0; i < x.length; i++) x[i] += shift;
  return x;
}

function inputs(nReal: number, nFake: number, d: number): ScoreInputs {
  const img = { n: 0, height: 1, width: 1, channels: 1, data: new Uint8Array(0) };
  return { real: asMatrix(nReal, d, features(nReal, d, 1)), fake: asMatrix(nFake, d, features(nFake, d, 2, 0.3)), realProbs: null, fakeProbs: null, realImages: img, fakeImages: img, dataDistribution: null };
}

test('kidPlan: one subset when the subset size covers both sets; otherwise the requested subsets, with what they vary over', () => {
  assert.deepEqual(
    { ...kidPlan(80, 80, { kidSubsets: 100, kidSubsetSize: 1000 }), note: undefined },
    { subsets: 1, subsetSize: 80, note: undefined },
  );
  assert.match(kidPlan(80, 80, { kidSubsets: 100, kidSubsetSize: 80 }).note, /one subset/);
  assert.deepEqual({ ...kidPlan(2000, 2000, { kidSubsets: 100, kidSubsetSize: 1000 }), note: '' }, { subsets: 100, subsetSize: 1000, note: '' });
  assert.equal(kidPlan(2000, 2000, { kidSubsets: 100, kidSubsetSize: 1000 }).note, '');
  const uneven = kidPlan(500, 120, { kidSubsets: 100, kidSubsetSize: 1000 });
  assert.deepEqual([uneven.subsets, uneven.subsetSize], [100, 120]);
  assert.match(uneven.note, /all 120 fake samples in each, so the std reflects the sampling of the real set only/);
});

test('KID at small N: one subset, std reported as 0 (not a rounding artefact), the same mean as the whole-set MMD, recorded in the convention', async () => {
  const x = inputs(60, 60, 16);
  const o = EvaluationOptionsSchema.parse({});
  const r = await computeScores(['kid'], x, o, 0);
  assert.equal(r.scores.kid!.subsets, 1);
  assert.equal(r.scores.kid!.subsetSize, 60);
  assert.equal(r.scores.kid!.std, 0);
  // the old behaviour: 100 identical "subsets" with a meaningless std of rounding size
  const old = kernelInceptionDistance(x.real, x.fake, { seed: 0, subsets: 100, subsetSize: 1000 });
  assert.equal(old.subsets, 100);
  assert.ok(old.std < 1e-9, `old std ${old.std}: 100 copies of one value`);
  assert.ok(Math.abs(old.mean - r.scores.kid!.mean) <= 1e-9 * Math.max(1, Math.abs(old.mean)), `${old.mean} vs ${r.scores.kid!.mean}`);
  assert.match(r.convention.kid!, /one subset: the subset size 1000 covers all 60/);
  assert.match(r.convention.kid!, /float32/);
  // N larger than the subset size: the requested subsets, a real spread
  const big = await computeScores(['kid'], inputs(150, 150, 16), EvaluationOptionsSchema.parse({ kidSubsets: 20, kidSubsetSize: 50 }), 0);
  assert.equal(big.scores.kid!.subsets, 20);
  assert.ok(big.scores.kid!.std > 1e-6, `std ${big.scores.kid!.std}`);
});

test('the metric phase forwards monotonic progress per metric and stops mid-KID on abort', async () => {
  const o = EvaluationOptionsSchema.parse({ kidSubsets: 400, kidSubsetSize: 200 });
  const x = inputs(400, 400, 256);
  const seen: [EvalMetric, number][] = [];
  const ac = new AbortController();
  let abortedAt = 0;
  await assert.rejects(
    computeScores(['kid', 'prc'], x, o, 0, {
      signal: ac.signal,
      onMetric: (m, f) => {
        seen.push([m, f]);
        if (m === 'kid' && f >= 0.1 && !ac.signal.aborted) {
          abortedAt = performance.now();
          ac.abort();
        }
      },
    }),
    { name: 'AbortError' },
  );
  const latency = performance.now() - abortedAt;
  assert.ok(abortedAt > 0, 'the abort happened inside KID');
  assert.ok(latency < 500, `stopped ${latency.toFixed(0)} ms after the abort`);
  assert.ok(!seen.some(([m]) => m === 'prc'), 'nothing ran after the cancelled metric');
  const kid = seen.filter(([m]) => m === 'kid').map(([, f]) => f);
  assert.ok(kid.length > 10, `${kid.length} progress reports`);
  for (let i = 1; i < kid.length; i++) assert.ok(kid[i]! >= kid[i - 1]!, `progress went back: ${kid[i - 1]} → ${kid[i]}`);
  assert.ok(kid.at(-1)! < 0.5, `cancelled early, at ${kid.at(-1)}`);

  // uncancelled: each metric goes 0 → 1, prc and prdc share one manifold computation
  const done: [EvalMetric, number][] = [];
  const r = await computeScores(['prc', 'prdc', 'fm'], inputs(120, 120, 32), EvaluationOptionsSchema.parse({}), 0, { onMetric: (m, f) => done.push([m, f]) });
  assert.deepEqual([...new Set(done.map(([m]) => m))], ['prc', 'prdc', 'fm']);
  for (const m of ['prc', 'prdc', 'fm'] as const) {
    const fs = done.filter(([x]) => x === m).map(([, f]) => f);
    assert.equal(fs[0], 0);
    assert.equal(fs.at(-1), 1);
  }
  assert.ok(r.scores.precision! >= 0 && r.scores.precision! <= 1 && r.scores.coverage! >= 0);
  assert.match(r.convention.prc!, /float32/);
});

test('the results table shows "n/a (one subset)" for a one-subset KID and ± std otherwise', () => {
  const kid = SCORE_COLUMNS.find((c) => c.id === 'kid')!;
  assert.equal(scoreText(kid, { kid: { mean: 0.0123, std: 0, subsets: 1, subsetSize: 80 } }).endsWith('± n/a (one subset)'), true);
  assert.match(kid.spreadOf!({ kid: { mean: 0.0123, std: 0, subsets: 1, subsetSize: 80 } }), /one subset of 80/);
  const many = scoreText(kid, { kid: { mean: 0.0123, std: 0.002, subsets: 100, subsetSize: 1000 } });
  assert.match(many, /±/);
  assert.doesNotMatch(many, /n\/a/);
});

test('run config: the optional evaluation section is off by default, filled with defaults, and validated', () => {
  const base = { dataset: 'builtin:mnist', family: 'dcgan', seed: 1 };
  assert.equal(resolveRunConfig(base).evaluation, undefined);
  const c = resolveRunConfig({ ...base, evaluation: { every: 500 } });
  assert.deepEqual(c.evaluation, { every: 500, n: 256, extractor: 'pixel-8', metrics: ['fid', 'kid'] });
  const bad = (evaluation: unknown, schedule: Record<string, unknown> = {}) => {
    try {
      resolveRunConfig({ ...base, evaluation, schedule });
    } catch (err) {
      return (err as Error).message;
    }
    return 'accepted';
  };
  assert.match(bad({ every: 0 }), /evaluation\.every/);
  assert.match(bad({ every: 100, metrics: ['nn'] }), /evaluation\.metrics/);
  assert.match(bad({ every: 100, n: 4 }), /evaluation\.n/);
  assert.match(bad({ every: 100, colour: 'red' }), /colour/);
  assert.match(bad({ every: 100 }, { checkpointEvery: 0 }), /checkpointEvery > 0/);
});
