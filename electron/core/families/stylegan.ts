// StyleGAN (compact): a mapping network, per-layer modulated convolutions with noise, style mixing
// and truncation (models/style.ts), trained with the non-saturating logistic loss and a lazy R1
// penalty as in StyleGAN2 (Karras et al. 2020). The output is 32×32 or 64×64; on 28×28 data (the
// built-in MNIST) G synthesises 32×32 and hands out the centre 28×28, so D and the samples see the
// dataset's size. The shared data source cannot pad the data, and a crop keeps G's architecture at
// a power of two without changing the real images.
import * as tf from '@tensorflow/tfjs-core';
import type { RunConfig } from '../../common/config.ts';
import type { Issue } from '../../common/errors.ts';
import { Rng } from '../models/rng.ts';
import { createOptimizer } from '../models/optim.ts';
import { OBJECTIVE_LOSSES, scoresAreLogits } from '../models/objectives.ts';
import { buildStyleDiscriminator, buildStyleGenerator, layerStyles, truncate, updateWAvg, type StyleGenerator, type StyleSpec } from '../models/style.ts';
import { discriminatorLoss, discriminatorTargets, discriminatorInput, globalNorm, gradientPenalty, r1Penalty } from './shared.ts';
import type { DataShape, FamilyDefinition, FamilyRuntime, FixedInputs, SampleOutput, StepContext } from './types.ts';

/** Lazy regularisation (StyleGAN2 §3.1): R1 on every 16th D update, weighted ×16 to keep its strength. */
export const R1_INTERVAL = 16;
export const STYLE_RESOLUTIONS = [32, 64] as const;
/** data sides G reaches by centre-cropping its output: MNIST's 28 from 32 */
const CROPPABLE: Record<number, number> = { 28: 32 };

/** The synthesis resolution for this config on data with side `side`, or null when they do not fit. */
export function styleResolution(config: RunConfig, side: number): number | null {
  const r = config.architecture.resolution ?? (side in CROPPABLE ? CROPPABLE[side] : side);
  if (!(STYLE_RESOLUTIONS as readonly number[]).includes(r)) return null;
  return side === r || CROPPABLE[side] === r ? r : null;
}

export function styleSpec(config: RunConfig, shape: DataShape): StyleSpec {
  const a = config.architecture;
  const resolution = styleResolution(config, shape.height);
  if (resolution === null) throw new Error(`stylegan cannot produce ${shape.height}×${shape.width} images at resolution ${a.resolution}`);
  return { resolution, imageSize: shape.height, imageChannels: shape.channels, latentDim: a.latentDim, mappingLayers: a.mappingLayers, gChannels: a.gChannels, dChannels: a.dChannels, leak: a.leak };
}

export function checkStyleGan(config: RunConfig, shape: DataShape): Issue[] {
  const issues: Issue[] = [];
  const a = config.architecture;
  if (!OBJECTIVE_LOSSES[config.objective]) issues.push({ path: 'objective', message: `stylegan needs an adversarial objective (non-saturating, minimax, least-squares, wasserstein or hinge), not ${config.objective}` });
  if (a.resolution !== null && !(STYLE_RESOLUTIONS as readonly number[]).includes(a.resolution)) {
    issues.push({ path: 'architecture.resolution', message: `stylegan generates 32×32 or 64×64 images; architecture.resolution is ${a.resolution}` });
  }
  if (shape.layout !== 'images') {
    issues.push({ path: 'dataset', message: `stylegan generates images and needs an image dataset; this dataset is ${shape.layout}` });
  } else if (shape.height !== shape.width) {
    issues.push({ path: 'dataset', message: `stylegan needs square images, the dataset is ${shape.height}×${shape.width}` });
  } else if ((a.resolution === null || (STYLE_RESOLUTIONS as readonly number[]).includes(a.resolution)) && styleResolution(config, shape.height) === null) {
    const want = a.resolution === null ? '32×32 or 64×64 (or 28×28, cropped from 32)' : a.resolution === 32 ? '32×32 (or 28×28, cropped from 32)' : `${a.resolution}×${a.resolution}`;
    issues.push({ path: 'architecture.resolution', message: `stylegan at resolution ${a.resolution ?? 'auto'} needs ${want} images, but the dataset's are ${shape.height}×${shape.width}; resize the dataset or change the resolution` });
  }
  // knobs the StyleGAN networks do not have: refuse them rather than silently ignore them
  if (a.gNorm !== 'none') issues.push({ path: 'architecture.gNorm', message: `stylegan normalises G by weight demodulation; architecture.gNorm must be none, not ${a.gNorm}` });
  if (a.dNorm !== 'none') issues.push({ path: 'architecture.dNorm', message: `stylegan's D uses no normalisation layers; architecture.dNorm must be none, not ${a.dNorm}` });
  if (a.selfAttention) issues.push({ path: 'architecture.selfAttention', message: 'stylegan has no self-attention block (use sagan)' });
  if (a.dropout > 0) issues.push({ path: 'architecture.dropout', message: 'stylegan draws per-layer noise instead of dropout; architecture.dropout must be 0' });
  const r = config.regularizers;
  for (const k of ['weightClip', 'pullAway', 'l1', 'cycle', 'identity'] as const) {
    if (r[k] > 0) issues.push({ path: `regularizers.${k}`, message: `regularizers.${k} does not apply to stylegan; set it to 0` });
  }
  return issues;
}

export function buildStyleGan(config: RunConfig, shape: DataShape, seed: number): FamilyRuntime {
  const spec = styleSpec(config, shape);
  const g = buildStyleGenerator(spec, Rng.derive(seed, 11), Rng.derive(seed, 12));
  const d = buildStyleDiscriminator(spec, Rng.derive(seed, 13));
  const loss = OBJECTIVE_LOSSES[config.objective]!;
  const logits = scoresAreLogits(config.objective);
  const gOpt = createOptimizer(config.optimizer.g, 'stylegan/g');
  const dOpt = createOptimizer(config.optimizer.d, 'stylegan/d');
  const { gradientPenalty: gp, r1 } = config.regularizers;
  const { styleMixing, truncation } = config.extras;
  const gTrainable = g.params.trainable();
  const dTrainable = d.params.trainable();

  const score = (x: tf.Tensor) => (logits ? tf.mean(tf.sigmoid(x)) : tf.mean(x)) as tf.Scalar;

  /**
   * Fakes for one update. With probability `styleMixing` a second z styles the layers from a random
   * crossover on (StyleGAN §3.1, mixing regularisation), so G cannot assume adjacent styles correlate.
   * Returns the batch mean of the first w for w̄.
   */
  const generate = (ctx: StepContext, b: number): { fake: tf.Tensor4D; wMean: tf.Tensor; mixed: boolean } => {
    const w1 = g.map(ctx.latents(b));
    let w2: tf.Tensor2D | null = null;
    let crossover = g.numWs;
    if (styleMixing > 0 && ctx.random() < styleMixing) {
      w2 = g.map(ctx.latents(b));
      crossover = 1 + Math.floor(ctx.random() * (g.numWs - 1));
    }
    const fake = g.synthesize(layerStyles(g.numWs, w1, w2, crossover), { kind: 'random', normal: (s) => ctx.normal(s) });
    return { fake, wMean: tf.mean(w1, 0), mixed: w2 !== null };
  };

  return {
    networks: { G: g.params, D: d.params },
    generatorKey: 'G',
    optimizers: [gOpt, dOpt],
    trainStep(ctx: StepContext, withGradNorms: boolean) {
      const b = ctx.batchSize;
      const out: Record<string, tf.Scalar> = {};
      let mixedSteps = 0;
      for (let k = 0; k < config.schedule.dStepsPerG; k++) {
        const batch = ctx.batch();
        if (batch.kind !== 'images') throw new Error(`stylegan needs image batches, got ${batch.kind}`);
        const { fake, mixed } = generate(ctx, b);
        if (mixed) mixedSteps++;
        const realIn = discriminatorInput(ctx, batch.x);
        const fakeIn = discriminatorInput(ctx, fake);
        // smoothing/flips act on the targets of the log and least-squares objectives only
        const targets = discriminatorTargets(ctx, b);
        // lazy R1 on the D optimizer's update count, which the checkpoint stores, so resume keeps the schedule
        const lazyR1 = r1 > 0 && dOpt.iterations % R1_INTERVAL === 0;
        let dReal!: tf.Scalar;
        let dFake!: tf.Scalar;
        const kept: { r1?: tf.Scalar } = {};
        const { value, grads } = tf.variableGrads(() => {
          const realScores = d.apply(realIn);
          const fakeScores = d.apply(fakeIn);
          let l = discriminatorLoss(ctx, realScores, fakeScores, targets);
          if (gp > 0) l = tf.add(l, tf.mul(gradientPenalty(ctx, d.apply, realIn, fakeIn), gp));
          if (lazyR1) {
            // R1 (Mescheder et al. 2018): γ/2 · E‖∇D(x)‖² on what D sees of the reals, ×16 for laziness
            const pen = r1Penalty(d.apply, realIn);
            kept.r1 = tf.keep(pen);
            l = tf.add(l, tf.mul(pen, (r1 / 2) * R1_INTERVAL));
          }
          dReal = tf.keep(score(realScores));
          dFake = tf.keep(score(fakeScores));
          return l;
        }, dTrainable.map(([, v]) => v));
        if (withGradNorms && k === config.schedule.dStepsPerG - 1) out['grad/d_norm'] = globalNorm(grads);
        dOpt.apply(dTrainable, grads);
        out['loss/d'] = value;
        out['d/real'] = tf.clone(dReal);
        out['d/fake'] = tf.clone(dFake);
        tf.dispose([dReal, dFake]);
        if (kept.r1) {
          out['reg/r1'] = tf.clone(kept.r1);
          tf.dispose(kept.r1);
        }
      }

      let wMean!: tf.Tensor;
      const { value: gLoss, grads } = tf.variableGrads(() => {
        const gen = generate(ctx, b);
        if (gen.mixed) mixedSteps++;
        wMean = tf.keep(gen.wMean);
        return loss.generator(d.apply(discriminatorInput(ctx, gen.fake)));
      }, gTrainable.map(([, v]) => v));
      if (withGradNorms) out['grad/g_norm'] = globalNorm(grads);
      gOpt.apply(gTrainable, grads);
      updateWAvg(g, wMean);
      tf.dispose(wMean);
      out['loss/g'] = gLoss;
      // share of this iteration's G forward passes that mixed two styles (≈ extras.styleMixing)
      out['style/mixing'] = tf.scalar(mixedSteps / (config.schedule.dStepsPerG + 1));
      return out;
    },
    sample(fixed: FixedInputs): SampleOutput {
      return { kind: 'grid', images: sampleImages(g, fixed.z, truncation), cols: 8 };
    },
    // D's logits (or critic scores) per sample for the diagnostics probe (issue 7); the minibatch-stddev
    // feature makes a score depend on its group of ≤ 4 batch mates, as in training
    discriminate: (x: tf.Tensor) => tf.reshape(d.apply(x as tf.Tensor4D), [-1]) as tf.Tensor1D,
    // w̄ and the fixed noise maps are buffers of G, so the checkpoint's tensors already hold them
    state: () => ({}),
    restoreState: () => undefined,
    dispose() {
      g.params.dispose();
      d.params.dispose();
      gOpt.dispose();
      dOpt.dispose();
    },
  };
}

/** Samples for grids: truncated w (ψ = extras.truncation) on every layer, the fixed noise maps, clipped to [-1, 1]. */
export function sampleImages(g: StyleGenerator, z: tf.Tensor2D, psi: number): tf.Tensor4D {
  const w = truncate(g.map(z), g.wAvg(), psi);
  return tf.clipByValue(g.synthesize(layerStyles(g.numWs, w, null, g.numWs), { kind: 'fixed' }), -1, 1);
}

export const STYLEGAN: FamilyDefinition = { id: 'stylegan', contract: 'unconditional', check: checkStyleGan, build: buildStyleGan };
