// FID and its linear algebra: every FID check value of design/METRICS.md, plus golden values for
// random inputs cross-checked once against numpy/scipy (script in the comment of each test).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../electron/core/models/rng.ts';
import { asMatrix, cholesky, featureMatchingDistance, fidFromFeatures, fidFromFeaturesDetailed, fidFromStats, fidFromStatsDetailed, meanAndCovariance, symmetricEigen, symmetricEigenvalues, traceSqrtProduct } from '../../electron/core/metrics/index.ts';
import { createJsKernels, createWasmKernels } from '../../electron/core/metrics/wasm-kernels.ts';

const f64 = (...v: number[]) => Float64Array.from(v);
const close = (a: number, b: number, tol: number, what = '') => assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${what} ${a} ≉ ${b} (tol ${tol})`);
/** the same generator as /tmp/gold/dump.ts used for the numpy goldens */
const gauss = (seed: number, n: number, d: number, scale = 1, shift = 0) => {
  const r = new Rng(seed);
  const a = new Float64Array(n * d);
  for (let i = 0; i < a.length; i++) a[i] = r.normal() * scale + shift;
  return asMatrix(n, d, a);
};

test('FID check: identical statistics → 0', () => {
  const x = gauss(1, 200, 6);
  const { mean, cov } = meanAndCovariance(x);
  close(fidFromStats(mean, cov, mean, cov), 0, 1e-10);
  close(fidFromFeatures(x, x), 0, 1e-10);
});

test('FID check: 1-D N(0,1) vs N(2,4) from statistics → 5', () => {
  close(fidFromStats(f64(0), f64(1), f64(2), f64(4)), 5, 1e-14);
});

test('FID check: μ (0,0) vs (3,4), Σ diag(1,4) vs diag(4,9) → 27', () => {
  close(fidFromStats(f64(0, 0), f64(1, 0, 0, 4), f64(3, 4), f64(4, 0, 0, 9)), 27, 1e-14);
});

test('FID check: Σ₁=[[2,1],[1,2]], μ₂=(1,1), Σ₂=diag(1,4) → ≈ 2.771220447654', () => {
  const v = fidFromStats(f64(0, 0), f64(2, 1, 1, 2), f64(1, 1), f64(1, 0, 0, 4));
  // ‖μ‖² + Tr Σ₁ + Tr Σ₂ = 2 + 4 + 5 = 11 (METRICS.md writes "13 −", a typo: its numeric value
  // 2.771220447654 is 11 − 2√(10+4√3)); Tr(Σ₁Σ₂)^½ = √(tr + 2√det) = √(10 + 4√3).
  close(v, 11 - 2 * Math.sqrt(10 + 4 * Math.sqrt(3)), 1e-13);
  assert.equal(v.toFixed(12), '2.771220447654');
});

test('FID check: singular Σ₁=diag(1,0), Σ₂=diag(0,1), equal means → 2 (eigen route, Cholesky fails)', () => {
  const d = fidFromStatsDetailed(f64(0, 0), f64(1, 0, 0, 0), f64(0, 0), f64(0, 0, 0, 1));
  close(d.fid, 2, 1e-14);
  assert.equal(d.route, 'eigen');
  // one singular, one not: the roles swap and Cholesky still serves
  const s = fidFromStatsDetailed(f64(0, 0), f64(1, 0, 0, 0), f64(0, 0), f64(2, 0, 0, 1));
  assert.equal(s.route, 'cholesky-swapped');
  close(s.fid, 1 + 3 - 2 * Math.SQRT2, 1e-14);
});

test('FID golden: random features vs numpy cov + scipy sqrtm', () => {
  // numpy 2.x / scipy: a,b = np.load(real), np.load(fake) written from gauss(42,40,5), gauss(43,50,5,1.3,0.2);
  // m1,m2 = a.mean(0), b.mean(0); s1,s2 = np.cov(a,rowvar=False), np.cov(b,rowvar=False)
  // ((m1-m2)**2).sum() + np.trace(s1) + np.trace(s2) - 2*np.trace(scipy.linalg.sqrtm(s1@s2).real)
  const real = gauss(42, 40, 5);
  const fake = gauss(43, 50, 5, 1.3, 0.2);
  close(fidFromFeatures(real, fake), 1.2577814405271877, 1e-12);
  // np.linalg.norm(m1 - m2)
  close(featureMatchingDistance(real, fake), 0.42083023949863, 1e-12);
  // float32 input gives the same within float32 rounding of the inputs
  const r32 = asMatrix(40, 5, Float32Array.from(real.data));
  const f32 = asMatrix(50, 5, Float32Array.from(fake.data));
  close(fidFromFeatures(r32, f32), 1.2577814405271877, 1e-5);
});

test('covariance: N−1 divisor, centred before the products (large mean does not cancel)', () => {
  const x = asMatrix(3, 2, f64(1e8 + 1, 2, 1e8 + 2, 4, 1e8 + 3, 9));
  const { mean, cov } = meanAndCovariance(x);
  close(mean[0], 1e8 + 2, 1e-15);
  // np.cov([[1,2],[2,4],[3,9]] rows) = [[1, 3.5], [3.5, 13]]
  assert.deepEqual([...cov].map((v) => Math.round(v * 1e9) / 1e9), [1, 3.5, 3.5, 13]);
});

test('Cholesky and symmetric eigen: reconstruct, agree with each other, reject singular', () => {
  const x = gauss(9, 30, 9);
  const { cov } = meanAndCovariance(x);
  const L = cholesky(cov, 9)!;
  for (let i = 0; i < 9; i++) for (let j = 0; j < 9; j++) {
    let s = 0;
    for (let k = 0; k < 9; k++) s += L[i * 9 + k] * L[j * 9 + k];
    close(s, cov[i * 9 + j], 1e-13);
  }
  assert.equal(cholesky(f64(1, 0, 0, 0), 2), null);
  const { values, vectors } = symmetricEigen(cov, 9);
  const only = symmetricEigenvalues(cov, 9);
  for (let i = 0; i < 9; i++) {
    close(only[i], values[i], 1e-12);
    for (let r = 0; r < 9; r++) {
      let s = 0;
      for (let c = 0; c < 9; c++) s += cov[r * 9 + c] * vectors[i * 9 + c];
      close(s, values[i] * vectors[i * 9 + r], 1e-12);
    }
  }
  // trace of eigenvalues = trace
  let tr = 0;
  for (let i = 0; i < 9; i++) tr += cov[i * 9 + i];
  close(only.reduce((a, b) => a + b, 0), tr, 1e-12);
});

test('trace sqrt: Cholesky and eigen routes agree on a full-rank pair; N ≤ d (rank-deficient) still computes', () => {
  const a = meanAndCovariance(gauss(3, 40, 12)).cov;
  const b = meanAndCovariance(gauss(4, 45, 12, 1.5)).cov;
  const chol = traceSqrtProduct(a, b, 12);
  assert.equal(chol.route, 'cholesky');
  // Σ₁^½ from the eigendecomposition, then eigenvalues of Σ₁^½Σ₂Σ₁^½
  const { values, vectors } = symmetricEigen(a, 12);
  const half = new Float64Array(144);
  for (let i = 0; i < 12; i++) for (let j = 0; j < 12; j++) for (let k = 0; k < 12; k++) half[i * 12 + j] += vectors[k * 12 + i] * Math.sqrt(values[k]) * vectors[k * 12 + j];
  const m = new Float64Array(144);
  const t = new Float64Array(144);
  for (let i = 0; i < 12; i++) for (let j = 0; j < 12; j++) for (let k = 0; k < 12; k++) t[i * 12 + j] += half[i * 12 + k] * b[k * 12 + j];
  for (let i = 0; i < 12; i++) for (let j = 0; j < 12; j++) for (let k = 0; k < 12; k++) m[i * 12 + j] += t[i * 12 + k] * half[k * 12 + j];
  const viaEigen = symmetricEigenvalues(m, 12).reduce((s, l) => s + Math.sqrt(Math.max(l, 0)), 0);
  close(chol.value, viaEigen, 1e-11);
  const small = fidFromFeaturesDetailed(gauss(5, 8, 12), gauss(6, 8, 12));
  assert.equal(small.route, 'eigen');
  assert.ok(Number.isFinite(small.fid) && small.fid > 0);
});

test('wasm SIMD kernels agree with the JS reference kernels (odd lengths, accumulate)', () => {
  const w = createWasmKernels(1 << 20);
  assert.ok(w, 'WebAssembly SIMD is available in Node ≥ 20');
  const j = createJsKernels(1 << 20);
  for (const k of [w!, j]) for (let i = 0; i < 20000; i++) k.f64[i] = Math.sin(i * 1.3);
  for (const k of [w!, j]) {
    k.gemmNT(0, 8 * 3001, 8 * 10000, 6, 8, 10, 11, 13, 9, false);
    k.gemmNT(0, 8 * 3001, 8 * 10000, 6, 8, 10, 11, 13, 9, true);
  }
  for (let i = 10000; i < 10000 + 6 * 9; i++) close(w!.f64[i], j.f64[i], 1e-13);
  for (const len of [0, 1, 2, 3, 5, 16, 33]) {
    close(w!.dot(8 * 100, 8 * 501, len), j.dot(8 * 100, 8 * 501, len), 1e-13);
    close(w!.dotAxpy(8 * 100, 8 * 501, 8 * 2000, len, 0.3), j.dotAxpy(8 * 100, 8 * 501, 8 * 2000, len, 0.3), 1e-13);
    w!.axpy2(8 * 4001, 8 * 100, 8 * 501, len, 0.7, -0.2);
    j.axpy2(8 * 4001, 8 * 100, 8 * 501, len, 0.7, -0.2);
  }
  for (let i = 0; i < 20000; i++) close(w!.f64[i], j.f64[i], 1e-13);
});
