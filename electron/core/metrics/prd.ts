// Precision and recall for distributions (Sajjadi et al. 2018, msmsajjadi/precision-recall-
// distributions): cluster the union of both feature sets into 20 clusters, compare the two
// cluster histograms along 1 001 slopes λ = tan θ, θ ∈ [ε, π/2 − ε]: α(λ) = Σ min(λ·ref, eval),
// β(λ) = α/λ; average the curves of 10 clusterings, report max F₈ and max F₁/₈ with
// F_b = (1 + b²)·α·β / (b²·α + β + ε). Equal set sizes are required, as the reference enforces.
// The reference clusters with sklearn MiniBatchKMeans(n_init=10); here: Lloyd's k-means with
// k-means++ seeding, one initialisation per run (the 10 runs are averaged anyway), seeded.
import { Rng } from '../models/rng.ts';
import { createKernels, TILE_N } from './wasm-kernels.ts';
import { gemmNTBlocked, loadRows, padTo, type Matrix } from './linalg.ts';

export type PrdCurve = { precision: Float64Array; recall: Float64Array };
export type PrdResult = PrdCurve & { f8: number; f1_8: number; clusters: number; runs: number };

const EPSILON = 1e-10;

/** The PRD curve of two histograms over the same bins (eval = generated, ref = real). */
export function prdFromHistograms(evalDist: ArrayLike<number>, refDist: ArrayLike<number>, numAngles = 1001): PrdCurve {
  if (evalDist.length !== refDist.length) throw new RangeError('histograms must have the same bins');
  const precision = new Float64Array(numAngles);
  const recall = new Float64Array(numAngles);
  for (let a = 0; a < numAngles; a++) {
    const theta = EPSILON + ((Math.PI / 2 - 2 * EPSILON) * a) / (numAngles - 1);
    const slope = Math.tan(theta);
    let p = 0;
    for (let i = 0; i < evalDist.length; i++) p += Math.min(refDist[i] * slope, evalDist[i]);
    // the reference clips values pushed just above 1 by rounding
    precision[a] = Math.min(Math.max(p, 0), 1);
    recall[a] = Math.min(Math.max(p / slope, 0), 1);
  }
  return { precision, recall };
}

export function fBeta(precision: number, recall: number, beta: number): number {
  return ((1 + beta * beta) * precision * recall) / (beta * beta * precision + recall + EPSILON);
}

/** max F_β and max F_{1/β} over the curve: [F₈ (recall-weighted), F₁/₈ (precision-weighted)] for β = 8. */
export function maxFBetaPair(curve: PrdCurve, beta = 8): { fBeta: number; fInvBeta: number } {
  let a = 0;
  let b = 0;
  for (let i = 0; i < curve.precision.length; i++) {
    a = Math.max(a, fBeta(curve.precision[i], curve.recall[i], beta));
    b = Math.max(b, fBeta(curve.precision[i], curve.recall[i], 1 / beta));
  }
  return { fBeta: a, fInvBeta: b };
}

/** Lloyd's k-means with k-means++ seeding; returns the label of each row. */
export function kMeans(x: Matrix, clusters: number, rng: Rng, maxIter = 100): Int32Array {
  const { rows: n, cols: d, data } = x;
  if (n < clusters) throw new RangeError(`k-means with ${clusters} clusters needs at least ${clusters} points, got ${n}`);
  const kernels = createKernels();
  const ld = padTo(d, 2);
  const np = padTo(n, 64);
  const cp = padTo(clusters, TILE_N);
  const X = 0;
  const Cn = np * ld * 8;
  const G = Cn + cp * ld * 8;
  kernels.reserve(G + np * cp * 8);
  loadRows(kernels, X, x, ld, np);
  const norms = new Float64Array(n);
  for (let r = 0; r < n; r++) {
    let s = 0;
    for (let i = 0; i < d; i++) s += data[r * d + i] ** 2;
    norms[r] = s;
  }
  const centers = new Float64Array(clusters * d);
  // k-means++: first centre uniform, then proportional to squared distance to the nearest centre
  const nearest = new Float64Array(n).fill(Infinity);
  let pick = rng.int(n);
  for (let c = 0; c < clusters; c++) {
    centers.set(data.subarray(pick * d, pick * d + d), c * d);
    let total = 0;
    for (let r = 0; r < n; r++) {
      let s = 0;
      for (let i = 0; i < d; i++) s += (data[r * d + i] - centers[c * d + i]) ** 2;
      if (s < nearest[r]) nearest[r] = s;
      total += nearest[r];
    }
    if (c + 1 === clusters) break;
    let u = rng.uniform() * total;
    pick = n - 1;
    for (let r = 0; r < n; r++) {
      u -= nearest[r];
      if (u < 0) {
        pick = r;
        break;
      }
    }
  }
  const labels = new Int32Array(n).fill(-1);
  const counts = new Float64Array(clusters);
  for (let iter = 0; iter < maxIter; iter++) {
    const cm = { rows: clusters, cols: d, data: centers };
    loadRows(kernels, Cn, cm, ld, cp);
    const cNorm = new Float64Array(clusters);
    for (let c = 0; c < clusters; c++) for (let i = 0; i < d; i++) cNorm[c] += centers[c * d + i] ** 2;
    gemmNTBlocked(kernels, X, Cn, G, np, cp, ld, ld, ld, cp);
    const f = kernels.f64;
    let changed = 0;
    for (let r = 0; r < n; r++) {
      let best = -1;
      let bestV = Infinity;
      for (let c = 0; c < clusters; c++) {
        const v = norms[r] + cNorm[c] - 2 * f[G / 8 + r * cp + c];
        if (v < bestV) {
          bestV = v;
          best = c;
        }
      }
      if (labels[r] !== best) {
        labels[r] = best;
        changed++;
      }
    }
    if (changed === 0) break;
    centers.fill(0);
    counts.fill(0);
    for (let r = 0; r < n; r++) {
      const c = labels[r];
      counts[c]++;
      for (let i = 0; i < d; i++) centers[c * d + i] += data[r * d + i];
    }
    for (let c = 0; c < clusters; c++) {
      if (counts[c] === 0) {
        // an empty cluster takes a random point, as sklearn relocates empty clusters
        const r = rng.int(n);
        centers.set(data.subarray(r * d, r * d + d), c * d);
      } else {
        for (let i = 0; i < d; i++) centers[c * d + i] /= counts[c];
      }
    }
  }
  return labels;
}

export function prdFromFeatures(real: Matrix, fake: Matrix, opts: { clusters?: number; angles?: number; runs?: number; seed?: number; beta?: number } = {}): PrdResult {
  if (real.cols !== fake.cols) throw new RangeError(`feature dimensions differ: real ${real.cols}, fake ${fake.cols}`);
  if (real.rows !== fake.rows) throw new RangeError(`PRD needs equal numbers of real and fake samples (the reference enforces balance), got ${real.rows} and ${fake.rows}`);
  const clusters = opts.clusters ?? 20;
  const angles = opts.angles ?? 1001;
  const runs = opts.runs ?? 10;
  const n = real.rows;
  const d = real.cols;
  const union = new Float64Array(2 * n * d);
  union.set(real.data, 0);
  union.set(fake.data, n * d);
  const rng = new Rng(opts.seed ?? 0);
  const precision = new Float64Array(angles);
  const recall = new Float64Array(angles);
  for (let run = 0; run < runs; run++) {
    const labels = kMeans({ rows: 2 * n, cols: d, data: union }, clusters, rng);
    const ref = new Float64Array(clusters);
    const ev = new Float64Array(clusters);
    for (let r = 0; r < n; r++) ref[labels[r]] += 1 / n;
    for (let r = 0; r < n; r++) ev[labels[n + r]] += 1 / n;
    const curve = prdFromHistograms(ev, ref, angles);
    for (let a = 0; a < angles; a++) {
      precision[a] += curve.precision[a] / runs;
      recall[a] += curve.recall[a] / runs;
    }
  }
  const { fBeta: f8, fInvBeta: f1_8 } = maxFBetaPair({ precision, recall }, opts.beta ?? 8);
  return { precision, recall, f8, f1_8, clusters, runs };
}
