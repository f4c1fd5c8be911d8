// Statistics of human rating sessions (issue 8, METRICS.md "Human evaluation"). Pure TypeScript, no
// I/O, deterministic given a seed: bootstrap percentile intervals (crossed over raters and items),
// HYPE∞ error rates, Bradley–Terry by minorisation–maximisation (Hunter 2004), Elo, win rates,
// per-rater z-scores, Fleiss' κ, Krippendorff's α and rank correlations.
import { Rng } from '../models/rng.ts';

export { staircaseStart, staircaseStep, staircaseReplay, staircaseScore, DEFAULT_STAIRCASE, type StaircaseRules, type StaircaseState } from '../../common/rating-staircase.ts';

// ---- basics --------------------------------------------------------------------------------------

export function mean(xs: readonly number[]): number | null {
  if (xs.length === 0) return null;
  let s = 0;
  for (const x of xs) s += x;
  return s / xs.length;
}

/** Sample standard deviation (n − 1); null below two values. */
export function std(xs: readonly number[]): number | null {
  if (xs.length < 2) return null;
  const m = mean(xs)!;
  let s = 0;
  for (const x of xs) s += (x - m) ** 2;
  return Math.sqrt(s / (xs.length - 1));
}

/** Linear-interpolated percentile (type 7, as numpy's default) of an ascending array; p in [0, 1]. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) throw new RangeError('percentile of an empty sample');
  const h = (sorted.length - 1) * p;
  const lo = Math.floor(h);
  const hi = Math.ceil(h);
  return sorted[lo]! + (h - lo) * (sorted[hi]! - sorted[lo]!);
}

export interface Interval {
  low: number;
  high: number;
}

/** The central `level` percentile interval of bootstrap replicates (NaNs dropped). */
export function percentileInterval(replicates: readonly number[], level = 0.95): Interval | null {
  const finite = replicates.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (finite.length < 2) return null;
  const a = (1 - level) / 2;
  return { low: percentile(finite, a), high: percentile(finite, 1 - a) };
}

// ---- bootstrap -----------------------------------------------------------------------------------

export interface Observation {
  rater: string;
  item: string;
}

export interface BootstrapOptions {
  rounds?: number;
  seed?: number;
  /** resample raters (default true); items are always resampled */
  raters?: boolean;
}

/**
 * Crossed (two-way) bootstrap for a raters × items design: each round draws raters with replacement
 * and items with replacement, independently, and gives every observation the weight
 * (times its rater was drawn) × (times its item was drawn). `stat` gets those weights (indexed like
 * `obs`) and returns a number or a vector; the replicates come back one per round.
 */
export function bootstrapCrossed<T extends number | number[]>(obs: readonly Observation[], stat: (weights: Float64Array) => T, options: BootstrapOptions = {}): T[] {
  const rounds = options.rounds ?? 1000;
  const rng = new Rng(options.seed ?? 1);
  const raterIds = [...new Set(obs.map((o) => o.rater))];
  const itemIds = [...new Set(obs.map((o) => o.item))];
  const raterIndex = new Map(raterIds.map((r, i) => [r, i]));
  const itemIndex = new Map(itemIds.map((r, i) => [r, i]));
  const oRater = Int32Array.from(obs, (o) => raterIndex.get(o.rater)!);
  const oItem = Int32Array.from(obs, (o) => itemIndex.get(o.item)!);
  const resampleRaters = options.raters ?? true;
  const rc = new Float64Array(raterIds.length);
  const ic = new Float64Array(itemIds.length);
  const w = new Float64Array(obs.length);
  const out: T[] = [];
  for (let b = 0; b < rounds; b++) {
    if (resampleRaters) {
      rc.fill(0);
      for (let k = 0; k < raterIds.length; k++) rc[rng.int(raterIds.length)]! += 1;
    } else rc.fill(1);
    ic.fill(0);
    for (let k = 0; k < itemIds.length; k++) ic[rng.int(itemIds.length)]! += 1;
    for (let k = 0; k < obs.length; k++) w[k] = rc[oRater[k]!]! * ic[oItem[k]!]!;
    out.push(stat(w));
  }
  return out;
}

/** Weighted mean of `values` (NaN when the weights sum to zero). */
export function weightedMean(values: ArrayLike<number>, weights: ArrayLike<number>): number {
  let s = 0;
  let ws = 0;
  for (let i = 0; i < values.length; i++) {
    s += values[i]! * weights[i]!;
    ws += weights[i]!;
  }
  return ws > 0 ? s / ws : Number.NaN;
}

export interface Estimate {
  value: number | null;
  low: number | null;
  high: number | null;
  n: number;
}

/** The mean of per-observation values with a crossed-bootstrap 95 % interval. */
export function meanEstimate(obs: readonly (Observation & { value: number })[], options: BootstrapOptions = {}): Estimate {
  if (obs.length === 0) return { value: null, low: null, high: null, n: 0 };
  const values = Float64Array.from(obs, (o) => o.value);
  const value = mean(Array.from(values))!;
  const reps = bootstrapCrossed(obs, (w) => weightedMean(values, w), options);
  const ci = percentileInterval(reps);
  return { value, low: ci?.low ?? null, high: ci?.high ?? null, n: obs.length };
}

// ---- real or fake (HYPE∞) -------------------------------------------------------------------------

export interface RealFakeJudgement extends Observation {
  /** what the image was */
  truth: 'real' | 'fake';
  /** what the rater said */
  choice: 'real' | 'fake';
}

/**
 * HYPE∞ error rates: on fakes (a fake judged real is an error; 50 % = indistinguishable), on reals,
 * and overall, each with a crossed bootstrap 95 % interval.
 */
export function realFakeErrors(judgements: readonly RealFakeJudgement[], options: BootstrapOptions = {}): { onFakes: Estimate; onReals: Estimate; overall: Estimate } {
  const err = (j: RealFakeJudgement) => ({ rater: j.rater, item: j.item, value: j.choice === j.truth ? 0 : 1 });
  return {
    onFakes: meanEstimate(judgements.filter((j) => j.truth === 'fake').map(err), options),
    onReals: meanEstimate(judgements.filter((j) => j.truth === 'real').map(err), { ...options, seed: (options.seed ?? 1) + 1 }),
    overall: meanEstimate(judgements.map(err), { ...options, seed: (options.seed ?? 1) + 2 }),
  };
}

// ---- pairwise preference ---------------------------------------------------------------------------

export interface Comparison {
  /** indices of the two sources compared */
  a: number;
  b: number;
  /** 1: a won, 0: b won, 0.5: tie */
  outcome: number;
}

/** wins[i][j]: how often i beat j (ties count half to each); games[i][j]: how often they met. */
export function tally(k: number, comparisons: readonly Comparison[], weights?: ArrayLike<number>): { wins: number[][]; games: number[][] } {
  const wins = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  const games = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  comparisons.forEach((c, idx) => {
    const w = weights ? weights[idx]! : 1;
    if (w === 0) return;
    if (c.a === c.b) throw new RangeError(`a comparison of source ${c.a} with itself`);
    wins[c.a]![c.b]! += w * c.outcome;
    wins[c.b]![c.a]! += w * (1 - c.outcome);
    games[c.a]![c.b]! += w;
    games[c.b]![c.a]! += w;
  });
  return { wins, games };
}

export interface BradleyTerryOptions {
  /** pseudo-comparisons per pair, split as a tie, so the fit exists when a source never wins or the graph is not connected (default 0.1) */
  prior?: number;
  maxIterations?: number;
  tolerance?: number;
}

/**
 * Bradley–Terry strengths p (P(i beats j) = p_i / (p_i + p_j)) by Hunter's (2004) MM update
 * p_i ← W_i / Σ_j n_ij / (p_i + p_j), normalised to geometric mean 1. Returns log10 strengths β
 * (mean 0), so ratings are 1000 + 400·β on the chess/Elo scale.
 */
export function bradleyTerry(k: number, comparisons: readonly Comparison[], options: BradleyTerryOptions = {}, weights?: ArrayLike<number>): number[] {
  const prior = options.prior ?? 0.1;
  const maxIt = options.maxIterations ?? 10_000;
  const tol = options.tolerance ?? 1e-10;
  const { wins, games } = tally(k, comparisons, weights);
  for (let i = 0; i < k; i++) {
    for (let j = 0; j < k; j++) {
      if (i === j) continue;
      wins[i]![j]! += prior / 2;
      games[i]![j]! += prior;
    }
  }
  const W = wins.map((row) => row.reduce((a, b) => a + b, 0));
  let p = new Array<number>(k).fill(1);
  for (let it = 0; it < maxIt; it++) {
    const next = new Array<number>(k);
    for (let i = 0; i < k; i++) {
      let denom = 0;
      for (let j = 0; j < k; j++) if (j !== i && games[i]![j]! > 0) denom += games[i]![j]! / (p[i]! + p[j]!);
      next[i] = denom > 0 ? W[i]! / denom : p[i]!;
    }
    const logMean = next.reduce((a, v) => a + Math.log(v), 0) / k;
    const g = Math.exp(logMean);
    let change = 0;
    for (let i = 0; i < k; i++) {
      next[i] = next[i]! / g;
      change = Math.max(change, Math.abs(Math.log(next[i]!) - Math.log(p[i]!)));
    }
    p = next;
    if (change < tol) break;
  }
  return p.map((v) => Math.log10(v));
}

export const ratingFromBeta = (beta: number): number => 1000 + 400 * beta;

/** Bradley–Terry ratings (1000 + 400·β) with crossed-bootstrap 95 % intervals (over raters and items). */
export function bradleyTerryWithIntervals(
  k: number,
  comparisons: readonly (Comparison & Observation)[],
  options: BootstrapOptions & BradleyTerryOptions = {},
): { rating: number[]; low: (number | null)[]; high: (number | null)[] } {
  const rating = bradleyTerry(k, comparisons, options).map(ratingFromBeta);
  const fitOptions = { ...options, tolerance: options.tolerance ?? 1e-7 };
  const reps = bootstrapCrossed(comparisons, (w) => bradleyTerry(k, comparisons, fitOptions, w).map(ratingFromBeta), options);
  const low: (number | null)[] = [];
  const high: (number | null)[] = [];
  for (let i = 0; i < k; i++) {
    const ci = percentileInterval(reps.map((r) => r[i]!));
    low.push(ci?.low ?? null);
    high.push(ci?.high ?? null);
  }
  return { rating, low, high };
}

/** Elo over the comparisons in the order given (online; K = 4 as in METRICS.md), from 1000. */
export function elo(k: number, comparisons: readonly Comparison[], K = 4, start = 1000): number[] {
  const r = new Array<number>(k).fill(start);
  for (const c of comparisons) {
    const ea = 1 / (1 + 10 ** ((r[c.b]! - r[c.a]!) / 400));
    r[c.a] = r[c.a]! + K * (c.outcome - ea);
    r[c.b] = r[c.b]! + K * (1 - c.outcome - (1 - ea));
  }
  return r;
}

/** winRate[i][j]: share of the i–j comparisons won by i (ties half); null where they never met. */
export function winRateMatrix(k: number, comparisons: readonly Comparison[]): { winRate: (number | null)[][]; games: number[][] } {
  const { wins, games } = tally(k, comparisons);
  return { winRate: wins.map((row, i) => row.map((w, j) => (i === j || games[i]![j]! === 0 ? null : w / games[i]![j]!))), games };
}

/** Ranks 1..k by descending value (ties share the better rank). */
export function rankDescending(values: readonly number[]): number[] {
  return values.map((v) => 1 + values.filter((u) => u > v).length);
}

// ---- quality ratings -------------------------------------------------------------------------------

/** Per-rater z-scores: (x − mean_r) / sd_r; a rater who gave one score to everything gets 0s. */
export function zScoresByRater<T extends { rater: string; value: number }>(rows: readonly T[]): { z: number[]; byRater: Map<string, { mean: number; std: number | null }> } {
  const groups = new Map<string, number[]>();
  for (const r of rows) {
    const g = groups.get(r.rater) ?? [];
    g.push(r.value);
    groups.set(r.rater, g);
  }
  const byRater = new Map<string, { mean: number; std: number | null }>();
  for (const [rater, xs] of groups) byRater.set(rater, { mean: mean(xs)!, std: std(xs) });
  const z = rows.map((r) => {
    const s = byRater.get(r.rater)!;
    return s.std && s.std > 0 ? (r.value - s.mean) / s.std : 0;
  });
  return { z, byRater };
}

// ---- agreement ---------------------------------------------------------------------------------------

/**
 * Fleiss' κ from an items × categories table of counts (every row sums to the same number of
 * raters, at least 2). Null when agreement by chance is already perfect.
 */
export function fleissKappa(table: readonly (readonly number[])[]): number | null {
  const N = table.length;
  if (N === 0) return null;
  const n = table[0]!.reduce((a, b) => a + b, 0);
  if (n < 2) throw new RangeError('Fleiss κ needs at least two ratings per item');
  const k = table[0]!.length;
  const pj = new Array<number>(k).fill(0);
  let Pbar = 0;
  for (const row of table) {
    const rowSum = row.reduce((a, b) => a + b, 0);
    if (rowSum !== n) throw new RangeError(`Fleiss κ needs the same number of ratings per item (${n}), an item has ${rowSum}`);
    let s = 0;
    row.forEach((c, j) => {
      s += c * c;
      pj[j]! += c;
    });
    Pbar += (s - n) / (n * (n - 1));
  }
  Pbar /= N;
  const Pe = pj.reduce((a, c) => a + (c / (N * n)) ** 2, 0);
  if (Pe >= 1) return null;
  return (Pbar - Pe) / (1 - Pe);
}

export type AlphaLevel = 'nominal' | 'ordinal' | 'interval';

/**
 * Krippendorff's α from reliability data: `data[rater][unit]`, null where a rater did not rate a
 * unit. Units with fewer than two values are not pairable and are skipped. Coincidence-matrix
 * computation (Krippendorff 2011, "Computing Krippendorff's alpha-reliability").
 */
export function krippendorffAlpha(data: readonly (readonly (number | null)[])[], level: AlphaLevel = 'nominal'): number | null {
  const units = Math.max(0, ...data.map((r) => r.length));
  const valuesSet = new Set<number>();
  for (const row of data) for (const v of row) if (v !== null && v !== undefined) valuesSet.add(v);
  const values = [...valuesSet].sort((a, b) => a - b);
  const idx = new Map(values.map((v, i) => [v, i]));
  const V = values.length;
  const o = Array.from({ length: V }, () => new Array<number>(V).fill(0));
  for (let u = 0; u < units; u++) {
    const vs: number[] = [];
    for (const row of data) {
      const v = row[u];
      if (v !== null && v !== undefined) vs.push(idx.get(v)!);
    }
    const m = vs.length;
    if (m < 2) continue;
    for (let a = 0; a < m; a++) for (let b = 0; b < m; b++) if (a !== b) o[vs[a]!]![vs[b]!]! += 1 / (m - 1);
  }
  const nc = o.map((row) => row.reduce((a, b) => a + b, 0));
  const n = nc.reduce((a, b) => a + b, 0);
  if (n <= 1) return null;
  const delta = (c: number, k: number): number => {
    if (level === 'nominal') return c === k ? 0 : 1;
    if (level === 'interval') return (values[c]! - values[k]!) ** 2;
    // ordinal: (Σ_{g=c..k} n_g − (n_c + n_k)/2)²
    const [lo, hi] = c < k ? [c, k] : [k, c];
    let s = 0;
    for (let g = lo; g <= hi; g++) s += nc[g]!;
    return (s - (nc[c]! + nc[k]!) / 2) ** 2;
  };
  let Do = 0;
  let De = 0;
  for (let c = 0; c < V; c++) {
    for (let k = 0; k < V; k++) {
      const d = delta(c, k);
      Do += o[c]![k]! * d;
      De += nc[c]! * nc[k]! * d;
    }
  }
  Do /= n;
  De /= n * (n - 1);
  if (De === 0) return null;
  return 1 - Do / De;
}

// ---- rank correlation --------------------------------------------------------------------------------

/** Average ranks (1-based), ties share their mean rank. */
export function averageRanks(xs: readonly number[]): number[] {
  const order = xs.map((v, i) => [v, i] as const).sort((a, b) => a[0] - b[0]);
  const ranks = new Array<number>(xs.length);
  let i = 0;
  while (i < order.length) {
    let j = i;
    while (j + 1 < order.length && order[j + 1]![0] === order[i]![0]) j++;
    const r = (i + j) / 2 + 1;
    for (let t = i; t <= j; t++) ranks[order[t]![1]] = r;
    i = j + 1;
  }
  return ranks;
}

export function pearson(x: readonly number[], y: readonly number[]): number | null {
  if (x.length !== y.length) throw new RangeError('pearson: the two samples differ in length');
  if (x.length < 2) return null;
  const mx = mean(x)!;
  const my = mean(y)!;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < x.length; i++) {
    sxy += (x[i]! - mx) * (y[i]! - my);
    sxx += (x[i]! - mx) ** 2;
    syy += (y[i]! - my) ** 2;
  }
  if (sxx === 0 || syy === 0) return null;
  return sxy / Math.sqrt(sxx * syy);
}

/** Spearman's ρ: Pearson on average ranks (null below 2 pairs or for a constant sample). */
export function spearman(x: readonly number[], y: readonly number[]): number | null {
  if (x.length !== y.length) throw new RangeError('spearman: the two samples differ in length');
  return pearson(averageRanks(x), averageRanks(y));
}

/** Kendall's τ-b (tie-corrected); null below 2 pairs or for a constant sample. */
export function kendall(x: readonly number[], y: readonly number[]): number | null {
  if (x.length !== y.length) throw new RangeError('kendall: the two samples differ in length');
  const n = x.length;
  if (n < 2) return null;
  let concordant = 0;
  let discordant = 0;
  let tiesX = 0;
  let tiesY = 0;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const dx = Math.sign(x[i]! - x[j]!);
      const dy = Math.sign(y[i]! - y[j]!);
      if (dx === 0 && dy === 0) continue;
      if (dx === 0) tiesX++;
      else if (dy === 0) tiesY++;
      else if (dx === dy) concordant++;
      else discordant++;
    }
  }
  const denom = Math.sqrt((concordant + discordant + tiesX) * (concordant + discordant + tiesY));
  return denom === 0 ? null : (concordant - discordant) / denom;
}
