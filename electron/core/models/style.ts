// A compact StyleGAN as pure builders over named parameters: a mapping network z → w (Karras et
// al. 2019, "A Style-Based Generator Architecture for GANs"), a synthesis network from a learned
// 4×4 constant with per-layer styles, noise inputs and skip toRGB outputs, and a residual
// discriminator with a minibatch-stddev layer (Karras et al. 2020, "Analyzing and Improving the
// Image Quality of StyleGAN", StyleGAN2).
//
// Styles use StyleGAN2's weight modulation/demodulation rather than StyleGAN1's AdaIN: it removes
// the droplet artefacts AdaIN causes, and in its "non-fused" form (scale the input channels by the
// style, run one shared conv over the whole batch, scale the output channels by the demodulation
// factor) it is a plain batched conv2d, which the wasm backend runs through XNNPACK; AdaIN would add
// per-sample instance-norm moments to every layer. Every layer uses the equalised learning rate
// (weights ~ N(0, 1), scaled by 1/√fan_in at run time) that both papers rely on with Adam at 2e-3.
import * as tf from '@tensorflow/tfjs-core';
import { ParamSet } from './params.ts';
import type { Rng } from './rng.ts';
import { upsamplingStages } from './dcgan.ts';

/** StyleGAN's activation gain: LeakyReLU(0.2)·√2 keeps unit variance through the layers. */
const ACT_GAIN = Math.SQRT2;
/** learning-rate multiplier of the mapping network (StyleGAN: 0.01) */
export const MAPPING_LR_MUL = 0.01;
/** decay of w̄, the running mean of w used for truncation (StyleGAN: 0.995) */
export const W_AVG_BETA = 0.995;
const DEMOD_EPS = 1e-8;

export interface StyleSpec {
  /** side of the synthesis network's output: 32 or 64 */
  resolution: number;
  /** side of the images G hands out and D sees; below `resolution` G's output is centre-cropped (28 in 32 for MNIST) */
  imageSize: number;
  imageChannels: number;
  /** z and w both have this many dimensions */
  latentDim: number;
  mappingLayers: number;
  /** channels at 4×4, halved at each doubling of the resolution */
  gChannels: number;
  /** channels of D's first feature map, doubled at each halving */
  dChannels: number;
  leak: number;
}

// ---- equalised-learning-rate layers ---------------------------------------------------------

/** Dense layer with run-time weight scaling; `lrMul` slows a layer down (the mapping network's 0.01). */
function eqDenseParams(p: ParamSet, name: string, inDim: number, outDim: number, rng: Rng, opts: { lrMul?: number; biasInit?: number; bias?: boolean } = {}): void {
  const lrMul = opts.lrMul ?? 1;
  p.normal(`${name}/kernel`, [inDim, outDim], rng, 1 / lrMul);
  if (opts.bias !== false) p.constant(`${name}/bias`, [outDim], (opts.biasInit ?? 0) / lrMul);
}

function eqDense(p: ParamSet, name: string, x: tf.Tensor2D, lrMul = 1, bias = true): tf.Tensor2D {
  const k = p.get(`${name}/kernel`);
  const y = tf.matMul(x, tf.mul(k, lrMul / Math.sqrt(k.shape[0])) as tf.Tensor2D) as tf.Tensor2D;
  return bias ? (tf.add(y, tf.mul(p.get(`${name}/bias`), lrMul)) as tf.Tensor2D) : y;
}

function eqConvParams(p: ParamSet, name: string, k: number, inCh: number, outCh: number, rng: Rng, bias: boolean): void {
  p.normal(`${name}/weight`, [k, k, inCh, outCh], rng, 1);
  if (bias) p.constant(`${name}/bias`, [outCh], 0);
}

function eqWeight(p: ParamSet, name: string): tf.Tensor4D {
  const w = p.get(`${name}/weight`) as tf.Tensor4D;
  const [kh, kw, inCh] = w.shape;
  return tf.mul(w, 1 / Math.sqrt(kh * kw * inCh));
}

function eqConv(p: ParamSet, name: string, x: tf.Tensor4D, bias: boolean): tf.Tensor4D {
  const y = tf.conv2d(x, eqWeight(p, name), 1, 'same');
  return bias ? tf.add(y, p.get(`${name}/bias`)) : y;
}

const act = (x: tf.Tensor, leak: number) => tf.mul(tf.leakyRelu(x, leak), ACT_GAIN);

/** nearest-neighbour 2× upsampling (StyleGAN1's choice); one kernel each way on wasm and cpu, unlike a broadcast (Tile) */
export function upsample2x(x: tf.Tensor4D): tf.Tensor4D {
  return tf.image.resizeNearestNeighbor(x, [x.shape[1] * 2, x.shape[2] * 2]);
}

/**
 * 2×2 average pooling as reshapes and means. tf.avgPool's gradient (AvgPoolGrad) has no gradient
 * of its own, and R1 differentiates D's input gradient, so D downsamples with plain ops.
 */
export function downsample2x(x: tf.Tensor4D): tf.Tensor4D {
  const [b, h, w, c] = x.shape;
  const rows = tf.mean(tf.reshape(x, [b * (h / 2), 2, w / 2, 2 * c]), 1);
  const cols = tf.mean(tf.reshape(rows, [b * (h / 2), w / 2, 2, c]), 2);
  return tf.reshape(cols, [b, h / 2, w / 2, c]);
}

// ---- generator -----------------------------------------------------------------------------

/** Where per-layer noise comes from: fresh draws (training), the fixed maps (samples) or none. */
export type NoiseSource = { kind: 'random'; normal: (shape: number[]) => tf.Tensor } | { kind: 'fixed' } | { kind: 'none' };

interface SynthLayer {
  name: string;
  size: number;
  inCh: number;
  outCh: number;
  /** which entry of the per-layer w list styles this layer */
  wIndex: number;
  /** upsample the input first (the first conv of every block but 4×4) */
  up: boolean;
}

interface RgbLayer {
  name: string;
  size: number;
  inCh: number;
  wIndex: number;
}

export interface StyleGenerator {
  params: ParamSet;
  /** how many per-layer w inputs synthesis takes (StyleGAN2: 2·log2(resolution) − 2) */
  numWs: number;
  latentDim: number;
  /** z [B, latentDim] → w [B, latentDim]: pixel norm, then the mapping MLP */
  map(z: tf.Tensor2D): tf.Tensor2D;
  /** per-layer w's (numWs tensors [B, latentDim]) → images [B, imageSize, imageSize, C], linear output */
  synthesize(ws: tf.Tensor2D[], noise: NoiseSource): tf.Tensor4D;
  /** the running mean of w (a buffer, so checkpoints hold it) */
  wAvg(): tf.Variable;
}

/** channels of the synthesis feature map at side `size` */
function gChannelsAt(spec: StyleSpec, size: number): number {
  return Math.max(4, Math.round(spec.gChannels / (size / 4)));
}

function synthLayers(spec: StyleSpec): { convs: SynthLayer[]; rgbs: RgbLayer[] } {
  const convs: SynthLayer[] = [];
  const rgbs: RgbLayer[] = [];
  const c4 = gChannelsAt(spec, 4);
  convs.push({ name: 'b4/conv', size: 4, inCh: c4, outCh: c4, wIndex: 0, up: false });
  rgbs.push({ name: 'b4/torgb', size: 4, inCh: c4, wIndex: 1 });
  for (let size = 8; size <= spec.resolution; size *= 2) {
    const inCh = gChannelsAt(spec, size / 2);
    const outCh = gChannelsAt(spec, size);
    const i = convs.length;
    convs.push({ name: `b${size}/conv0`, size, inCh, outCh, wIndex: i, up: true });
    convs.push({ name: `b${size}/conv1`, size, inCh: outCh, outCh, wIndex: i + 1, up: false });
    // StyleGAN2 styles a block's toRGB with the w of the next block's first conv
    rgbs.push({ name: `b${size}/torgb`, size, inCh: outCh, wIndex: i + 2 });
  }
  return { convs, rgbs };
}

export function validateStyleSpec(spec: StyleSpec): void {
  if (spec.resolution !== 32 && spec.resolution !== 64) throw new Error(`StyleGAN resolution must be 32 or 64, got ${spec.resolution}`);
  if (spec.imageSize > spec.resolution || (spec.resolution - spec.imageSize) % 2 !== 0) throw new Error(`StyleGAN cannot crop ${spec.resolution} to ${spec.imageSize}`);
  if (upsamplingStages(spec.imageSize) < 1) throw new Error(`StyleGAN's D needs an image side that halves down to at least 4, got ${spec.imageSize}`);
}

/**
 * Modulated convolution (StyleGAN2 eq. 1–3) in its non-fused form: x·s → conv(W) → ·d with
 * d_o = 1/√(Σ_i s_i² Σ_k W_iko² + ε). Identical to convolving with the per-sample weights
 * W'_iko = s_i W_iko d_o, without materialising one kernel per sample.
 */
function modulatedConv(p: ParamSet, name: string, x: tf.Tensor4D, w: tf.Tensor2D, demodulate: boolean, styleGain = 1): tf.Tensor4D {
  const [b, , , inCh] = x.shape;
  let s = eqDense(p, `${name}/affine`, w);
  if (styleGain !== 1) s = tf.mul(s, styleGain);
  const weight = eqWeight(p, name);
  const outCh = weight.shape[3];
  let y = tf.conv2d(tf.mul(x, tf.reshape(s, [b, 1, 1, inCh])) as tf.Tensor4D, weight, 1, 'same');
  if (demodulate) {
    const wSq = tf.reshape(tf.sum(tf.square(weight), [0, 1]), [inCh, outCh]) as tf.Tensor2D;
    const d = tf.rsqrt(tf.add(tf.matMul(tf.square(s), wSq), DEMOD_EPS));
    y = tf.mul(y, tf.reshape(d, [b, 1, 1, outCh]));
  }
  return y;
}

export function buildStyleGenerator(spec: StyleSpec, rng: Rng, noiseRng: Rng): StyleGenerator {
  validateStyleSpec(spec);
  const p = new ParamSet('generator');
  const dim = spec.latentDim;
  for (let i = 0; i < spec.mappingLayers; i++) eqDenseParams(p, `mapping/fc${i}`, dim, dim, rng, { lrMul: MAPPING_LR_MUL });
  p.buffer('mapping/w_avg', [dim], 0);

  const { convs, rgbs } = synthLayers(spec);
  p.normal('synthesis/const', [1, 4, 4, convs[0].inCh], rng, 1);
  for (const l of convs) {
    // affine bias 1: styles start at 1, so the untrained G is an ordinary conv net
    eqDenseParams(p, `synthesis/${l.name}/affine`, dim, l.inCh, rng, { biasInit: 1 });
    eqConvParams(p, `synthesis/${l.name}`, 3, l.inCh, l.outCh, rng, true);
    // per-channel noise strengths start at 0 (StyleGAN1) so noise fades in as G finds a use for it
    p.constant(`synthesis/${l.name}/noise_strength`, [l.outCh], 0);
    // one fixed noise map per layer, shared by every sample, for comparable sample grids (StyleGAN2's noise_mode='const')
    const fixed = p.buffer(`synthesis/${l.name}/noise_fixed`, [1, l.size, l.size, 1], 0);
    tf.tidy(() => fixed.assign(tf.tensor4d(noiseRng.fillNormal(new Float32Array(l.size * l.size)), [1, l.size, l.size, 1])));
  }
  for (const l of rgbs) {
    eqDenseParams(p, `synthesis/${l.name}/affine`, dim, l.inCh, rng, { biasInit: 1 });
    eqConvParams(p, `synthesis/${l.name}`, 1, l.inCh, spec.imageChannels, rng, true);
  }
  const numWs = convs.length + 1;
  const crop = (spec.resolution - spec.imageSize) / 2;

  const noiseFor = (l: SynthLayer, b: number, source: NoiseSource): tf.Tensor | null => {
    if (source.kind === 'none') return null;
    if (source.kind === 'fixed') return p.get(`synthesis/${l.name}/noise_fixed`);
    return source.normal([b, l.size, l.size, 1]);
  };

  return {
    params: p,
    numWs,
    latentDim: dim,
    wAvg: () => p.get('mapping/w_avg'),
    map(z) {
      // pixel norm: z on the sphere of radius √dim, whatever the latent distribution's scale
      let x: tf.Tensor2D = tf.mul(z, tf.rsqrt(tf.add(tf.mean(tf.square(z), 1, true), 1e-8)));
      for (let i = 0; i < spec.mappingLayers; i++) x = act(eqDense(p, `mapping/fc${i}`, x, MAPPING_LR_MUL), spec.leak) as tf.Tensor2D;
      return x;
    },
    synthesize(ws, noise) {
      if (ws.length !== numWs) throw new Error(`synthesis takes ${numWs} w's, got ${ws.length}`);
      const b = ws[0].shape[0];
      let x = tf.broadcastTo(p.get('synthesis/const'), [b, 4, 4, convs[0].inCh]) as tf.Tensor4D;
      let rgb: tf.Tensor4D | null = null;
      let ci = 0;
      for (const r of rgbs) {
        // the block's convs (one at 4×4, two above), then its toRGB added to the upsampled running image
        for (; ci < convs.length && convs[ci].size === r.size; ci++) {
          const l = convs[ci];
          if (l.up) x = upsample2x(x);
          let y = modulatedConv(p, `synthesis/${l.name}`, x, ws[l.wIndex], true);
          const n = noiseFor(l, b, noise);
          if (n) y = tf.add(y, tf.mul(n, p.get(`synthesis/${l.name}/noise_strength`)));
          x = act(tf.add(y, p.get(`synthesis/${l.name}/bias`)), spec.leak) as tf.Tensor4D;
        }
        // toRGB: 1×1, modulated without demodulation, style scaled by 1/√fan_in (StyleGAN2's ToRGBLayer)
        const out = tf.add(modulatedConv(p, `synthesis/${r.name}`, x, ws[r.wIndex], false, 1 / Math.sqrt(r.inCh)), p.get(`synthesis/${r.name}/bias`)) as tf.Tensor4D;
        rgb = rgb ? (tf.add(upsample2x(rgb), out) as tf.Tensor4D) : out;
      }
      const img = rgb!;
      return crop > 0 ? tf.slice(img, [0, crop, crop, 0], [b, spec.imageSize, spec.imageSize, spec.imageChannels]) : img;
    },
  };
}

/** The per-layer w list: w1 for layers before `crossover`, w2 from there on (style mixing); w1 everywhere when w2 is null. */
export function layerStyles(numWs: number, w1: tf.Tensor2D, w2: tf.Tensor2D | null, crossover: number): tf.Tensor2D[] {
  return Array.from({ length: numWs }, (_, i) => (w2 && i >= crossover ? w2 : w1));
}

/** Truncation trick (StyleGAN §4.1): w' = w̄ + ψ(w − w̄). */
export function truncate(w: tf.Tensor2D, wAvg: tf.Tensor, psi: number): tf.Tensor2D {
  if (psi === 1) return w;
  return tf.add(wAvg, tf.mul(tf.sub(w, wAvg), psi));
}

/** w̄ ← β·w̄ + (1 − β)·mean_batch(w); call outside any gradient tape. */
export function updateWAvg(g: StyleGenerator, wBatchMean: tf.Tensor): void {
  const v = g.wAvg();
  tf.tidy(() => v.assign(tf.add(tf.mul(v, W_AVG_BETA), tf.mul(wBatchMean, 1 - W_AVG_BETA))));
}

// ---- discriminator -------------------------------------------------------------------------

export interface StyleDiscriminator {
  params: ParamSet;
  /** images [B, imageSize, imageSize, C] → logits [B, 1] */
  apply(x: tf.Tensor): tf.Tensor2D;
}

/** StyleGAN2's group size: statistics over groups of up to 4 samples. */
function stddevGroup(b: number): number {
  for (const g of [4, 3, 2]) if (b % g === 0) return g;
  return 1;
}

/**
 * Minibatch standard deviation (Karras et al. 2018, ProGAN §3): one extra feature map holding the
 * mean per-feature std over a group, so D can see a batch that lacks variety.
 */
export function minibatchStddev(x: tf.Tensor4D): tf.Tensor4D {
  const [b, h, w, c] = x.shape;
  const g = stddevGroup(b);
  const m = b / g;
  // sample i = gi·m + mi belongs to group mi (as in StyleGAN's reshape to [G, M, …])
  const y = tf.reshape(x, [g, m, h * w * c]);
  const centred = tf.sub(y, tf.mean(y, 0, true));
  const sd = tf.mean(tf.sqrt(tf.add(tf.mean(tf.square(centred), 0), 1e-8)), 1);
  const perSample = tf.reshape(tf.tile(sd, [g]), [b, 1, 1, 1]);
  return tf.concat([x, tf.broadcastTo(perSample, [b, h, w, 1]) as tf.Tensor4D], 3);
}

export function buildStyleDiscriminator(spec: StyleSpec, rng: Rng): StyleDiscriminator {
  validateStyleSpec(spec);
  const p = new ParamSet('discriminator');
  const stages = upsamplingStages(spec.imageSize);
  const cap = spec.dChannels * 8;
  const chAt = (i: number) => Math.min(cap, spec.dChannels << i);
  eqConvParams(p, 'fromrgb', 1, spec.imageChannels, chAt(0), rng, true);
  for (let i = 0; i < stages; i++) {
    eqConvParams(p, `block${i}/conv0`, 3, chAt(i), chAt(i), rng, true);
    eqConvParams(p, `block${i}/conv1`, 3, chAt(i), chAt(i + 1), rng, true);
    eqConvParams(p, `block${i}/skip`, 1, chAt(i), chAt(i + 1), rng, false);
  }
  const top = chAt(stages);
  const side = spec.imageSize >> stages;
  eqConvParams(p, 'epilogue/conv', 3, top + 1, top, rng, true);
  eqDenseParams(p, 'epilogue/fc', side * side * top, top, rng);
  eqDenseParams(p, 'epilogue/out', top, 1, rng);
  return {
    params: p,
    apply(input) {
      const x0 = input as tf.Tensor4D;
      let x = act(eqConv(p, 'fromrgb', x0, true), spec.leak) as tf.Tensor4D;
      for (let i = 0; i < stages; i++) {
        // residual block (StyleGAN2 Fig. 7c): conv, downsample, conv; 1×1 skip; sum scaled by 1/√2
        const skip = eqConv(p, `block${i}/skip`, downsample2x(x), false);
        let h = act(eqConv(p, `block${i}/conv0`, x, true), spec.leak) as tf.Tensor4D;
        h = act(eqConv(p, `block${i}/conv1`, downsample2x(h), true), spec.leak) as tf.Tensor4D;
        x = tf.mul(tf.add(h, skip), Math.SQRT1_2);
      }
      x = act(eqConv(p, 'epilogue/conv', minibatchStddev(x), true), spec.leak) as tf.Tensor4D;
      const flat = tf.reshape(x, [x0.shape[0], side * side * top]) as tf.Tensor2D;
      return eqDense(p, 'epilogue/out', act(eqDense(p, 'epilogue/fc', flat), spec.leak) as tf.Tensor2D);
    },
  };
}
