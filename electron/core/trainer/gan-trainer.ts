// The generic GAN training loop body, independent of any process or transport. A family (see
// families/types.ts) builds the networks and defines one iteration; this class owns the data
// stream, every RNG, EMA of G, sampling, checkpoint snapshots and the single read-back per step.
// Everything random comes from seeded RNGs whose state the checkpoint stores, so resume is exact.
import * as tf from '@tensorflow/tfjs-core';
import type { RunConfig } from '../../common/config.ts';
import { Rng, type RngState } from '../models/rng.ts';
import type { ParamSet } from '../models/params.ts';
import type { LoadedCheckpoint, TensorEntry } from './checkpoint.ts';
import { tileImages, type GridImage } from '../util/image-grid.ts';
import { DataSource, type DataCursor, type TrainingData } from './data-source.ts';
import { familyDefinition } from '../families/registry.ts';
import type { FamilyRuntime, FixedInputs, StepContext } from '../families/types.ts';
import { renderPointsPlot } from './points-plot.ts';
import { RandomProjection, diversitySignals, overfitGap, realBaseline, type RealBaseline } from '../diagnostics/signals.ts';
import { scoresAreLogits } from '../models/objectives.ts';

export type { TrainingData, DataCursor };

/** The image-only shape older callers pass: unlabelled images. */
export interface LegacyImageData {
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
  /** mean D(x) on the real batch (sigmoid of the logit for log-loss objectives, else D's score); NaN when the family has none */
  dReal: number;
  /** mean D(G(z)) on the fake batch of the last D update */
  dFake: number;
  gGradNorm?: number;
  dGradNorm?: number;
  /** every scalar of the step by tag (loss/g, loss/d, d/real, …, and family-specific ones) */
  scalars: Record<string, number>;
}

/** Held-out real images for the D-overfitting signal (never trained on). */
export interface HoldoutImages {
  images: Uint8Array;
  count: number;
  /** each held-out image's class (conditional families score D(x, y) with it); null when unlabelled */
  labels?: Uint8Array | null;
}

interface ProbeState {
  features: (x: Float32Array, n: number) => Float32Array;
  dim: number;
  real: RealBaseline;
  /** the real batch in [-1, 1] (training items 0..n-1) and up to n held-out ones */
  realBatch: tf.Tensor;
  holdoutBatch: tf.Tensor | null;
  /** the classes of realBatch's and holdoutBatch's images, when labelled */
  realLabels: Int32Array | null;
  holdoutLabels: Int32Array | null;
  previous: Float32Array | null;
}

export const SAMPLE_GRID = { cols: 8, rows: 8 } as const;
const POINT_SAMPLES = 512;

function toTrainingData(data: TrainingData | LegacyImageData): TrainingData {
  if ('shape' in data) return data;
  return {
    shape: { layout: 'images', height: data.height, width: data.width, channels: data.channels, count: data.count, classes: null },
    images: data.images,
    imagesB: null,
    countB: 0,
    labels: null,
    points: null,
  };
}

export class GanTrainer {
  readonly family: FamilyRuntime;
  readonly data: TrainingData;
  step = 0;
  #rng: Rng;
  readonly #source: DataSource;
  readonly #fixed: FixedInputs;
  readonly #ema: Map<string, tf.Variable> | null;
  readonly #holdout: HoldoutImages | null;
  #probe: ProbeState | null = null;
  /** G's trainable weights at the previous probe (for weights/g_delta) */
  #previousG: Float32Array | null = null;

  constructor(
    readonly config: RunConfig,
    data: TrainingData | LegacyImageData,
    options: { holdout?: HoldoutImages | null } = {},
  ) {
    this.#holdout = options.holdout ?? null;
    this.data = toTrainingData(data);
    const shape = this.data.shape;
    this.family = familyDefinition(config.family).build(config, shape, config.seed);
    this.#rng = Rng.derive(config.seed, 2);
    this.#source = new DataSource(this.data, config.seed, config.schedule.batchSize);
    // Fixed sample inputs: latents from their own stream; one grid row per class when labelled.
    const n = shape.layout === 'points' ? POINT_SAMPLES : SAMPLE_GRID.cols * Math.min(SAMPLE_GRID.rows, shape.classes ?? SAMPLE_GRID.rows);
    const zRng = Rng.derive(config.seed, 3);
    const z = new Float32Array(n * config.architecture.latentDim);
    if (config.tricks.latent === 'uniform') for (let i = 0; i < z.length; i++) z[i] = zRng.uniform() * 2 - 1;
    else zRng.fillNormal(z);
    const labels = shape.classes ? Int32Array.from({ length: n }, (_, i) => Math.floor(i / SAMPLE_GRID.cols) % shape.classes!) : null;
    const fixedImages = this.#source.fixedImages(SAMPLE_GRID.rows);
    this.#fixed = { z: tf.tensor2d(z, [n, config.architecture.latentDim]), labels, a: fixedImages.a, b: fixedImages.b, extent: shape.layout === 'points' ? this.#source.pointsExtent() : null };
    const g = this.family.generatorKey ? this.family.networks[this.family.generatorKey] : null;
    this.#ema = config.tricks.emaDecay > 0 && g ? new Map(g.trainable().map(([name, v]) => [name, tf.variable(v.clone(), false)])) : null;
  }

  /** Back-compat accessors for the two-player families (tests and tools read weights through them). */
  get G(): { params: ParamSet } {
    return { params: this.family.networks.G ?? Object.values(this.family.networks)[0] };
  }
  get D(): { params: ParamSet } {
    return { params: this.family.networks.D ?? Object.values(this.family.networks)[1] };
  }

  #context(): StepContext {
    const { config } = this;
    const rng = this.#rng;
    const latentDim = config.architecture.latentDim;
    return {
      config,
      step: this.step + 1,
      batchSize: config.schedule.batchSize,
      shape: this.data.shape,
      batch: () => this.#source.next(config.schedule.batchSize),
      latents: (n) => {
        const z = new Float32Array(n * latentDim);
        if (config.tricks.latent === 'uniform') for (let i = 0; i < z.length; i++) z[i] = rng.uniform() * 2 - 1;
        else rng.fillNormal(z);
        return tf.tensor2d(z, [n, latentDim]);
      },
      uniform: (shape) => {
        const size = shape.reduce((a, b) => a * b, 1);
        const out = new Float32Array(size);
        for (let i = 0; i < size; i++) out[i] = rng.uniform();
        return tf.tensor(out, shape);
      },
      normal: (shape, std = 1) => tf.tensor(rng.fillNormal(new Float32Array(shape.reduce((a, b) => a * b, 1)), std), shape),
      randomLabels: (n) => Int32Array.from({ length: n }, () => rng.int(this.data.shape.classes ?? 1)),
      random: () => rng.uniform(),
    };
  }

  /** One iteration of the family's step. Reads back the step's scalars once. */
  trainStep(withGradNorms = false): StepStats {
    const ctx = this.#context();
    const tags: string[] = [];
    const readout = tf.tidy(() => {
      const scalars = this.family.trainStep(ctx, withGradNorms);
      for (const t of Object.keys(scalars)) tags.push(t);
      return tf.stack(tags.map((t) => scalars[t]));
    });
    const v = readout.dataSync();
    readout.dispose();
    this.step += 1;
    this.#updateEma();
    const scalars: Record<string, number> = {};
    tags.forEach((t, i) => (scalars[t] = v[i]));
    const out: StepStats = { step: this.step, gLoss: scalars['loss/g'], dLoss: scalars['loss/d'], dReal: scalars['d/real'] ?? NaN, dFake: scalars['d/fake'] ?? NaN, scalars };
    if (withGradNorms) {
      out.gGradNorm = scalars['grad/g_norm'];
      out.dGradNorm = scalars['grad/d_norm'];
    }
    return out;
  }

  #updateEma(): void {
    if (!this.#ema) return;
    const d = this.config.tricks.emaDecay;
    const g = this.family.networks[this.family.generatorKey!];
    tf.tidy(() => {
      for (const [name, v] of g.trainable()) {
        const e = this.#ema!.get(name)!;
        e.assign(tf.add(tf.mul(e, d), tf.mul(v, 1 - d)));
      }
    });
  }

  /** Runs `fn` with G's weights swapped for their EMA when EMA is on. */
  #withEma<T>(fn: () => T): T {
    if (!this.#ema) return fn();
    const g = this.family.networks[this.family.generatorKey!];
    const saved = g.trainable().map(([name, v]) => [name, v.clone()] as const);
    try {
      for (const [name, v] of g.trainable()) v.assign(this.#ema.get(name)!);
      return fn();
    } finally {
      for (const [name, t] of saved) {
        g.get(name).assign(t);
        t.dispose();
      }
    }
  }

  /** The fixed inputs through G in inference mode: a tiled grid, or a 2-D plot with D's decision map. */
  sampleGrid(): GridImage {
    return this.#withEma(() => {
      const out = tf.tidy(() => {
        const s = this.family.sample(this.#fixed);
        if (s.kind === 'grid') return { kind: 'grid' as const, t: tf.keep(tf.clipByValue(tf.mul(tf.add(s.images, 1), 127.5), 0, 255)), cols: s.cols };
        return { kind: 'points' as const, fake: tf.keep(s.fake), decision: tf.keep(s.decision), gridSize: s.gridSize, extent: s.extent };
      });
      if (out.kind === 'points') {
        const fake = out.fake.dataSync() as Float32Array;
        const decision = out.decision.dataSync() as Float32Array;
        tf.dispose([out.fake, out.decision]);
        return renderPointsPlot({ real: this.#source.realPoints(POINT_SAMPLES), fake, decision, gridSize: out.gridSize, extent: out.extent });
      }
      const data = out.t.dataSync();
      const [n, h, w, c] = out.t.shape as [number, number, number, number];
      out.t.dispose();
      const size = h * w * c;
      return tileImages(n, out.cols, h, w, c, (k, px) => {
        for (let i = 0; i < size; i++) px[i] = Math.round(data[k * size + i]);
      });
    });
  }

  /**
   * Diagnostics signals (issue 7), measured by the trainer on a schedule: diversity of the fixed
   * latent batch against a fixed real batch (random-projection features for images, the points for
   * 2-D data), D's accuracy and its train-vs-held-out drift when the family can score a batch, and
   * weight norms. Raw G (not its EMA), so a collapse shows when it happens. One read-back.
   */
  diagnosticProbe(): Record<string, number> {
    const out: Record<string, number> = {};
    const norm = (params: ParamSet | undefined) => (params ? tf.tidy(() => tf.sqrt(tf.addN(params.trainable().map(([, v]) => tf.sum(tf.square(v))))).dataSync()[0]) : NaN);
    out['weights/g_norm'] = norm(this.family.networks[this.family.generatorKey ?? 'G']);
    out['weights/d_norm'] = norm(this.family.networks.D);
    // how far G's weights moved since the last probe, relative to their size: ~0 when G has stopped learning
    const gParams = this.family.networks[this.family.generatorKey ?? 'G'];
    if (gParams) {
      const flat = tf.tidy(() => tf.concat(gParams.trainable().map(([, v]) => tf.reshape(v, [-1]))));
      const w = flat.dataSync() as Float32Array;
      flat.dispose();
      const prev = this.#previousG;
      if (prev && prev.length === w.length) {
        let d = 0;
        let n = 0;
        for (let i = 0; i < w.length; i++) {
          const t = w[i] - prev[i];
          d += t * t;
          n += w[i] * w[i];
        }
        out['weights/g_delta'] = Math.sqrt(d) / Math.max(Math.sqrt(n), 1e-12);
      }
      this.#previousG = w;
    }
    const layout = this.data.shape.layout;
    if (layout !== 'images' && layout !== 'points') return out;
    const probe = (this.#probe ??= this.#initProbe());
    const objective = this.config.objective;
    const logits = scoresAreLogits(objective);
    // the score at which D calls an input real, where the objective has one
    const threshold = logits || objective === 'hinge' ? 0 : objective === 'least-squares' ? 0.5 : null;
    // a conditional D scores D(x, y): every batch it scores needs its images' classes
    const conditional = familyDefinition(this.config.family).contract === 'conditional';
    const discriminate = this.family.discriminate?.bind(this.family);
    const parts = tf.tidy(() => {
      const s = this.family.sample(this.#fixed);
      const fake = s.kind === 'grid' ? s.images : s.fake;
      const fakeLabels = s.kind === 'grid' ? (s.labels ?? null) : null;
      const keep: Record<string, tf.Tensor> = { fake: tf.keep(tf.reshape(fake, [fake.shape[0], -1])) };
      const scorable = !conditional || (probe.realLabels !== null && fakeLabels !== null);
      const holdout = probe.holdoutBatch && (!conditional || probe.holdoutLabels) ? probe.holdoutBatch : null;
      if (discriminate && scorable) {
        const score = (x: tf.Tensor, labels: Int32Array | null) => {
          const raw = discriminate(x, labels);
          return logits ? tf.sigmoid(raw) : raw;
        };
        const real = discriminate(probe.realBatch, probe.realLabels);
        const fk = discriminate(fake, fakeLabels);
        keep.stats = tf.keep(
          tf.stack([
            tf.mean(logits ? tf.sigmoid(real) : real),
            tf.mean(logits ? tf.sigmoid(fk) : fk),
            threshold === null ? tf.scalar(NaN) : tf.mean(tf.cast(tf.greater(real, threshold), 'float32')),
            threshold === null ? tf.scalar(NaN) : tf.mean(tf.cast(tf.lessEqual(fk, threshold), 'float32')),
            holdout ? tf.mean(score(holdout, probe.holdoutLabels)) : tf.scalar(NaN),
          ]),
        );
      }
      return keep;
    });
    const fakeData = parts.fake.dataSync() as Float32Array;
    const n = parts.fake.shape[0]!;
    const stats = parts.stats ? (parts.stats.dataSync() as Float32Array) : null;
    tf.dispose(Object.values(parts));
    const features = probe.features(fakeData, n);
    const div = diversitySignals(features, n, probe.dim, probe.real, probe.previous);
    probe.previous = features;
    out['div/ratio'] = div.ratio;
    out['div/near_dup'] = div.nearDuplicates;
    out['div/coverage'] = div.coverage;
    if (div.drift !== null) out['div/drift'] = div.drift;
    if (stats) {
      const [train, fake, accReal, accFake, holdout] = stats;
      if (Number.isFinite(accReal)) out['d/acc_real'] = accReal;
      if (Number.isFinite(accFake)) out['d/acc_fake'] = accFake;
      if (Number.isFinite(holdout)) {
        out['d/train'] = train;
        out['d/holdout'] = holdout;
        // the drift is read on D's real–fake spread; while D does not score training images above
        // fakes there is no such scale (early on, while G fools D, and always for BEGAN, whose D
        // reconstructs G's samples better than real ones by design, γ < 1): no gap then
        if (train - fake > 1e-6) out['d/overfit_gap'] = overfitGap(train, holdout, fake);
      }
    }
    return out;
  }

  #initProbe(): ProbeState {
    const shape = this.data.shape;
    const n = this.#fixed.z.shape[0];
    if (shape.layout === 'points') {
      const pts = this.data.points!;
      const m = Math.min(n, Math.floor(pts.length / 2));
      const real = pts.slice(0, 2 * m);
      // 2-D mixtures are sampled, not collected: no held-out split, so no D-overfitting signal
      return { features: (x) => x, dim: 2, real: realBaseline(real, m, 2), realBatch: tf.tensor2d(real, [m, 2]), holdoutBatch: null, realLabels: null, holdoutLabels: null, previous: null };
    }
    const size = shape.height * shape.width * shape.channels;
    const projection = new RandomProjection(size);
    const toFloat = (src: Uint8Array, count: number) => {
      const m = Math.min(n, count);
      const out = new Float32Array(m * size);
      for (let i = 0; i < m * size; i++) out[i] = src[i] / 127.5 - 1;
      return { data: out, m };
    };
    const real = toFloat(this.data.images!, shape.count);
    const hold = this.#holdout && this.#holdout.count > 0 ? toFloat(this.#holdout.images, this.#holdout.count) : null;
    const labelsOf = (src: Uint8Array | null | undefined, m: number) => (src && src.length >= m ? Int32Array.from(src.subarray(0, m)) : null);
    return {
      features: (x, k) => projection.apply(x, k),
      dim: projection.outDim,
      real: realBaseline(projection.apply(real.data, real.m), real.m, projection.outDim),
      realBatch: tf.tensor4d(real.data, [real.m, shape.height, shape.width, shape.channels]),
      holdoutBatch: hold ? tf.tensor4d(hold.data, [hold.m, shape.height, shape.width, shape.channels]) : null,
      realLabels: labelsOf(this.data.labels, real.m),
      holdoutLabels: hold ? labelsOf(this.#holdout!.labels, hold.m) : null,
      previous: null,
    };
  }

  /** Everything a checkpoint holds besides the config. */
  snapshot(): { tensors: TensorEntry[]; state: Record<string, unknown> } {
    const tensors: TensorEntry[] = [];
    const add = (prefix: string, list: Iterable<[string, tf.Variable]>) => {
      for (const [name, v] of list) tensors.push({ name: `${prefix}${name}`, shape: v.shape, data: v.dataSync() as Float32Array });
    };
    for (const [key, params] of Object.entries(this.family.networks)) add(`${key}/`, params.all());
    for (const opt of this.family.optimizers) add('', opt.slots());
    if (this.family.stateTensors) add('state/', this.family.stateTensors());
    if (this.#ema) add('ema/', this.#ema.entries());
    const state = {
      step: this.step,
      rng: this.#rng.getState(),
      cursor: this.#source.cursor,
      optimizerIterations: this.family.optimizers.map((o) => o.iterations),
      family: this.family.state(),
    };
    return { tensors, state };
  }

  /** Restores weights and, unless `weightsOnly`, optimizer state, RNG, data cursor and family state. */
  restore(ckpt: LoadedCheckpoint, opts: { weightsOnly?: boolean } = {}): void {
    const byPrefix = (prefix: string) => {
      const m = new Map<string, tf.Tensor>();
      for (const [name, t] of ckpt.tensors) if (name.startsWith(prefix)) m.set(name.slice(prefix.length), tf.tensor(t.data, t.shape));
      return m;
    };
    const assignAll = (prefix: string, target: (name: string) => tf.Variable | undefined, strict: boolean) => {
      const values = byPrefix(prefix);
      try {
        for (const [name, t] of values) target(name)?.assign(t);
      } finally {
        tf.dispose([...values.values()]);
      }
      return strict;
    };
    for (const [key, params] of Object.entries(this.family.networks)) {
      const values = byPrefix(`${key}/`);
      try {
        params.assign(values);
      } finally {
        tf.dispose([...values.values()]);
      }
    }
    const s = ckpt.manifest.state as { step: number; rng: RngState; cursor: { a: DataCursor; b: DataCursor | null } | DataCursor; optimizerIterations?: number[]; gOptIterations?: number; dOptIterations?: number; family?: Record<string, unknown> };
    this.step = s.step;
    if (this.#ema) assignAll('ema/', (name) => this.#ema!.get(name), false);
    if (opts.weightsOnly) return;
    const iterations = s.optimizerIterations ?? [s.gOptIterations ?? 0, s.dOptIterations ?? 0];
    this.family.optimizers.forEach((opt, i) => opt.restore(iterations[i] ?? 0, ckpt.tensors));
    if (this.family.stateTensors) {
      const vars = new Map(this.family.stateTensors());
      assignAll('state/', (name) => vars.get(name), false);
    }
    this.family.restoreState(s.family ?? {});
    this.#rng = new Rng(s.rng);
    this.#source.cursor = s.cursor;
  }

  dispose(): void {
    if (this.#probe) tf.dispose([this.#probe.realBatch, ...(this.#probe.holdoutBatch ? [this.#probe.holdoutBatch] : [])]);
    this.family.dispose();
    tf.dispose([this.#fixed.z, ...(this.#fixed.a ? [this.#fixed.a] : []), ...(this.#fixed.b ? [this.#fixed.b] : [])]);
    if (this.#ema) for (const v of this.#ema.values()) v.dispose();
  }
}
