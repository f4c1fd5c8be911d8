import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import type { Tensor4D } from '@tensorflow/tfjs';
import { explainNativeFailure, selectBackend } from '../../electron/core/trainer/backend.ts';

const require = createRequire(import.meta.url);
const installed = (pkg: string) => {
  try {
    require.resolve(pkg);
    return true;
  } catch {
    return false;
  }
};

test('a missing native package is explained as an optional dependency that was skipped', () => {
  const err = Object.assign(new Error("Cannot find package '@tensorflow/tfjs-node-gpu' imported from /x.ts"), { code: 'ERR_MODULE_NOT_FOUND' });
  assert.match(explainNativeFailure('@tensorflow/tfjs-node-gpu', err), /not installed.*optional.*libtensorflow/);
});

test('a native load failure names the missing shared library', () => {
  const err = new Error('libcudnn.so.8: cannot open shared object file: No such file or directory');
  const reason = explainNativeFailure('@tensorflow/tfjs-node-gpu', err);
  assert.match(reason, /could not load libcudnn\.so\.8/);
  assert.match(reason, /No such file or directory/);
});

test('auto picks the fastest backend that loads and records why faster ones were skipped', async () => {
  const { tf, report } = await selectBackend('auto');
  assert.equal(tf.getBackend(), report.name);
  assert.equal(report.forced, false);
  if (!installed('@tensorflow/tfjs-node-gpu') && !installed('@tensorflow/tfjs-node')) {
    // the build machines: libtensorflow cannot be downloaded, so wasm is the best backend
    assert.equal(report.name, 'wasm');
    assert.deepEqual(report.skipped.map((s) => s.provider), ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']);
    for (const s of report.skipped) assert.match(s.reason, /not installed/);
  } else {
    assert.equal(report.name, 'tensorflow');
  }
  // the chosen backend trains a conv layer (stock wasm has no Conv2DBackpropFilter)
  const w = tf.variable(tf.randomNormal([3, 3, 1, 2], 0, 0.1, 'float32', 1));
  const x = tf.randomNormal([2, 8, 8, 1], 0, 1, 'float32', 2) as Tensor4D;
  const { grads } = tf.variableGrads(() => tf.sum(tf.square(tf.conv2d(x, w as Tensor4D, 2, 'same'))), [w]);
  assert.ok(Object.values(grads)[0].dataSync().some((v) => v !== 0));
});

test('a forced backend that cannot load is an error, not a silent fallback', async () => {
  if (installed('@tensorflow/tfjs-node') || installed('@tensorflow/tfjs-node-gpu')) return;
  await assert.rejects(selectBackend('tensorflow'), /backend "tensorflow" was requested but is not available: .*not installed/);
});
