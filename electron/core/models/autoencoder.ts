// Convolutional autoencoders for the energy-based families. EBGAN (Zhao et al. 2017) and BEGAN
// (Berthelot et al. 2017) both score an image by how well an autoencoder D reconstructs it, and
// BEGAN's generator is that autoencoder's decoder architecture on its own (BEGAN fig. 1).
//
// Encoder: stride-2 3×3 convs down to the DCGAN base (28 → 14 → 7), channels growing linearly with
// depth as in BEGAN (n, 2n, …), then a linear Dense to the code h. Decoder: Dense h → base×base×n,
// a 3×3 conv at the base, then per stage a nearest-neighbour ×2 upsampling and a 3×3 conv (BEGAN's
// upsampling; it avoids the checkerboard of transposed convs); the last conv maps to the image
// channels. No normalisation layers: BEGAN has none, and a batch norm inside an energy function
// would make one image's energy depend on the rest of its batch.
import * as tf from '@tensorflow/tfjs-core';
import { ParamSet } from './params.ts';
import type { Rng } from './rng.ts';
import { conv2d, dense, denseParams } from './layers.ts';
import { upsamplingStages, type ImageShape } from './dcgan.ts';

export type AutoencoderActivation = 'elu' | 'leaky-relu';

export interface AutoencoderSpec {
  image: ImageShape;
  /** size of the bottleneck code h (BEGAN's N_h; EBGAN's pulling-away term is taken over it) */
  codeDim: number;
  /** encoder stage i has channels·(i+1) filters; the decoder uses `channels` throughout */
  channels: number;
  /** BEGAN uses ELU; EBGAN follows DCGAN's leaky ReLU */
  activation: AutoencoderActivation;
  leak: number;
}

export interface Autoencoder {
  params: ParamSet;
  /** images [B, H, W, C] → codes [B, codeDim] */
  encode(x: tf.Tensor4D): tf.Tensor2D;
  /** codes [B, codeDim] → reconstructions [B, H, W, C] (linear output) */
  decode(h: tf.Tensor2D): tf.Tensor4D;
}

export interface DecoderGenerator {
  params: ParamSet;
  latentDim: number;
  /** z [B, latentDim] → images [B, H, W, C] in [-1, 1] */
  apply(z: tf.Tensor2D): tf.Tensor4D;
}

/** Why an image shape cannot go through the autoencoder, or null when it can. */
export function autoencoderShapeProblem(image: ImageShape): string | null {
  if (image.height !== image.width) return `needs square images, the dataset is ${image.height}×${image.width}`;
  if (upsamplingStages(image.height) < 1) return `needs an image side that halves down to at least 4 (e.g. 28, 32, 64), the dataset's is ${image.height}`;
  return null;
}

function validate(spec: AutoencoderSpec): void {
  const problem = autoencoderShapeProblem(spec.image);
  if (problem) throw new Error(`autoencoder ${problem}`);
}

/** LeCun-normal std 1/√fan_in: without normalisation layers DCGAN's fixed 0.02 shrinks the signal ~2× per conv. */
function convParams3x3(p: ParamSet, name: string, inCh: number, outCh: number, rng: Rng): void {
  p.normal(`${name}/kernel`, [3, 3, inCh, outCh], rng, 1 / Math.sqrt(9 * inCh));
  p.constant(`${name}/bias`, [outCh], 0);
}

function activate(spec: AutoencoderSpec, x: tf.Tensor4D): tf.Tensor4D {
  return spec.activation === 'elu' ? tf.elu(x) : tf.leakyRelu(x, spec.leak);
}

/** Nearest-neighbour ×2 upsampling. */
function upsample2x(x: tf.Tensor4D): tf.Tensor4D {
  const [, h, w] = x.shape;
  return tf.image.resizeNearestNeighbor(x, [h * 2, w * 2]);
}

function addDecoderParams(p: ParamSet, prefix: string, spec: AutoencoderSpec, inDim: number, rng: Rng): void {
  const stages = upsamplingStages(spec.image.height);
  const base = spec.image.height >> stages;
  const n = spec.channels;
  denseParams(p, `${prefix}project`, inDim, base * base * n, rng, true, 1 / Math.sqrt(inDim));
  convParams3x3(p, `${prefix}conv_base`, n, n, rng);
  for (let i = 0; i < stages; i++) convParams3x3(p, `${prefix}conv_up${i}`, n, i === stages - 1 ? spec.image.channels : n, rng);
}

function applyDecoder(p: ParamSet, prefix: string, spec: AutoencoderSpec, h: tf.Tensor2D): tf.Tensor4D {
  const stages = upsamplingStages(spec.image.height);
  const base = spec.image.height >> stages;
  let x = tf.reshape(dense(p, `${prefix}project`, h, true), [h.shape[0], base, base, spec.channels]) as tf.Tensor4D;
  x = activate(spec, conv2d(p, `${prefix}conv_base`, x, 1, true));
  for (let i = 0; i < stages; i++) {
    x = conv2d(p, `${prefix}conv_up${i}`, upsample2x(x), 1, true);
    if (i < stages - 1) x = activate(spec, x);
  }
  return x;
}

/** The autoencoder discriminator: parameters `enc/…` and `dec/…` in one set named like any D. */
export function buildAutoencoder(spec: AutoencoderSpec, rng: Rng): Autoencoder {
  validate(spec);
  const stages = upsamplingStages(spec.image.height);
  const base = spec.image.height >> stages;
  const p = new ParamSet('discriminator');
  let ch = spec.image.channels;
  for (let i = 0; i < stages; i++) {
    convParams3x3(p, `enc/down${i}`, ch, spec.channels * (i + 1), rng);
    ch = spec.channels * (i + 1);
  }
  const flat = base * base * ch;
  denseParams(p, 'enc/code', flat, spec.codeDim, rng, true, 1 / Math.sqrt(flat));
  addDecoderParams(p, 'dec/', spec, spec.codeDim, rng);
  return {
    params: p,
    encode(x) {
      let h = x;
      for (let i = 0; i < stages; i++) h = activate(spec, conv2d(p, `enc/down${i}`, h, 2, true));
      // the code is linear, as BEGAN's embedding h
      return dense(p, 'enc/code', tf.reshape(h, [x.shape[0], flat]) as tf.Tensor2D, true);
    },
    decode: (h) => applyDecoder(p, 'dec/', spec, h),
  };
}

/**
 * BEGAN's generator: the decoder architecture with its own weights, z in place of h. A tanh keeps
 * samples in the data's [-1, 1] (the paper's decoder output is linear; its images are rescaled).
 */
export function buildDecoderGenerator(spec: AutoencoderSpec, latentDim: number, rng: Rng): DecoderGenerator {
  validate(spec);
  const p = new ParamSet('generator');
  addDecoderParams(p, '', spec, latentDim, rng);
  return { params: p, latentDim, apply: (z) => tf.tanh(applyDecoder(p, '', spec, z)) };
}
