// Kernel Inception Distance (Bińkowski et al. 2018) with torch-fidelity's defaults: polynomial
// kernel k(x, y) = (xᵀy/d + 1)³, unbiased MMD² (off-diagonal means within each set, the full cross
// mean with its diagonal kept), 100 subsets of 1 000 drawn without replacement (fewer if N is
// smaller), mean and population std (np.std, ddof 0) over subsets. Values may be negative.
import { Rng } from '../models/rng.ts';
import { createKernels, TILE_N, type Kernels } from './wasm-kernels.ts';
import { gemmNTBlocked, loadRows, padTo, type Matrix } from './linalg.ts';
import { gemmNT32Blocked, ld32, loadRows32, ROW_TILE, runAsync, runSync, type Job, type RunControl } from './gram32.ts';
import { precisionOf, type Precision } from './knn.ts';

/** `precision`: the Gram arithmetic; by default float32 for float32 features, else float64 (knn.ts `precisionOf`). */
export type KidOptions = { subsets?: number; subsetSize?: number; degree?: number; coef0?: number; gamma?: number; seed?: number; precision?: Precision };
export type KidResult = { mean: number; std: number; subsets: number; subsetSize: number; values: Float64Array; precision: Precision };

/** Unbiased MMD² with the polynomial kernel between two equal-size sets (all rows used). */
export function polynomialMmd2(x: Matrix, y: Matrix, opts: { degree?: number; coef0?: number; gamma?: number } = {}, kernels: Kernels = createKernels()): number {
  if (x.cols !== y.cols) throw new RangeError(`feature dimensions differ: ${x.cols} vs ${y.cols}`);
  const m = x.rows;
  if (y.rows !== m) throw new RangeError(`unbiased MMD² here needs equal set sizes, got ${m} and ${y.rows}`);
  if (m < 2) throw new RangeError('unbiased MMD² needs at least 2 samples per set');
  return mmd2Resident(x, y, null, null, m, opts, kernels);
}

function mmd2Resident(x: Matrix, y: Matrix, ix: Uint32Array | null, iy: Uint32Array | null, m: number, opts: { degree?: number; coef0?: number; gamma?: number }, k: Kernels): number {
  const d = x.cols;
  const degree = opts.degree ?? 3;
  const coef0 = opts.coef0 ?? 1;
  const gamma = opts.gamma ?? 1 / d;
  const ld = padTo(d, 2);
  const mp = padTo(m, TILE_N);
  const X = 0;
  const Y = mp * ld * 8;
  const G = 2 * mp * ld * 8;
  k.reserve(G + mp * mp * 8);
  loadRows(k, X, x, ld, mp, ix ?? undefined);
  loadRows(k, Y, y, ld, mp, iy ?? undefined);
  const kern = kernelOf(gamma, coef0, degree);
  const sumOff = (P: number, Q: number, self: boolean): number => {
    gemmNTBlocked(k, P, Q, G, mp, mp, ld, ld, ld, mp, self);
    const f = k.f64;
    const g0 = G / 8;
    let s = 0;
    for (let i = 0; i < m; i++) {
      if (self) {
        for (let j = i + 1; j < m; j++) s += kern(f[g0 + i * mp + j]);
      } else {
        for (let j = 0; j < m; j++) s += kern(f[g0 + i * mp + j]);
      }
    }
    return self ? 2 * s : s;
  };
  const kxx = sumOff(X, X, true);
  const kyy = sumOff(Y, Y, true);
  const kxy = sumOff(X, Y, false);
  return (kxx + kyy) / (m * (m - 1)) - (2 * kxy) / (m * m);
}

/** the kernel as a function of the dot product; degree 3 (the default) without Math.pow */
function kernelOf(gamma: number, coef0: number, degree: number): (dot: number) => number {
  if (degree === 3) {
    return (dot) => {
      const t = gamma * dot + coef0;
      return t * t * t;
    };
  }
  return (dot) => (gamma * dot + coef0) ** degree;
}

/**
 * The subsets on float32 Gram blocks (gram32.ts): X (m×d) and Y as float32 rows in kernel memory,
 * XXᵀ and YYᵀ upper triangles and XYᵀ in float64 from the f32x4 kernel, kernel sums in float64 in
 * the same order as the float64 path. When a set has exactly m rows every subset is that set
 * reordered, and its within-set sum (permutation-invariant) is computed once.
 */
function* kidJob32(real: Matrix, fake: Matrix, subsets: number, m: number, opts: KidOptions, rng: Rng): Job<Float64Array> {
  const d = real.cols;
  const kern = kernelOf(opts.gamma ?? 1 / d, opts.coef0 ?? 1, opts.degree ?? 3);
  const ld = ld32(d);
  const mp = padTo(m, ROW_TILE);
  const X = 0;
  const Y = mp * ld * 4;
  const G = padTo(2 * mp * ld * 4, 16);
  const k = createKernels();
  k.reserve(G + mp * mp * 8);
  const realWhole = m === real.rows;
  const fakeWhole = m === fake.rows;
  if (realWhole) loadRows32(k, X, real, ld, mp);
  if (fakeWhole) loadRows32(k, Y, fake, ld, mp);
  const sum = (P: number, Q: number, self: boolean): number => {
    gemmNT32Blocked(k, P, Q, G, mp, mp, ld, ld, ld, mp, self);
    const f = k.f64;
    const g0 = G / 8;
    let s = 0;
    for (let i = 0; i < m; i++) {
      const row = g0 + i * mp;
      if (self) {
        for (let j = i + 1; j < m; j++) s += kern(f[row + j]);
      } else {
        for (let j = 0; j < m; j++) s += kern(f[row + j]);
      }
    }
    return self ? 2 * s : s;
  };
  const values = new Float64Array(subsets);
  const total = 3 * subsets;
  let kxxWhole: number | null = null;
  let kyyWhole: number | null = null;
  let kxyWhole: number | null = null;
  for (let s = 0; s < subsets; s++) {
    // the draws happen whether or not they are needed, so a seed picks the same subsets as before
    const ix = rng.permutation(real.rows).subarray(0, m);
    const iy = rng.permutation(fake.rows).subarray(0, m);
    if (!realWhole) loadRows32(k, X, real, ld, mp, ix);
    if (!fakeWhole) loadRows32(k, Y, fake, ld, mp, iy);
    const kxx = realWhole ? (kxxWhole ??= sum(X, X, true)) : sum(X, X, true);
    yield { done: 3 * s + 1, total, stage: 'KID subsets' };
    const kyy = fakeWhole ? (kyyWhole ??= sum(Y, Y, true)) : sum(Y, Y, true);
    yield { done: 3 * s + 2, total, stage: 'KID subsets' };
    const kxy = realWhole && fakeWhole ? (kxyWhole ??= sum(X, Y, false)) : sum(X, Y, false);
    values[s] = (kxx + kyy) / (m * (m - 1)) - (2 * kxy) / (m * m);
    yield { done: 3 * s + 3, total, stage: 'KID subsets' };
  }
  return values;
}

/** The float64 route: the resident float64 Gram per subset (the direct definition, exact for float64 inputs). */
function* kidJob64(real: Matrix, fake: Matrix, subsets: number, m: number, opts: KidOptions, rng: Rng): Job<Float64Array> {
  const k = createKernels();
  const values = new Float64Array(subsets);
  for (let s = 0; s < subsets; s++) {
    const ix = rng.permutation(real.rows).subarray(0, m);
    const iy = rng.permutation(fake.rows).subarray(0, m);
    values[s] = mmd2Resident(real, fake, ix, iy, m, opts, k);
    yield { done: s + 1, total: subsets, stage: 'KID subsets' };
  }
  return values;
}

/** KID as a job: progress in Gram products (three per subset on the float32 route, one step per subset on the float64 one). */
export function* kernelInceptionDistanceJob(real: Matrix, fake: Matrix, opts: KidOptions = {}): Job<KidResult> {
  if (real.cols !== fake.cols) throw new RangeError(`feature dimensions differ: real ${real.cols}, fake ${fake.cols}`);
  const subsets = opts.subsets ?? 100;
  if (!Number.isInteger(subsets) || subsets < 1) throw new RangeError(`KID needs at least one subset, got ${subsets}`);
  const m = Math.min(opts.subsetSize ?? 1000, real.rows, fake.rows);
  if (m < 2) throw new RangeError(`KID needs at least 2 samples per set, got ${real.rows} real and ${fake.rows} fake`);
  const rng = new Rng(opts.seed ?? 0);
  const precision = precisionOf([real, fake], opts.precision);
  const values = precision === 'float32' ? yield* kidJob32(real, fake, subsets, m, opts, rng) : yield* kidJob64(real, fake, subsets, m, opts, rng);
  let mean = 0;
  for (const v of values) mean += v / subsets;
  let varSum = 0;
  for (const v of values) varSum += (v - mean) ** 2;
  return { mean, std: Math.sqrt(varSum / subsets), subsets, subsetSize: m, values, precision };
}

/**
 * KID over random subsets. Float32 features use float32 Gram blocks with float64 kernel sums, float64
 * features the float64 route (`opts.precision` overrides). `ctl` adds progress and cancel (checked
 * after each Gram product, ~0.1 s at m = 1 000, d = 2 048).
 */
export function kernelInceptionDistance(real: Matrix, fake: Matrix, opts: KidOptions = {}, ctl: RunControl = {}): KidResult {
  return runSync(kernelInceptionDistanceJob(real, fake, opts), ctl);
}

/** kernelInceptionDistance yielding to the event loop every ~50 ms, so an AbortSignal can stop it. */
export function kernelInceptionDistanceAsync(real: Matrix, fake: Matrix, opts: KidOptions = {}, ctl: RunControl = {}): Promise<KidResult> {
  return runAsync(kernelInceptionDistanceJob(real, fake, opts), ctl);
}
