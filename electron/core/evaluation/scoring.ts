// Which metrics an evaluation can compute, their minimum N (said with the reason), and the scores
// themselves from features, probabilities and images, with the convention of each recorded.
import crypto from 'node:crypto';
import type { EvalMetric, EvaluationOptions, EvaluationProtocol, EvaluationScores } from '../../common/api-evaluation.ts';
import { ApiError } from '../../common/errors.ts';
import {
  asMatrix,
  featureMatchingDistance,
  fidFromFeaturesDetailed,
  inceptionScore,
  kernelInceptionDistanceAsync,
  manifoldScoresAsync,
  modeCoverageFromCounts,
  predictedClassCounts,
  prdFromFeatures,
  slicedWassersteinDistance,
  type Matrix,
  type Precision,
  type Progress,
  type RunControl,
} from '../metrics/index.ts';

export const CONVENTIONS: Record<EvalMetric, string> = {
  fid: 'pytorch-fid: numpy cov (N-1), float64, Tr(S1 S2)^1/2 via a symmetric matrix (= scipy sqrtm)',
  kid: 'torch-fidelity: (x.y/d+1)^3, unbiased MMD^2, subsets without replacement, std ddof 0',
  is: 'OpenAI improved-gan: exp(E KL(p(y|x)||p(y))), contiguous splits, std ddof 0, float64',
  prc: 'Kynkaanniemi et al.: k=3, radius to k-th neighbour (self excluded), <=; F1 of P and R',
  prdc: 'Naeem et al. (clovaai prdc): k=5, real radii, strict <',
  prd: 'Sajjadi et al.: k-means 20 clusters on the union, 1001 angles, 10 runs averaged; F8 and F1/8',
  swd: 'PGGAN: Laplacian pyramid to 16x16, 128 7x7 patches/image/level, per-set channel normalisation, 4x128 directions, x1e3',
  fm: 'feature matching: ||mean_real - mean_fake||_2',
  modes: 'argmax class histogram of the fakes; classes hit; KL(p_fake || p_data) in nats, 0 log 0 = 0',
  nn: 'nearest training neighbours (Euclidean); memorised = nearer than the median train-to-train nearest distance',
};

export interface Availability {
  d: number;
  nReal: number;
  nFake: number;
  hasProbs: boolean;
  /** image side at the extractor's input (SWD needs ≥ 16) */
  imageSide: number;
  trainCount: number;
}

/** Why a metric cannot be computed here, or null. The message names the minimum and the reason. */
export function metricProblem(m: EvalMetric, a: Availability, o: EvaluationOptions): string | null {
  const both = (min: number, why: string) => {
    if (a.nReal < min || a.nFake < min) return `${m} needs at least ${min} real and ${min} fake samples (${why}); got N real = ${a.nReal}, N fake = ${a.nFake}`;
    return null;
  };
  switch (m) {
    case 'fid':
      if (a.nReal <= a.d || a.nFake <= a.d) return `fid needs N > d = ${a.d} real and fake samples for a full-rank covariance (a covariance of N samples has rank ≤ N − 1); got N real = ${a.nReal}, N fake = ${a.nFake}: use N ≥ ${a.d + 1}`;
      return null;
    case 'kid':
      return both(2, 'the unbiased MMD² needs 2 per subset');
    case 'is':
    case 'modes':
      if (!a.hasProbs) return `${m} needs class probabilities; this extractor has no softmax (use a classifier)`;
      if (m === 'is' && a.nFake < o.isSplits) return `is with ${o.isSplits} splits needs at least ${o.isSplits} fake samples, got ${a.nFake}`;
      return null;
    case 'prc':
      return both(4, 'k = 3 neighbours besides the point itself');
    case 'prdc':
      return both(6, 'k = 5 neighbours besides the point itself');
    case 'prd':
      if (a.nReal !== a.nFake) return `prd needs equal numbers of real and fake samples (the reference enforces balance), got ${a.nReal} and ${a.nFake}`;
      return both(20, '20 k-means clusters');
    case 'swd':
      if (a.nReal !== a.nFake) return `swd compares equal numbers of real and fake images (as PGGAN), got ${a.nReal} and ${a.nFake}`;
      if (a.imageSide < 16) return `swd needs images of at least 16×16 (its Laplacian pyramid stops at 16), got ${a.imageSide}×${a.imageSide}`;
      return null;
    case 'fm':
      return both(1, 'a mean needs one sample');
    case 'nn':
      if (a.trainCount < 2) return `nn needs at least 2 training images (a train-to-train distance), got ${a.trainCount}`;
      return a.nFake < 1 ? 'nn needs at least one generated sample' : null;
  }
}

/**
 * The metrics to compute: the requested ones (any that cannot be computed is an `invalid_input`
 * error naming the minimum), or by default every one that can (the others listed as warnings).
 */
export function resolveMetrics(requested: EvalMetric[] | undefined, a: Availability, o: EvaluationOptions): { metrics: EvalMetric[]; warnings: string[] } {
  if (requested) {
    const problems = [...new Set(requested)].map((m) => metricProblem(m, a, o)).filter((p): p is string => p !== null);
    if (problems.length) throw new ApiError('invalid_input', problems.join('; '), { problems });
    return { metrics: [...new Set(requested)], warnings: [] };
  }
  const all: EvalMetric[] = ['fid', 'kid', 'is', 'prc', 'prdc', 'prd', 'swd', 'fm', 'modes', 'nn'];
  const metrics: EvalMetric[] = [];
  const warnings: string[] = [];
  for (const m of all) {
    const p = metricProblem(m, a, o);
    if (p === null) metrics.push(m);
    else if (!(m === 'is' || m === 'modes') || a.hasProbs) warnings.push(`skipped ${p}`);
  }
  if (metrics.length === 0) throw new ApiError('invalid_input', `no metric can be computed: ${warnings.join('; ')}`);
  return { metrics, warnings };
}

/** Every value finite, or `invalid_input` naming the first bad one. */
export function checkFinite(x: Float32Array, rows: number, cols: number, what: string): void {
  for (let i = 0; i < x.length; i++) {
    if (!Number.isFinite(x[i])) throw new ApiError('invalid_input', `${what}: value ${x[i]} at row ${Math.floor(i / Math.max(1, cols))} of ${rows}; features must be finite (NaN usually means a diverged generator or a broken model)`);
  }
}

export interface ScoreInputs {
  real: Matrix;
  fake: Matrix;
  realProbs: Matrix | null;
  fakeProbs: Matrix | null;
  /** images at the extractor's input, for SWD */
  realImages: { n: number; height: number; width: number; channels: number; data: Uint8Array };
  fakeImages: { n: number; height: number; width: number; channels: number; data: Uint8Array };
  /** p_data for mode counting (null: the real images' predicted classes) */
  dataDistribution: number[] | null;
}

/** The O(N²·d) metrics run their Gram products in float32 (float64 sums), as the references do. */
export const GRAM_PRECISION = 'float32';
const PRECISION_NOTE = '; Gram products in float32 with float64 sums (the references: numpy / TF float32)';

/** Progress and cancel of the metric phase: `onMetric(m, fraction of m done)`, never decreasing within m. */
export interface ScoreControl {
  signal?: AbortSignal;
  onMetric?: (m: EvalMetric, fraction: number) => void;
}

/**
 * KID subsets actually drawn. When the subset size covers both sets (N real = N fake ≤ subset
 * size, METRICS.md "fewer if N is smaller"), every subset would be the whole set, so the 100
 * "subsets" would be one value repeated and their std a rounding artefact: one subset, std n/a.
 */
export function kidPlan(nReal: number, nFake: number, o: Pick<EvaluationOptions, 'kidSubsets' | 'kidSubsetSize'>): { subsets: number; subsetSize: number; note: string } {
  const m = Math.min(o.kidSubsetSize, nReal, nFake);
  if (m === nReal && m === nFake) return { subsets: 1, subsetSize: m, note: `; one subset: the subset size ${o.kidSubsetSize} covers all ${m} real and fake samples, so every subset would be the whole set (std n/a, reported as 0)` };
  const whole = m === nReal ? 'real' : m === nFake ? 'fake' : null;
  const note = whole ? `; ${o.kidSubsets} subsets of ${m}: all ${m} ${whole} samples in each, so the std reflects the sampling of the ${whole === 'real' ? 'fake' : 'real'} set only` : '';
  return { subsets: o.kidSubsets, subsetSize: m, note };
}

/**
 * KID by `kidPlan` (for the Evaluate page and `gan-studio metrics` alike): one subset with std 0
 * when a subset covers both sets. `note` belongs in the KID convention. Cooperative: `ctl` cancels.
 */
export async function kidScore(real: Matrix, fake: Matrix, o: Pick<EvaluationOptions, 'kidSubsets' | 'kidSubsetSize'>, seed: number, precision?: Precision, ctl: RunControl = {}): Promise<{ score: NonNullable<EvaluationScores['kid']>; note: string }> {
  const plan = kidPlan(real.rows, fake.rows, o);
  const k = await kernelInceptionDistanceAsync(real, fake, { seed, subsets: plan.subsets, subsetSize: plan.subsetSize, precision }, ctl);
  return { score: { mean: k.mean, std: k.subsets === 1 ? 0 : k.std, subsets: k.subsets, subsetSize: k.subsetSize }, note: plan.note };
}

const f32 = (m: Matrix): Matrix => (m.data instanceof Float32Array ? m : asMatrix(m.rows, m.cols, Float32Array.from(m.data)));

/**
 * Computes the feature / image metrics (not nn, which needs the training set). KID and the
 * manifold metrics run cooperatively: `ctl.signal` stops them between Gram products and their
 * progress reaches `ctl.onMetric`.
 */
export async function computeScores(metrics: EvalMetric[], x: ScoreInputs, o: EvaluationOptions, seed: number, ctl: ScoreControl = {}): Promise<{ scores: EvaluationScores; convention: Record<string, string>; classCoverage: { fake: number[]; data: number[] } | null }> {
  if (x.real.cols !== x.fake.cols) throw new ApiError('invalid_input', `feature dimensions differ: real d = ${x.real.cols}, fake d = ${x.fake.cols}`);
  const real32 = f32(x.real);
  const fake32 = f32(x.fake);
  const scores: EvaluationScores = {};
  const convention: Record<string, string> = {};
  let classCoverage: { fake: number[]; data: number[] } | null = null;
  let manifold: Awaited<ReturnType<typeof manifoldScoresAsync>> | null = null;
  const abortCheck = () => ctl.signal?.throwIfAborted();
  for (const m of metrics) {
    abortCheck();
    ctl.onMetric?.(m, 0);
    const progress = (p: Progress) => ctl.onMetric?.(m, p.total > 0 ? Math.min(1, p.done / p.total) : 0);
    convention[m] = CONVENTIONS[m];
    switch (m) {
      case 'fid':
        scores.fid = fidFromFeaturesDetailed(x.real, x.fake).fid;
        break;
      case 'kid': {
        const k = await kidScore(real32, fake32, o, seed, GRAM_PRECISION, { signal: ctl.signal, onProgress: progress });
        scores.kid = k.score;
        convention.kid += k.note + PRECISION_NOTE;
        break;
      }
      case 'is': {
        const r = inceptionScore(x.fakeProbs!, { splits: o.isSplits });
        scores.is = { mean: r.mean, std: r.std, splits: r.splits };
        break;
      }
      case 'prc':
      case 'prdc': {
        manifold ??= await manifoldScoresAsync(real32, fake32, { kImproved: 3, kPrdc: 5, precision: GRAM_PRECISION }, { signal: ctl.signal, onProgress: progress });
        if (m === 'prc') Object.assign(scores, { precision: manifold.improved.precision, recall: manifold.improved.recall, f1: manifold.improved.f1 });
        else Object.assign(scores, { density: manifold.prdc.density, coverage: manifold.prdc.coverage });
        convention[m] += PRECISION_NOTE;
        break;
      }
      case 'prd': {
        const p = prdFromFeatures(x.real, x.fake, { seed });
        scores.prd = { f8: p.f8, f1_8: p.f1_8 };
        break;
      }
      case 'swd': {
        const s = slicedWassersteinDistance(x.realImages, x.fakeImages, { seed });
        scores.swd = { average: s.average, perLevel: s.perLevel, resolutions: s.resolutions };
        break;
      }
      case 'fm':
        scores.fm = featureMatchingDistance(x.real, x.fake);
        break;
      case 'modes': {
        const fakeCounts = predictedClassCounts(x.fakeProbs!);
        const data = x.dataDistribution ?? normalise(Array.from(predictedClassCounts(x.realProbs!)));
        const c = modeCoverageFromCounts(fakeCounts, data);
        scores.modes = { classes: c.classes, modesHit: c.modesHit, coverage: c.coverage, kl: c.kl };
        classCoverage = { fake: Array.from(c.histogram), data };
        if (!x.dataDistribution) convention.modes += "; p_data = the real images' predicted classes";
        break;
      }
      case 'nn':
        break;
    }
    ctl.onMetric?.(m, 1);
    // let a cancel message in between metrics, even the synchronous ones
    await new Promise<void>((r) => setImmediate(r));
  }
  abortCheck();
  return { scores, convention, classCoverage };
}

export function normalise(v: number[]): number[] {
  const s = v.reduce((a, b) => a + b, 0);
  return v.map((x) => (s > 0 ? x / s : 0));
}

export const matrix = (data: Float32Array, rows: number, cols: number): Matrix => asMatrix(rows, cols, data);

/** sha256 of the comparable part of a protocol: not the seed (a re-draw of the same experiment). */
export function protocolKeyOf(p: EvaluationProtocol): string {
  const comparable = {
    extractorId: p.extractorId,
    weightsHash: p.weightsHash,
    featureDim: p.featureDim,
    input: [p.inputWidth, p.inputHeight, p.inputChannels],
    nReal: p.nReal,
    nFake: p.nFake,
    referenceSplit: p.referenceSplit,
    reference: p.reference,
    referenceHash: p.referenceHash,
    options: p.options,
    duringTraining: p.duringTraining,
  };
  return crypto.createHash('sha256').update(JSON.stringify(comparable)).digest('hex');
}

/** The first field in which two protocols differ, for a `conflict` message; null when comparable. */
export function protocolDifference(a: EvaluationProtocol, b: EvaluationProtocol): string | null {
  const fields: [string, unknown, unknown][] = [
    ['extractor', a.extractorId, b.extractorId],
    ['extractor weights (sha256)', a.weightsHash, b.weightsHash],
    ['feature dimension', a.featureDim, b.featureDim],
    ['extractor input', `${a.inputWidth}×${a.inputHeight}×${a.inputChannels}`, `${b.inputWidth}×${b.inputHeight}×${b.inputChannels}`],
    ['N real', a.nReal, b.nReal],
    ['N fake', a.nFake, b.nFake],
    ['reference split', a.referenceSplit, b.referenceSplit],
    ['reference data', a.reference, b.reference],
    ['reference content hash', a.referenceHash, b.referenceHash],
    ['metric options', JSON.stringify(a.options), JSON.stringify(b.options)],
    ['during-training flag', a.duringTraining, b.duringTraining],
  ];
  for (const [name, x, y] of fields) if (x !== y) return `${name}: ${String(x)} vs ${String(y)}`;
  return null;
}
