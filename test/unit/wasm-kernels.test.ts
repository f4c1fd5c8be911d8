// The wasm training kernels must agree with the reference `cpu` backend, free everything they
// allocate, and support second-order gradients (gradient penalties).
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { registerSecondOrderGradients, registerWasmTrainingKernels } from '../../electron/core/tf/wasm-kernels.ts';
import { setSplitPhaseMinChannels } from '../../electron/core/tf/wasm-conv-kernels.ts';

// Relative tolerance: max |wasm − cpu| ≤ REL_TOL · max(1, max |cpu|). float32 sums of a few thousand
// terms in a different order differ by ~1e-6 relative; 1e-4 leaves room without hiding index bugs.
const REL_TOL = 1e-4;

type Pad = 'same' | 'valid' | number | [[number, number], [number, number], [number, number], [number, number]];

interface ConvCase {
  name: string;
  x: [number, number, number, number];
  filter: [number, number, number, number];
  strides: number | [number, number];
  pad: Pad;
}

const CASES: ConvCase[] = [
  { name: 's1 same odd', x: [2, 7, 7, 3], filter: [3, 3, 3, 4], strides: 1, pad: 'same' },
  { name: 's1 valid', x: [2, 6, 5, 2], filter: [2, 3, 2, 3], strides: 1, pad: 'valid' },
  { name: 's2 same even', x: [2, 8, 8, 3], filter: [3, 3, 3, 5], strides: 2, pad: 'same' },
  { name: 's2 same odd size', x: [2, 9, 7, 2], filter: [4, 4, 2, 3], strides: 2, pad: 'same' },
  { name: 's2 valid odd, batch 1, channels 1', x: [1, 9, 7, 1], filter: [4, 4, 1, 1], strides: 2, pad: 'valid' },
  { name: 's2 valid, dropped last row', x: [2, 8, 8, 2], filter: [3, 3, 2, 2], strides: 2, pad: 'valid' },
  { name: 's2 numeric pad', x: [2, 9, 9, 2], filter: [3, 3, 2, 4], strides: 2, pad: 1 },
  { name: 's2 explicit pad', x: [2, 10, 9, 3], filter: [3, 2, 3, 4], strides: 2, pad: [[0, 0], [1, 2], [0, 1], [0, 0]] },
  { name: 'non-square stride [2,3]', x: [2, 9, 10, 2], filter: [3, 3, 2, 3], strides: [2, 3], pad: 'same' },
  { name: 's3 k5 same (zero taps)', x: [2, 11, 10, 2], filter: [5, 5, 2, 3], strides: 3, pad: 'same' },
  { name: 's4 k3 valid (phases without taps)', x: [1, 13, 13, 2], filter: [3, 3, 2, 2], strides: 4, pad: 'valid' },
  { name: 's2 k1 same', x: [2, 6, 6, 3], filter: [1, 1, 3, 2], strides: 2, pad: 'same' },
  { name: 'W1 D conv2 shape', x: [4, 14, 14, 64], filter: [4, 4, 64, 128], strides: 2, pad: 'same' },
  { name: 'W1 D conv1 shape', x: [4, 28, 28, 1], filter: [4, 4, 1, 64], strides: 2, pad: 'same' },
];

function seeded(shape: number[], seed: number): Float32Array {
  return tf.tidy(() => tf.randomNormal(shape, 0, 1, 'float32', seed).dataSync() as Float32Array);
}

async function onBackend<T>(name: 'cpu' | 'wasm', fn: () => T): Promise<T> {
  await tf.setBackend(name);
  return fn();
}

function maxAbsDiff(a: Float32Array, b: Float32Array): { err: number; scale: number } {
  assert.equal(a.length, b.length);
  let err = 0;
  let scale = 1;
  for (let i = 0; i < a.length; i++) {
    err = Math.max(err, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return { err, scale };
}

function assertClose(label: string, got: Float32Array, want: Float32Array, relTol = REL_TOL): void {
  const { err, scale } = maxAbsDiff(got, want);
  console.log(`${label}: max abs err ${err.toExponential(2)} (scale ${scale.toFixed(2)}, tol ${relTol})`);
  assert.ok(Number.isFinite(err), `${label}: non-finite`);
  assert.ok(err <= relTol * scale, `${label}: max abs error ${err.toExponential(2)} > ${relTol} × ${scale.toFixed(2)}`);
}

function outShape(c: ConvCase): number[] {
  return tf.tidy(() => tf.conv2d(tf.zeros(c.x) as tf.Tensor4D, tf.zeros(c.filter) as tf.Tensor4D, c.strides, c.pad).shape);
}

function backpropInput(c: ConvCase, dy: Float32Array, w: Float32Array, dyShape: number[]): Float32Array {
  return tf.tidy(() => {
    const out = tf.engine().runKernel('Conv2DBackpropInput',
      { dy: tf.tensor(dy, dyShape), filter: tf.tensor(w, c.filter) },
      { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', inputShape: c.x }) as tf.Tensor;
    assert.deepEqual(out.shape, c.x);
    return out.dataSync() as Float32Array;
  });
}

function backpropFilter(c: ConvCase, x: Float32Array, dy: Float32Array, dyShape: number[]): Float32Array {
  return tf.tidy(() => {
    const out = tf.engine().runKernel('Conv2DBackpropFilter',
      { x: tf.tensor(x, c.x), dy: tf.tensor(dy, dyShape) },
      { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', filterShape: c.filter }) as tf.Tensor;
    assert.deepEqual(out.shape, c.filter);
    return out.dataSync() as Float32Array;
  });
}

before(async () => {
  registerWasmTrainingKernels();
  registerWasmTrainingKernels(); // idempotent
  registerSecondOrderGradients();
  registerSecondOrderGradients();
  await tf.setBackend('wasm');
  await tf.ready();
});

describe('wasm conv kernels match cpu', () => {
  for (const c of CASES) {
    test(c.name, async () => {
      await tf.setBackend('cpu');
      const dyShape = outShape(c);
      const x = seeded(c.x, 1);
      const w = seeded(c.filter, 2);
      const dy = seeded(dyShape, 3);
      const wantIn = backpropInput(c, dy, w, dyShape);
      const wantFilter = backpropFilter(c, x, dy, dyShape);
      // Both Conv2DBackpropInput strategies: per-phase convs and one shared-window conv.
      for (const [strategy, minChannels] of [['split phases', 1], ['shared window', Infinity]] as const) {
        const previous = setSplitPhaseMinChannels(minChannels);
        try {
          const gotIn = await onBackend('wasm', () => backpropInput(c, dy, w, dyShape));
          assertClose(`${c.name} Conv2DBackpropInput (${strategy})`, gotIn, wantIn);
        } finally {
          setSplitPhaseMinChannels(previous);
        }
      }
      const gotFilter = await onBackend('wasm', () => backpropFilter(c, x, dy, dyShape));
      assertClose(`${c.name} Conv2DBackpropFilter`, gotFilter, wantFilter);
    });
  }

  // tfjs's backprop kernels take no dilation attribute (conv2d's gradient rejects dilation > 1);
  // the backprop-filter kernel itself relies on wasm's dilated Conv2D, so check that one.
  test('dilated forward Conv2D (used by backprop filter)', async () => {
    const xs = seeded([2, 11, 10, 3], 4);
    const ws = seeded([3, 3, 3, 4], 5);
    const run = () => tf.tidy(() => tf.conv2d(tf.tensor4d(xs, [2, 11, 10, 3]), tf.tensor4d(ws, [3, 3, 3, 4]), 1, 'same',
      'NHWC', [2, 3]).dataSync() as Float32Array);
    assertClose('dilated conv2d', await onBackend('wasm', run), await onBackend('cpu', run));
  });

  test('matMul with transposes and fused bias/activation', async () => {
    const a = seeded([37, 23], 6);
    const b = seeded([23, 19], 7);
    const bias = seeded([19], 8);
    const run = () => tf.tidy(() => {
      const ta = tf.tensor2d(a, [37, 23]);
      const tb = tf.tensor2d(b, [23, 19]);
      const parts = [
        tf.matMul(ta, tb),
        tf.matMul(ta.transpose(), tb, true, false).reshape([-1]).slice(0, 37 * 19),
        tf.matMul(ta, tb.transpose(), false, true),
        tf.matMul(ta.transpose(), tb.transpose(), true, true),
        tf.fused.matMul({ a: ta.transpose(), b: tb, transposeA: true, bias: tf.tensor1d(bias), activation: 'relu' }),
      ];
      return tf.concat(parts.map((p) => p.reshape([-1]))).dataSync() as Float32Array;
    });
    assertClose('matMul', await onBackend('wasm', run), await onBackend('cpu', run));
  });

  test('tile (batch-norm broadcast pattern and general)', async () => {
    const v = seeded([5], 9);
    const run = () => tf.tidy(() => {
      const t = tf.tensor1d(v);
      const a = tf.tile(t.reshape([1, 1, 1, 5]), [2, 3, 4, 1]);
      const b = tf.tile(t.reshape([5, 1]), [2, 3]);
      return tf.concat([a.reshape([-1]), b.reshape([-1])]).dataSync() as Float32Array;
    });
    assertClose('tile', await onBackend('wasm', run), await onBackend('cpu', run), 0);
  });
});

// A tiny conv net in the shape of W1: conv → leakyRelu → conv-transpose back to the input size.
interface NetParams { w1: tf.Tensor4D; w2: tf.Tensor4D; w3: tf.Tensor4D }

function netLoss(p: NetParams, x: tf.Tensor4D): tf.Scalar {
  const h1 = tf.leakyRelu(tf.conv2d(x, p.w1, 2, 'same'), 0.2);
  const h2 = tf.tanh(tf.conv2d(h1, p.w2, 1, 'valid'));
  const up = tf.conv2dTranspose(h2, p.w3, [x.shape[0], 8, 8, 2], 2, 'same');
  return tf.mean(tf.square(tf.sub(tf.sigmoid(up), 0.3)));
}

const NET_SHAPES = { x: [2, 9, 9, 2], w1: [3, 3, 2, 4], w2: [2, 2, 4, 3], w3: [4, 4, 2, 3] } as const;

function netGradients(): Float32Array[] {
  return tf.tidy(() => {
    const x = tf.tensor4d(seeded([...NET_SHAPES.x], 10), [...NET_SHAPES.x]);
    const p: NetParams = {
      w1: tf.tensor4d(seeded([...NET_SHAPES.w1], 11), [...NET_SHAPES.w1]),
      w2: tf.tensor4d(seeded([...NET_SHAPES.w2], 12), [...NET_SHAPES.w2]),
      w3: tf.tensor4d(seeded([...NET_SHAPES.w3], 13), [...NET_SHAPES.w3]),
    };
    const [gx, g1, g2, g3] = tf.grads((xx: tf.Tensor, a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) =>
      netLoss({ w1: a as tf.Tensor4D, w2: b as tf.Tensor4D, w3: c as tf.Tensor4D }, xx as tf.Tensor4D))([x, p.w1, p.w2, p.w3]);
    return [gx, g1, g2, g3].map((g) => g.dataSync() as Float32Array);
  });
}

describe('gradients of a small conv net', () => {
  test('wasm matches cpu', async () => {
    const want = await onBackend('cpu', netGradients);
    const got = await onBackend('wasm', netGradients);
    ['x', 'w1', 'w2', 'w3'].forEach((name, i) => assertClose(`d loss / d ${name}`, got[i], want[i]));
  });

  test('wasm matches central finite differences along a random direction', async () => {
    await tf.setBackend('wasm');
    const eps = 1e-2;
    const { analytic, numeric } = tf.tidy(() => {
      const x = tf.tensor4d(seeded([...NET_SHAPES.x], 10), [...NET_SHAPES.x]);
      const w1 = tf.tensor4d(seeded([...NET_SHAPES.w1], 11), [...NET_SHAPES.w1]);
      const w2 = tf.tensor4d(seeded([...NET_SHAPES.w2], 12), [...NET_SHAPES.w2]);
      const w3 = tf.tensor4d(seeded([...NET_SHAPES.w3], 13), [...NET_SHAPES.w3]);
      const v3 = tf.tensor4d(seeded([...NET_SHAPES.w3], 14), [...NET_SHAPES.w3]);
      const v1 = tf.tensor4d(seeded([...NET_SHAPES.w1], 15), [...NET_SHAPES.w1]);
      const [g1, g3] = tf.grads((a: tf.Tensor, c: tf.Tensor) =>
        netLoss({ w1: a as tf.Tensor4D, w2, w3: c as tf.Tensor4D }, x))([w1, w3]);
      const directional = tf.add(tf.sum(tf.mul(g1, v1)), tf.sum(tf.mul(g3, v3))).dataSync()[0];
      const at = (t: number) => netLoss({ w1: tf.add(w1, tf.mul(v1, t)), w2, w3: tf.add(w3, tf.mul(v3, t)) }, x).dataSync()[0];
      return { analytic: directional, numeric: (at(eps) - at(-eps)) / (2 * eps) };
    });
    const rel = Math.abs(analytic - numeric) / Math.max(1e-6, Math.abs(numeric));
    assert.ok(rel < 2e-2, `directional derivative ${analytic} vs finite difference ${numeric} (rel ${rel.toExponential(2)})`);
  });
});

// Gradient penalty of a tiny conv critic, differentiated w.r.t. the critic's weights (WGAN-GP / R1).
function penalty(w1: tf.Tensor4D, w2: tf.Tensor2D, x: tf.Tensor4D): tf.Scalar {
  const critic = (input: tf.Tensor) => {
    const h = tf.leakyRelu(tf.conv2d(input as tf.Tensor4D, w1, 2, 'same'), 0.2);
    return tf.sum(tf.matMul(tf.reshape(h, [input.shape[0], -1]), w2));
  };
  const gx = tf.grad(critic)(x);
  const norms = tf.sqrt(tf.add(tf.sum(tf.square(gx), [1, 2, 3]), 1e-12));
  return tf.mean(tf.square(tf.sub(norms, 1)));
}

const GP_SHAPES = { x: [3, 6, 6, 1], w1: [3, 3, 1, 4], w2: [36, 1] } as const;

function gpInputs() {
  return {
    x: tf.tensor4d(seeded([...GP_SHAPES.x], 20), [...GP_SHAPES.x]),
    w1: tf.tensor4d(seeded([...GP_SHAPES.w1], 21), [...GP_SHAPES.w1]),
    w2: tf.tensor2d(seeded([...GP_SHAPES.w2], 22), [...GP_SHAPES.w2]).mul(0.3) as tf.Tensor2D,
  };
}

function gpGradients(): Float32Array[] {
  return tf.tidy(() => {
    const { x, w1, w2 } = gpInputs();
    const [g1, g2] = tf.grads((a: tf.Tensor, b: tf.Tensor) => penalty(a as tf.Tensor4D, b as tf.Tensor2D, x))([w1, w2]);
    return [g1.dataSync() as Float32Array, g2.dataSync() as Float32Array];
  });
}

describe('second-order gradients (gradient penalty through leakyRelu)', () => {
  test('wasm matches cpu', async () => {
    const want = await onBackend('cpu', gpGradients);
    const got = await onBackend('wasm', gpGradients);
    assertClose('d gp / d w1', got[0], want[0]);
    assertClose('d gp / d w2', got[1], want[1]);
  });

  for (const backendName of ['wasm', 'cpu'] as const) {
    test(`${backendName} matches central finite differences`, async () => {
      await tf.setBackend(backendName);
      const eps = 1e-3;
      const { analytic, numeric } = tf.tidy(() => {
        const { x, w1, w2 } = gpInputs();
        const v1 = tf.tensor4d(seeded([...GP_SHAPES.w1], 23), [...GP_SHAPES.w1]);
        const v2 = tf.tensor2d(seeded([...GP_SHAPES.w2], 24), [...GP_SHAPES.w2]);
        const [g1, g2] = tf.grads((a: tf.Tensor, b: tf.Tensor) => penalty(a as tf.Tensor4D, b as tf.Tensor2D, x))([w1, w2]);
        const directional = tf.add(tf.sum(tf.mul(g1, v1)), tf.sum(tf.mul(g2, v2))).dataSync()[0];
        const at = (t: number) => penalty(tf.add(w1, tf.mul(v1, t)), tf.add(w2, tf.mul(v2, t)), x).dataSync()[0];
        return { analytic: directional, numeric: (at(eps) - at(-eps)) / (2 * eps) };
      });
      const rel = Math.abs(analytic - numeric) / Math.max(1e-6, Math.abs(numeric));
      assert.ok(rel < 1e-2, `${backendName}: ${analytic} vs finite difference ${numeric} (rel ${rel.toExponential(2)})`);
    });
  }
});

describe('no leaks', () => {
  test('engine tensors and wasm heap buffers stay flat across repeated kernel calls', async () => {
    await tf.setBackend('wasm');
    const backend = tf.engine().backend;
    const step = () => {
      tf.tidy(() => {
        for (const c of CASES.slice(0, 12)) {
          const dyShape = outShape(c);
          const dy = tf.randomNormal(dyShape);
          tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: tf.randomNormal(c.filter) },
            { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', inputShape: c.x });
          tf.engine().runKernel('Conv2DBackpropFilter', { x: tf.randomNormal(c.x), dy },
            { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', filterShape: c.filter });
        }
        tf.matMul(tf.randomNormal([5, 7]), tf.randomNormal([6, 7]), false, true);
        tf.tile(tf.randomNormal([1, 1, 3]), [2, 2, 1]);
      });
      netGradients();
      gpGradients();
    };
    step();
    const tensorsBefore = tf.memory().numTensors;
    const dataBefore = backend.numDataIds();
    for (let i = 0; i < 3; i++) step();
    assert.equal(tf.memory().numTensors, tensorsBefore, 'engine tensors leaked');
    assert.equal(backend.numDataIds(), dataBefore, 'wasm buffers leaked');
  });
});
