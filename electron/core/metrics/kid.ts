// Kernel Inception Distance (Bińkowski et al. 2018) with torch-fidelity's defaults: polynomial
// kernel k(x, y) = (xᵀy/d + 1)³, unbiased MMD² (off-diagonal means within each set, the full cross
// mean with its diagonal kept), 100 subsets of 1 000 drawn without replacement (fewer if N is
// smaller), mean and population std (np.std, ddof 0) over subsets. Values may be negative.
import { Rng } from '../models/rng.ts';
import { createKernels, TILE_N, type Kernels } from './wasm-kernels.ts';
import { gemmNTBlocked, loadRows, padTo, type Matrix } from './linalg.ts';

export type KidOptions = { subsets?: number; subsetSize?: number; degree?: number; coef0?: number; gamma?: number; seed?: number };
export type KidResult = { mean: number; std: number; subsets: number; subsetSize: number; values: Float64Array };

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
  const kern = (dot: number) => (gamma * dot + coef0) ** degree;
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

export function kernelInceptionDistance(real: Matrix, fake: Matrix, opts: KidOptions = {}): KidResult {
  if (real.cols !== fake.cols) throw new RangeError(`feature dimensions differ: real ${real.cols}, fake ${fake.cols}`);
  const subsets = opts.subsets ?? 100;
  const m = Math.min(opts.subsetSize ?? 1000, real.rows, fake.rows);
  if (m < 2) throw new RangeError(`KID needs at least 2 samples per set, got ${real.rows} real and ${fake.rows} fake`);
  const rng = new Rng(opts.seed ?? 0);
  const k = createKernels();
  const values = new Float64Array(subsets);
  for (let s = 0; s < subsets; s++) {
    const ix = rng.permutation(real.rows).subarray(0, m);
    const iy = rng.permutation(fake.rows).subarray(0, m);
    values[s] = mmd2Resident(real, fake, ix, iy, m, opts, k);
  }
  let mean = 0;
  for (const v of values) mean += v / subsets;
  let varSum = 0;
  for (const v of values) varSum += (v - mean) ** 2;
  return { mean, std: Math.sqrt(varSum / subsets), subsets, subsetSize: m, values };
}
