// DCGAN-shaped conv players (same layer plan as dcgan.ts) with the options the cGAN and SAGAN
// families need: class labels into G and D (Mirza & Osindero 2014; projection D of Miyato & Koyama
// 2018), spectral normalisation (Miyato et al. 2018) and a self-attention block (Zhang et al. 2019).
// With no classes, no SN and no attention they compute what dcgan.ts computes.
import * as tf from '@tensorflow/tfjs-core';
import { ParamSet } from './params.ts';
import type { Rng } from './rng.ts';
import { batchNorm, batchNormParams, convParams, convTransposeParams, denseParams, INIT_STD, type BatchStats } from './layers.ts';
import { upsamplingStages, validateSpec, type ImageShape } from './dcgan.ts';
import { MAX_ATTENTION_SIDE, selfAttention, selfAttentionParams } from './attention.ts';
import { SpectralNorm, type KernelSource, type SnVectors } from './spectral-norm.ts';

export interface ConvGanSpec {
  image: ImageShape;
  latentDim: number;
  /** number of classes conditioning G and D; 0 = unconditional */
  classes: number;
  gChannels: number;
  dChannels: number;
  /** `spectral` = SN on every G weight plus batch norm, as SAGAN's generator has both */
  gNorm: 'none' | 'batch' | 'spectral';
  dNorm: 'none' | 'spectral';
  leak: number;
  selfAttention: boolean;
  /** projection D (⟨embed(y), φ(x)⟩) instead of label maps concatenated to the image */
  projection: boolean;
  /** D is differentiated twice (gradient penalty, R1): only ops with second-order gradients in D */
  dSecondOrder?: boolean;
}

/** How one forward pass runs: BN mode (and where to record batch moments) and this update's SN vectors. */
export interface ForwardMode {
  training: boolean;
  stats?: BatchStats;
  /** this update's power-iterated u for the player being trained; null = the stored u */
  sn?: SnVectors | null;
}

export interface ConvPlayer {
  params: ParamSet;
  /** the spectral normaliser of this player's weights, or null when it is off */
  sn: SpectralNorm | null;
}

export interface ConvGenerator extends ConvPlayer {
  /** z [B, latentDim] and one-hot labels [B, classes] (null when unconditional) → images in [-1, 1] */
  apply(z: tf.Tensor2D, labels: tf.Tensor2D | null, mode: ForwardMode): tf.Tensor4D;
}

export interface ConvDiscriminator extends ConvPlayer {
  /** images and one-hot labels → scores [B, 1] */
  apply(x: tf.Tensor4D, labels: tf.Tensor2D | null, mode: ForwardMode): tf.Tensor2D;
}

/** One-hot rows for integer labels, as a float tensor (built on the JS side: no int kernels needed). */
export function oneHot(labels: ArrayLike<number>, classes: number): tf.Tensor2D {
  const out = new Float32Array(labels.length * classes);
  for (let i = 0; i < labels.length; i++) out[i * classes + labels[i]] = 1;
  return tf.tensor2d(out, [labels.length, classes]);
}

/** Index of the stage output that gets attention: the largest side ≤ MAX_ATTENTION_SIDE among `sides`. */
function attentionAt(sides: number[]): number {
  let best = -1;
  sides.forEach((s, i) => {
    if (s <= MAX_ATTENTION_SIDE && (best < 0 || s > sides[best])) best = i;
  });
  return best >= 0 ? best : sides.indexOf(Math.min(...sides));
}

function dense(x: tf.Tensor2D, kernel: tf.Tensor, p: ParamSet, name: string, bias: boolean): tf.Tensor2D {
  const y = tf.matMul(x, kernel as tf.Tensor2D) as tf.Tensor2D;
  return bias ? (tf.add(y, p.get(`${name}/bias`)) as tf.Tensor2D) : y;
}

function kernels(p: ParamSet, sn: SpectralNorm | null, vectors: SnVectors | null | undefined): KernelSource {
  return sn ? sn.source(vectors ?? null) : (layer) => p.get(`${layer}/kernel`);
}

function enableSn(p: ParamSet, rng: Rng): SpectralNorm {
  const sn = new SpectralNorm(p);
  for (const [name] of p.trainable()) if (name.endsWith('/kernel')) sn.add(name.slice(0, -'/kernel'.length), rng);
  return sn;
}

export function buildConvGenerator(spec: ConvGanSpec, rng: Rng): ConvGenerator {
  validateSpec({ ...spec, gNorm: 'none' });
  const stages = upsamplingStages(spec.image.height);
  const base = spec.image.height >> stages;
  const p = new ParamSet('generator');
  const useBn = spec.gNorm !== 'none';
  const first = base * base * spec.gChannels;
  denseParams(p, 'project', spec.latentDim + spec.classes, first, rng, !useBn);
  if (useBn) batchNormParams(p, 'project_bn', first);
  // hidden maps: index 0 after the projection, i + 1 after up{i}
  const sides = Array.from({ length: stages }, (_, i) => base << i);
  const widths: number[] = [spec.gChannels];
  let ch = spec.gChannels;
  for (let i = 0; i < stages - 1; i++) {
    const out = Math.max(8, ch >> 1);
    convTransposeParams(p, `up${i}`, 4, ch, out, rng, !useBn);
    if (useBn) batchNormParams(p, `up${i}_bn`, out);
    widths.push(out);
    ch = out;
  }
  convTransposeParams(p, 'to_image', 4, ch, spec.image.channels, rng, true);
  const att = spec.selfAttention ? attentionAt(sides) : -1;
  if (att >= 0) selfAttentionParams(p, 'attention', widths[att], rng);
  const sn = spec.gNorm === 'spectral' ? enableSn(p, rng) : null;

  const up = (x: tf.Tensor4D, w: tf.Tensor, name: string, bias: boolean): tf.Tensor4D => {
    const [b, h, wd] = x.shape;
    const kernel = w as tf.Tensor4D;
    const y = tf.conv2dTranspose(x, kernel, [b, h * 2, wd * 2, kernel.shape[2]], 2, 'same');
    return bias ? (tf.add(y, p.get(`${name}/bias`)) as tf.Tensor4D) : y;
  };

  return {
    params: p,
    sn,
    apply(z, labels, mode) {
      const k = kernels(p, sn, mode.sn);
      const input = labels ? (tf.concat([z, labels], 1) as tf.Tensor2D) : z;
      let h: tf.Tensor = dense(input, k('project'), p, 'project', !useBn);
      if (useBn) h = batchNorm(p, 'project_bn', h, mode.training, mode.stats);
      let x = tf.reshape(tf.leakyRelu(h, spec.leak), [z.shape[0], base, base, spec.gChannels]) as tf.Tensor4D;
      if (att === 0) x = selfAttention(p, 'attention', x, k);
      for (let i = 0; i < stages - 1; i++) {
        x = up(x, k(`up${i}`), `up${i}`, !useBn);
        if (useBn) x = batchNorm(p, `up${i}_bn`, x, mode.training, mode.stats) as tf.Tensor4D;
        x = tf.leakyRelu(x, spec.leak) as tf.Tensor4D;
        if (att === i + 1) x = selfAttention(p, 'attention', x, k);
      }
      return tf.tanh(up(x, k('to_image'), 'to_image', true));
    },
  };
}

export function buildConvDiscriminator(spec: ConvGanSpec, rng: Rng): ConvDiscriminator {
  validateSpec({ ...spec, gNorm: 'none' });
  const stages = upsamplingStages(spec.image.height);
  const p = new ParamSet('discriminator');
  const labelMaps = spec.classes > 0 && !spec.projection;
  let ch = spec.image.channels + (labelMaps ? spec.classes : 0);
  let size = spec.image.height;
  const sides: number[] = [];
  const widths: number[] = [];
  for (let i = 0; i < stages; i++) {
    const out = spec.dChannels << i;
    convParams(p, `down${i}`, 4, ch, out, rng, true);
    ch = out;
    size /= 2;
    sides.push(size);
    widths.push(out);
  }
  const features = size * size * ch;
  denseParams(p, 'logit', features, 1, rng, true);
  const projection = spec.classes > 0 && spec.projection;
  // the class embedding of the projection term, one φ-sized row per class
  if (projection) p.normal('embed/kernel', [spec.classes, features], rng, INIT_STD);
  const att = spec.selfAttention ? attentionAt(sides) : -1;
  if (att >= 0) selfAttentionParams(p, 'attention', widths[att], rng);
  const sn = spec.dNorm === 'spectral' ? enableSn(p, rng) : null;

  return {
    params: p,
    sn,
    apply(x, labels, mode) {
      const k = kernels(p, sn, mode.sn);
      const [b, hgt, wid] = x.shape;
      let h: tf.Tensor4D = x;
      // Mirza & Osindero: y enters D as constant per-class feature maps next to the pixels
      if (labelMaps && labels) h = tf.concat([x, tf.mul(tf.ones([1, hgt, wid, 1]), tf.reshape(labels, [b, 1, 1, spec.classes]))], 3) as tf.Tensor4D;
      for (let i = 0; i < stages; i++) {
        h = tf.leakyRelu(tf.add(tf.conv2d(h, k(`down${i}`) as tf.Tensor4D, 2, 'same'), p.get(`down${i}/bias`)), spec.leak) as tf.Tensor4D;
        if (att === i) h = selfAttention(p, 'attention', h, k, spec.dSecondOrder ? 'second-order' : 'max-pool');
      }
      const phi = tf.reshape(h, [b, -1]) as tf.Tensor2D;
      const logit = dense(phi, k('logit'), p, 'logit', true);
      if (!projection || !labels) return logit;
      // Miyato & Koyama: D(x, y) = ψ(φ(x)) + ⟨embed(y), φ(x)⟩
      const e = tf.matMul(labels, k('embed') as tf.Tensor2D);
      return tf.add(logit, tf.sum(tf.mul(e, phi), 1, true));
    },
  };
}
