// The D-loss helpers every two-player family uses: label tricks only change the targets of the
// objectives that have targets, and the loss with targets is the textbook BCE / least squares.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { resolveRunConfig } from '../../electron/common/config.ts';
import { discriminatorLoss, discriminatorTargets } from '../../electron/core/families/shared.ts';
import { OBJECTIVE_LOSSES } from '../../electron/core/models/objectives.ts';
import type { StepContext } from '../../electron/core/families/types.ts';

before(async () => {
  await tf.setBackend('cpu');
});

function ctx(over: Record<string, unknown>): StepContext {
  const config = resolveRunConfig({ dataset: 'x', family: 'dcgan', seed: 1, ...over });
  let r = 0;
  return { config, step: 1, batchSize: 4, shape: { layout: 'images', height: 28, width: 28, channels: 1, count: 4, classes: null }, batch: () => { throw new Error('unused'); }, latents: () => { throw new Error('unused'); }, uniform: () => { throw new Error('unused'); }, normal: () => { throw new Error('unused'); }, randomLabels: () => new Int32Array(0), random: () => [0.9, 0.05, 0.9, 0.9, 0.9, 0.9, 0.05, 0.9][r++ % 8] };
}

const real = tf.tensor2d([[2], [-1], [0.5], [3]]);
const fake = tf.tensor2d([[-2], [1], [-0.5], [0]]);
const value = (t: tf.Tensor) => t.dataSync()[0];

test('without tricks, or for objectives without targets, the objective’s own loss applies', () => {
  for (const objective of ['non-saturating', 'least-squares', 'hinge', 'wasserstein'] as const) {
    const c = ctx({ objective, tricks: { labelSmoothing: objective === 'hinge' || objective === 'wasserstein' ? 0.2 : 0 } });
    const targets = discriminatorTargets(c, 4);
    assert.deepEqual(targets, { real: null, fake: null }, objective);
    assert.equal(value(discriminatorLoss(c, real, fake, targets)), value(OBJECTIVE_LOSSES[objective]!.discriminator(real, fake, 1)));
  }
});

test('one-sided smoothing and flips give the BCE / least-squares loss against those targets', () => {
  const c = ctx({ tricks: { labelSmoothing: 0.1, labelFlip: 0.1 } });
  const targets = discriminatorTargets(c, 4);
  // random() draws 0.9, 0.05, 0.9, 0.9 for real (second flipped to fake) and 0.9, 0.9, 0.05, 0.9 for fake (third flipped to real)
  assert.deepEqual(Array.from(targets.real!.dataSync()).map((v) => Number(v.toFixed(4))), [0.9, 0, 0.9, 0.9]);
  assert.deepEqual(Array.from(targets.fake!.dataSync()).map((v) => Number(v.toFixed(4))), [0, 0, 0.9, 0]);
  const bce = (x: number[], t: number[]) => x.reduce((a, xi, i) => a + Math.max(xi, 0) - xi * t[i] + Math.log1p(Math.exp(-Math.abs(xi))), 0) / x.length;
  const expected = bce([2, -1, 0.5, 3], [0.9, 0, 0.9, 0.9]) + bce([-2, 1, -0.5, 0], [0, 0, 0.9, 0]);
  assert.ok(Math.abs(value(discriminatorLoss(c, real, fake, targets)) - expected) < 1e-6);
  const ls = ctx({ objective: 'least-squares', tricks: { labelSmoothing: 0.2 } });
  const lsTargets = discriminatorTargets(ls, 4);
  assert.equal(lsTargets.fake, null);
  const sq = (x: number[], t: number) => x.reduce((a, xi) => a + (xi - t) ** 2, 0) / x.length;
  assert.ok(Math.abs(value(discriminatorLoss(ls, real, fake, lsTargets)) - 0.5 * (sq([2, -1, 0.5, 3], 0.8) + sq([-2, 1, -0.5, 0], 0))) < 1e-6);
});

test('targets broadcast over a patch map of scores', () => {
  const c = ctx({ tricks: { labelSmoothing: 0.1 } });
  const map = tf.ones([4, 3, 3, 1]);
  const l = value(discriminatorLoss(c, map, tf.neg(map), discriminatorTargets(c, 4)));
  const per = (x: number, t: number) => Math.max(x, 0) - x * t + Math.log1p(Math.exp(-Math.abs(x)));
  assert.ok(Math.abs(l - (per(1, 0.9) + per(-1, 0))) < 1e-6);
});
