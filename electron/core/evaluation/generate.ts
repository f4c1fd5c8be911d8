// The one "N images from a run checkpoint" generator of the studio, used by evaluations (issue 6)
// and by human rating sessions: the family runtime is rebuilt from the run's stored config and the
// dataset's shape (as the trainer builds it), the checkpoint's network weights restored — the EMA
// generator's when the checkpoint holds them, as the run's sample grids show — and N images
// generated in batches from fresh latents of a recorded seed, in inference mode. Nothing is trained
// and no optimizer is built. `signal` is checked between batches; the event loop gets a turn after
// each, so progress is reported and a cancel is seen.
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { RunConfig } from '../../common/config.ts';
import { ApiError } from '../../common/errors.ts';
import { familyDefinition } from '../families/registry.ts';
import type { DataShape } from '../families/types.ts';
import { Rng } from '../models/rng.ts';
import { selectBackend } from '../trainer/backend.ts';
import { listCheckpointDirs, readCheckpoint, type LoadedCheckpoint } from '../trainer/checkpoint.ts';

export interface GeneratedImages {
  /** NHWC uint8 */
  images: Uint8Array;
  count: number;
  height: number;
  width: number;
  channels: number;
  /** the conditioning label of each sample (conditional families), else null */
  labels: Int32Array | null;
  /** true when the checkpoint's EMA generator weights were used */
  usedEma: boolean;
}

export interface GenerateOptions {
  n: number;
  seed: number;
  batchSize?: number;
  signal?: AbortSignal;
  onProgress?: (done: number) => void;
}

let backendReady: ReturnType<typeof selectBackend> | null = null;
/** A tfjs backend, once per thread: the trainer's choice (tensorflow, then wasm, then cpu). */
export function ensureBackend(): ReturnType<typeof selectBackend> {
  backendReady ??= selectBackend('auto').catch((err: unknown) => {
    backendReady = null;
    throw err;
  });
  return backendReady;
}

const aborted = () => new DOMException('cancelled', 'AbortError');

/** Generates `opts.n` images from a loaded checkpoint of a run with this config, on data of this shape. */
export async function generateFromCheckpoint(config: RunConfig, shape: DataShape, checkpoint: LoadedCheckpoint, opts: GenerateOptions): Promise<GeneratedImages> {
  if (shape.layout !== 'images') throw new ApiError('invalid_input', `sampling a checkpoint needs an image dataset; this run trains on ${shape.layout} data`);
  if (!Number.isInteger(opts.n) || opts.n < 0) throw new ApiError('invalid_input', `the number of images to generate must be a whole number ≥ 0, got ${opts.n}`);
  if (opts.signal?.aborted) throw aborted();
  await ensureBackend();
  const runtime = familyDefinition(config.family).build(config, shape, config.seed);
  try {
    for (const [key, params] of Object.entries(runtime.networks)) {
      const values = new Map<string, tf.Tensor>();
      for (const [name, t] of checkpoint.tensors) if (name.startsWith(`${key}/`)) values.set(name.slice(key.length + 1), tf.tensor(t.data, t.shape));
      try {
        params.assign(values);
      } finally {
        tf.dispose([...values.values()]);
      }
    }
    let usedEma = false;
    const g = runtime.generatorKey ? runtime.networks[runtime.generatorKey] : undefined;
    if (g) {
      for (const [name, v] of g.trainable()) {
        const e = checkpoint.tensors.get(`ema/${name}`);
        if (!e) continue;
        tf.tidy(() => v.assign(tf.tensor(e.data, e.shape)));
        usedEma = true;
      }
    }
    const { height, width, channels, classes } = shape;
    const latentDim = config.architecture.latentDim;
    const rng = Rng.derive(opts.seed, 11);
    const batch = Math.max(1, opts.batchSize ?? 100);
    const size = height * width * channels;
    const images = new Uint8Array(opts.n * size);
    const labels = classes ? new Int32Array(opts.n) : null;
    for (let start = 0; start < opts.n; start += batch) {
      if (opts.signal?.aborted) throw aborted();
      const m = Math.min(batch, opts.n - start);
      const zData = new Float32Array(m * latentDim);
      if (config.tricks.latent === 'uniform') for (let i = 0; i < zData.length; i++) zData[i] = rng.uniform() * 2 - 1;
      else rng.fillNormal(zData);
      const lab = classes ? Int32Array.from({ length: m }, () => rng.int(classes)) : null;
      if (lab && labels) labels.set(lab, start);
      const z = tf.tensor2d(zData, [m, latentDim]);
      let px: Float32Array | Int32Array | Uint8Array;
      try {
        const out = tf.tidy(() => {
          const s = runtime.sample({ z, labels: lab, a: null, b: null, extent: null });
          if (s.kind !== 'grid') throw new ApiError('invalid_input', `${config.family} does not generate images`);
          return tf.clipByValue(tf.round(tf.mul(tf.add(s.images, 1), 127.5)), 0, 255);
        });
        px = await out.data();
        out.dispose();
      } finally {
        z.dispose();
      }
      if (px.length !== m * size) throw new ApiError('internal', `the generator made ${px.length / size} images of ${height}×${width}×${channels} for a batch of ${m}`);
      for (let i = 0; i < px.length; i++) {
        const v = px[i]!;
        if (!Number.isFinite(v)) throw new ApiError('invalid_input', `the generator produced non-finite pixels (NaN) at the checkpoint of step ${checkpoint.manifest.step}: the run diverged`);
        images[start * size + i] = v;
      }
      opts.onProgress?.(start + m);
      await new Promise<void>((r) => setImmediate(r));
    }
    return { images, count: opts.n, height, width, channels, labels, usedEma };
  } finally {
    runtime.dispose();
  }
}

/**
 * Loads a run's checkpoint — the one at `step`, or the newest readable one — and generates from it.
 * No checkpoint, no such step or none readable: `invalid_input` / `not_found` naming what exists.
 */
export async function generateFromRun(
  req: { runId: string; runDir: string; config: RunConfig; shape: DataShape; step?: number } & GenerateOptions,
): Promise<{ step: number; checkpointDir: string; generated: GeneratedImages }> {
  const dirs = await listCheckpointDirs(path.join(req.runDir, 'checkpoints'));
  if (dirs.length === 0) throw new ApiError('invalid_input', `run ${req.runId} has no checkpoint to sample from yet`);
  const chosen = req.step === undefined ? dirs : dirs.filter((d) => d.step === req.step);
  if (chosen.length === 0) throw new ApiError('not_found', `run ${req.runId} has no checkpoint at step ${req.step} (it has ${dirs.map((d) => d.step).join(', ')})`);
  const problems: string[] = [];
  for (const d of chosen) {
    let ckpt: LoadedCheckpoint;
    try {
      ckpt = await readCheckpoint(d.dir);
    } catch (err) {
      problems.push((err as Error).message);
      continue;
    }
    const generated = await generateFromCheckpoint(req.config, req.shape, ckpt, req);
    return { step: ckpt.manifest.step, checkpointDir: d.dir, generated };
  }
  throw new ApiError('invalid_input', `no readable checkpoint of run ${req.runId}: ${problems.join('; ')}`);
}
