// CycleGAN's generator (Zhu et al. 2017 appendix 7.2, after Johnson et al. 2016): c7s1-g, d2g, d4g,
// R4g × n, u2g, ug, c7s1-C with instance norm and ReLU, tanh output. Sized for small images:
// two stride-2 stages (28 → 7) and 3 residual blocks at the bottom (the paper uses 6 at 128×128
// and 9 at 256×256). Zero 'same' padding stands in for the paper's reflection padding.
import * as tf from '@tensorflow/tfjs-core';
import { ParamSet } from './params.ts';
import type { Rng } from './rng.ts';
import { conv2d, convParams, convTranspose2x, convTransposeParams } from './layers.ts';
import { normParams, normalize, type FeatureNorm } from './unet.ts';

export const RESNET_BLOCKS = 3;
/** stride-2 stages: the side must be divisible by 4 */
export const RESNET_STAGES = 2;

export interface ResnetGeneratorSpec {
  channels: number;
  imageChannels: number;
  norm: FeatureNorm;
  blocks?: number;
}

export interface ResnetGenerator {
  params: ParamSet;
  /** [B, H, W, C] in [-1, 1] → [B, H, W, C] in [-1, 1] */
  apply(x: tf.Tensor4D): tf.Tensor4D;
}

export function buildResnetGenerator(spec: ResnetGeneratorSpec, rng: Rng, scope = 'resnet'): ResnetGenerator {
  const p = new ParamSet(scope);
  const g = spec.channels;
  const blocks = spec.blocks ?? RESNET_BLOCKS;
  const bias = spec.norm === 'none';
  const block = (name: string, k: number, inCh: number, outCh: number) => {
    convParams(p, name, k, inCh, outCh, rng, bias);
    normParams(p, `${name}_norm`, outCh, spec.norm);
  };
  block('c7s1', 7, spec.imageChannels, g);
  block('d0', 3, g, 2 * g);
  block('d1', 3, 2 * g, 4 * g);
  for (let r = 0; r < blocks; r++) {
    block(`r${r}a`, 3, 4 * g, 4 * g);
    block(`r${r}b`, 3, 4 * g, 4 * g);
  }
  convTransposeParams(p, 'u0', 3, 4 * g, 2 * g, rng, bias);
  normParams(p, 'u0_norm', 2 * g, spec.norm);
  convTransposeParams(p, 'u1', 3, 2 * g, g, rng, bias);
  normParams(p, 'u1_norm', g, spec.norm);
  convParams(p, 'out', 7, g, spec.imageChannels, rng, true);

  const convNorm = (name: string, x: tf.Tensor4D, stride: number) => normalize(p, `${name}_norm`, conv2d(p, name, x, stride, bias), spec.norm);
  return {
    params: p,
    apply(x) {
      let h = tf.relu(convNorm('c7s1', x, 1));
      h = tf.relu(convNorm('d0', h, 2));
      h = tf.relu(convNorm('d1', h, 2));
      for (let r = 0; r < blocks; r++) {
        // residual block: two 3×3 convs, no activation after the sum (Johnson et al.)
        const y = convNorm(`r${r}b`, tf.relu(convNorm(`r${r}a`, h, 1)), 1);
        h = tf.add(h, y);
      }
      h = tf.relu(normalize(p, 'u0_norm', convTranspose2x(p, 'u0', h, bias), spec.norm));
      h = tf.relu(normalize(p, 'u1_norm', convTranspose2x(p, 'u1', h, bias), spec.norm));
      return tf.tanh(conv2d(p, 'out', h, 1, true));
    },
  };
}
