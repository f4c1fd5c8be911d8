// k-nearest-neighbour machinery shared by precision/recall, density/coverage and the
// nearest-neighbour viewer: squared Euclidean distances in blocks via ‖a‖² + ‖b‖² − 2a·b (the
// sklearn `euclidean_distances` / kynkaat `DistanceBlock` trick) with the dot products on the
// float64 SIMD kernel; never a full N×N matrix, and top-k kept in one pass.
import { createKernels, TILE_M, TILE_N, type Kernels } from './wasm-kernels.ts';
import { gemmNTBlocked, loadRows, padTo, type Matrix } from './linalg.ts';

const BLOCK_A = 256;
const BLOCK_B = 512;

/** A matrix copied once into kernel memory, rows padded, with squared norms. */
type Resident = { at: number; rows: number; rowsPadded: number; ld: number; norms: Float64Array };

function rowNorms(x: Matrix): Float64Array {
  const { rows, cols, data } = x;
  const out = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let i = 0, o = r * cols; i < cols; i++, o++) s += data[o] * data[o];
    out[r] = s;
  }
  return out;
}

/**
 * Calls fn(i0, ni, j0, nj, d2) for blocks of squared distances between rows of a and rows of b;
 * d2 is ni×nj row-major (stride nj), valid until the next call. With `self` (a and b the same
 * matrix) only blocks with j0 ≥ i0's block are produced, the consumer mirrors them.
 */
export function forEachDistanceBlock(a: Matrix, b: Matrix, fn: (i0: number, ni: number, j0: number, nj: number, d2: Float64Array) => void, opts: { self?: boolean; kernels?: Kernels } = {}): void {
  if (a.cols !== b.cols) throw new RangeError(`dimension mismatch: ${a.cols} vs ${b.cols}`);
  const k = opts.kernels ?? createKernels();
  const ld = padTo(a.cols, 2);
  const self = opts.self === true;
  const ra: Resident = { at: 0, rows: a.rows, rowsPadded: padTo(a.rows, BLOCK_A), ld, norms: rowNorms(a) };
  const rb: Resident = self ? ra : { at: ra.rowsPadded * ld * 8, rows: b.rows, rowsPadded: padTo(b.rows, BLOCK_B), ld, norms: rowNorms(b) };
  const cAt = (self ? ra.at + ra.rowsPadded * ld * 8 : rb.at + rb.rowsPadded * ld * 8);
  k.reserve(cAt + BLOCK_A * BLOCK_B * 8);
  loadRows(k, ra.at, a, ld, ra.rowsPadded);
  if (!self) loadRows(k, rb.at, b, ld, rb.rowsPadded);
  const out = new Float64Array(BLOCK_A * BLOCK_B);
  for (let i0 = 0; i0 < a.rows; i0 += BLOCK_A) {
    const ni = Math.min(BLOCK_A, a.rows - i0);
    const niPad = padTo(ni, TILE_M);
    for (let j0 = self ? i0 - (i0 % BLOCK_B) : 0; j0 < b.rows; j0 += BLOCK_B) {
      const nj = Math.min(BLOCK_B, b.rows - j0);
      const njPad = padTo(nj, TILE_N);
      gemmNTBlocked(k, ra.at + i0 * ld * 8, rb.at + j0 * ld * 8, cAt, niPad, njPad, ld, ld, ld, njPad);
      const f = k.f64;
      const c0 = cAt / 8;
      for (let i = 0; i < ni; i++) {
        const na = ra.norms[i0 + i];
        for (let j = 0; j < nj; j++) {
          const v = na + rb.norms[j0 + j] - 2 * f[c0 + i * njPad + j];
          out[i * nj + j] = v > 0 ? v : 0;
        }
      }
      fn(i0, ni, j0, nj, out);
    }
  }
}

/** Per-row top-k smallest values with their column indices, kept sorted ascending. */
export class TopK {
  readonly k: number;
  readonly values: Float64Array;
  readonly indices: Int32Array;
  constructor(rows: number, k: number) {
    this.k = k;
    this.values = new Float64Array(rows * k).fill(Infinity);
    this.indices = new Int32Array(rows * k).fill(-1);
  }
  offer(row: number, value: number, index: number): void {
    const k = this.k;
    const o = row * k;
    const v = this.values;
    if (!(value < v[o + k - 1])) return;
    let p = k - 1;
    while (p > 0 && v[o + p - 1] > value) {
      v[o + p] = v[o + p - 1];
      this.indices[o + p] = this.indices[o + p - 1];
      p--;
    }
    v[o + p] = value;
    this.indices[o + p] = index;
  }
}

/** The k nearest rows of `reference` for each row of `query` (squared distances, ascending). */
export function nearestSquared(query: Matrix, reference: Matrix, k: number, opts: { excludeSelf?: boolean; kernels?: Kernels } = {}): TopK {
  if (k < 1) throw new RangeError('k must be ≥ 1');
  const self = opts.excludeSelf === true;
  if (self && query !== reference) throw new RangeError('excludeSelf needs the same matrix as query and reference');
  const available = self ? reference.rows - 1 : reference.rows;
  if (available < k) throw new RangeError(`${k} nearest neighbours need at least ${k + (self ? 1 : 0)} reference rows, got ${reference.rows}`);
  const top = new TopK(query.rows, k);
  forEachDistanceBlock(
    query,
    reference,
    (i0, ni, j0, nj, d2) => {
      for (let i = 0; i < ni; i++) {
        const gi = i0 + i;
        for (let j = 0; j < nj; j++) {
          const gj = j0 + j;
          if (self) {
            // each unordered pair once: offer it to both rows, never a row to itself
            if (gj <= gi) continue;
            top.offer(gj, d2[i * nj + j], gi);
          }
          top.offer(gi, d2[i * nj + j], gj);
        }
      }
    },
    { self, kernels: opts.kernels },
  );
  return top;
}

/** Distance of each row to its k-th nearest neighbour in the same set, self excluded (squared). */
export function kthNeighbourSquared(x: Matrix, k: number, kernels?: Kernels): Float64Array {
  const top = nearestSquared(x, x, k, { excludeSelf: true, kernels });
  const out = new Float64Array(x.rows);
  for (let r = 0; r < x.rows; r++) out[r] = top.values[r * k + k - 1];
  return out;
}
