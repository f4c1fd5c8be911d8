// Float64 linear algebra for the metrics: covariance (numpy `cov` convention, N−1 divisor),
// Cholesky, symmetric eigenvalues (Householder tridiagonalisation + implicit QL with Wilkinson-like
// shifts, the EISPACK tql1/tql2 scheme) and the trace of (Σ₁Σ₂)^½ through a symmetric matrix.
// Heavy loops run on the WebAssembly SIMD kernels (wasm-kernels.ts) over padded row-major buffers.
import { createKernels, TILE_M, TILE_N, type Kernels } from './wasm-kernels.ts';

/** Row-major rows×cols matrix, e.g. N feature vectors of dimension d. */
export type Matrix = { rows: number; cols: number; data: Float32Array | Float64Array };

export function asMatrix(rows: number, cols: number, data: Float32Array | Float64Array): Matrix {
  if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 0 || cols < 1) throw new RangeError(`bad matrix shape (${rows}, ${cols})`);
  if (data.length !== rows * cols) throw new RangeError(`matrix data has ${data.length} values, shape (${rows}, ${cols}) needs ${rows * cols}`);
  return { rows, cols, data };
}

const EPS = 2 ** -52;
const padTo = (n: number, m: number): number => Math.ceil(n / m) * m;
const ALIGN = Math.max(TILE_M, TILE_N, 2);

/** A bump allocator of float64 slots in a kernel memory; `f64` must be re-read after `commit`. */
class Layout {
  #top = 0;
  /** byte offset of a new block of n doubles, 16-byte aligned */
  take(n: number): number {
    const at = this.#top;
    this.#top += padTo(n, 2) * 8;
    return at;
  }
  commit(k: Kernels): Float64Array {
    k.reserve(this.#top);
    return k.f64;
  }
}

/**
 * C (+)= P·Qᵀ, cache-blocked around the register-tiled kernel: a block of Q's rows and a slice of
 * K stay in L2 while blocks of P's rows stream past. With `upper`, blocks entirely below the
 * diagonal (every i > every j) are skipped. m % TILE_M = 0, n % TILE_N = 0, K even.
 */
export function gemmNTBlocked(k: Kernels, p: number, q: number, c: number, m: number, n: number, K: number, ldp: number, ldq: number, ldc: number, upper = false): void {
  const BI = 64;
  const BJ = 128;
  const KC = 512;
  for (let j0 = 0; j0 < n; j0 += BJ) {
    const nj = Math.min(BJ, n - j0);
    for (let kc = 0; kc < K || (K === 0 && kc === 0); kc += KC) {
      const kl = Math.min(KC, K - kc);
      for (let i0 = 0; i0 < m; i0 += BI) {
        if (upper && i0 >= j0 + nj) break;
        k.gemmNT(p + (i0 * ldp + kc) * 8, q + (j0 * ldq + kc) * 8, c + (i0 * ldc + j0) * 8, Math.min(BI, m - i0), nj, kl, ldp, ldq, ldc, kc > 0);
      }
      if (K === 0) break;
    }
  }
}

/**
 * Copies the rows of a matrix into kernel memory at byte offset `at`, as float64 with the rows
 * padded to `ld` columns and zero rows appended up to `rowsPadded` (the kernels' tile shapes).
 * `rows` optionally picks and orders the rows (subsets).
 */
export function loadRows(k: Kernels, at: number, x: Matrix, ld: number, rowsPadded: number, rows?: ArrayLike<number>): void {
  const f = k.f64;
  const o = at / 8;
  const d = x.cols;
  const count = rows ? rows.length : x.rows;
  f.fill(0, o, o + rowsPadded * ld);
  for (let r = 0; r < count; r++) {
    const src = (rows ? rows[r] : r) * d;
    const dst = o + r * ld;
    for (let i = 0; i < d; i++) f[dst + i] = x.data[src + i];
  }
}

export { padTo, ALIGN };

// ---------------------------------------------------------------------------------------------
// mean and covariance

export type MeanCov = { mean: Float64Array; cov: Float64Array; n: number; d: number };

/** Column means in float64. */
export function columnMeans(x: Matrix): Float64Array {
  const { rows: n, cols: d, data } = x;
  const mean = new Float64Array(d);
  for (let r = 0; r < n; r++) {
    const o = r * d;
    for (let i = 0; i < d; i++) mean[i] += data[o + i];
  }
  for (let i = 0; i < d; i++) mean[i] /= n;
  return mean;
}

/**
 * Mean and covariance with the N−1 divisor (numpy `np.cov(x, rowvar=False)`, which pytorch-fid,
 * torch-fidelity and clean-fid all use). The data are centred in float64 before the products
 * (not E[xxᵀ] − μμᵀ, which cancels catastrophically when |μ| ≫ σ), and only the upper triangle
 * is computed: blocks of B rows are transposed into a d×B panel and the kernel forms panel·panelᵀ.
 */
export function meanAndCovariance(x: Matrix, kernels: Kernels = createKernels()): MeanCov {
  const { rows: n, cols: d, data } = x;
  if (n < 2) throw new RangeError(`a covariance needs at least 2 samples, got ${n}`);
  const mean = columnMeans(x);
  const dp = padTo(d, ALIGN);
  const B = Math.min(256, padTo(n, 2));
  const lay = new Layout();
  const T = lay.take(dp * B);
  const C = lay.take(dp * dp);
  let f = lay.commit(kernels);
  f.fill(0, C / 8, C / 8 + dp * dp);
  for (let r0 = 0; r0 < n; r0 += B) {
    const b = Math.min(B, n - r0);
    f = kernels.f64;
    const t0 = T / 8;
    if (b < B) f.fill(0, t0, t0 + dp * B);
    for (let r = 0; r < b; r++) {
      const o = (r0 + r) * d;
      for (let i = 0; i < d; i++) f[t0 + i * B + r] = data[o + i] - mean[i];
    }
    const K = padTo(b, 2);
    // upper triangle only: a 4-row panel against columns from its own start
    for (let i0 = 0; i0 < dp; i0 += ALIGN) {
      kernels.gemmNT(T + i0 * B * 8, T + i0 * B * 8, C + (i0 * dp + i0) * 8, ALIGN, dp - i0, K, B, B, dp, true);
    }
  }
  f = kernels.f64;
  const cov = new Float64Array(d * d);
  const c0 = C / 8;
  const div = n - 1;
  for (let i = 0; i < d; i++) {
    for (let j = i; j < d; j++) {
      const v = f[c0 + i * dp + j] / div;
      cov[i * d + j] = v;
      cov[j * d + i] = v;
    }
  }
  return { mean, cov, n, d };
}

// ---------------------------------------------------------------------------------------------
// Cholesky

/**
 * In-place lower Cholesky factor of the leading n×n block (stride ld) at byte offset `a`; the upper
 * part is left untouched. Returns false when a pivot is ≤ n·ε·max(diag): the matrix is singular
 * or not positive definite to working precision (a covariance with N ≤ d, or a constant feature).
 */
function choleskyInKernel(k: Kernels, a: number, n: number, ld: number): boolean {
  const f = k.f64;
  const a0 = a / 8;
  let maxDiag = 0;
  for (let i = 0; i < n; i++) maxDiag = Math.max(maxDiag, f[a0 + i * ld + i]);
  const tol = n * EPS * maxDiag;
  for (let i = 0; i < n; i++) {
    const ri = a0 + i * ld;
    for (let j = 0; j <= i; j++) {
      const rj = a0 + j * ld;
      const s = f[ri + j] - (j > 0 ? k.dot(ri * 8, rj * 8, j) : 0);
      if (i === j) {
        if (!(s > tol)) return false;
        f[ri + i] = Math.sqrt(s);
      } else {
        f[ri + j] = s / f[rj + j];
      }
    }
  }
  return true;
}

/** Lower-triangular L with A = L·Lᵀ, or null when A is not numerically positive definite. */
export function cholesky(a: Float64Array, n: number, kernels: Kernels = createKernels()): Float64Array | null {
  checkSquare(a, n);
  const lay = new Layout();
  const A = lay.take(n * n);
  const f = lay.commit(kernels);
  f.set(a, A / 8);
  if (!choleskyInKernel(kernels, A, n, n)) return null;
  const L = new Float64Array(n * n);
  const g = kernels.f64;
  for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) L[i * n + j] = g[A / 8 + i * n + j];
  return L;
}

function checkSquare(a: Float64Array, n: number): void {
  if (a.length !== n * n) throw new RangeError(`expected a ${n}×${n} matrix (${n * n} values), got ${a.length}`);
}

// ---------------------------------------------------------------------------------------------
// symmetric eigenproblem

/**
 * Householder reduction of the symmetric matrix whose upper triangle is stored at byte offset `a`
 * (n×n, stride ld) to tridiagonal form T = QᵀAQ (Golub & Van Loan, Algorithm 8.3.1), touching only
 * the upper triangle so every row operation is contiguous. Returns the diagonal, the
 * superdiagonal (off[k] = T[k][k+1]) and, per step, β with the Householder vector left in row k.
 */
function tridiagonalizeInKernel(k: Kernels, a: number, n: number, ld: number, scratch: { v: number; p: number }): { diag: Float64Array; off: Float64Array; beta: Float64Array } {
  const diag = new Float64Array(n);
  const off = new Float64Array(Math.max(n - 1, 0));
  const beta = new Float64Array(Math.max(n - 2, 0));
  const f = k.f64;
  const a0 = a / 8;
  const v0 = scratch.v / 8;
  const p0 = scratch.p / 8;
  for (let s = 0; s < n - 2; s++) {
    const row = a0 + s * ld;
    diag[s] = f[row + s];
    const m = n - s - 1;
    const x = row + s + 1;
    let norm2 = 0;
    for (let i = 0; i < m; i++) norm2 += f[x + i] * f[x + i];
    let tail = norm2 - f[x] * f[x];
    if (tail <= 0 || norm2 === 0) {
      // already tridiagonal in this column: H = I
      off[s] = f[x];
      beta[s] = 0;
      continue;
    }
    const x0 = f[x];
    const alpha = x0 > 0 ? -Math.sqrt(norm2) : Math.sqrt(norm2);
    off[s] = alpha;
    // v = x − αe₁, kept in row s (for Q) and in the scratch vector
    const v00 = x0 - alpha;
    f[x] = v00;
    tail += v00 * v00;
    const b = 2 / tail;
    beta[s] = b;
    for (let i = 0; i < m; i++) {
      f[v0 + i] = f[x + i];
      f[p0 + i] = 0;
    }
    // p = A₂₂v from the upper triangle: row i gives p[i] (diagonal + dot) and p[j>i] (axpy)
    for (let i = 0; i < m; i++) {
      const gi = s + 1 + i;
      const r = a0 + gi * ld + gi;
      const vi = f[v0 + i];
      const dotPart = i + 1 < m ? k.dotAxpy((r + 1) * 8, (v0 + i + 1) * 8, (p0 + i + 1) * 8, m - i - 1, vi) : 0;
      f[p0 + i] += f[r] * vi + dotPart;
    }
    let pv = 0;
    for (let i = 0; i < m; i++) {
      f[p0 + i] *= b;
      pv += f[p0 + i] * f[v0 + i];
    }
    const half = (b * pv) / 2;
    for (let i = 0; i < m; i++) f[p0 + i] -= half * f[v0 + i]; // p becomes w
    // A₂₂ −= v wᵀ + w vᵀ on the upper triangle
    for (let i = 0; i < m; i++) {
      const gi = s + 1 + i;
      k.axpy2((a0 + gi * ld + gi) * 8, (v0 + i) * 8, (p0 + i) * 8, m - i, f[p0 + i], f[v0 + i]);
    }
  }
  if (n >= 2) {
    diag[n - 2] = f[a0 + (n - 2) * ld + n - 2];
    off[n - 2] = f[a0 + (n - 2) * ld + n - 1];
  }
  if (n >= 1) diag[n - 1] = f[a0 + (n - 1) * ld + n - 1];
  return { diag, off, beta };
}

/**
 * Eigenvalues (and optionally eigenvectors) of the symmetric tridiagonal matrix with diagonal d
 * and superdiagonal e, by implicit QL (EISPACK tql1/tql2 as in JAMA). d is overwritten with the
 * eigenvalues (unsorted). When vt is given (n×n row-major, initially Qᵀ from the reduction) each
 * rotation is applied to rows of vt, so row i ends as the eigenvector of d[i].
 */
function tridiagonalQL(d: Float64Array, off: Float64Array, vt: Float64Array | null, vtOffset = 0, ld = d.length): void {
  const n = d.length;
  if (n === 0) return;
  const e = new Float64Array(n);
  e.set(off.subarray(0, n - 1));
  let f = 0;
  let tst1 = 0;
  for (let l = 0; l < n; l++) {
    tst1 = Math.max(tst1, Math.abs(d[l]) + Math.abs(e[l]));
    let m = l;
    while (m < n && Math.abs(e[m]) > EPS * tst1) m++;
    if (m === n) m = n - 1;
    if (m > l) {
      let iter = 0;
      do {
        if (++iter > 60) throw new Error('symmetric eigenvalues did not converge (60 QL iterations)');
        const g0 = d[l];
        let p = (d[l + 1] - g0) / (2 * e[l]);
        let r = Math.hypot(p, 1);
        if (p < 0) r = -r;
        d[l] = e[l] / (p + r);
        d[l + 1] = e[l] * (p + r);
        const dl1 = d[l + 1];
        let h = g0 - d[l];
        for (let i = l + 2; i < n; i++) d[i] -= h;
        f += h;
        p = d[m];
        let c = 1;
        let c2 = c;
        let c3 = c;
        const el1 = e[l + 1];
        let s = 0;
        let s2 = 0;
        for (let i = m - 1; i >= l; i--) {
          c3 = c2;
          c2 = c;
          s2 = s;
          const g = c * e[i];
          h = c * p;
          r = Math.hypot(p, e[i]);
          e[i + 1] = s * r;
          s = e[i] / r;
          c = p / r;
          p = c * d[i] - s * g;
          d[i + 1] = h + s * (c * g + s * d[i]);
          if (vt) {
            const ri = vtOffset + i * ld;
            const rj = ri + ld;
            for (let q = 0; q < n; q++) {
              const hv = vt[rj + q];
              const vi = vt[ri + q];
              vt[rj + q] = s * vi + c * hv;
              vt[ri + q] = c * vi - s * hv;
            }
          }
        }
        p = (-s * s2 * c3 * el1 * e[l]) / dl1;
        e[l] = s * p;
        d[l] = c * p;
      } while (Math.abs(e[l]) > EPS * tst1);
    }
    d[l] += f;
    e[l] = 0;
  }
}

/** Eigenvalues of a symmetric n×n matrix (row-major; only the upper triangle is read), ascending. */
export function symmetricEigenvalues(a: Float64Array, n: number, kernels: Kernels = createKernels()): Float64Array {
  checkSquare(a, n);
  const lay = new Layout();
  const A = lay.take(n * n);
  const v = lay.take(n);
  const p = lay.take(n);
  const f = lay.commit(kernels);
  f.set(a, A / 8);
  const t = tridiagonalizeInKernel(kernels, A, n, n, { v, p });
  tridiagonalQL(t.diag, t.off, null);
  return t.diag.sort();
}

export type SymmetricEigen = { values: Float64Array; /** row i is the unit eigenvector of values[i] */ vectors: Float64Array };

/** Eigenvalues (ascending) and eigenvectors of a symmetric matrix (upper triangle read). */
export function symmetricEigen(a: Float64Array, n: number, kernels: Kernels = createKernels()): SymmetricEigen {
  checkSquare(a, n);
  const lay = new Layout();
  const A = lay.take(n * n);
  const X = lay.take(n * n);
  const v = lay.take(n);
  const p = lay.take(n);
  let f = lay.commit(kernels);
  f.set(a, A / 8);
  const t = tridiagonalizeInKernel(kernels, A, n, n, { v, p });
  f = kernels.f64;
  // Qᵀ = H_{n−3}⋯H_0, built as I·H_{n−3}·…·H_0 so each step is a row operation on rows > s.
  const x0 = X / 8;
  f.fill(0, x0, x0 + n * n);
  for (let i = 0; i < n; i++) f[x0 + i * n + i] = 1;
  for (let s = n - 3; s >= 0; s--) {
    const b = t.beta[s];
    if (b === 0) continue;
    const vv = A + (s * n + s + 1) * 8;
    const m = n - s - 1;
    for (let r = s + 1; r < n; r++) {
      const row = X + (r * n + s + 1) * 8;
      const dotv = kernels.dot(row, vv, m);
      if (dotv !== 0) kernels.axpy2(row, vv, vv, m, b * dotv, 0);
    }
  }
  tridiagonalQL(t.diag, t.off, f, x0, n);
  const order = Array.from(t.diag.keys()).sort((i, j) => t.diag[i] - t.diag[j]);
  const values = new Float64Array(n);
  const vectors = new Float64Array(n * n);
  order.forEach((src, dst) => {
    values[dst] = t.diag[src];
    vectors.set(f.subarray(x0 + src * n, x0 + src * n + n), dst * n);
  });
  return { values, vectors };
}

// ---------------------------------------------------------------------------------------------
// Tr (Σ₁Σ₂)^½

export type TraceSqrtRoute = 'cholesky' | 'cholesky-swapped' | 'eigen';
export type TraceSqrtResult = { value: number; route: TraceSqrtRoute; eigenvalues: Float64Array };

/**
 * Tr (Σ₁Σ₂)^½ = Σᵢ √max(λᵢ, 0) over the eigenvalues of a symmetric matrix similar to Σ₁Σ₂:
 * L₁ᵀΣ₂L₁ with Σ₁ = L₁L₁ᵀ (Cholesky) when Σ₁ is positive definite; else Σ₂'s factor with the roles
 * swapped (Σ₁Σ₂ and Σ₂Σ₁ have the same eigenvalues); else, both singular (N ≤ d, or a constant
 * feature), B = VΛ^½ from Σ₁'s eigendecomposition, i.e. the eigenvalues of Σ₁^½Σ₂Σ₁^½. pytorch-fid
 * takes scipy `sqrtm(Σ₁Σ₂)` and torch-fidelity `eigvals(Σ₁Σ₂)`, both on a non-symmetric product; the
 * symmetric route has the same exact value, needs no complex arithmetic, and its eigenvalues are
 * real by construction (tiny negative ones from rounding are clamped to 0).
 */
export function traceSqrtProduct(s1: Float64Array, s2: Float64Array, d: number, kernels: Kernels = createKernels()): TraceSqrtResult {
  checkSquare(s1, d);
  checkSquare(s2, d);
  const dp = padTo(d, ALIGN);
  const lay = new Layout();
  const U = lay.take(dp * dp);
  const S = lay.take(dp * dp);
  const X = lay.take(dp * dp);
  const v = lay.take(dp);
  const p = lay.take(dp);
  let f = lay.commit(kernels);
  const load = (at: number, src: Float64Array) => {
    const o = at / 8;
    f.fill(0, o, o + dp * dp);
    for (let i = 0; i < d; i++) f.set(src.subarray(i * d, i * d + d), o + i * dp);
  };
  let route: TraceSqrtRoute = 'cholesky';
  let triangular = true;
  load(U, s1);
  if (!choleskyInKernel(kernels, U, d, dp)) {
    route = 'cholesky-swapped';
    f = kernels.f64;
    load(U, s2);
    if (!choleskyInKernel(kernels, U, d, dp)) route = 'eigen';
  }
  f = kernels.f64;
  const u0 = U / 8;
  if (route === 'eigen') {
    triangular = false;
    const { values, vectors } = symmetricEigen(s1, d);
    f = kernels.f64;
    f.fill(0, u0, u0 + dp * dp);
    for (let i = 0; i < d; i++) {
      const sq = Math.sqrt(Math.max(values[i], 0));
      for (let j = 0; j < d; j++) f[u0 + i * dp + j] = sq * vectors[i * d + j]; // row i of Bᵀ = √λᵢ·vᵢᵀ
    }
    load(S, s2);
  } else {
    // U = Lᵀ (upper triangular), in place
    for (let i = 0; i < d; i++) {
      for (let j = 0; j < i; j++) {
        f[u0 + j * dp + i] = f[u0 + i * dp + j];
        f[u0 + i * dp + j] = 0;
      }
    }
    load(S, route === 'cholesky' ? s2 : s1);
  }
  // X = U·S (S symmetric, so S's rows serve as the columns); then M = U·Xᵀ = U·S·Uᵀ into S's slot.
  for (let i0 = 0; i0 < dp; i0 += TILE_M) {
    const k0 = triangular ? i0 : 0; // U's row i is zero left of column i
    kernels.gemmNT(U + (i0 * dp + k0) * 8, S + k0 * 8, X + i0 * dp * 8, TILE_M, dp, dp - k0, dp, dp, dp, false);
  }
  const M = S;
  for (let i0 = 0; i0 < dp; i0 += TILE_M) {
    const k0 = triangular ? i0 : 0;
    const j0 = i0 - (i0 % TILE_N); // symmetric result: the upper triangle is enough
    kernels.gemmNT(U + (i0 * dp + k0) * 8, X + (j0 * dp + k0) * 8, M + (i0 * dp + j0) * 8, TILE_M, dp - j0, dp - k0, dp, dp, dp, false);
  }
  const t = tridiagonalizeInKernel(kernels, M, d, dp, { v, p });
  tridiagonalQL(t.diag, t.off, null);
  let value = 0;
  for (const lam of t.diag) value += Math.sqrt(Math.max(lam, 0));
  return { value, route, eigenvalues: t.diag.sort() };
}
