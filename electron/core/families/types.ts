// A GAN family is a preset over shared parts (ARCHITECTURE.md "The GAN as data"): it builds its
// networks and says what one training iteration does; the generic GanTrainer owns data, RNG,
// checkpoints, EMA, sampling and read-back. Families never see files, processes or messages.
import type * as tf from '@tensorflow/tfjs-core';
import type { DataContract, Family, RunConfig } from '../../common/config.ts';
import type { Issue } from '../../common/errors.ts';
import type { ParamSet } from '../models/params.ts';
import type { Optimizer } from '../models/optim.ts';

/** How a dataset's cache is laid out; decides which data contracts it can serve. */
export type DatasetLayout = 'images' | 'paired' | 'unpaired' | 'points';

export interface DataShape {
  layout: DatasetLayout;
  height: number;
  width: number;
  channels: number;
  count: number;
  /** class count when labelled */
  classes: number | null;
}

/** A real batch, as tensors in [-1, 1] (images NHWC) owned by the caller's tf.tidy. */
export type RealBatch =
  | { kind: 'images'; x: tf.Tensor4D; labels: Int32Array | null }
  | { kind: 'paired'; a: tf.Tensor4D; b: tf.Tensor4D }
  | { kind: 'unpaired'; a: tf.Tensor4D; b: tf.Tensor4D }
  | { kind: 'points'; x: tf.Tensor2D };

/** What a family's training step may ask of the trainer; all randomness is seeded and checkpointed. */
export interface StepContext {
  readonly config: RunConfig;
  /** the iteration being trained, 1-based */
  readonly step: number;
  readonly batchSize: number;
  readonly shape: DataShape;
  /** the next real batch (advances the data cursor) */
  batch(): RealBatch;
  /** latent codes from the configured distribution (Gaussian or uniform in [-1, 1]) */
  latents(n: number): tf.Tensor2D;
  uniform(shape: number[]): tf.Tensor;
  normal(shape: number[], std?: number): tf.Tensor;
  /** uniformly random class labels, for conditional fakes */
  randomLabels(n: number): Int32Array;
  /** a JS-side uniform number, e.g. for style mixing or label flips */
  random(): number;
}

/** Inputs that stay fixed for a run so successive sample grids are comparable. */
export interface FixedInputs {
  z: tf.Tensor2D;
  /** one class per grid row for conditional families */
  labels: Int32Array | null;
  /** fixed real inputs for translation families (domain A / the conditioning image) */
  a: tf.Tensor4D | null;
  b: tf.Tensor4D | null;
  /** plot range of 2-D point data */
  extent: [number, number] | null;
}

export type SampleOutput =
  /** images in [-1, 1], tiled row-major with `cols` columns; `labels`: each image's class (conditional families) */
  | { kind: 'grid'; images: tf.Tensor4D; cols: number; labels?: Int32Array }
  /** generated 2-D points and D's score on a gridSize×gridSize lattice over `extent` (GAN Lab view) */
  | { kind: 'points'; fake: tf.Tensor2D; decision: tf.Tensor1D; gridSize: number; extent: [number, number] };

export interface FamilyRuntime {
  /** every network by name; checkpoints store `${name}/${param}` (G and D keep their names) */
  readonly networks: Record<string, ParamSet>;
  /** the generator whose weights EMA averages (by key in `networks`), if any */
  readonly generatorKey: string | null;
  readonly optimizers: Optimizer[];
  /**
   * One iteration (its D updates and G update). Runs inside the trainer's tf.tidy; returns scalar
   * tensors by tag. Must include `loss/g` and `loss/d`; `d/real` and `d/fake` when meaningful;
   * `grad/g_norm` and `grad/d_norm` when `withGradNorms`.
   */
  trainStep(ctx: StepContext, withGradNorms: boolean): Record<string, tf.Scalar>;
  /** inside the trainer's tf.tidy */
  sample(fixed: FixedInputs): SampleOutput;
  /**
   * Optional: D's raw per-sample scores of a batch in [-1, 1], one per sample, higher = more real:
   * logits for log-loss objectives, critic or hinge scores, minus the reconstruction energy for the
   * autoencoder families (EBGAN, BEGAN; BEGAN's D reconstructs G's samples better than real images
   * by design, γ < 1, so its scores rank real above noise but not above fakes). In inference mode, without instance noise or augmentation,
   * inside the trainer's tf.tidy. Conditional families need each sample's class in `labels` (and
   * throw without them). The diagnostics probe uses it for D's accuracy and for real-vs-held-out
   * drift (issue 7). A D with batch statistics (StyleGAN's minibatch stddev) scores each sample
   * among its batch mates, as in training: callers score real, held-out and fake batches apart.
   */
  discriminate?(x: tf.Tensor, labels?: Int32Array | null): tf.Tensor1D;
  /** family state that is not a tensor (BEGAN's k_t, CycleGAN's pool cursor…) for checkpoints */
  state(): Record<string, unknown>;
  restoreState(state: Record<string, unknown>): void;
  /** tensors of family state (e.g. CycleGAN's image pool), for checkpoints */
  stateTensors?(): [string, tf.Variable][];
  dispose(): void;
}

export interface FamilyDefinition {
  id: Family;
  contract: DataContract;
  /** problems of this config on this data (pix2pix on unpaired data, cgan without labels, …) */
  check(config: RunConfig, shape: DataShape): Issue[];
  build(config: RunConfig, shape: DataShape, seed: number): FamilyRuntime;
}
