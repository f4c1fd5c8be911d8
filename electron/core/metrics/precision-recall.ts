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
import { distanceBlocks, nearestSquaredJob, passWork, type Precision } from './knn.ts';
import { runAsync, runSync, type Job, type RunControl } from './gram32.ts';
import type { Matrix } from './linalg.ts';

export type PrecisionRecall = { precision: number; recall: number; f1: number; k: number };
export type Prdc = { precision: number; recall: number; density: number; coverage: number; k: number };
export type ManifoldScores = { improved: PrecisionRecall; prdc: Prdc };
/** `precision`: the distance arithmetic; by default float32 for float32 features, else float64 (knn.ts). */
export type ManifoldOptions = { kImproved?: number; kPrdc?: number; precision?: Precision };

export const f1Score = (p: number, r: number): number => (p + r > 0 ? (2 * p * r) / (p + r) : 0);

/** The three distance passes (real×real and fake×fake for the radii, then real×fake) as a job; progress counts distance pairs. */
export function* manifoldScoresJob(real: Matrix, fake: Matrix, opts: ManifoldOptions = {}): Job<ManifoldScores> {
  if (real.cols !== fake.cols) throw new RangeError(`feature dimensions differ: real ${real.cols}, fake ${fake.cols}`);
  const k3 = opts.kImproved ?? 3;
  const k5 = opts.kPrdc ?? 5;
  const kMax = Math.max(k3, k5);
  for (const [name, m] of [['real', real], ['fake', fake]] as const) {
    if (m.rows <= kMax) throw new RangeError(`k = ${kMax} nearest neighbours need more than ${kMax} ${name} samples, got ${m.rows}`);
  }
  const kernels = createKernels();
  const n = real.rows;
  const m = fake.rows;
  const total = passWork(n, n, true) + passWork(m, m, true) + passWork(n, m, false);
  let done = 0;
  const nn = { kernels, excludeSelf: true, precision: opts.precision };
  function* radii(x: Matrix, stage: string): Job<{ k3: Float64Array; k5: Float64Array }> {
    // k-th neighbour for both k from one top-kMax pass
    const both = { k3: new Float64Array(x.rows), k5: new Float64Array(x.rows) };
    const top = (yield* nearestSquaredJob(x, x, kMax, nn, stage, done, total)).values;
    done += passWork(x.rows, x.rows, true);
    for (let r = 0; r < x.rows; r++) {
      both.k3[r] = top[r * kMax + k3 - 1];
      both.k5[r] = top[r * kMax + k5 - 1];
    }
    return both;
  }
  const rr = yield* radii(real, 'real radii');
  const rf = yield* radii(fake, 'fake radii');
  const fakeInImproved = new Uint8Array(m);
  const realInImproved = new Uint8Array(n);
  const fakeInPrdc = new Uint8Array(m);
  const realInPrdc = new Uint8Array(n);
  const realCovered = new Uint8Array(n);
  let densityCount = 0;
  const rf3 = rf.k3;
  const rf5 = rf.k5;
  for (const { i0, ni, j0, nj, d2 } of distanceBlocks(real, fake, { kernels, precision: opts.precision })) {
    for (let i = 0; i < ni; i++) {
      const gi = i0 + i;
      const r3 = rr.k3[gi];
      const r5 = rr.k5[gi];
      const o = i * nj;
      let inImproved = 0;
      let inPrdc = 0;
      let inBall = 0;
      for (let j = 0; j < nj; j++) {
        const gj = j0 + j;
        const v = d2[o + j];
        if (v <= r3) fakeInImproved[gj] = 1;
        if (v <= rf3[gj]) inImproved = 1;
        if (v < r5) {
          fakeInPrdc[gj] = 1;
          inBall++;
        }
        if (v < rf5[gj]) inPrdc = 1;
      }
      if (inImproved) realInImproved[gi] = 1;
      if (inPrdc) realInPrdc[gi] = 1;
      if (inBall) realCovered[gi] = 1;
      densityCount += inBall;
    }
    done += ni * nj;
    yield { done, total, stage: 'real × fake' };
  }
  const share = (a: Uint8Array) => a.reduce((s, v) => s + v, 0) / a.length;
  const p = share(fakeInImproved);
  const r = share(realInImproved);
  return {
    improved: { precision: p, recall: r, f1: f1Score(p, r), k: k3 },
    prdc: { precision: share(fakeInPrdc), recall: share(realInPrdc), density: densityCount / (k5 * m), coverage: share(realCovered), k: k5 },
  };
}

/**
 * Both families from the same distance passes. Argument order matters: real first, fake second.
 * `ctl` adds progress and cancel (checked after each distance block, ~10–50 ms of work).
 */
export function manifoldScores(real: Matrix, fake: Matrix, opts: ManifoldOptions = {}, ctl: RunControl = {}): ManifoldScores {
  return runSync(manifoldScoresJob(real, fake, opts), ctl);
}

/** manifoldScores yielding to the event loop every ~50 ms, so an AbortSignal can stop it. */
export function manifoldScoresAsync(real: Matrix, fake: Matrix, opts: ManifoldOptions = {}, ctl: RunControl = {}): Promise<ManifoldScores> {
  return runAsync(manifoldScoresJob(real, fake, opts), ctl);
}

/** Improved precision and recall (k = 3, ≤) and their F1. */
export function improvedPrecisionRecall(real: Matrix, fake: Matrix, k = 3, ctl: RunControl = {}): PrecisionRecall {
  return manifoldScores(real, fake, { kImproved: k, kPrdc: k }, ctl).improved;
}

/** Precision, recall, density and coverage as clovaai/prdc (k = 5, strict <). */
export function prdc(real: Matrix, fake: Matrix, k = 5, ctl: RunControl = {}): Prdc {
  return manifoldScores(real, fake, { kImproved: k, kPrdc: k }, ctl).prdc;
}
