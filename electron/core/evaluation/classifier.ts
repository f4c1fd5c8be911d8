// The domain classifier (METRICS.md "Feature extractors" 1): LeNet-like for small grey images, a
// small ResNet otherwise, trained in the studio on a labelled dataset with seeded initialisers and
// a seeded shuffle. Its `features` layer (the penultimate, after ReLU) feeds FID/KID/P&R/PRDC/PRD/FM;
// its `probs` softmax feeds IS and mode counting ("Fréchet LeNet Distance" is the precedent).
import type * as TfModule from '@tensorflow/tfjs';
import { Rng } from '../models/rng.ts';

type Tf = typeof TfModule;

export const FEATURE_LAYER = 'features';
export const PROBS_LAYER = 'probs';
export const LENET_FEATURES = 64;
export const RESNET_FEATURES = 128;

export type ClassifierArchitecture = 'lenet' | 'resnet';

export function chooseArchitecture(requested: 'auto' | ClassifierArchitecture, height: number, width: number, channels: number): ClassifierArchitecture {
  if (requested !== 'auto') return requested;
  return height <= 32 && width <= 32 && channels === 1 ? 'lenet' : 'resnet';
}

export function buildClassifier(tf: Tf, arch: ClassifierArchitecture, shape: { height: number; width: number; channels: number }, classes: number, seed: number): TfModule.LayersModel {
  let s = seed;
  const init = () => tf.initializers.heNormal({ seed: s++ });
  const glorot = () => tf.initializers.glorotUniform({ seed: s++ });
  const input = tf.input({ shape: [shape.height, shape.width, shape.channels], name: 'image' });
  let x: TfModule.SymbolicTensor;
  let dim: number;
  if (arch === 'lenet') {
    x = tf.layers.conv2d({ filters: 16, kernelSize: 5, padding: 'same', activation: 'relu', kernelInitializer: init(), name: 'conv1' }).apply(input) as TfModule.SymbolicTensor;
    x = tf.layers.maxPooling2d({ poolSize: 2, name: 'pool1' }).apply(x) as TfModule.SymbolicTensor;
    x = tf.layers.conv2d({ filters: 32, kernelSize: 5, padding: 'same', activation: 'relu', kernelInitializer: init(), name: 'conv2' }).apply(x) as TfModule.SymbolicTensor;
    x = tf.layers.maxPooling2d({ poolSize: 2, name: 'pool2' }).apply(x) as TfModule.SymbolicTensor;
    x = tf.layers.flatten({ name: 'flatten' }).apply(x) as TfModule.SymbolicTensor;
    dim = LENET_FEATURES;
  } else {
    const conv = (t: TfModule.SymbolicTensor, filters: number, stride: number, name: string, activation: 'relu' | 'linear' = 'relu') =>
      tf.layers.conv2d({ filters, kernelSize: 3, strides: stride, padding: 'same', activation, kernelInitializer: init(), name }).apply(t) as TfModule.SymbolicTensor;
    const block = (t: TfModule.SymbolicTensor, filters: number, stride: number, name: string) => {
      let shortcut = t;
      if (stride !== 1 || (t.shape[3] ?? 0) !== filters) shortcut = tf.layers.conv2d({ filters, kernelSize: 1, strides: stride, padding: 'same', kernelInitializer: init(), name: `${name}_proj` }).apply(t) as TfModule.SymbolicTensor;
      const y = conv(conv(t, filters, stride, `${name}_a`), filters, 1, `${name}_b`, 'linear');
      return tf.layers.reLU({ name: `${name}_out` }).apply(tf.layers.add({ name: `${name}_add` }).apply([y, shortcut])) as TfModule.SymbolicTensor;
    };
    x = conv(input, 32, 1, 'stem');
    x = block(x, 32, 1, 'res1');
    x = block(x, 64, 2, 'res2');
    x = block(x, 128, 2, 'res3');
    x = tf.layers.globalAveragePooling2d({ name: 'gap' }).apply(x) as TfModule.SymbolicTensor;
    dim = RESNET_FEATURES;
  }
  const features = tf.layers.dense({ units: dim, activation: 'relu', kernelInitializer: init(), name: FEATURE_LAYER }).apply(x) as TfModule.SymbolicTensor;
  const probs = tf.layers.dense({ units: classes, activation: 'softmax', kernelInitializer: glorot(), name: PROBS_LAYER }).apply(features) as TfModule.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: probs, name: `classifier_${arch}` });
  model.compile({ optimizer: tf.train.adam(1e-3), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  return model;
}

export interface LabelledImages {
  /** N×H×W×C uint8 */
  images: Uint8Array;
  labels: Uint8Array;
  count: number;
}

export interface TrainProgress {
  epoch: number;
  epochs: number;
  batch: number;
  batches: number;
  loss: number;
}

/** uint8 NHWC rows `idx` → float [-1, 1] tensor (the trainer's convention). */
export function toInput(tf: Tf, images: Uint8Array, idx: ArrayLike<number>, shape: { height: number; width: number; channels: number }): TfModule.Tensor4D {
  const size = shape.height * shape.width * shape.channels;
  const out = new Float32Array(idx.length * size);
  for (let k = 0; k < idx.length; k++) {
    const base = idx[k] * size;
    for (let i = 0; i < size; i++) out[k * size + i] = images[base + i] / 127.5 - 1;
  }
  return tf.tensor4d(out, [idx.length, shape.height, shape.width, shape.channels]);
}

/** Trains with a seeded shuffle; checks `signal` between batches. Returns the mean loss of the last epoch. */
export async function trainClassifier(
  tf: Tf,
  model: TfModule.LayersModel,
  data: LabelledImages,
  shape: { height: number; width: number; channels: number },
  opts: { epochs: number; batchSize: number; seed: number; signal?: AbortSignal; onProgress?: (p: TrainProgress) => void },
): Promise<number> {
  const rng = new Rng(opts.seed);
  const batches = Math.ceil(data.count / opts.batchSize);
  let lastLoss = NaN;
  for (let epoch = 0; epoch < opts.epochs; epoch++) {
    const order = rng.permutation(data.count);
    let sum = 0;
    for (let b = 0; b < batches; b++) {
      if (opts.signal?.aborted) throw new DOMException('cancelled', 'AbortError');
      const idx = order.slice(b * opts.batchSize, Math.min(data.count, (b + 1) * opts.batchSize));
      const x = toInput(tf, data.images, idx, shape);
      const y = tf.tensor1d(Float32Array.from(idx, (i) => data.labels[i]));
      const out = await model.trainOnBatch(x, y);
      tf.dispose([x, y]);
      const loss = Array.isArray(out) ? out[0] : out;
      sum += loss;
      opts.onProgress?.({ epoch: epoch + 1, epochs: opts.epochs, batch: b + 1, batches, loss });
      // let a cancel message in
      if (b % 8 === 7) await new Promise<void>((r) => setImmediate(r));
    }
    lastLoss = sum / batches;
  }
  return lastLoss;
}

/** Top-1 accuracy on labelled images, in batches. */
export function classifierAccuracy(tf: Tf, model: TfModule.LayersModel, data: LabelledImages, shape: { height: number; width: number; channels: number }, batchSize = 256): number {
  let correct = 0;
  for (let start = 0; start < data.count; start += batchSize) {
    const idx = Array.from({ length: Math.min(batchSize, data.count - start) }, (_, k) => start + k);
    const pred = tf.tidy(() => (model.predict(toInput(tf, data.images, idx, shape)) as TfModule.Tensor).argMax(-1).dataSync());
    for (let k = 0; k < idx.length; k++) if (pred[k] === data.labels[idx[k]]) correct++;
  }
  return data.count ? correct / data.count : NaN;
}
