// Feature extractors at run time: a studio-trained classifier or a user TF.js model (layers or
// graph) loaded from its folder, or pixel space. Each turns uint8 NHWC images into a float32
// (N, d) feature matrix and, when it has a softmax, (N, C) class probabilities.
import crypto from 'node:crypto';
import type * as TfModule from '@tensorflow/tfjs';
import type { Extractor } from '../../common/api-evaluation.ts';
import { ApiError } from '../../common/errors.ts';
import { folderLoadHandler, readModelFolder } from './model-io.ts';

type Tf = typeof TfModule;

export const PIXEL_SIZES = [8, 16, 32] as const;

export type InputRange = '-1..1' | '0..1' | '0..255';

/** What the worker needs to load an extractor: the record, its folder and input range. */
export interface ExtractorSpec {
  extractor: Extractor;
  dir: string | null;
}

export interface ImageShape {
  height: number;
  width: number;
  channels: number;
}

export interface FeatureExtractor {
  readonly extractor: Extractor;
  /** the image shape the network (or pixel space) takes, given the data's own shape */
  inputShape(data: ImageShape): ImageShape;
  featureDim(data: ImageShape): number;
  readonly hasProbs: boolean;
  /** images uint8 NHWC already at `inputShape`; rows [start, start+n) */
  extract(images: Uint8Array, start: number, n: number, shape: ImageShape): { features: Float32Array; probs: Float32Array | null; classes: number };
  dispose(): void;
}

/** The built-in pixel extractors: native resolution, and downsampled to S×S. */
export function pixelExtractors(): Extractor[] {
  const make = (size: number | null): Extractor => ({
    id: size ? `pixel-${size}` : 'pixel',
    name: size ? `Pixels, downsampled to ${size}×${size}` : 'Pixels (native resolution)',
    kind: 'pixel',
    architecture: 'pixel',
    weightsHash: size ? `pixel:${size}x${size}` : 'pixel:native',
    inputWidth: size ?? 0,
    inputHeight: size ?? 0,
    inputChannels: 0,
    inputRange: '-1..1',
    featureLayer: null,
    featureDim: 0,
    probsLayer: null,
    classNames: null,
    datasetId: null,
    datasetHash: null,
    accuracy: null,
    accuracySplit: null,
    accuracyCount: null,
    source: null,
    training: null,
    createdAt: 0,
  });
  return [make(null), ...PIXEL_SIZES.map(make)];
}

export function isPixelExtractorId(id: string): boolean {
  return pixelExtractors().some((e) => e.id === id);
}

/** d of an extractor on data of this shape (pixel extractors depend on the data). */
export function featureDimOf(e: Extractor, data: ImageShape): number {
  if (e.kind !== 'pixel') return e.featureDim;
  return (e.inputHeight || data.height) * (e.inputWidth || data.width) * data.channels;
}

function toFloat(tf: Tf, images: Uint8Array, start: number, n: number, shape: ImageShape, range: InputRange): TfModule.Tensor4D {
  const size = shape.height * shape.width * shape.channels;
  const src = images.subarray(start * size, (start + n) * size);
  const out = new Float32Array(n * size);
  if (range === '-1..1') for (let i = 0; i < out.length; i++) out[i] = src[i] / 127.5 - 1;
  else if (range === '0..1') for (let i = 0; i < out.length; i++) out[i] = src[i] / 255;
  else for (let i = 0; i < out.length; i++) out[i] = src[i];
  return tf.tensor4d(out, [n, shape.height, shape.width, shape.channels]);
}

const flatten2d = (tf: Tf, t: TfModule.Tensor): TfModule.Tensor2D => (t.rank === 2 ? (t as TfModule.Tensor2D) : tf.reshape(t, [t.shape[0]!, -1]));

export async function loadExtractor(tf: Tf, spec: ExtractorSpec): Promise<FeatureExtractor> {
  const e = spec.extractor;
  if (e.kind === 'pixel') {
    return {
      extractor: e,
      hasProbs: false,
      inputShape: (d) => ({ height: e.inputHeight || d.height, width: e.inputWidth || d.width, channels: d.channels }),
      featureDim: (d) => featureDimOf(e, d),
      extract(images, start, n, shape) {
        const size = shape.height * shape.width * shape.channels;
        const features = new Float32Array(n * size);
        const src = images.subarray(start * size, (start + n) * size);
        for (let i = 0; i < features.length; i++) features[i] = src[i] / 127.5 - 1;
        return { features, probs: null, classes: 0 };
      },
      dispose() {},
    };
  }
  if (!spec.dir) throw new ApiError('internal', `extractor ${e.id} has no model folder`);
  const folder = await readModelFolder(spec.dir);
  const found = e.kind === 'user-model' ? folder.sha256 : crypto.createHash('sha256').update(new Uint8Array(folder.weightData)).digest('hex');
  if (found !== e.weightsHash) {
    throw new ApiError('conflict', `the model files of extractor ${e.id} changed since it was recorded (sha256 ${found.slice(0, 12)}…, recorded ${e.weightsHash.slice(0, 12)}…); ${e.kind === 'user-model' ? 'register it again' : 'train it again'}`);
  }
  const input: ImageShape = { height: e.inputHeight, width: e.inputWidth, channels: e.inputChannels };
  const common = { extractor: e, inputShape: () => input, featureDim: () => e.featureDim, hasProbs: e.probsLayer !== null };
  if (folder.format === 'layers-model') {
    const model = await tf.loadLayersModel(folderLoadHandler(folder));
    const outputs = [layerOutput(model, e.featureLayer ?? '', 'feature layer')];
    if (e.probsLayer) outputs.push(layerOutput(model, e.probsLayer, 'probability layer'));
    const sub = tf.model({ inputs: model.inputs, outputs });
    return { ...common, extract: extractThrough(tf, e, (x) => sub.predict(x)), dispose: () => model.dispose() };
  }
  const graph = await tf.loadGraphModel(folderLoadHandler(folder));
  const names = [e.featureLayer ?? graph.outputs[0]!.name, ...(e.probsLayer ? [e.probsLayer] : [])];
  return { ...common, extract: extractThrough(tf, e, (x) => graph.execute(x, names)), dispose: () => graph.dispose() };
}

/** `extract` of a loaded model: its outputs (features, then the optional probabilities) flattened to 2-D and read back. */
function extractThrough(tf: Tf, e: Extractor, run: (x: TfModule.Tensor) => TfModule.Tensor | TfModule.Tensor[]): FeatureExtractor['extract'] {
  return (images, start, n, shape) => {
    const out = tf.tidy(() => {
      const res = run(toFloat(tf, images, start, n, shape, e.inputRange));
      const list = Array.isArray(res) ? res : [res];
      return list.map((t) => flatten2d(tf, t));
    });
    const features = out[0].dataSync() as Float32Array;
    const probs = out[1] ? (out[1].dataSync() as Float32Array) : null;
    const classes = out[1] ? out[1].shape[1] : 0;
    tf.dispose(out);
    return { features, probs, classes };
  };
}

function layerOutput(model: TfModule.LayersModel, name: string, what: string): TfModule.SymbolicTensor {
  const layer = model.layers.find((l) => l.name === name);
  if (!layer) throw new ApiError('invalid_input', `${what} "${name}" not found; the model's layers are: ${model.layers.map((l) => l.name).join(', ')}`);
  const out = layer.output;
  return Array.isArray(out) ? out[0]! : out;
}

/**
 * Inspects a user model folder and builds its extractor record: format, input shape, feature and
 * probability layers (defaults: the penultimate layer / the first output; the last layer when it is
 * a softmax), feature dimension measured by running one zero image. Errors are `invalid_input`.
 */
export async function inspectUserModel(
  tf: Tf,
  request: { path: string; name?: string; featureLayer?: string; probsLayer?: string; inputSize?: number; inputChannels?: 1 | 3; inputRange: InputRange },
  id: string,
): Promise<Extractor> {
  const folder = await readModelFolder(request.path);
  let featureLayer: string;
  let probsLayer: string | null = request.probsLayer ?? null;
  let inputShape: (number | null)[] = [];
  let dispose: () => void;
  let run: (x: TfModule.Tensor) => TfModule.Tensor[];
  try {
    if (folder.format === 'layers-model') {
      const model = await tf.loadLayersModel(folderLoadHandler(folder));
      dispose = () => model.dispose();
      inputShape = model.inputs[0]!.shape;
      const layers = model.layers;
      featureLayer = request.featureLayer ?? (layers.length >= 2 ? layers[layers.length - 2]!.name : layers[0]!.name);
      if (!request.probsLayer) {
        const last = layers[layers.length - 1]!;
        const activation = (last.getConfig() as { activation?: string }).activation;
        if (activation === 'softmax' && last.name !== featureLayer) probsLayer = last.name;
      }
      const outputs = [layerOutput(model, featureLayer, 'feature layer'), ...(probsLayer ? [layerOutput(model, probsLayer, 'probability layer')] : [])];
      const sub = tf.model({ inputs: model.inputs, outputs });
      run = (x) => {
        const r = sub.predict(x);
        return Array.isArray(r) ? r : [r];
      };
    } else {
      const graph = await tf.loadGraphModel(folderLoadHandler(folder));
      dispose = () => graph.dispose();
      inputShape = graph.inputs[0]?.shape ?? [];
      featureLayer = request.featureLayer ?? graph.outputs[0]!.name;
      run = (x) => {
        try {
          const r = graph.execute(x, [featureLayer, ...(probsLayer ? [probsLayer] : [])]);
          return Array.isArray(r) ? r : [r];
        } catch (err) {
          throw new ApiError('invalid_input', `graph model: ${(err as Error).message} (outputs: ${graph.outputs.map((o) => o.name).join(', ')})`);
        }
      };
    }
  } catch (err) {
    if (err instanceof ApiError) throw err;
    throw new ApiError('invalid_input', `${request.path} could not be loaded as a TF.js ${folder.format}: ${(err as Error).message}`);
  }
  try {
    const h = request.inputSize ?? inputShape[1] ?? null;
    const w = request.inputSize ?? inputShape[2] ?? null;
    const c = request.inputChannels ?? inputShape[3] ?? null;
    if (!h || !w || !c) throw new ApiError('invalid_input', `the model's input shape [${inputShape.map((v) => v ?? '?').join(', ')}] does not fix the image size; pass inputSize and inputChannels`);
    if (c !== 1 && c !== 3) throw new ApiError('invalid_input', `the model takes ${c} channels; only 1 (grey) or 3 (RGB) images are supported`);
    if (inputShape.length && inputShape.length !== 4) throw new ApiError('invalid_input', `the model's input has rank ${inputShape.length}; an image model takes [N, H, W, C]`);
    const outs = tf.tidy(() => run(tf.zeros([1, h, w, c])).map((t) => (t.rank === 2 ? t : t.reshape([1, -1]))));
    const featureDim = outs[0]!.shape[1]!;
    const classes = outs[1]?.shape[1] ?? 0;
    tf.dispose(outs);
    return {
      id,
      name: request.name ?? `User model (${folder.format}) ${request.path.split(/[\\/]/).filter(Boolean).pop() ?? ''}`.trim(),
      kind: 'user-model',
      architecture: folder.format === 'layers-model' ? 'layers' : 'graph',
      weightsHash: folder.sha256,
      inputWidth: w,
      inputHeight: h,
      inputChannels: c,
      inputRange: request.inputRange,
      featureLayer,
      featureDim,
      probsLayer,
      classNames: probsLayer ? Array.from({ length: classes }, (_, i) => String(i)) : null,
      datasetId: null,
      datasetHash: null,
      accuracy: null,
      accuracySplit: null,
      accuracyCount: null,
      source: request.path,
      training: null,
      createdAt: Date.now(),
    };
  } catch (err) {
    if (err instanceof ApiError) throw err;
    throw new ApiError('invalid_input', `running ${request.path} on a ${request.inputSize ?? '?'}-pixel image failed: ${(err as Error).message}`);
  } finally {
    dispose();
  }
}
