// The generic GAN training loop body, independent of any process or transport: one `trainStep`
// runs `dStepsPerG` discriminator updates and one generator update with the objective's losses.
// Everything random (latents, batch order, GP mixing) comes from seeded RNGs whose state the
// checkpoint stores, so resume is exact.
import * as tf from '@tensorflow/tfjs-core';
import type { RunConfig } from '../../common/config.ts';
import { Rng, type RngState } from '../models/rng.ts';
import { buildDiscriminator, buildGenerator, type DcganSpec, type Discriminator, type Generator } from '../models/dcgan.ts';
import { createOptimizer, type Optimizer } from '../models/optim.ts';
import { OBJECTIVE_LOSSES } from '../models/objectives.ts';
import { updateRunningStats, type BatchStats } from '../models/layers.ts';
import type { LoadedCheckpoint, TensorEntry } from './checkpoint.ts';
import { tileImages, type GridImage } from '../util/image-grid.ts';

export interface TrainingData {
  images: Uint8Array;
  count: number;
  height: number;
  width: number;
  channels: number;
}

export interface StepStats {
  step: number;
  dLoss: number;
  gLoss: number;
  /** mean D(x) on the real batch (sigmoid of the logit) */
  dReal: number;
  /** mean D(G(z)) on the fake batch of the D update */
  dFake: number;
  gGradNorm?: number;
  dGradNorm?: number;
}

export interface DataCursor {
  epoch: number;
  index: number;
}

export const SAMPLE_GRID = { cols: 8, rows: 8 } as const;

export class GanTrainer {
  readonly G: Generator;
  readonly D: Discriminator;
  readonly gOpt: Optimizer;
  readonly dOpt: Optimizer;
  readonly spec: DcganSpec;
  step = 0;
  #rng: Rng;
  #cursor: DataCursor = { epoch: 0, index: 0 };
  #perm: Uint32Array;
  readonly #fixedZ: tf.Tensor2D;
  readonly #batch: Float32Array;

  constructor(
    readonly config: RunConfig,
    readonly data: TrainingData,
  ) {
    const a = config.architecture;
    this.spec = { image: { height: data.height, width: data.width, channels: data.channels }, latentDim: a.latentDim, gChannels: a.gChannels, dChannels: a.dChannels, gNorm: a.gNorm, leak: a.leak };
    // Separate streams: weights, training randomness, and the fixed sample latents.
    const init = Rng.derive(config.seed, 1);
    this.G = buildGenerator(this.spec, init);
    this.D = buildDiscriminator(this.spec, init);
    this.gOpt = createOptimizer(config.optimizer.g, 'g');
    this.dOpt = createOptimizer(config.optimizer.d, 'd');
    this.#rng = Rng.derive(config.seed, 2);
    this.#perm = this.#permutation(0);
    const n = SAMPLE_GRID.cols * SAMPLE_GRID.rows;
    this.#fixedZ = tf.tensor2d(Rng.derive(config.seed, 3).fillNormal(new Float32Array(n * a.latentDim)), [n, a.latentDim]);
    this.#batch = new Float32Array(config.schedule.batchSize * data.height * data.width * data.channels);
  }

  #permutation(epoch: number): Uint32Array {
    return Rng.derive(this.config.seed, 1000 + epoch).permutation(this.data.count);
  }

  #nextRealBatch(): tf.Tensor4D {
    const { height, width, channels, images } = this.data;
    const b = this.config.schedule.batchSize;
    const size = height * width * channels;
    for (let i = 0; i < b; i++) {
      if (this.#cursor.index >= this.data.count) {
        this.#cursor = { epoch: this.#cursor.epoch + 1, index: 0 };
        this.#perm = this.#permutation(this.#cursor.epoch);
      }
      const src = this.#perm[this.#cursor.index++] * size;
      for (let p = 0; p < size; p++) this.#batch[i * size + p] = images[src + p] / 127.5 - 1;
    }
    return tf.tensor4d(this.#batch, [b, height, width, channels]);
  }

  #latents(n: number): tf.Tensor2D {
    return tf.tensor2d(this.#rng.fillNormal(new Float32Array(n * this.spec.latentDim)), [n, this.spec.latentDim]);
  }

  #uniform(n: number): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = this.#rng.uniform();
    return out;
  }

  /** One iteration: dStepsPerG D updates, one G update. Reads back a handful of scalars once. */
  trainStep(withGradNorms = false): StepStats {
    const { schedule, regularizers, tricks, objective } = this.config;
    const loss = OBJECTIVE_LOSSES[objective];
    const b = schedule.batchSize;
    const dParams = this.D.params.trainable();
    const gParams = this.G.params.trainable();
    // D(x) and D(G(z)) are computed inside the gradient closure, whose scope would free them:
    // they are kept and freed by hand after the read-back.
    const kept: tf.Tensor[] = [];
    const readout = tf.tidy(() => {
      let dLoss: tf.Scalar = tf.scalar(0);
      let dReal: tf.Scalar = tf.scalar(0);
      let dFake: tf.Scalar = tf.scalar(0);
      let dNorm: tf.Scalar = tf.scalar(0);
      for (let k = 0; k < schedule.dStepsPerG; k++) {
        const real = this.#nextRealBatch();
        const z = this.#latents(b);
        const alpha = regularizers.gradientPenalty > 0 ? tf.tensor4d(this.#uniform(b), [b, 1, 1, 1]) : null;
        const { value, grads } = tf.variableGrads(() => {
          const fake = this.G.apply(z, true);
          const realLogits = this.D.apply(real);
          const fakeLogits = this.D.apply(fake);
          let l = loss.discriminator(realLogits, fakeLogits, 1 - tricks.labelSmoothing);
          if (alpha) l = tf.add(l, tf.mul(this.#gradientPenalty(real, fake, alpha), regularizers.gradientPenalty));
          if (regularizers.r1 > 0) l = tf.add(l, tf.mul(this.#r1(real), regularizers.r1 / 2));
          dReal = tf.keep(tf.mean(tf.sigmoid(realLogits)));
          dFake = tf.keep(tf.mean(tf.sigmoid(fakeLogits)));
          kept.push(dReal, dFake);
          return l;
        }, dParams.map(([, v]) => v));
        if (withGradNorms && k === schedule.dStepsPerG - 1) dNorm = globalNorm(grads);
        this.dOpt.apply(dParams, grads);
        dLoss = value;
      }
      const stats: BatchStats = new Map();
      const z = this.#latents(b);
      const { value: gLoss, grads } = tf.variableGrads(() => loss.generator(this.D.apply(this.G.apply(z, true, stats))), gParams.map(([, v]) => v));
      const gNorm = withGradNorms ? globalNorm(grads) : tf.scalar(0);
      this.gOpt.apply(gParams, grads);
      updateRunningStats(this.G.params, stats);
      return tf.stack([dLoss, gLoss, dReal, dFake, gNorm, dNorm]);
    });
    const v = readout.dataSync();
    readout.dispose();
    tf.dispose(kept);
    this.step += 1;
    const out: StepStats = { step: this.step, dLoss: v[0], gLoss: v[1], dReal: v[2], dFake: v[3] };
    if (withGradNorms) {
      out.gGradNorm = v[4];
      out.dGradNorm = v[5];
    }
    return out;
  }

  /** WGAN-GP: λ·E[(‖∇D(x̂)‖₂ − 1)²] with x̂ = real + α(fake − real) (a second-order gradient) */
  #gradientPenalty(real: tf.Tensor4D, fake: tf.Tensor4D, alpha: tf.Tensor4D): tf.Scalar {
    const xhat = tf.add(real, tf.mul(alpha, tf.sub(fake, real))) as tf.Tensor4D;
    const g = tf.grad((x: tf.Tensor) => tf.sum(this.D.apply(x as tf.Tensor4D)))(xhat);
    const norm = tf.sqrt(tf.add(tf.sum(tf.square(g), [1, 2, 3]), 1e-12));
    return tf.mean(tf.square(tf.sub(norm, 1)));
  }

  /** R1 (Mescheder et al.): E[‖∇D(x_real)‖²]; the γ/2 factor is applied by the caller */
  #r1(real: tf.Tensor4D): tf.Scalar {
    const g = tf.grad((x: tf.Tensor) => tf.sum(this.D.apply(x as tf.Tensor4D)))(real);
    return tf.mean(tf.sum(tf.square(g), [1, 2, 3]));
  }

  /** The fixed latent batch through G in inference mode, tiled into one uint8 grid image. */
  sampleGrid(): GridImage {
    const imgs = tf.tidy(() => tf.clipByValue(tf.mul(tf.add(this.G.apply(this.#fixedZ, false), 1), 127.5), 0, 255));
    const data = imgs.dataSync();
    imgs.dispose();
    const { height: h, width: w, channels: c } = this.data;
    const size = h * w * c;
    return tileImages(SAMPLE_GRID.cols * SAMPLE_GRID.rows, SAMPLE_GRID.cols, h, w, c, (k, out) => {
      for (let i = 0; i < size; i++) out[i] = Math.round(data[k * size + i]);
    });
  }

  /** Everything a checkpoint holds besides the config. */
  snapshot(): { tensors: TensorEntry[]; state: Record<string, unknown> } {
    const tensors: TensorEntry[] = [];
    const add = (prefix: string, list: [string, tf.Variable][]) => {
      for (const [name, v] of list) tensors.push({ name: `${prefix}${name}`, shape: v.shape, data: v.dataSync() as Float32Array });
    };
    add('G/', this.G.params.all());
    add('D/', this.D.params.all());
    add('', this.gOpt.slots());
    add('', this.dOpt.slots());
    const state = { step: this.step, rng: this.#rng.getState(), cursor: { ...this.#cursor }, gOptIterations: this.gOpt.iterations, dOptIterations: this.dOpt.iterations };
    return { tensors, state };
  }

  /** Restores weights and, unless `weightsOnly`, optimizer state, RNG and data cursor. */
  restore(ckpt: LoadedCheckpoint, opts: { weightsOnly?: boolean } = {}): void {
    const byPrefix = (prefix: string) => {
      const m = new Map<string, tf.Tensor>();
      for (const [name, t] of ckpt.tensors) if (name.startsWith(prefix)) m.set(name.slice(prefix.length), tf.tensor(t.data, t.shape));
      return m;
    };
    for (const [prefix, params] of [['G/', this.G.params], ['D/', this.D.params]] as const) {
      const values = byPrefix(prefix);
      try {
        params.assign(values);
      } finally {
        tf.dispose([...values.values()]);
      }
    }
    const s = ckpt.manifest.state as { step: number; rng: RngState; cursor: DataCursor; gOptIterations: number; dOptIterations: number };
    this.step = s.step;
    if (opts.weightsOnly) return;
    this.gOpt.restore(s.gOptIterations, ckpt.tensors);
    this.dOpt.restore(s.dOptIterations, ckpt.tensors);
    this.#rng = new Rng(s.rng);
    this.#cursor = { ...s.cursor };
    this.#perm = this.#permutation(s.cursor.epoch);
  }

  dispose(): void {
    this.G.params.dispose();
    this.D.params.dispose();
    this.gOpt.dispose();
    this.dOpt.dispose();
    this.#fixedZ.dispose();
  }
}

function globalNorm(grads: Record<string, tf.Tensor>): tf.Scalar {
  return tf.sqrt(tf.addN(Object.values(grads).map((g) => tf.sum(tf.square(g))))) as tf.Scalar;
}
