// Mode coverage and mode dropping from a classifier's class probabilities of generated samples:
// predicted class = argmax; p̂ = predicted-class histogram; modes hit = classes predicted at least
// `minCount` times; KL(p̂ ‖ p_data) = Σ p̂ log(p̂ / p_data) with 0·log 0 = 0 (Stacked-MNIST, as in
// VEEGAN / PacGAN, uses a uniform p_data over 1 000 modes). Also the 2-D mixture protocol (ring of
// 8, grid of 25): a sample counts for its nearest mode when within 3σ ("high quality").
import type { Matrix } from './linalg.ts';

export type ModeCoverage = { classes: number; modesHit: number; coverage: number; kl: number; histogram: Float64Array };

/** Predicted-class counts from (N, C) probabilities. */
export function predictedClassCounts(probs: Matrix): Float64Array {
  const { rows, cols, data } = probs;
  const counts = new Float64Array(cols);
  for (let r = 0; r < rows; r++) {
    let best = 0;
    for (let j = 1; j < cols; j++) if (data[r * cols + j] > data[r * cols + best]) best = j;
    counts[best]++;
  }
  return counts;
}

/** KL(p ‖ q) in nats, 0·log 0 = 0; +∞ when p puts mass where q has none. */
export function klDivergence(p: ArrayLike<number>, q: ArrayLike<number>): number {
  if (p.length !== q.length) throw new RangeError('distributions over different numbers of classes');
  let kl = 0;
  for (let i = 0; i < p.length; i++) {
    if (p[i] <= 0) continue;
    if (q[i] <= 0) return Infinity;
    kl += p[i] * Math.log(p[i] / q[i]);
  }
  return kl;
}

/** Coverage and KL from predicted-class counts; p_data defaults to uniform. */
export function modeCoverageFromCounts(counts: ArrayLike<number>, pData?: ArrayLike<number>, minCount = 1): ModeCoverage {
  const c = counts.length;
  let total = 0;
  for (let i = 0; i < c; i++) total += counts[i];
  if (total <= 0) throw new RangeError('no samples to count');
  const histogram = new Float64Array(c);
  let modesHit = 0;
  for (let i = 0; i < c; i++) {
    histogram[i] = counts[i] / total;
    if (counts[i] >= minCount) modesHit++;
  }
  const q = pData ?? new Float64Array(c).fill(1 / c);
  return { classes: c, modesHit, coverage: modesHit / c, kl: klDivergence(histogram, q), histogram };
}

export function modeCoverage(probs: Matrix, pData?: ArrayLike<number>, minCount = 1): ModeCoverage {
  return modeCoverageFromCounts(predictedClassCounts(probs), pData, minCount);
}

export type MixtureCoverage = { modesCovered: number; highQualityShare: number; counts: Float64Array };

/** 2-D (or any-D) Gaussian mixture: nearest mode within 3σ counts; a mode is covered with ≥ minCount samples. */
export function mixtureModeCoverage(samples: Matrix, modes: Matrix, sigma: number, minCount = 1): MixtureCoverage {
  if (samples.cols !== modes.cols) throw new RangeError('samples and modes differ in dimension');
  const d = samples.cols;
  const counts = new Float64Array(modes.rows);
  let good = 0;
  const limit = (3 * sigma) ** 2;
  for (let r = 0; r < samples.rows; r++) {
    let best = -1;
    let bestV = Infinity;
    for (let m = 0; m < modes.rows; m++) {
      let s = 0;
      for (let i = 0; i < d; i++) s += (samples.data[r * d + i] - modes.data[m * d + i]) ** 2;
      if (s < bestV) {
        bestV = s;
        best = m;
      }
    }
    if (bestV <= limit) {
      counts[best]++;
      good++;
    }
  }
  return { modesCovered: counts.filter((c) => c >= minCount).length, highQualityShare: samples.rows ? good / samples.rows : 0, counts };
}
