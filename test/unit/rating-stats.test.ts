// The statistics of rating sessions, checked against published worked examples and on simulations
// with known truth (issue 8 "Proof").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../electron/core/models/rng.ts';
import {
  averageRanks,
  bootstrapCrossed,
  bradleyTerry,
  bradleyTerryWithIntervals,
  elo,
  fleissKappa,
  kendall,
  krippendorffAlpha,
  meanEstimate,
  percentile,
  rankDescending,
  realFakeErrors,
  spearman,
  staircaseReplay,
  staircaseScore,
  staircaseStart,
  staircaseStep,
  weightedMean,
  winRateMatrix,
  zScoresByRater,
  type Comparison,
  type RealFakeJudgement,
} from '../../electron/core/rating/stats.ts';

const round = (x: number | null, d: number) => (x === null ? null : Math.round(x * 10 ** d) / 10 ** d);

test("Fleiss' κ reproduces Fleiss (1971) / Wikipedia's worked example: 0.210", () => {
  // 10 subjects, 14 raters, 5 categories (https://en.wikipedia.org/wiki/Fleiss%27_kappa#Worked_example)
  const table = [
    [0, 0, 0, 0, 14],
    [0, 2, 6, 4, 2],
    [0, 0, 3, 5, 6],
    [0, 3, 9, 2, 0],
    [2, 2, 8, 1, 1],
    [7, 7, 0, 0, 0],
    [3, 2, 6, 3, 0],
    [2, 5, 3, 2, 2],
    [6, 5, 2, 1, 0],
    [0, 2, 2, 3, 7],
  ];
  assert.equal(round(fleissKappa(table), 3), 0.21);
  // perfect agreement spread over categories gives 1; unequal row sums are refused
  assert.equal(fleissKappa([[3, 0], [0, 3], [3, 0]]), 1);
  assert.throws(() => fleissKappa([[2, 0], [1, 2]]), /same number of ratings/);
});

test("Krippendorff's α reproduces Krippendorff's (2011) worked examples", () => {
  // "Computing Krippendorff's Alpha-Reliability", example A: binary data, two observers, no missing data → α = 0.095
  const binary = [
    [0, 1, 0, 0, 0, 0, 0, 0, 1, 0],
    [1, 1, 1, 0, 0, 1, 0, 0, 0, 0],
  ];
  assert.equal(round(krippendorffAlpha(binary, 'nominal'), 3), 0.095);
  // example C: four observers, twelve units, missing values → nominal .743, ordinal .815, interval .849
  const _ = null;
  const c = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, _, _, _],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, _, 3],
    [_, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, _],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, _],
  ];
  assert.equal(round(krippendorffAlpha(c, 'nominal'), 3), 0.743);
  assert.equal(round(krippendorffAlpha(c, 'ordinal'), 3), 0.815);
  assert.equal(round(krippendorffAlpha(c, 'interval'), 3), 0.849);
  // identical raters agree perfectly
  assert.equal(krippendorffAlpha([[1, 2, 3, 1], [1, 2, 3, 1]], 'nominal'), 1);
});

test('Spearman and Kendall: known values, ties, and degenerate input', () => {
  assert.deepEqual(averageRanks([10, 20, 20, 5]), [2, 3.5, 3.5, 1]);
  assert.equal(spearman([1, 2, 3, 4, 5], [5, 6, 7, 8, 7]), 0.8207826816681233);
  assert.equal(spearman([1, 2, 3], [3, 2, 1]), -1);
  assert.equal(kendall([1, 2, 3, 4], [1, 2, 3, 4]), 1);
  // 1 discordant pair of 6 → (5 − 1) / 6
  assert.equal(round(kendall([1, 2, 3, 4], [1, 3, 2, 4]), 6), round(4 / 6, 6));
  // τ-b with a tie in y: scipy.stats.kendalltau([1,2,3,4],[1,2,2,3]) = 0.9128709291752769
  assert.equal(round(kendall([1, 2, 3, 4], [1, 2, 2, 3]), 12), round(0.9128709291752769, 12));
  assert.equal(spearman([1, 1, 1], [1, 2, 3]), null);
  assert.equal(kendall([1], [2]), null);
});

test('percentile matches numpy (linear interpolation)', () => {
  assert.equal(percentile([1, 2, 3, 4], 0.5), 2.5);
  assert.equal(percentile([1, 2, 3, 4, 5], 0.025), 1.1);
  assert.equal(weightedMean([1, 0, 1], [2, 1, 0]), 2 / 3);
});

/** Simulates a tournament between sources of known log10 strength. */
function tournament(beta: number[], games: number, seed: number, tieBand = 0): (Comparison & { rater: string; item: string })[] {
  const rng = new Rng(seed);
  const out: (Comparison & { rater: string; item: string })[] = [];
  for (let g = 0; g < games; g++) {
    const a = rng.int(beta.length);
    let b = rng.int(beta.length - 1);
    if (b >= a) b++;
    const pa = 1 / (1 + 10 ** (beta[b]! - beta[a]!));
    const u = rng.uniform();
    const outcome = Math.abs(u - pa) < tieBand ? 0.5 : u < pa ? 1 : 0;
    out.push({ a, b, outcome, rater: `r${g % 7}`, item: `i${g}` });
  }
  return out;
}

test('Bradley–Terry recovers the true order and strengths of a synthetic tournament', () => {
  const truth = [0.6, -0.4, 0.2, 0, -0.1, 0.35];
  const games = tournament(truth, 6000, 11, 0.05);
  const beta = bradleyTerry(truth.length, games, { prior: 0 });
  assert.deepEqual(rankDescending(beta), rankDescending(truth));
  const mt = truth.reduce((a, b) => a + b, 0) / truth.length;
  for (let i = 0; i < truth.length; i++) assert.ok(Math.abs(beta[i]! - (truth[i]! - mt)) < 0.06, `β${i} = ${beta[i]} vs truth ${truth[i]! - mt}`);
  // ratings on the 1000 + 400·β scale with intervals that contain the truth and order the extremes
  const r = bradleyTerryWithIntervals(truth.length, games, { rounds: 200, seed: 3 });
  for (let i = 0; i < truth.length; i++) {
    const t = 1000 + 400 * (truth[i]! - mt);
    assert.ok(r.low[i]! <= t + 8 && t - 8 <= r.high[i]!, `source ${i}: ${t} outside [${r.low[i]}, ${r.high[i]}]`);
    assert.ok(r.low[i]! < r.rating[i]! && r.rating[i]! < r.high[i]!);
  }
  assert.ok(r.low[0]! > r.high[1]!, 'the strongest and weakest source are separated');
  // Elo is an online approximation: on a long stream it orders the extremes the same way
  const e = elo(truth.length, games);
  assert.ok(e[0]! > e[1]!);
  const { winRate } = winRateMatrix(truth.length, games);
  assert.equal(winRate[0]![0], null);
  assert.ok(winRate[0]![1]! > 0.8, `source 0 beats source 1 most of the time (${winRate[0]![1]})`);
  assert.ok(Math.abs(winRate[0]![1]! + winRate[1]![0]! - 1) < 1e-12);
});

test('Bradley–Terry: ties count half, a never-winning source stays finite with the prior', () => {
  // all ties → equal strengths
  const ties: Comparison[] = Array.from({ length: 20 }, (_, i) => ({ a: i % 2, b: 1 - (i % 2), outcome: 0.5 }));
  const b = bradleyTerry(2, ties, { prior: 0 });
  assert.ok(Math.abs(b[0]! - b[1]!) < 1e-9);
  // 3 wins to 1 for a → p_a / p_b = 3 exactly (log10 3 apart)
  const w: Comparison[] = [
    { a: 0, b: 1, outcome: 1 },
    { a: 0, b: 1, outcome: 1 },
    { a: 1, b: 0, outcome: 0 },
    { a: 0, b: 1, outcome: 0 },
  ];
  const s = bradleyTerry(2, w, { prior: 0 });
  assert.ok(Math.abs(s[0]! - s[1]! - Math.log10(3)) < 1e-8);
  const shutout = bradleyTerry(2, [{ a: 0, b: 1, outcome: 1 }], { prior: 0.1 });
  assert.ok(Number.isFinite(shutout[1]!) && shutout[0]! > shutout[1]!);
});

test('bootstrap 95 % intervals of an error rate cover the truth at about their nominal rate (200 simulated sessions)', () => {
  // Each session: 8 raters × 40 fakes; P(error) = logistic(μ + rater effect + item effect).
  const logistic = (x: number) => 1 / (1 + Math.exp(-x));
  const mu = -0.4;
  const sdRater = 0.5;
  const sdItem = 1;
  // the population error rate by Monte Carlo
  const mc = new Rng(99);
  let acc = 0;
  const M = 400_000;
  for (let i = 0; i < M; i++) acc += logistic(mu + sdRater * mc.normal() + sdItem * mc.normal());
  const truth = acc / M;
  const sims = 200;
  let covered = 0;
  const rng = new Rng(5);
  for (let s = 0; s < sims; s++) {
    const raters = Array.from({ length: 8 }, () => sdRater * rng.normal());
    const items = Array.from({ length: 40 }, () => sdItem * rng.normal());
    const judgements: RealFakeJudgement[] = [];
    raters.forEach((ra, r) =>
      items.forEach((it, i) => {
        const wrong = rng.uniform() < logistic(mu + ra + it);
        judgements.push({ rater: `r${r}`, item: `i${i}`, truth: 'fake', choice: wrong ? 'real' : 'fake' });
      }),
    );
    const { onFakes } = realFakeErrors(judgements, { rounds: 300, seed: s + 1 });
    if (onFakes.low! <= truth && truth <= onFakes.high!) covered++;
  }
  const rate = covered / sims;
  assert.ok(rate >= 0.85 && rate <= 0.99, `coverage ${rate} over ${sims} simulations (truth ${truth.toFixed(4)})`);
});

test('crossed bootstrap: deterministic for a seed, weights reflect raters × items draws', () => {
  const obs = [
    { rater: 'a', item: '1', value: 1 },
    { rater: 'a', item: '2', value: 0 },
    { rater: 'b', item: '1', value: 1 },
    { rater: 'b', item: '2', value: 1 },
  ];
  const one = meanEstimate(obs, { rounds: 200, seed: 4 });
  const two = meanEstimate(obs, { rounds: 200, seed: 4 });
  assert.deepEqual(one, two);
  assert.equal(one.value, 0.75);
  assert.ok(one.low! <= 0.75 && one.high! >= 0.75 && one.low! < one.high!);
  const totals = bootstrapCrossed(obs, (w) => w.reduce((a, b) => a + b, 0), { rounds: 50, seed: 1 });
  assert.ok(totals.every((t) => t === 4), 'two raters drawn × two items drawn always weigh 4 in a complete design');
  assert.deepEqual(meanEstimate([], {}), { value: null, low: null, high: null, n: 0 });
});

test('HYPE∞ error rates separate fakes, reals and overall', () => {
  const j: RealFakeJudgement[] = [
    { rater: 'a', item: 'f1', truth: 'fake', choice: 'real' },
    { rater: 'a', item: 'f2', truth: 'fake', choice: 'fake' },
    { rater: 'a', item: 'r1', truth: 'real', choice: 'real' },
    { rater: 'a', item: 'r2', truth: 'real', choice: 'real' },
  ];
  const e = realFakeErrors(j, { rounds: 100 });
  assert.equal(e.onFakes.value, 0.5);
  assert.equal(e.onReals.value, 0);
  assert.equal(e.overall.value, 0.25);
  assert.equal(e.onFakes.n, 2);
});

test('per-rater z-normalisation removes each rater’s offset and scale', () => {
  const rows = [
    { rater: 'harsh', value: 1 },
    { rater: 'harsh', value: 2 },
    { rater: 'harsh', value: 3 },
    { rater: 'kind', value: 3 },
    { rater: 'kind', value: 4 },
    { rater: 'kind', value: 5 },
    { rater: 'flat', value: 4 },
    { rater: 'flat', value: 4 },
  ];
  const { z, byRater } = zScoresByRater(rows);
  assert.deepEqual(z.slice(0, 3), z.slice(3, 6));
  assert.deepEqual(z.slice(0, 3), [-1, 0, 1]);
  assert.deepEqual(z.slice(6), [0, 0]);
  assert.equal(byRater.get('kind')!.mean, 4);
});

test('HYPE_time staircase: shorter after right, longer after wrong, floor and ceiling hold', () => {
  const rules = { startMs: 500, floorMs: 100, ceilingMs: 1000, down: 0.5 };
  let s = staircaseStart(rules);
  assert.equal(s.exposureMs, 500);
  s = staircaseStep(s, rules, true);
  assert.equal(s.exposureMs, 250);
  s = staircaseStep(s, rules, true);
  s = staircaseStep(s, rules, true);
  assert.equal(s.exposureMs, 100, 'the floor holds');
  s = staircaseStep(s, rules, false);
  assert.equal(s.exposureMs, 200);
  assert.deepEqual(s.history, [500, 250, 125, 100]);
  const up = staircaseReplay(rules, [false, false, false]);
  assert.equal(up.exposureMs, 1000, 'the ceiling holds');
  // a simulated observer who is right when the exposure exceeds 300 ms converges around 300 ms
  const rng = new Rng(2);
  let t = staircaseStart({ ...rules, down: 0.85 });
  for (let i = 0; i < 200; i++) t = staircaseStep(t, { ...rules, down: 0.85 }, t.exposureMs > 300 || rng.uniform() < 0.1);
  const score = staircaseScore(t.history)!;
  assert.ok(score > 220 && score < 400, `converged score ${score}`);
  assert.equal(staircaseScore([]), null);
  assert.throws(() => staircaseStart({ ...rules, down: 1 }), /between 0 and 1/);
});
