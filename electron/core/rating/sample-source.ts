// Where the images of a rating session come from: N generated images from a run's checkpoint (its
// EMA generator when the run keeps one), and real images from a dataset's held-out split (the
// training images when the dataset has none, which the caller notes on the session).
//
// The evaluation code (issue 6) had no exported "N images from a checkpoint" generator when this was
// written, so this one builds the family's runtime from the run config, loads the checkpoint's
// weights and runs the family's own `sample` on fresh latents, in small batches so the event loop
// stays responsive and progress can be reported.
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { RunConfig } from '../../common/config.ts';
import { ApiError } from '../../common/errors.ts';
import { familyDefinition } from '../families/registry.ts';
import type { DataShape } from '../families/types.ts';
import { Rng } from '../models/rng.ts';
import { listCheckpointDirs, readCheckpoint } from '../trainer/checkpoint.ts';
import { loadDatasetCache } from '../datasets/cache.ts';
import { selectBackend } from '../trainer/backend.ts';

/** Images as NHWC uint8, all the same size. */
export interface ImageSet {
  width: number;
  height: number;
  channels: 1 | 3;
  count: number;
  pixels: Uint8Array;
}

export function imageAt(set: ImageSet, i: number): Uint8Array {
  const size = set.width * set.height * set.channels;
  return set.pixels.subarray(i * size, (i + 1) * size);
}

let backendReady: Promise<unknown> | null = null;
/** The core process needs a tfjs backend once; the best one that loads (as the trainer picks). */
function ensureBackend(): Promise<unknown> {
  backendReady ??= selectBackend('auto').catch((err: unknown) => {
    backendReady = null;
    throw err;
  });
  return backendReady;
}

export interface CheckpointSampleRequest {
  runId: string;
  runDir: string;
  config: RunConfig;
  /** the dataset's shape, which the networks were built for */
  shape: DataShape;
  /** a checkpoint step; the newest readable one when left out */
  step?: number;
  count: number;
  seed: number;
  onProgress?: (done: number) => void;
  signal?: AbortSignal;
}

/** Generates `count` images from a run checkpoint; returns them with the step actually used. */
export async function generateFromCheckpoint(req: CheckpointSampleRequest): Promise<{ step: number; images: ImageSet }> {
  if (req.shape.layout !== 'images') {
    throw new ApiError('invalid_input', `run ${req.runId} trains on ${req.shape.layout} data; rating sessions sample unconditional and class-conditional image generators only`);
  }
  const dirs = await listCheckpointDirs(path.join(req.runDir, 'checkpoints'));
  if (dirs.length === 0) throw new ApiError('invalid_input', `run ${req.runId} has no checkpoint to sample from yet`);
  const chosen = req.step === undefined ? dirs : dirs.filter((d) => d.step === req.step);
  if (chosen.length === 0) throw new ApiError('not_found', `run ${req.runId} has no checkpoint at step ${req.step} (it has ${dirs.map((d) => d.step).join(', ')})`);
  let ckpt: Awaited<ReturnType<typeof readCheckpoint>> | null = null;
  const problems: string[] = [];
  for (const d of chosen) {
    try {
      ckpt = await readCheckpoint(d.dir);
      break;
    } catch (err) {
      problems.push((err as Error).message);
    }
  }
  if (!ckpt) throw new ApiError('invalid_input', `no readable checkpoint of run ${req.runId}: ${problems.join('; ')}`);
  await ensureBackend();
  const { config, shape } = req;
  const runtime = familyDefinition(config.family).build(config, shape, config.seed);
  try {
    for (const [key, params] of Object.entries(runtime.networks)) {
      const values = new Map<string, tf.Tensor>();
      for (const [name, t] of ckpt.tensors) if (name.startsWith(`${key}/`)) values.set(name.slice(key.length + 1), tf.tensor(t.data, t.shape));
      try {
        params.assign(values);
      } finally {
        tf.dispose([...values.values()]);
      }
    }
    // EMA weights of the generator are what the run shows in its sample grids; use them when kept.
    const g = runtime.generatorKey ? runtime.networks[runtime.generatorKey] : undefined;
    if (g) {
      for (const [name, v] of g.trainable()) {
        const e = ckpt.tensors.get(`ema/${name}`);
        if (e) tf.tidy(() => v.assign(tf.tensor(e.data, e.shape)));
      }
    }
    const rng = new Rng(req.seed);
    const latentDim = config.architecture.latentDim;
    const { height, width, channels } = shape;
    const size = height * width * channels;
    const pixels = new Uint8Array(req.count * size);
    const batch = 16;
    for (let start = 0; start < req.count; start += batch) {
      if (req.signal?.aborted) throw new ApiError('conflict', 'sampling was cancelled');
      const n = Math.min(batch, req.count - start);
      const z = new Float32Array(n * latentDim);
      if (config.tricks.latent === 'uniform') for (let i = 0; i < z.length; i++) z[i] = rng.uniform() * 2 - 1;
      else rng.fillNormal(z);
      const labels = shape.classes ? Int32Array.from({ length: n }, () => rng.int(shape.classes!)) : null;
      const zt = tf.tensor2d(z, [n, latentDim]);
      try {
        const out = tf.tidy(() => {
          const s = runtime.sample({ z: zt, labels, a: null, b: null, extent: null });
          if (s.kind !== 'grid') throw new ApiError('invalid_input', `run ${req.runId} does not produce images`);
          return tf.clipByValue(tf.mul(tf.add(s.images, 1), 127.5), 0, 255);
        });
        const data = await out.data();
        out.dispose();
        for (let i = 0; i < n * size; i++) pixels[start * size + i] = Math.round(data[i]!);
      } finally {
        zt.dispose();
      }
      req.onProgress?.(start + n);
      await new Promise((r) => setImmediate(r));
    }
    return { step: ckpt.manifest.step, images: { width, height, channels: channels as 1 | 3, count: req.count, pixels } };
  } finally {
    runtime.dispose();
  }
}

/** The dataset's held-out images, or its training images (`split: 'train'`) when it has no held-out split. */
export async function loadRealImages(datasetDir: string): Promise<{ split: 'holdout' | 'train'; images: ImageSet }> {
  const data = await loadDatasetCache(datasetDir);
  const m = data.manifest;
  if (m.layout !== 'images' || !data.images) throw new ApiError('invalid_input', `dataset ${m.id} holds ${m.layout} data, not images`);
  const size = m.width * m.height * m.channels;
  const held = m.holdout?.count ?? 0;
  if (held > 0) {
    const buf = await fsp.readFile(path.join(datasetDir, 'holdout_images.u8')).catch(() => null);
    if (buf && buf.byteLength >= held * size) {
      return { split: 'holdout', images: { width: m.width, height: m.height, channels: m.channels, count: held, pixels: new Uint8Array(buf.buffer, buf.byteOffset, held * size) } };
    }
  }
  return { split: 'train', images: { width: m.width, height: m.height, channels: m.channels, count: m.count, pixels: data.images } };
}
