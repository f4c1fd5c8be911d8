// Small MLPs for 2-D point datasets (ring-of-8, grid-of-25), the standard mode-collapse testbeds,
// as GAN Lab uses: three hidden layers with LeakyReLU.
import * as tf from '@tensorflow/tfjs-core';
import { ParamSet } from './params.ts';
import type { Rng } from './rng.ts';
import { dense, denseParams } from './layers.ts';

const LAYERS = 3;

export interface Mlp {
  params: ParamSet;
  apply(x: tf.Tensor2D): tf.Tensor2D;
}

export function buildMlp(scope: string, inDim: number, hidden: number, outDim: number, leak: number, rng: Rng, std = 0.1): Mlp {
  const p = new ParamSet(scope);
  let d = inDim;
  for (let i = 0; i < LAYERS; i++) {
    denseParams(p, `h${i}`, d, hidden, rng, true, std);
    d = hidden;
  }
  denseParams(p, 'out', d, outDim, rng, true, std);
  return {
    params: p,
    apply(x) {
      let h = x;
      for (let i = 0; i < LAYERS; i++) h = tf.leakyRelu(dense(p, `h${i}`, h, true), leak) as tf.Tensor2D;
      return dense(p, 'out', h, true);
    },
  };
}
