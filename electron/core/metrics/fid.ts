// Fréchet distance between Gaussians fitted to two feature sets (Heusel et al. 2017), with the
// pytorch-fid / torch-fidelity / clean-fid conventions: μ and Σ from `np.cov(rowvar=False)` (N−1
// divisor), float64, FID = ‖μ₁−μ₂‖² + Tr Σ₁ + Tr Σ₂ − 2 Tr (Σ₁Σ₂)^½. The trace square root goes
// through a symmetric matrix (linalg.traceSqrtProduct), which matches scipy `sqrtm` up to rounding.
import { createKernels, type Kernels } from './wasm-kernels.ts';
import { meanAndCovariance, traceSqrtProduct, type Matrix, type TraceSqrtRoute } from './linalg.ts';

export type FidDetail = {
  fid: number;
  /** ‖μ₁−μ₂‖² */
  meanTerm: number;
  /** Tr Σ₁ + Tr Σ₂ − 2 Tr (Σ₁Σ₂)^½ */
  covTerm: number;
  traceSqrt: number;
  route: TraceSqrtRoute;
};

export function fidFromStatsDetailed(mu1: Float64Array, s1: Float64Array, mu2: Float64Array, s2: Float64Array, kernels: Kernels = createKernels()): FidDetail {
  const d = mu1.length;
  if (mu2.length !== d) throw new RangeError(`mean vectors differ in length: ${d} vs ${mu2.length}`);
  if (s1.length !== d * d || s2.length !== d * d) throw new RangeError(`covariances must be ${d}×${d}`);
  let meanTerm = 0;
  for (let i = 0; i < d; i++) meanTerm += (mu1[i] - mu2[i]) ** 2;
  let tr = 0;
  for (let i = 0; i < d; i++) tr += s1[i * d + i] + s2[i * d + i];
  const ts = traceSqrtProduct(s1, s2, d, kernels);
  const covTerm = tr - 2 * ts.value;
  return { fid: meanTerm + covTerm, meanTerm, covTerm, traceSqrt: ts.value, route: ts.route };
}

/** FID from precomputed statistics (μ as length-d vectors, Σ as d×d row-major). */
export function fidFromStats(mu1: Float64Array, s1: Float64Array, mu2: Float64Array, s2: Float64Array): number {
  return fidFromStatsDetailed(mu1, s1, mu2, s2).fid;
}

/** FID between two (N, d) feature matrices. Biased (falls like 1/N): compare only at equal N. */
export function fidFromFeatures(real: Matrix, fake: Matrix): number {
  return fidFromFeaturesDetailed(real, fake).fid;
}

export function fidFromFeaturesDetailed(real: Matrix, fake: Matrix, kernels: Kernels = createKernels()): FidDetail {
  if (real.cols !== fake.cols) throw new RangeError(`feature dimensions differ: real ${real.cols}, fake ${fake.cols}`);
  const a = meanAndCovariance(real, kernels);
  const b = meanAndCovariance(fake, kernels);
  return fidFromStatsDetailed(a.mean, a.cov, b.mean, b.cov, kernels);
}

/** Feature-matching distance ‖μ_real − μ_fake‖₂ (Salimans et al. 2016's feature-matching objective, as a score). */
export function featureMatchingDistance(real: Matrix, fake: Matrix): number {
  if (real.cols !== fake.cols) throw new RangeError(`feature dimensions differ: real ${real.cols}, fake ${fake.cols}`);
  const d = real.cols;
  const m = new Float64Array(d);
  for (let r = 0; r < real.rows; r++) for (let i = 0; i < d; i++) m[i] += real.data[r * d + i] / real.rows;
  for (let r = 0; r < fake.rows; r++) for (let i = 0; i < d; i++) m[i] -= fake.data[r * d + i] / fake.rows;
  let s = 0;
  for (let i = 0; i < d; i++) s += m[i] * m[i];
  return Math.sqrt(s);
}
