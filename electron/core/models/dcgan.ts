// DCGAN (Radford et al. 2015) as pure builders over named parameters. At 28×28×1 with the default
// config this is exactly workload W1 of PERFORMANCE.md: Dense(7·7·128, no bias) → BN → LeakyReLU →
// 7×7×128 → ConvT(64, k4, s2) → BN → LeakyReLU → ConvT(1, k4, s2) → tanh; D: Conv(64, k4, s2) →
// LeakyReLU → Conv(128, k4, s2) → LeakyReLU → Flatten → Dense(1) logit.
import * as tf from '@tensorflow/tfjs-core';
import { ParamSet } from './params.ts';
import type { Rng } from './rng.ts';
import { batchNorm, batchNormParams, conv2d, convParams, convTranspose2x, convTransposeParams, dense, denseParams, type BatchStats } from './layers.ts';

export interface ImageShape {
  height: number;
  width: number;
  channels: number;
}

export interface DcganSpec {
  image: ImageShape;
  latentDim: number;
  gChannels: number;
  dChannels: number;
  gNorm: 'batch' | 'none';
  leak: number;
  /** dropout after G's hidden activations while training (a noise source); 0 = off */
  dropout?: number;
}

export interface Generator {
  params: ParamSet;
  latentDim: number;
  /** z [B, latentDim] → images [B, H, W, C] in [-1, 1]; `dropoutSeed` draws the dropout masks */
  apply(z: tf.Tensor2D, training: boolean, stats?: BatchStats, dropoutSeed?: number): tf.Tensor4D;
}

export interface Discriminator {
  params: ParamSet;
  /** images [B, H, W, C] → logits [B, 1] */
  apply(x: tf.Tensor4D): tf.Tensor2D;
}

/** How many stride-2 stages take the image down to a small base (28 → 7: 2; 32 → 4: 3; 64 → 4: 4). */
export function upsamplingStages(size: number): number {
  let n = 0;
  while (size % 2 === 0 && size / 2 >= 4) {
    size /= 2;
    n++;
  }
  return n;
}

export function validateSpec(spec: DcganSpec): void {
  const { height, width } = spec.image;
  if (height !== width) throw new Error(`DCGAN needs square images, got ${height}×${width}`);
  if (upsamplingStages(height) < 1) throw new Error(`DCGAN needs an image side divisible by 2 down to ≥ 4, got ${height}`);
}

export function buildGenerator(spec: DcganSpec, rng: Rng): Generator {
  validateSpec(spec);
  const stages = upsamplingStages(spec.image.height);
  const base = spec.image.height >> stages;
  const p = new ParamSet('generator');
  const useBn = spec.gNorm === 'batch';
  const first = base * base * spec.gChannels;
  denseParams(p, 'project', spec.latentDim, first, rng, !useBn);
  if (useBn) batchNormParams(p, 'project_bn', first);
  let ch = spec.gChannels;
  for (let i = 0; i < stages - 1; i++) {
    const out = Math.max(8, ch >> 1);
    convTransposeParams(p, `up${i}`, 4, ch, out, rng, !useBn);
    if (useBn) batchNormParams(p, `up${i}_bn`, out);
    ch = out;
  }
  convTransposeParams(p, 'to_image', 4, ch, spec.image.channels, rng, true);

  return {
    params: p,
    latentDim: spec.latentDim,
    apply(z, training, stats, dropoutSeed) {
      const rate = spec.dropout ?? 0;
      let layer = 0;
      const drop = <T extends tf.Tensor>(x: T): T => (training && rate > 0 ? (tf.dropout(x, rate, undefined, (dropoutSeed ?? 0) + layer++) as T) : x);
      let h: tf.Tensor = dense(p, 'project', z, !useBn);
      if (useBn) h = batchNorm(p, 'project_bn', h, training, stats);
      h = drop(tf.leakyRelu(h, spec.leak));
      let x = tf.reshape(h, [z.shape[0], base, base, spec.gChannels]) as tf.Tensor4D;
      for (let i = 0; i < stages - 1; i++) {
        x = convTranspose2x(p, `up${i}`, x, !useBn);
        if (useBn) x = batchNorm(p, `up${i}_bn`, x, training, stats) as tf.Tensor4D;
        x = drop(tf.leakyRelu(x, spec.leak));
      }
      return tf.tanh(convTranspose2x(p, 'to_image', x, true));
    },
  };
}

export function buildDiscriminator(spec: DcganSpec, rng: Rng): Discriminator {
  validateSpec(spec);
  const stages = upsamplingStages(spec.image.height);
  const p = new ParamSet('discriminator');
  let ch = spec.image.channels;
  let size = spec.image.height;
  for (let i = 0; i < stages; i++) {
    const out = spec.dChannels << i;
    convParams(p, `down${i}`, 4, ch, out, rng, true);
    ch = out;
    size /= 2;
  }
  denseParams(p, 'logit', size * size * ch, 1, rng, true);
  return {
    params: p,
    apply(x) {
      let h: tf.Tensor4D = x;
      for (let i = 0; i < stages; i++) h = tf.leakyRelu(conv2d(p, `down${i}`, h, 2, true), spec.leak);
      return dense(p, 'logit', tf.reshape(h, [x.shape[0], -1]) as tf.Tensor2D, true);
    },
  };
}

/** Multiply-accumulates of one forward pass per image, for FLOP counts in benchmarks and estimates. */
export function forwardMacsPerImage(spec: DcganSpec): { generator: number; discriminator: number } {
  const stages = upsamplingStages(spec.image.height);
  const base = spec.image.height >> stages;
  let g = spec.latentDim * base * base * spec.gChannels;
  let ch = spec.gChannels;
  let size = base;
  for (let i = 0; i < stages; i++) {
    const out = i === stages - 1 ? spec.image.channels : Math.max(8, ch >> 1);
    // transposed conv: every input pixel scatters a k×k×out patch
    g += size * size * ch * 16 * out;
    ch = out;
    size *= 2;
  }
  let d = 0;
  ch = spec.image.channels;
  size = spec.image.height;
  for (let i = 0; i < stages; i++) {
    const out = spec.dChannels << i;
    size /= 2;
    d += size * size * out * 16 * ch;
    ch = out;
  }
  d += size * size * ch;
  return { generator: g, discriminator: d };
}
