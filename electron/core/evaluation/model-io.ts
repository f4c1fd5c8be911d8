// TF.js models on the local disk, without tfjs-node's file:// handler (the wasm and cpu backends
// have none): a load handler that reads model.json and its weight shards from a folder, checking
// each file with an error a user can act on, and a save handler that writes model.json + one
// weights.bin into a temp folder and renames it into place (nothing half-written).
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import type * as TfModule from '@tensorflow/tfjs';
import type { io } from '@tensorflow/tfjs';
import { ApiError } from '../../common/errors.ts';
import { fsyncDir, writeFileDurable } from '../util/atomic-fs.ts';

type Tf = typeof TfModule;

export interface ModelFolder {
  format: 'layers-model' | 'graph-model';
  json: io.ModelJSON;
  /** every weight shard in manifest order, concatenated */
  weightData: ArrayBuffer;
  weightSpecs: io.WeightsManifestEntry[];
  /** sha256 over model.json and the shards in manifest order: the model's identity */
  sha256: string;
}

const bad = (message: string) => new ApiError('invalid_input', message);

/** Reads and checks a TF.js model folder (model.json + shards); `invalid_input` names what is wrong. */
export async function readModelFolder(dir: string): Promise<ModelFolder> {
  if (!path.isAbsolute(dir)) throw bad(`the model folder must be an absolute path, got ${JSON.stringify(dir)}`);
  const stat = await fsp.stat(dir).catch(() => null);
  if (!stat) throw bad(`model folder ${dir} does not exist`);
  if (!stat.isDirectory()) throw bad(`${dir} is not a folder (expected a folder holding model.json and its weight shards)`);
  const jsonFile = path.join(dir, 'model.json');
  const text = await fsp.readFile(jsonFile, 'utf8').catch(() => null);
  if (text === null) throw bad(`${dir} has no model.json (a TF.js model folder holds model.json and its .bin weight shards)`);
  let json: io.ModelJSON;
  try {
    json = JSON.parse(text) as io.ModelJSON;
  } catch (err) {
    throw bad(`${jsonFile} is not valid JSON: ${(err as Error).message}`);
  }
  if (!json || typeof json !== 'object' || !json.modelTopology || typeof json.modelTopology !== 'object') throw bad(`${jsonFile} has no modelTopology: not a TF.js model`);
  const format: ModelFolder['format'] =
    json.format === 'graph-model' || (json.format === undefined && 'node' in (json.modelTopology as object)) ? 'graph-model' : 'layers-model';
  if (!Array.isArray(json.weightsManifest)) throw bad(`${jsonFile} has no weightsManifest: the weights are not described`);
  const hash = crypto.createHash('sha256').update(text);
  const buffers: Uint8Array[] = [];
  const weightSpecs: io.WeightsManifestEntry[] = [];
  for (const group of json.weightsManifest) {
    if (!Array.isArray(group.paths) || !Array.isArray(group.weights)) throw bad(`${jsonFile}: a weightsManifest group lacks paths or weights`);
    for (const p of group.paths) {
      const file = path.resolve(dir, p);
      if (path.relative(dir, file).startsWith('..') || path.isAbsolute(p)) throw bad(`${jsonFile}: weight shard ${JSON.stringify(p)} lies outside the model folder`);
      const buf = await fsp.readFile(file).catch(() => null);
      if (!buf) throw bad(`weight shard ${p} named in ${jsonFile} is missing`);
      hash.update(buf);
      buffers.push(buf);
    }
    weightSpecs.push(...group.weights);
  }
  const total = buffers.reduce((a, b) => a + b.byteLength, 0);
  const expected = weightSpecs.reduce((a, s) => a + s.shape.reduce((x, y) => x * y, 1) * bytesPerElement(s.dtype, s.quantization), 0);
  if (total !== expected) throw bad(`the weight shards of ${dir} hold ${total} bytes but model.json describes ${expected}; a shard is truncated or from another model`);
  const weightData = new Uint8Array(total);
  let at = 0;
  for (const b of buffers) {
    weightData.set(b, at);
    at += b.byteLength;
  }
  return { format, json, weightData: weightData.buffer, weightSpecs, sha256: hash.digest('hex') };
}

function bytesPerElement(dtype: string, quantization?: { dtype?: string }): number {
  if (quantization?.dtype) return quantization.dtype === 'uint8' ? 1 : 2;
  if (dtype === 'bool') return 1;
  if (dtype === 'string') throw bad('string weights are not supported');
  return 4;
}

/** A tfjs IOHandler over an already read model folder. */
export function folderLoadHandler(folder: ModelFolder): io.IOHandler {
  return {
    load: async () => ({
      modelTopology: folder.json.modelTopology,
      format: folder.json.format,
      generatedBy: folder.json.generatedBy,
      convertedBy: folder.json.convertedBy,
      trainingConfig: folder.json.trainingConfig,
      signature: folder.json.signature,
      userDefinedMetadata: folder.json.userDefinedMetadata,
      modelInitializer: folder.json.modelInitializer,
      weightSpecs: folder.weightSpecs,
      weightData: folder.weightData,
    }),
  };
}

/**
 * Saves a layers model as `dir/model.json` + `dir/weights.bin`, atomically: a temp folder renamed
 * into place. Returns the sha256 of weights.bin (the weights' identity) and of model.json + shards.
 */
export async function saveLayersModel(
  tf: Tf,
  model: TfModule.LayersModel,
  dir: string,
  /** more files for the same folder (e.g. the extractor's JSON record), made once the hashes are known */
  extraFiles: (hashes: { weightsSha256: string; modelSha256: string }) => Record<string, string> = () => ({}),
): Promise<{ weightsSha256: string; modelSha256: string; weightBytes: number }> {
  const parent = path.dirname(dir);
  await fsp.mkdir(parent, { recursive: true });
  const tmp = `${dir}.tmp-${process.pid}-${crypto.randomBytes(4).toString('hex')}`;
  let result: { weightsSha256: string; modelSha256: string; weightBytes: number } | null = null;
  await fsp.mkdir(tmp);
  try {
    await model.save(
      tf.io.withSaveHandler(async (artifacts) => {
        const raw = artifacts.weightData;
        const weights = new Uint8Array(Array.isArray(raw) ? tf.io.concatenateArrayBuffers(raw) : (raw ?? new ArrayBuffer(0)));
        const json: io.ModelJSON = {
          modelTopology: artifacts.modelTopology as object,
          format: 'layers-model',
          generatedBy: artifacts.generatedBy,
          convertedBy: artifacts.convertedBy ?? null,
          weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs ?? [] }],
        };
        const text = JSON.stringify(json);
        await writeFileDurable(path.join(tmp, 'weights.bin'), weights);
        await writeFileDurable(path.join(tmp, 'model.json'), text);
        result = {
          weightsSha256: crypto.createHash('sha256').update(weights).digest('hex'),
          modelSha256: crypto.createHash('sha256').update(text).update(weights).digest('hex'),
          weightBytes: weights.byteLength,
        };
        for (const [name, content] of Object.entries(extraFiles(result))) await writeFileDurable(path.join(tmp, name), content);
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON', weightDataBytes: weights.byteLength } };
      }),
    );
    await fsyncDir(tmp);
    await fsp.rm(dir, { recursive: true, force: true });
    await fsp.rename(tmp, dir);
    await fsyncDir(parent);
  } catch (err) {
    await fsp.rm(tmp, { recursive: true, force: true });
    throw err;
  }
  if (!result) throw new Error('the model was not saved');
  return result;
}

/** sha256 of a saved model's weights.bin (what the record names), to check a folder was not changed. */
export async function weightsFileSha256(dir: string): Promise<string> {
  return crypto.createHash('sha256').update(await fsp.readFile(path.join(dir, 'weights.bin'))).digest('hex');
}
