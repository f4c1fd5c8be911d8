import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { buildDiscriminator, buildGenerator, forwardMacsPerImage, upsamplingStages, type DcganSpec } from '../../electron/core/models/dcgan.ts';
import { Rng } from '../../electron/core/models/rng.ts';

const W1: DcganSpec = { image: { height: 28, width: 28, channels: 1 }, latentDim: 100, gChannels: 128, dChannels: 64, gNorm: 'batch', leak: 0.2 };

test('the default DCGAN at 28×28×1 is workload W1 layer for layer', async () => {
  await tf.setBackend('cpu');
  const g = buildGenerator(W1, new Rng(1));
  const d = buildDiscriminator(W1, new Rng(2));
  const shapes = (p: typeof g.params) => Object.fromEntries(p.trainable().map(([n, v]) => [n, v.shape.join('x')]));
  assert.deepEqual(shapes(g.params), {
    'project/kernel': '100x6272', // Dense(7·7·128, no bias)
    'project_bn/gamma': '6272',
    'project_bn/beta': '6272',
    'up0/kernel': '4x4x64x128', // ConvT(64, k4, s2, no bias)
    'up0_bn/gamma': '64',
    'up0_bn/beta': '64',
    'to_image/kernel': '4x4x1x64', // ConvT(1, k4, s2) with bias
    'to_image/bias': '1',
  });
  assert.deepEqual(shapes(d.params), {
    'down0/kernel': '4x4x1x64',
    'down0/bias': '64',
    'down1/kernel': '4x4x64x128',
    'down1/bias': '128',
    'logit/kernel': '6272x1',
    'logit/bias': '1',
  });
  tf.tidy(() => {
    const x = g.apply(tf.randomNormal([3, 100]) as tf.Tensor2D, true);
    assert.deepEqual(x.shape, [3, 28, 28, 1]);
    const v = x.dataSync();
    assert.ok(v.every((a) => a >= -1 && a <= 1), 'tanh output');
    assert.deepEqual(d.apply(x).shape, [3, 1]);
  });
  g.params.dispose();
  d.params.dispose();
});

test('other square sizes get more stages; FLOPs are counted analytically', () => {
  assert.equal(upsamplingStages(28), 2);
  assert.equal(upsamplingStages(32), 3);
  assert.equal(upsamplingStages(64), 4);
  const macs = forwardMacsPerImage(W1);
  // G: dense 100·6272 + ConvT 7²·128·16·64 + ConvT 14²·64·16·1; D: 14²·64·16·1 + 7²·128·16·64 + 6272
  assert.equal(macs.generator, 100 * 6272 + 49 * 128 * 16 * 64 + 196 * 64 * 16);
  assert.equal(macs.discriminator, 196 * 64 * 16 + 49 * 128 * 16 * 64 + 6272);
});

test('weights are a pure function of the seed', () => {
  const a = buildGenerator(W1, new Rng(9));
  const b = buildGenerator(W1, new Rng(9));
  const c = buildGenerator(W1, new Rng(10));
  const first = (g: typeof a) => g.params.get('up0/kernel').dataSync().slice(0, 50);
  assert.deepEqual(first(a), first(b));
  assert.notDeepEqual(first(a), first(c));
  for (const g of [a, b, c]) g.params.dispose();
});

test('Rng state round-trips exactly and streams are independent', () => {
  const r = new Rng(123);
  for (let i = 0; i < 17; i++) r.normal();
  const copy = new Rng(r.getState());
  assert.deepEqual(Array.from({ length: 20 }, () => r.nextU32()), Array.from({ length: 20 }, () => copy.nextU32()));
  const p = new Rng(5).permutation(1000);
  assert.deepEqual([...p].sort((x, y) => x - y), Array.from({ length: 1000 }, (_, i) => i));
  assert.notDeepEqual([...Rng.derive(1, 0).permutation(50)], [...Rng.derive(1, 1).permutation(50)]);
  // normals look normal
  const n = new Rng(77);
  const xs = Array.from({ length: 20000 }, () => n.normal());
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const variance = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length;
  assert.ok(Math.abs(mean) < 0.03 && Math.abs(variance - 1) < 0.05, `mean ${mean}, var ${variance}`);
});
