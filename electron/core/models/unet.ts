// The pix2pix generator (Isola et al. 2017, "Image-to-Image Translation with Conditional
// Adversarial Networks", §3.2.1 and appendix 6.1.1): an encoder–decoder whose mirrored layers are
// joined by skip connections, so low-level detail (where the strokes are) bypasses the bottleneck.
// Also the feature normalisations and dropout the translation models share.
//
// For a 28×28 input: e0 Conv(g, k4, s2) → 14×14 (no norm, as in the paper) → LeakyReLU
//                    e1 Conv(2g, k4, s2) → 7×7 → norm → LeakyReLU
//                    bottleneck Conv(4g, k3, s1) → norm → LeakyReLU
//                    d  Conv(2g, k3, s1) → norm → dropout → ReLU, concat e1
//                    up1 ConvT(g, k4, s2) → 14×14 → norm → ReLU, concat e0
//                    up0 ConvT(C, k4, s2) → 28×28 → tanh
// Larger inputs get one more e/up level per halving (down to a base of 4–7 pixels), widths
// doubling to at most 8g. Dropout acts on the first half of the hidden decoder layers (the paper's
// first 3 of 7), at training and at sampling time: it is the model's only noise source.
import * as tf from '@tensorflow/tfjs-core';
import type { Norm } from '../../common/config.ts';
import { ParamSet } from './params.ts';
import type { Rng } from './rng.ts';
import { conv2d, convParams, convTranspose2x, convTransposeParams } from './layers.ts';
import { upsamplingStages } from './dcgan.ts';

/** The normalisations the translation models implement (spectral normalisation is not one of them). */
export type FeatureNorm = Extract<Norm, 'none' | 'batch' | 'instance' | 'layer'>;
export const FEATURE_NORMS: readonly FeatureNorm[] = ['none', 'batch', 'instance', 'layer'];

const NORM_EPS = 1e-5;

/** Uniform noise in [0, 1) of a shape, from a seeded stream (the step's RNG, or a fixed one for samples). */
export type UniformSource = (shape: number[]) => tf.Tensor;

export function normParams(p: ParamSet, name: string, features: number, norm: FeatureNorm): void {
  if (norm === 'none') return;
  p.constant(`${name}/gamma`, [features], 1);
  p.constant(`${name}/beta`, [features], 0);
}

/**
 * Normalises NHWC features with the statistics of what it sees: the batch (batch norm), each image
 * and channel (instance norm, Ulyanov et al.; CycleGAN), or each image (layer norm). Batch norm
 * keeps no running averages: pix2pix applies it with the statistics of the test batch at inference
 * too (Isola et al. §3.3), and so do samples here.
 */
export function normalize(p: ParamSet, name: string, x: tf.Tensor4D, norm: FeatureNorm): tf.Tensor4D {
  if (norm === 'none') return x;
  const axes = norm === 'batch' ? [0, 1, 2] : norm === 'instance' ? [1, 2] : [1, 2, 3];
  const { mean, variance } = tf.moments(x, axes, true);
  // γ(x − μ)/σ + β as x·s + t with small s, t: two full-size broadcasts instead of four
  const scale = tf.mul(tf.rsqrt(tf.add(variance, NORM_EPS)), p.get(`${name}/gamma`));
  const shift = tf.sub(p.get(`${name}/beta`), tf.mul(mean, scale));
  return tf.add(tf.mul(x, scale), shift);
}

/** Inverted dropout with a mask from `noise`: kept units are scaled by 1/(1 − rate). */
export function dropout(x: tf.Tensor4D, rate: number, noise: UniformSource): tf.Tensor4D {
  if (rate <= 0) return x;
  const keep = tf.cast(tf.greaterEqual(noise(x.shape), rate), 'float32');
  return tf.mul(x, tf.div(keep, 1 - rate));
}

export interface UnetSpec {
  height: number;
  width: number;
  inChannels: number;
  outChannels: number;
  /** channels of the first encoder layer */
  channels: number;
  norm: FeatureNorm;
  leak: number;
  /** dropout rate of the first decoder layers (pix2pix: 0.5) */
  dropout: number;
}

export interface UnetGenerator {
  params: ParamSet;
  levels: number;
  /** a [B, H, W, inC] in [-1, 1] → [B, H, W, outC] in [-1, 1]; `noise` drives dropout (null = no dropout) */
  apply(x: tf.Tensor4D, noise: UniformSource | null): tf.Tensor4D;
}

/** Stride-2 levels of the U-Net for an H×W input: halvings until the side would drop below 4. */
export function unetLevels(height: number, width: number): number {
  return Math.min(upsamplingStages(height), upsamplingStages(width));
}

export function buildUnetGenerator(spec: UnetSpec, rng: Rng, scope = 'unet'): UnetGenerator {
  const levels = unetLevels(spec.height, spec.width);
  if (levels < 1) throw new Error(`the U-Net needs a side that halves to at least 4, got ${spec.height}×${spec.width}`);
  const p = new ParamSet(scope);
  const width = (i: number) => spec.channels << Math.min(i, 3);
  // encoder
  let ch = spec.inChannels;
  for (let i = 0; i < levels; i++) {
    convParams(p, `e${i}`, 4, ch, width(i), rng, i === 0 || spec.norm === 'none');
    if (i > 0) normParams(p, `e${i}_norm`, width(i), spec.norm);
    ch = width(i);
  }
  const deep = width(levels);
  convParams(p, 'bottleneck', 3, ch, deep, rng, spec.norm === 'none');
  normParams(p, 'bottleneck_norm', deep, spec.norm);
  convParams(p, 'd', 3, deep, ch, rng, spec.norm === 'none');
  normParams(p, 'd_norm', ch, spec.norm);
  // decoder: up_i takes [dec, e_i] to the resolution of e_{i-1} (the output at i = 0)
  for (let i = levels - 1; i >= 0; i--) {
    const inCh = 2 * width(i);
    const outCh = i === 0 ? spec.outChannels : width(i - 1);
    convTransposeParams(p, `up${i}`, 4, inCh, outCh, rng, i === 0 || spec.norm === 'none');
    if (i > 0) normParams(p, `up${i}_norm`, outCh, spec.norm);
  }
  // hidden decoder layers: d, up_{levels-1} … up_1; dropout on the first half of them
  const hiddenDecoders = levels;
  const dropped = Math.max(1, Math.floor(hiddenDecoders / 2));

  return {
    params: p,
    levels,
    apply(x, noise) {
      const skips: tf.Tensor4D[] = [];
      let h = x;
      for (let i = 0; i < levels; i++) {
        h = conv2d(p, `e${i}`, h, 2, i === 0 || spec.norm === 'none');
        if (i > 0) h = normalize(p, `e${i}_norm`, h, spec.norm);
        h = tf.leakyRelu(h, spec.leak);
        skips.push(h);
      }
      h = tf.leakyRelu(normalize(p, 'bottleneck_norm', conv2d(p, 'bottleneck', h, 1, spec.norm === 'none'), spec.norm), spec.leak);
      h = normalize(p, 'd_norm', conv2d(p, 'd', h, 1, spec.norm === 'none'), spec.norm);
      if (noise && spec.dropout > 0) h = dropout(h, spec.dropout, noise);
      h = tf.relu(h);
      let decoderIndex = 1;
      for (let i = levels - 1; i >= 0; i--) {
        h = tf.concat([h, skips[i]], 3);
        h = convTranspose2x(p, `up${i}`, h, i === 0 || spec.norm === 'none');
        if (i === 0) return tf.tanh(h);
        h = normalize(p, `up${i}_norm`, h, spec.norm);
        if (noise && spec.dropout > 0 && decoderIndex < dropped) h = dropout(h, spec.dropout, noise);
        h = tf.relu(h);
        decoderIndex++;
      }
      throw new Error('unreachable: the U-Net has at least one level');
    },
  };
}
