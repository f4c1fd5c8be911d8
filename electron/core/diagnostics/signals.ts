// Diversity and D signals measured in the trainer on a schedule (pure functions over plain arrays;
// the trainer reads the tensors back once per probe). Feature space: for images, a fixed Gaussian
// random projection of the pixels to PROJECTION_DIM dimensions (Johnson–Lindenstrauss: pairwise
// L2 distances are kept within a few per cent, at 1/12 of the cost of 784-D pixels for MNIST);
// for 2-D points, the points themselves.
import { Rng } from '../models/rng.ts';

export const PROJECTION_DIM = 64;

/** A fixed random projection (seeded, so every probe of a run and every replay uses the same one). */
export class RandomProjection {
  readonly #w: Float32Array;
  constructor(
    readonly inDim: number,
    readonly outDim: number = PROJECTION_DIM,
    seed = 7,
  ) {
    this.#w = new Rng(seed).fillNormal(new Float32Array(inDim * outDim), 1 / Math.sqrt(outDim));
  }

  /** n×inDim row-major → n×outDim */
  apply(x: ArrayLike<number>, n: number): Float32Array {
    const { inDim, outDim } = this;
    const out = new Float32Array(n * outDim);
    const w = this.#w;
    for (let i = 0; i < n; i++) {
      const row = i * inDim;
      const o = i * outDim;
      for (let k = 0; k < inDim; k++) {
        const v = x[row + k];
        if (v === 0) continue;
        const wk = k * outDim;
        for (let j = 0; j < outDim; j++) out[o + j] += v * w[wk + j];
      }
    }
    return out;
  }
}

export interface SetStats {
  /** mean L2 distance over all pairs i < j */
  meanPairwise: number;
  /** each item's distance to its nearest other item */
  nearest: Float32Array;
}

/** Pairwise statistics of n points of dimension d (O(n²d); n ≤ 512 in practice). */
export function setStats(f: Float32Array, n: number, d: number): SetStats {
  const nearest = new Float32Array(n).fill(Infinity);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      let s = 0;
      for (let k = 0; k < d; k++) {
        const t = f[i * d + k] - f[j * d + k];
        s += t * t;
      }
      const dist = Math.sqrt(s);
      sum += dist;
      if (dist < nearest[i]) nearest[i] = dist;
      if (dist < nearest[j]) nearest[j] = dist;
    }
  }
  return { meanPairwise: n > 1 ? sum / ((n * (n - 1)) / 2) : 0, nearest };
}

/** Near-duplicate threshold: a fraction of the real set's median nearest-neighbour distance. */
export const NEAR_DUPLICATE_FRACTION = 0.25;

export function median(xs: ArrayLike<number>): number {
  const s = Float64Array.from(xs).sort();
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** neighbours for the coverage balls (Naeem et al. 2020 use k = 5) */
export const COVERAGE_K = 5;

export interface RealBaseline {
  meanPairwise: number;
  /** the real features and each one's distance to its k-th nearest real neighbour */
  features: Float32Array;
  n: number;
  kthNearest: Float32Array;
  /** distances below this count as near-duplicates */
  nearDuplicateRadius: number;
  /** the real set's own near-duplicate share at that radius (the floor the fake share is read against) */
  nearDuplicateShare: number;
}

export function realBaseline(features: Float32Array, n: number, d: number): RealBaseline {
  const s = setStats(features, n, d);
  const radius = NEAR_DUPLICATE_FRACTION * median(s.nearest);
  const kthNearest = new Float32Array(n);
  const dist = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) dist[j] = i === j ? Infinity : distance(features, i, features, j, d);
    kthNearest[i] = dist.sort()[Math.min(COVERAGE_K, n - 1) - 1] ?? Infinity;
  }
  return { meanPairwise: s.meanPairwise, features, n, kthNearest, nearDuplicateRadius: radius, nearDuplicateShare: shareBelow(s.nearest, radius) };
}

function distance(a: Float32Array, i: number, b: Float32Array, j: number, d: number): number {
  let s = 0;
  for (let k = 0; k < d; k++) {
    const t = a[i * d + k] - b[j * d + k];
    s += t * t;
  }
  return Math.sqrt(s);
}

/**
 * Coverage (Naeem et al. 2020, "Reliable fidelity and diversity metrics"): the share of real
 * samples whose k-nearest-neighbour ball holds at least one fake. ~0.97 when fakes match the data
 * (k = 5), ≈ the share of modes G reaches when it collapses onto some of them.
 */
export function coverage(fake: Float32Array, n: number, d: number, real: RealBaseline): number {
  let covered = 0;
  for (let i = 0; i < real.n; i++) {
    for (let j = 0; j < n; j++) {
      if (distance(real.features, i, fake, j, d) <= real.kthNearest[i]) {
        covered++;
        break;
      }
    }
  }
  return real.n ? covered / real.n : 0;
}

function shareBelow(xs: Float32Array, r: number): number {
  let c = 0;
  for (const x of xs) if (x < r) c++;
  return xs.length ? c / xs.length : 0;
}

export interface DiversitySignals {
  /** mean pairwise distance of the fakes / that of the real batch: ~1 healthy, → 0 collapsed */
  ratio: number;
  /** share of fakes (from different z) with another fake within the near-duplicate radius */
  nearDuplicates: number;
  /** share of real samples with a fake inside their k-NN ball */
  coverage: number;
  /** mean distance each fixed-z sample moved since the previous probe, relative to the real spread */
  drift: number | null;
}

export function diversitySignals(fake: Float32Array, n: number, d: number, real: RealBaseline, previous: Float32Array | null): DiversitySignals {
  const s = setStats(fake, n, d);
  let drift: number | null = null;
  if (previous && previous.length === fake.length) {
    let sum = 0;
    for (let i = 0; i < n; i++) {
      let t = 0;
      for (let k = 0; k < d; k++) {
        const v = fake[i * d + k] - previous[i * d + k];
        t += v * v;
      }
      sum += Math.sqrt(t);
    }
    drift = sum / n / Math.max(real.meanPairwise, 1e-12);
  }
  return { ratio: s.meanPairwise / Math.max(real.meanPairwise, 1e-12), nearDuplicates: shareBelow(s.nearest, real.nearDuplicateRadius), coverage: coverage(fake, n, d, real), drift };
}

/**
 * D overfitting (Karras et al. 2020 watch the same drift): where held-out real images sit between
 * training images and fakes in D's eyes. 0 = scored like training data, 1 = scored like fakes.
 */
export function overfitGap(train: number, holdout: number, fake: number): number {
  const spread = train - fake;
  if (!(Math.abs(spread) > 1e-6)) return 0;
  return (train - holdout) / spread;
}
