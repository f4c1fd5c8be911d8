// Float32 Gram blocks for the O(N²·d) metrics (KID, precision/recall, PRDC, nearest neighbours):
// rows are copied once into kernel memory as float32 (the features arrive as float32 `.npy` anyway),
// products run on the f32x4 SIMD kernel with float32 lane sums over one K slice and float64 from
// there on (see wasm-kernels.ts `gemmNT32`), and a cooperative scheduler gives progress and cancel.
//
// Precision: each lane sums KC/4 = 128 products of float32 numbers in float32 before the float64
// accumulation, so a dot product carries a relative error of about √128·2⁻²⁴ ≈ 7·10⁻⁷ of Σ|xₖyₖ|
// (worst case 128·2⁻²⁴ ≈ 8·10⁻⁶) — less than the references, which run these products entirely in
// float32 (torch-fidelity's KID: numpy float32 matmul; kynkaat's precision/recall: TF float32).
import { TILE32_M, TILE32_N, type Kernels } from './wasm-kernels.ts';
import type { Matrix } from './linalg.ts';

export const padTo = (n: number, m: number): number => Math.ceil(n / m) * m;

/** float32 row stride for d features: a multiple of 4 (one f32x4) */
export const ld32 = (d: number): number => padTo(d, 4);

/**
 * Copies rows of x into kernel memory at byte offset `at` as float32, each row padded with zeros to
 * `ld` floats, zero rows appended up to `rowsPadded`; `rows` optionally picks and orders the rows.
 */
export function loadRows32(k: Kernels, at: number, x: Matrix, ld: number, rowsPadded: number, rows?: ArrayLike<number>): void {
  const f = k.f32;
  const o = at / 4;
  const d = x.cols;
  const count = rows ? rows.length : x.rows;
  if (ld === d && !rows) {
    f.set(x.data.subarray(0, count * d), o);
    f.fill(0, o + count * d, o + rowsPadded * ld);
    return;
  }
  f.fill(0, o, o + rowsPadded * ld);
  for (let r = 0; r < count; r++) {
    const src = (rows ? rows[r] : r) * d;
    f.set(x.data.subarray(src, src + d), o + r * ld);
  }
}

/** Squared row norms of the float32-rounded rows, in float64 (what the kernel actually multiplies). */
export function rowNorms32(x: Matrix, rows?: ArrayLike<number>): Float64Array {
  const { cols, data } = x;
  const count = rows ? rows.length : x.rows;
  const out = new Float64Array(count);
  const f32 = data instanceof Float32Array;
  for (let r = 0; r < count; r++) {
    let s = 0;
    const o = (rows ? rows[r] : r) * cols;
    if (f32) {
      for (let i = 0; i < cols; i++) s += data[o + i] * data[o + i];
    } else {
      for (let i = 0; i < cols; i++) {
        const v = Math.fround(data[o + i]);
        s += v * v;
      }
    }
    out[r] = s;
  }
  return out;
}

/** cache blocking of the float32 product: a BJ×KC slice of Q (256 KiB) stays in L2 while BI rows of P stream past */
const BI = 128;
const BJ = 128;
export const KC32 = 512;

/**
 * C (+)= P·Qᵀ in float64 from float32 P (m×K, stride ldp floats) and Q (n×K, stride ldq), byte
 * offsets p, q, c. m % TILE32_M = 0, n % TILE32_N = 0, K % 4 = 0. K is split at fixed multiples
 * of KC32 from 0, so a dot product never depends on where its rows sit in a block. With `upper`,
 * blocks wholly below the diagonal are skipped.
 */
export function gemmNT32Blocked(k: Kernels, p: number, q: number, c: number, m: number, n: number, K: number, ldp: number, ldq: number, ldc: number, upper = false): void {
  for (let j0 = 0; j0 < n; j0 += BJ) {
    const nj = Math.min(BJ, n - j0);
    for (let kc = 0; kc < K; kc += KC32) {
      const kl = Math.min(KC32, K - kc);
      for (let i0 = 0; i0 < m; i0 += BI) {
        if (upper && i0 >= j0 + nj) break;
        k.gemmNT32(p + (i0 * ldp + kc) * 4, q + (j0 * ldq + kc) * 4, c + (i0 * ldc + j0) * 8, Math.min(BI, m - i0), nj, kl, ldp, ldq, ldc, kc > 0);
      }
    }
  }
}

export const ROW_TILE = Math.max(TILE32_M, TILE32_N, 4);

// ---------------------------------------------------------------------------------------------
// progress and cancel

export type Progress = { done: number; total: number; stage: string };
/** Optional controls of the long metrics: a progress callback (done ≤ total, never decreasing) and a cancel signal. */
export type RunControl = { onProgress?: (p: Progress) => void; signal?: AbortSignal };

/**
 * Drives a metric written as a generator that yields after each unit of work: reports progress,
 * throws the signal's reason (an AbortError) once it is aborted. `runSync` never yields to the
 * event loop (so a signal can only be aborted from inside onProgress or by a worker); `runAsync`
 * yields to it about every `sliceMs`, so timers, messages and UI events can abort it.
 */
export type Job<T> = Generator<Progress, T, void>;

export function runSync<T>(job: Job<T>, ctl: RunControl = {}): T {
  ctl.signal?.throwIfAborted();
  for (;;) {
    const step = job.next();
    if (step.done) return step.value;
    ctl.onProgress?.(step.value);
    ctl.signal?.throwIfAborted();
  }
}

export async function runAsync<T>(job: Job<T>, ctl: RunControl = {}, sliceMs = 50): Promise<T> {
  ctl.signal?.throwIfAborted();
  let last = performance.now();
  for (;;) {
    const step = job.next();
    if (step.done) return step.value;
    ctl.onProgress?.(step.value);
    ctl.signal?.throwIfAborted();
    if (performance.now() - last >= sliceMs) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      ctl.signal?.throwIfAborted();
      last = performance.now();
    }
  }
}
