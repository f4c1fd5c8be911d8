// Functional building blocks over named parameters. Pure functions of (params, input): tensor
// lifetimes stay with the caller's tf.tidy, and second-order gradients (WGAN-GP, R1) see plain ops.
import * as tf from '@tensorflow/tfjs-core';
import type { ParamSet } from './params.ts';
import type { Rng } from './rng.ts';

export const INIT_STD = 0.02;
const BN_EPS = 1e-5;
const BN_MOMENTUM = 0.9;

export function denseParams(p: ParamSet, name: string, inDim: number, outDim: number, rng: Rng, bias: boolean, std = INIT_STD): void {
  p.normal(`${name}/kernel`, [inDim, outDim], rng, std);
  if (bias) p.constant(`${name}/bias`, [outDim], 0);
}

export function dense(p: ParamSet, name: string, x: tf.Tensor2D, bias: boolean): tf.Tensor2D {
  const y = tf.matMul(x, p.get(`${name}/kernel`) as tf.Tensor2D) as tf.Tensor2D;
  return bias ? (tf.add(y, p.get(`${name}/bias`)) as tf.Tensor2D) : y;
}

/** kernel layout [kh, kw, in, out] as tf.conv2d expects */
export function convParams(p: ParamSet, name: string, k: number, inCh: number, outCh: number, rng: Rng, bias: boolean): void {
  p.normal(`${name}/kernel`, [k, k, inCh, outCh], rng, INIT_STD);
  if (bias) p.constant(`${name}/bias`, [outCh], 0);
}

export function conv2d(p: ParamSet, name: string, x: tf.Tensor4D, stride: number, bias: boolean): tf.Tensor4D {
  const y = tf.conv2d(x, p.get(`${name}/kernel`) as tf.Tensor4D, stride, 'same');
  return bias ? tf.add(y, p.get(`${name}/bias`)) : y;
}

/** kernel layout [kh, kw, out, in] as tf.conv2dTranspose expects */
export function convTransposeParams(p: ParamSet, name: string, k: number, inCh: number, outCh: number, rng: Rng, bias: boolean): void {
  p.normal(`${name}/kernel`, [k, k, outCh, inCh], rng, INIT_STD);
  if (bias) p.constant(`${name}/bias`, [outCh], 0);
}

/** stride-2 'same' transposed convolution: doubles height and width */
export function convTranspose2x(p: ParamSet, name: string, x: tf.Tensor4D, bias: boolean): tf.Tensor4D {
  const w = p.get(`${name}/kernel`) as tf.Tensor4D;
  const [b, h, wd] = x.shape;
  const y = tf.conv2dTranspose(x, w, [b, h * 2, wd * 2, w.shape[2]], 2, 'same');
  return bias ? tf.add(y, p.get(`${name}/bias`)) : y;
}

export function batchNormParams(p: ParamSet, name: string, features: number): void {
  p.constant(`${name}/gamma`, [features], 1);
  p.constant(`${name}/beta`, [features], 0);
  p.buffer(`${name}/mean`, [features], 0);
  p.buffer(`${name}/variance`, [features], 1);
}

/** Batch statistics of one forward pass, applied to the running averages after the step. */
export type BatchStats = Map<string, { mean: tf.Tensor; variance: tf.Tensor }>;

/**
 * Batch norm over all axes but the last. In training mode uses the batch's moments and records
 * them in `stats` (the caller keeps them) so running averages update outside the gradient tape.
 */
export function batchNorm(p: ParamSet, name: string, x: tf.Tensor, training: boolean, stats?: BatchStats): tf.Tensor {
  const gamma = p.get(`${name}/gamma`);
  const beta = p.get(`${name}/beta`);
  if (!training) return tf.batchNorm(x, p.get(`${name}/mean`), p.get(`${name}/variance`), beta, gamma, BN_EPS);
  const axes = x.shape.slice(0, -1).map((_, i) => i);
  const { mean, variance } = tf.moments(x, axes);
  if (stats) stats.set(name, { mean: tf.keep(mean), variance: tf.keep(variance) });
  return tf.batchNorm(x, mean, variance, beta, gamma, BN_EPS);
}

/** running = m·running + (1−m)·batch, then frees the kept batch moments */
export function updateRunningStats(p: ParamSet, stats: BatchStats): void {
  tf.tidy(() => {
    for (const [name, s] of stats) {
      const rm = p.get(`${name}/mean`);
      const rv = p.get(`${name}/variance`);
      rm.assign(tf.add(tf.mul(rm, BN_MOMENTUM), tf.mul(s.mean, 1 - BN_MOMENTUM)));
      rv.assign(tf.add(tf.mul(rv, BN_MOMENTUM), tf.mul(s.variance, 1 - BN_MOMENTUM)));
    }
  });
  for (const s of stats.values()) tf.dispose([s.mean, s.variance]);
  stats.clear();
}
