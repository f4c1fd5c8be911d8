// Manifold-based fidelity/diversity scores from k-NN balls, computed in one pass over the real×fake
// distance blocks:
// - improved precision & recall (Kynkäänniemi et al. 2019, kynkaat/improved-precision-and-recall-
//   metric): k = 3, radius = distance to the k-th neighbour in its own set (self excluded),
//   membership with ≤; precision = share of fakes inside some real ball, recall = share of reals
//   inside some fake ball.
// - density & coverage (Naeem et al. 2020, clovaai/generative-evaluation-prdc): k = 5, real balls
//   only for D and C, strict <; density = (1/(kM)) Σⱼ Σᵢ 1[d(Xᵢ,Yⱼ) < rᵢ], coverage = share of reals
//   whose ball holds at least one fake; prdc's own precision/recall use k = 5 and < too.
// Distances are compared squared (same order as the Euclidean distances the references use).
import { createKernels } from './wasm-kernels.ts';
import { forEachDistanceBlock, nearestSquared } from './knn.ts';
import type { Matrix } from './linalg.ts';

export type PrecisionRecall = { precision: number; recall: number; f1: number; k: number };
export type Prdc = { precision: number; recall: number; density: number; coverage: number; k: number };
export type ManifoldScores = { improved: PrecisionRecall; prdc: Prdc };

export const f1Score = (p: number, r: number): number => (p + r > 0 ? (2 * p * r) / (p + r) : 0);

/** Both families from the same distance passes. Argument order matters: real first, fake second. */
export function manifoldScores(real: Matrix, fake: Matrix, opts: { kImproved?: number; kPrdc?: number } = {}): ManifoldScores {
  if (real.cols !== fake.cols) throw new RangeError(`feature dimensions differ: real ${real.cols}, fake ${fake.cols}`);
  const k3 = opts.kImproved ?? 3;
  const k5 = opts.kPrdc ?? 5;
  const kMax = Math.max(k3, k5);
  for (const [name, m] of [['real', real], ['fake', fake]] as const) {
    if (m.rows <= kMax) throw new RangeError(`k = ${kMax} nearest neighbours need more than ${kMax} ${name} samples, got ${m.rows}`);
  }
  const kernels = createKernels();
  const radii = (x: Matrix) => {
    // k-th neighbour for both k from one top-kMax pass
    const both = { k3: new Float64Array(x.rows), k5: new Float64Array(x.rows) };
    const top = nearestSquared(x, x, kMax, { excludeSelf: true, kernels }).values;
    for (let r = 0; r < x.rows; r++) {
      both.k3[r] = top[r * kMax + k3 - 1];
      both.k5[r] = top[r * kMax + k5 - 1];
    }
    return both;
  };
  const rr = radii(real);
  const rf = radii(fake);
  const n = real.rows;
  const m = fake.rows;
  const fakeInImproved = new Uint8Array(m);
  const realInImproved = new Uint8Array(n);
  const fakeInPrdc = new Uint8Array(m);
  const realInPrdc = new Uint8Array(n);
  const realCovered = new Uint8Array(n);
  let densityCount = 0;
  forEachDistanceBlock(
    real,
    fake,
    (i0, ni, j0, nj, d2) => {
      for (let i = 0; i < ni; i++) {
        const gi = i0 + i;
        const r3 = rr.k3[gi];
        const r5 = rr.k5[gi];
        for (let j = 0; j < nj; j++) {
          const gj = j0 + j;
          const v = d2[i * nj + j];
          if (v <= r3) fakeInImproved[gj] = 1;
          if (v <= rf.k3[gj]) realInImproved[gi] = 1;
          if (v < r5) {
            fakeInPrdc[gj] = 1;
            realCovered[gi] = 1;
            densityCount++;
          }
          if (v < rf.k5[gj]) realInPrdc[gi] = 1;
        }
      }
    },
    { kernels },
  );
  const share = (a: Uint8Array) => a.reduce((s, v) => s + v, 0) / a.length;
  const p = share(fakeInImproved);
  const r = share(realInImproved);
  return {
    improved: { precision: p, recall: r, f1: f1Score(p, r), k: k3 },
    prdc: { precision: share(fakeInPrdc), recall: share(realInPrdc), density: densityCount / (k5 * m), coverage: share(realCovered), k: k5 },
  };
}

/** Improved precision and recall (k = 3, ≤) and their F1. */
export function improvedPrecisionRecall(real: Matrix, fake: Matrix, k = 3): PrecisionRecall {
  return manifoldScores(real, fake, { kImproved: k, kPrdc: k }).improved;
}

/** Precision, recall, density and coverage as clovaai/prdc (k = 5, strict <). */
export function prdc(real: Matrix, fake: Matrix, k = 5): Prdc {
  return manifoldScores(real, fake, { kImproved: k, kPrdc: k }).prdc;
}
