// Samples from a run's checkpoint for evaluation: the family runtime is rebuilt from the run's
// stored config (as the trainer builds it), the checkpoint's weights restored (the EMA generator
// when the run keeps one, as its sample grids show), and N images generated in batches from fresh
// latents of a recorded seed, in inference mode.
import * as tf from '@tensorflow/tfjs';
import type { RunConfig } from '../../common/config.ts';
import { ApiError } from '../../common/errors.ts';
import { Rng } from '../models/rng.ts';
import { GanTrainer } from '../trainer/gan-trainer.ts';
import type { TrainingData } from '../trainer/data-source.ts';
import type { LoadedCheckpoint } from '../trainer/checkpoint.ts';

export interface GeneratedImages {
  images: Uint8Array;
  count: number;
  height: number;
  width: number;
  channels: number;
  /** the conditioning label of each sample (conditional families), else null */
  labels: Int32Array | null;
  usedEma: boolean;
}

/**
 * Generates `n` images. `signal` is checked between batches; `onProgress(done)` after each.
 * The trainer's data is only used to build the runtime (shape, classes); nothing is trained.
 */
export async function generateFromCheckpoint(
  config: RunConfig,
  data: TrainingData,
  checkpoint: LoadedCheckpoint,
  opts: { n: number; seed: number; batchSize?: number; signal?: AbortSignal; onProgress?: (done: number) => void },
): Promise<GeneratedImages> {
  if (data.shape.layout !== 'images') throw new ApiError('invalid_input', `evaluation from a run needs an image dataset; this run trains on ${data.shape.layout} data`);
  const trainer = new GanTrainer(config, data);
  try {
    trainer.restore(checkpoint, { weightsOnly: true });
    const family = trainer.family;
    const gKey = family.generatorKey;
    let usedEma = false;
    if (gKey && config.tricks.emaDecay > 0) {
      const g = family.networks[gKey]!;
      const swaps: [tf.Variable, tf.Tensor][] = [];
      for (const [name, v] of g.trainable()) {
        const e = checkpoint.tensors.get(`ema/${name}`);
        if (e) swaps.push([v, tf.tensor(e.data, e.shape)]);
      }
      for (const [v, t] of swaps) {
        v.assign(t);
        t.dispose();
      }
      usedEma = swaps.length > 0;
    }
    const { height, width, channels, classes } = data.shape;
    const latentDim = config.architecture.latentDim;
    const rng = Rng.derive(opts.seed, 11);
    const batch = opts.batchSize ?? 100;
    const size = height * width * channels;
    const images = new Uint8Array(opts.n * size);
    const labels = classes ? new Int32Array(opts.n) : null;
    for (let start = 0; start < opts.n; start += batch) {
      if (opts.signal?.aborted) throw new DOMException('cancelled', 'AbortError');
      const m = Math.min(batch, opts.n - start);
      const zData = new Float32Array(m * latentDim);
      if (config.tricks.latent === 'uniform') for (let i = 0; i < zData.length; i++) zData[i] = rng.uniform() * 2 - 1;
      else rng.fillNormal(zData);
      const lab = classes ? Int32Array.from({ length: m }, () => rng.int(classes)) : null;
      if (lab && labels) labels.set(lab, start);
      const z = tf.tensor2d(zData, [m, latentDim]);
      const out = tf.tidy(() => {
        const s = family.sample({ z, labels: lab, a: null, b: null, extent: null });
        if (s.kind !== 'grid') throw new ApiError('invalid_input', `${config.family} does not generate images`);
        return tf.clipByValue(tf.round(tf.mul(tf.add(s.images, 1), 127.5)), 0, 255);
      });
      z.dispose();
      const px = out.dataSync();
      out.dispose();
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
    trainer.dispose();
  }
}
