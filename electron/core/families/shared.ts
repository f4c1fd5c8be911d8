// Pieces every family's step uses: the tricks applied to what D sees, real/fake targets with
// smoothing and flips, gradient penalties and norms. Pure tensor functions (tidied by the caller).
import * as tf from '@tensorflow/tfjs-core';
import type { StepContext } from './types.ts';
import { OBJECTIVE_LOSSES, bceWithTargets } from '../models/objectives.ts';

/** sqrt(Σ‖g‖²) over every gradient, as a scalar tensor */
export function globalNorm(grads: Record<string, tf.Tensor>): tf.Scalar {
  return tf.sqrt(tf.addN(Object.values(grads).map((g) => tf.sum(tf.square(g))))) as tf.Scalar;
}

/** Instance noise σ at this step: linear annealing from `instanceNoise` to 0. */
export function instanceNoiseStd(ctx: StepContext): number {
  const { instanceNoise, instanceNoiseSteps } = ctx.config.tricks;
  if (instanceNoise <= 0) return 0;
  return instanceNoise * Math.max(0, 1 - (ctx.step - 1) / instanceNoiseSteps);
}

/**
 * What D sees of a real or fake batch: instance noise (annealed) and DiffAugment when configured.
 * Applied identically to real and fake inputs, and differentiably, so G learns through it.
 */
export function discriminatorInput<T extends tf.Tensor>(ctx: StepContext, x: T): T {
  let out: tf.Tensor = x;
  if (x.rank === 4 && ctx.config.tricks.diffAugment.length > 0) out = diffAugment(ctx, out as tf.Tensor4D, ctx.config.tricks.diffAugment);
  const std = instanceNoiseStd(ctx);
  if (std > 0) out = tf.add(out, ctx.normal(out.shape, std));
  return out as T;
}

/** DiffAugment (Zhao et al. 2020): colour, translation and cutout, each differentiable in x. */
export function diffAugment(ctx: StepContext, x: tf.Tensor4D, policies: readonly string[]): tf.Tensor4D {
  const [b, h, w, c] = x.shape;
  let out = x;
  if (policies.includes('color')) {
    // brightness ±0.5, saturation ×[0, 2], contrast ×[0.5, 1.5] (the reference ranges, on [-1, 1] data)
    out = tf.add(out, tf.sub(ctx.uniform([b, 1, 1, 1]), 0.5));
    const mean = tf.mean(out, 3, true);
    out = tf.add(tf.mul(tf.sub(out, mean), tf.mul(ctx.uniform([b, 1, 1, 1]), 2)), mean);
    const meanAll = tf.mean(out, [1, 2, 3], true);
    out = tf.add(tf.mul(tf.sub(out, meanAll), tf.add(ctx.uniform([b, 1, 1, 1]), 0.5)), meanAll);
  }
  if (policies.includes('translation')) {
    // shift by up to 1/8 of the size with zero padding: a per-sample gather over a padded image
    const ph = Math.max(1, Math.round(h / 8));
    const pw = Math.max(1, Math.round(w / 8));
    const padded = tf.pad(out, [[0, 0], [ph, ph], [pw, pw], [0, 0]]);
    const rows: tf.Tensor[] = [];
    for (let i = 0; i < b; i++) {
      const dy = Math.floor(ctx.random() * (2 * ph + 1));
      const dx = Math.floor(ctx.random() * (2 * pw + 1));
      rows.push(tf.slice(padded, [i, dy, dx, 0], [1, h, w, c]));
    }
    out = tf.concat(rows, 0) as tf.Tensor4D;
  }
  if (policies.includes('cutout')) {
    // zero a square of half the size at a random place in each image (a constant mask: no gradient needed)
    const ch = Math.round(h / 2);
    const cw = Math.round(w / 2);
    const mask = new Float32Array(b * h * w).fill(1);
    for (let i = 0; i < b; i++) {
      const cy = Math.floor(ctx.random() * h) - Math.floor(ch / 2);
      const cx = Math.floor(ctx.random() * w) - Math.floor(cw / 2);
      for (let y = Math.max(0, cy); y < Math.min(h, cy + ch); y++) for (let xx = Math.max(0, cx); xx < Math.min(w, cx + cw); xx++) mask[(i * h + y) * w + xx] = 0;
    }
    out = tf.mul(out, tf.tensor4d(mask, [b, h, w, 1]));
  }
  return out;
}

/**
 * Per-sample targets for D's log/least-squares losses: 1 − smoothing for real (one-sided), 0 for
 * fake, each flipped with probability `labelFlip` (noisy labels).
 */
export function dTargets(ctx: StepContext, n: number, real: boolean): tf.Tensor2D {
  const { labelSmoothing, labelFlip } = ctx.config.tricks;
  const t = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const isReal = labelFlip > 0 && ctx.random() < labelFlip ? !real : real;
    t[i] = isReal ? 1 - labelSmoothing : 0;
  }
  return tf.tensor2d(t, [n, 1]);
}

/** WGAN-GP (Gulrajani et al.): E[(‖∇D(x̂)‖₂ − 1)²], x̂ = real + α(fake − real), α ~ U[0, 1] per sample. */
export function gradientPenalty(ctx: StepContext, d: (x: tf.Tensor) => tf.Tensor, real: tf.Tensor, fake: tf.Tensor): tf.Scalar {
  const alphaShape = [real.shape[0], ...real.shape.slice(1).map(() => 1)];
  const xhat = tf.add(real, tf.mul(ctx.uniform(alphaShape), tf.sub(fake, real)));
  const g = tf.grad((x: tf.Tensor) => tf.sum(d(x)))(xhat);
  const axes = g.shape.slice(1).map((_, i) => i + 1);
  const norm = tf.sqrt(tf.add(tf.sum(tf.square(g), axes), 1e-12));
  return tf.mean(tf.square(tf.sub(norm, 1)));
}

/** R1 (Mescheder et al. 2018): E[‖∇D(x_real)‖²]; callers weight it by γ/2. */
export function r1Penalty(d: (x: tf.Tensor) => tf.Tensor, real: tf.Tensor): tf.Scalar {
  const g = tf.grad((x: tf.Tensor) => tf.sum(d(x)))(real);
  return tf.mean(tf.sum(tf.square(g), g.shape.slice(1).map((_, i) => i + 1)));
}

/** Objectives whose D loss compares scores with real/fake targets, so smoothing and flips apply. */
export function objectiveUsesTargets(objective: StepContext['config']['objective']): boolean {
  return objective === 'non-saturating' || objective === 'minimax' || objective === 'least-squares';
}

export interface DiscriminatorTargets {
  real: tf.Tensor2D | null;
  fake: tf.Tensor2D | null;
}

/**
 * D's per-sample targets when label smoothing or flips are on (real drawn first, then fake, from
 * the step's RNG); both null when the objective's own loss applies unchanged.
 */
export function discriminatorTargets(ctx: StepContext, n: number): DiscriminatorTargets {
  const { labelSmoothing, labelFlip } = ctx.config.tricks;
  if (!objectiveUsesTargets(ctx.config.objective)) return { real: null, fake: null };
  const real = labelSmoothing > 0 || labelFlip > 0 ? dTargets(ctx, n, true) : null;
  const fake = labelFlip > 0 ? dTargets(ctx, n, false) : null;
  return { real, fake };
}

/**
 * D's adversarial loss: against the per-sample targets (BCE, or squared error for LSGAN, broadcast
 * over any score map) when there are any, else the objective's own loss.
 */
export function discriminatorLoss(ctx: StepContext, realScores: tf.Tensor, fakeScores: tf.Tensor, targets: DiscriminatorTargets): tf.Scalar {
  if (!targets.real && !targets.fake) return OBJECTIVE_LOSSES[ctx.config.objective]!.discriminator(realScores, fakeScores, 1);
  const asScores = (t: tf.Tensor2D | null, like: tf.Tensor, fill: 0 | 1) => (t ? tf.reshape(t, [like.shape[0], ...like.shape.slice(1).map(() => 1)]) : fill ? tf.onesLike(like) : tf.zerosLike(like));
  const t1 = asScores(targets.real, realScores, 1);
  const t0 = asScores(targets.fake, fakeScores, 0);
  if (ctx.config.objective === 'least-squares') return tf.mul(tf.add(tf.mean(tf.square(tf.sub(realScores, t1))), tf.mean(tf.square(tf.sub(fakeScores, t0)))), 0.5);
  return tf.add(bceWithTargets(realScores, t1), bceWithTargets(fakeScores, t0));
}
