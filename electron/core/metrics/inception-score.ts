// Inception-style score from class probabilities (Salimans et al. 2016): IS = exp(E_x KL(p(y|x) ‖
// p(y))) per split, 10 splits, mean and population std (ddof 0) over splits, float64, 0·log 0 = 0.
// Splits are contiguous slices [i·N/s, (i+1)·N/s) as in OpenAI's improved-gan code and
// torch-fidelity; torch-fidelity additionally shuffles rows first (seed 2020) — pass `shuffleSeed`
// for that. 1 ≤ IS ≤ number of classes.
import { Rng } from '../models/rng.ts';
import type { Matrix } from './linalg.ts';

export type InceptionScoreResult = { mean: number; std: number; splits: number; perSplit: Float64Array };

export function inceptionScore(probs: Matrix, opts: { splits?: number; shuffleSeed?: number } = {}): InceptionScoreResult {
  const { rows: n, cols: c, data } = probs;
  const splits = opts.splits ?? 10;
  if (!Number.isInteger(splits) || splits < 1) throw new RangeError('splits must be a positive integer');
  if (n < splits) throw new RangeError(`IS with ${splits} splits needs at least ${splits} rows of probabilities, got ${n}`);
  for (let r = 0; r < n; r++) {
    let s = 0;
    for (let j = 0; j < c; j++) {
      const p = data[r * c + j];
      if (!(p >= 0)) throw new RangeError(`row ${r} holds ${p}: class probabilities must be ≥ 0 (pass softmax outputs, not logits)`);
      s += p;
    }
    if (Math.abs(s - 1) > 1e-3) throw new RangeError(`row ${r} sums to ${s}: class probabilities must sum to 1`);
  }
  const order = opts.shuffleSeed === undefined ? null : new Rng(opts.shuffleSeed).permutation(n);
  const perSplit = new Float64Array(splits);
  const py = new Float64Array(c);
  for (let s = 0; s < splits; s++) {
    const lo = Math.floor((s * n) / splits);
    const hi = Math.floor(((s + 1) * n) / splits);
    py.fill(0);
    for (let r = lo; r < hi; r++) {
      const o = (order ? order[r] : r) * c;
      for (let j = 0; j < c; j++) py[j] += data[o + j];
    }
    for (let j = 0; j < c; j++) py[j] /= hi - lo;
    let kl = 0;
    for (let r = lo; r < hi; r++) {
      const o = (order ? order[r] : r) * c;
      for (let j = 0; j < c; j++) {
        const p = data[o + j];
        if (p > 0) kl += p * (Math.log(p) - Math.log(py[j]));
      }
    }
    perSplit[s] = Math.exp(kl / (hi - lo));
  }
  let mean = 0;
  for (const v of perSplit) mean += v / splits;
  let v2 = 0;
  for (const v of perSplit) v2 += (v - mean) ** 2;
  return { mean, std: Math.sqrt(v2 / splits), splits, perSplit };
}
