// PatchGAN discriminator (Isola et al. 2017 §3.2.2; also CycleGAN's D): a fully convolutional net
// whose output is a map of logits, one per overlapping patch, so D judges local texture and
// structure and the L1 (or cycle) term carries the low frequencies.
//
// Conv(d, k4, s2) → LeakyReLU (no norm on the first layer, as in the paper), then Conv(2d, k4, s2)
// → norm → LeakyReLU, then a Conv(1, k3, s1) logit map. At 28×28 the map is 7×7 and each logit
// sees an 18×18 patch (the paper's 70×70 on 256×256 is the same idea at a larger scale).
import * as tf from '@tensorflow/tfjs-core';
import { ParamSet } from './params.ts';
import type { Rng } from './rng.ts';
import { conv2d, convParams } from './layers.ts';
import { normParams, normalize, type FeatureNorm } from './unet.ts';

export interface PatchDiscriminatorSpec {
  /** channels of D's input: C for CycleGAN, 2C for pix2pix's concatenated (A, B) pair */
  inChannels: number;
  channels: number;
  norm: FeatureNorm;
  leak: number;
}

export interface PatchDiscriminator {
  params: ParamSet;
  /** [B, H, W, inC] → logits [B, H/4, W/4, 1] */
  apply(x: tf.Tensor4D): tf.Tensor4D;
}

export function buildPatchDiscriminator(spec: PatchDiscriminatorSpec, rng: Rng, scope = 'patchgan'): PatchDiscriminator {
  const p = new ParamSet(scope);
  const noNorm = spec.norm === 'none';
  convParams(p, 'c0', 4, spec.inChannels, spec.channels, rng, true);
  convParams(p, 'c1', 4, spec.channels, 2 * spec.channels, rng, noNorm);
  normParams(p, 'c1_norm', 2 * spec.channels, spec.norm);
  convParams(p, 'logit', 3, 2 * spec.channels, 1, rng, true);
  return {
    params: p,
    apply(x) {
      let h = tf.leakyRelu(conv2d(p, 'c0', x, 2, true), spec.leak);
      h = tf.leakyRelu(normalize(p, 'c1_norm', conv2d(p, 'c1', h, 2, noNorm), spec.norm), spec.leak);
      return conv2d(p, 'logit', h, 1, true);
    },
  };
}
