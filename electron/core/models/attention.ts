// The self-attention block of SAGAN (Zhang et al. 2019, "Self-Attention GANs", Sec. 3): every
// position attends to every other, so G and D can relate distant parts of an image that a 4×4
// conv stack only links after several layers. Query/key/value are 1×1 convolutions (done as
// matrix products over positions); the output goes through a 1×1 conv and joins the input through
// a learnable γ initialised to 0, so the block starts as the identity and the net learns how much
// non-local evidence to use.
import * as tf from '@tensorflow/tfjs-core';
import { INIT_STD } from './layers.ts';
import type { ParamSet } from './params.ts';
import type { Rng } from './rng.ts';
import type { KernelSource } from './spectral-norm.ts';

/** Channel widths as in the paper: C/8 for query and key, C/2 for value (at least 1). */
export function attentionWidths(channels: number): { qk: number; value: number } {
  return { qk: Math.max(1, channels >> 3), value: Math.max(1, channels >> 1) };
}

export function selfAttentionParams(p: ParamSet, name: string, channels: number, rng: Rng): void {
  const { qk, value } = attentionWidths(channels);
  p.normal(`${name}/query/kernel`, [channels, qk], rng, INIT_STD);
  p.normal(`${name}/key/kernel`, [channels, qk], rng, INIT_STD);
  p.normal(`${name}/value/kernel`, [channels, value], rng, INIT_STD);
  p.normal(`${name}/out/kernel`, [value, channels], rng, INIT_STD);
  p.constant(`${name}/gamma`, [1], 0);
}

/**
 * Keys and values are 2×2 max-pooled on even maps of side ≥ 8, as in the authors' released code
 * (and BigGAN): 4× fewer attended positions for the same receptive field. `secondOrder` pools with
 * reshape + max instead of tf.maxPool, whose gradient (MaxPoolGrad) has no gradient of its own, for
 * a D that R1 or a gradient penalty differentiates twice.
 */
export type KeyPooling = 'max-pool' | 'second-order' | 'none';

function poolKeys(x: tf.Tensor4D, pooling: KeyPooling): tf.Tensor4D {
  const [b, h, w, c] = x.shape;
  if (pooling === 'none' || h % 2 !== 0 || w % 2 !== 0 || h < 8 || w < 8) return x;
  if (pooling === 'max-pool') return tf.maxPool(x, 2, 2, 'valid');
  return tf.max(tf.reshape(x, [b, h / 2, 2, w / 2, 2, c]), [2, 4]) as tf.Tensor4D;
}

/** x [B, H, W, C] → x + γ·o, o = W_out(softmax(q kᵀ) v), queries at every position, keys/values pooled. */
export function selfAttention(p: ParamSet, name: string, x: tf.Tensor4D, kernel: KernelSource, pooling: KeyPooling = 'max-pool'): tf.Tensor4D {
  const [b, h, w, c] = x.shape;
  const n = h * w;
  const flat = tf.reshape(x, [b * n, c]) as tf.Tensor2D;
  const proj = (k: string) => tf.matMul(flat, kernel(`${name}/${k}`) as tf.Tensor2D);
  const q = tf.reshape(proj('query'), [b, n, -1]) as tf.Tensor3D;
  const keys = poolKeys(tf.reshape(proj('key'), [b, h, w, -1]) as tf.Tensor4D, pooling);
  const values = poolKeys(tf.reshape(proj('value'), [b, h, w, -1]) as tf.Tensor4D, pooling);
  const m = keys.shape[1] * keys.shape[2];
  const k = tf.reshape(keys, [b, m, -1]) as tf.Tensor3D;
  const v = tf.reshape(values, [b, m, -1]) as tf.Tensor3D;
  // β[i, j]: how much position i attends to (pooled) position j, softmax over j
  const beta = tf.softmax(tf.matMul(q, k, false, true));
  const attended = tf.reshape(tf.matMul(beta, v), [b * n, -1]) as tf.Tensor2D;
  const o = tf.reshape(tf.matMul(attended, kernel(`${name}/out`) as tf.Tensor2D), [b, h, w, c]);
  return tf.add(x, tf.mul(p.get(`${name}/gamma`), o));
}

/** The side of the feature map that gets attention: the largest one ≤ 16 (196 positions at 14×14 for MNIST), so memory stays O(B·256²). */
export const MAX_ATTENTION_SIDE = 16;
