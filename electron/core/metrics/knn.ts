// k-nearest-neighbour machinery shared by precision/recall, density/coverage and the
// nearest-neighbour viewer: squared Euclidean distances in blocks via ‖a‖² + ‖b‖² − 2a·b (the
// sklearn `euclidean_distances` / kynkaat `DistanceBlock` trick) with the dot products on the
// SIMD kernels; never a full N×N matrix, and top-k kept in one pass.
//
// Precision follows the data unless asked: float32 features (what `.npy` files and extractors give)
// use the float32 kernel (float32 lane sums over 512-wide K slices, float64 beyond: gram32.ts),
// float64 features the float64 kernel. Either way the product is symmetric (d(a, b) and d(b, a)
// are bit-identical, whichever pass computes them), so identical sets give exactly P = R = C = 1.
import { createKernels, TILE_M, TILE_N, type Kernels } from './wasm-kernels.ts';
import { gemmNTBlocked, loadRows, padTo, type Matrix } from './linalg.ts';
import { gemmNT32Blocked, ld32, loadRows32, rowNorms32, runSync, type Job, type RunControl } from './gram32.ts';

export const BLOCK_A = 256;
export const BLOCK_B = 512;

export type Precision = 'float32' | 'float64';

/** The precision a computation on these matrices uses: float64 only when asked or when any input is float64. */
export function precisionOf(ms: Matrix[], asked?: Precision): Precision {
  if (asked) return asked;
  return ms.some((m) => !(m.data instanceof Float32Array)) ? 'float64' : 'float32';
}

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

export type DistanceBlock = { i0: number; ni: number; j0: number; nj: number; /** ni×nj squared distances, row-major; valid until the next block */ d2: Float64Array };
export type BlockOptions = { self?: boolean; kernels?: Kernels; precision?: Precision };

/** The blocks a distance pass visits, in order: [i0, ni, j0, nj]. With `self` only j-blocks from i0's on. */
export function blockPlan(aRows: number, bRows: number, self: boolean): [number, number, number, number][] {
  const out: [number, number, number, number][] = [];
  for (let i0 = 0; i0 < aRows; i0 += BLOCK_A) {
    const ni = Math.min(BLOCK_A, aRows - i0);
    for (let j0 = self ? i0 - (i0 % BLOCK_B) : 0; j0 < bRows; j0 += BLOCK_B) out.push([i0, ni, j0, Math.min(BLOCK_B, bRows - j0)]);
  }
  return out;
}

/** Pairs (ni·nj summed) a distance pass computes: the unit of the progress reports. */
export const passWork = (aRows: number, bRows: number, self: boolean): number => blockPlan(aRows, bRows, self).reduce((s, [, ni, , nj]) => s + ni * nj, 0);

/**
 * Blocks of squared distances between rows of a and rows of b (clamped at 0). With `self` (a and b
 * the same matrix) only blocks with j0 ≥ i0's block are produced; the consumer mirrors them.
 */
export function* distanceBlocks(a: Matrix, b: Matrix, opts: BlockOptions = {}): Generator<DistanceBlock, void, void> {
  if (a.cols !== b.cols) throw new RangeError(`dimension mismatch: ${a.cols} vs ${b.cols}`);
  const k = opts.kernels ?? createKernels();
  const self = opts.self === true;
  if (self && a !== b) throw new RangeError('a self distance pass needs the same matrix twice');
  const f32 = precisionOf([a, b], opts.precision) === 'float32';
  // float32 rows: stride a multiple of 4 floats; float64 rows: a multiple of 2 doubles
  const ld = f32 ? ld32(a.cols) : padTo(a.cols, 2);
  const el = f32 ? 4 : 8;
  const aPad = padTo(a.rows, BLOCK_A);
  const bPad = padTo(b.rows, BLOCK_B);
  const aAt = 0;
  const bAt = self ? 0 : aPad * ld * el;
  const cAt = padTo(self ? aPad * ld * el : bAt + bPad * ld * el, 16);
  k.reserve(cAt + BLOCK_A * BLOCK_B * 8);
  const aNorms = f32 ? rowNorms32(a) : rowNorms(a);
  const bNorms = self ? aNorms : f32 ? rowNorms32(b) : rowNorms(b);
  if (f32) {
    loadRows32(k, aAt, a, ld, aPad);
    if (!self) loadRows32(k, bAt, b, ld, bPad);
  } else {
    loadRows(k, aAt, a, ld, aPad);
    if (!self) loadRows(k, bAt, b, ld, bPad);
  }
  const out = new Float64Array(BLOCK_A * BLOCK_B);
  for (const [i0, ni, j0, nj] of blockPlan(a.rows, b.rows, self)) {
    const niPad = padTo(ni, f32 ? 4 : TILE_M);
    const njPad = padTo(nj, f32 ? 4 : TILE_N);
    if (f32) gemmNT32Blocked(k, aAt + i0 * ld * 4, bAt + j0 * ld * 4, cAt, niPad, njPad, ld, ld, ld, njPad);
    else gemmNTBlocked(k, aAt + i0 * ld * 8, bAt + j0 * ld * 8, cAt, niPad, njPad, ld, ld, ld, njPad);
    const f = k.f64;
    const c0 = cAt / 8;
    for (let i = 0; i < ni; i++) {
      const na = aNorms[i0 + i];
      const g = c0 + i * njPad;
      const o = i * nj;
      for (let j = 0; j < nj; j++) {
        const v = na + bNorms[j0 + j] - 2 * f[g + j];
        out[o + j] = v > 0 ? v : 0;
      }
    }
    yield { i0, ni, j0, nj, d2: out };
  }
}

/**
 * Calls fn(i0, ni, j0, nj, d2) for blocks of squared distances between rows of a and rows of b;
 * d2 is ni×nj row-major (stride nj), valid until the next call. With `self` (a and b the same
 * matrix) only blocks with j0 ≥ i0's block are produced, the consumer mirrors them.
 */
export function forEachDistanceBlock(a: Matrix, b: Matrix, fn: (i0: number, ni: number, j0: number, nj: number, d2: Float64Array) => void, opts: BlockOptions = {}): void {
  for (const blk of distanceBlocks(a, b, opts)) fn(blk.i0, blk.ni, blk.j0, blk.nj, blk.d2);
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

export type NearestOptions = { excludeSelf?: boolean; kernels?: Kernels; precision?: Precision };

/** nearestSquared as a job: yields progress in computed pairs, with `offset`/`total` for multi-pass callers. */
export function* nearestSquaredJob(query: Matrix, reference: Matrix, k: number, opts: NearestOptions = {}, stage = 'nearest neighbours', offset = 0, total?: number): Job<TopK> {
  if (k < 1) throw new RangeError('k must be ≥ 1');
  const self = opts.excludeSelf === true;
  if (self && query !== reference) throw new RangeError('excludeSelf needs the same matrix as query and reference');
  const available = self ? reference.rows - 1 : reference.rows;
  if (available < k) throw new RangeError(`${k} nearest neighbours need at least ${k + (self ? 1 : 0)} reference rows, got ${reference.rows}`);
  const top = new TopK(query.rows, k);
  const all = total ?? offset + passWork(query.rows, reference.rows, self);
  let done = offset;
  for (const { i0, ni, j0, nj, d2 } of distanceBlocks(query, reference, { self, kernels: opts.kernels, precision: opts.precision })) {
    for (let i = 0; i < ni; i++) {
      const gi = i0 + i;
      const o = i * nj;
      if (self) {
        // each unordered pair once: offer it to both rows, never a row to itself
        for (let j = Math.max(0, gi + 1 - j0); j < nj; j++) {
          const v = d2[o + j];
          top.offer(j0 + j, v, gi);
          top.offer(gi, v, j0 + j);
        }
      } else {
        for (let j = 0; j < nj; j++) top.offer(gi, d2[o + j], j0 + j);
      }
    }
    done += ni * nj;
    yield { done, total: all, stage };
  }
  return top;
}

/** The k nearest rows of `reference` for each row of `query` (squared distances, ascending). */
export function nearestSquared(query: Matrix, reference: Matrix, k: number, opts: NearestOptions = {}, ctl: RunControl = {}): TopK {
  return runSync(nearestSquaredJob(query, reference, k, opts), ctl);
}

/** Distance of each row to its k-th nearest neighbour in the same set, self excluded (squared). */
export function kthNeighbourSquared(x: Matrix, k: number, kernels?: Kernels, precision?: Precision): Float64Array {
  const top = nearestSquared(x, x, k, { excludeSelf: true, kernels, precision });
  const out = new Float64Array(x.rows);
  for (let r = 0; r < x.rows; r++) out[r] = top.values[r * k + k - 1];
  return out;
}
