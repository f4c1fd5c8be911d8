// Pix2Pix (Isola et al. 2017, "Image-to-Image Translation with Conditional Adversarial Networks"):
// a conditional GAN on paired data. G is a U-Net from A to B with dropout as its noise; D is a
// PatchGAN on the concatenated (A, B) pair that outputs a map of logits; G minimises the
// adversarial loss on that map plus λ·‖B − G(A)‖₁ (eq. 4, λ = regularizers.l1, 100 in the paper).
import * as tf from '@tensorflow/tfjs-core';
import type { RunConfig } from '../../common/config.ts';
import type { Issue } from '../../common/errors.ts';
import { Rng } from '../models/rng.ts';
import { createOptimizer } from '../models/optim.ts';
import { OBJECTIVE_LOSSES, scoresAreLogits } from '../models/objectives.ts';
import { FEATURE_NORMS, buildUnetGenerator, unetLevels, type FeatureNorm, type UniformSource } from '../models/unet.ts';
import { buildPatchDiscriminator } from '../models/patchgan.ts';
import { discriminatorLoss, discriminatorTargets, discriminatorInput, globalNorm, gradientPenalty, r1Penalty } from './shared.ts';
import type { DataShape, FamilyDefinition, FamilyRuntime, FixedInputs, SampleOutput, StepContext } from './types.ts';

/** RNG stream of the fixed dropout mask used for sample grids (so successive grids are comparable). */
const SAMPLE_NOISE_STREAM = 41;

/** Checks the translation families share: an adversarial objective, norms the models implement, a size the nets fit. */
export function checkTranslation(config: RunConfig, shape: DataShape, layout: 'paired' | 'unpaired', minLevels: number): Issue[] {
  const issues: Issue[] = [];
  const f = config.family;
  if (shape.layout !== layout) issues.push({ path: 'dataset', message: `${f} needs ${layout} image data (two domains${layout === 'paired' ? ' with matching pairs' : ''}), but the dataset is ${shape.layout}` });
  if (!OBJECTIVE_LOSSES[config.objective]) issues.push({ path: 'objective', message: `${f} needs an adversarial objective (non-saturating, minimax, least-squares, wasserstein or hinge), not ${config.objective}` });
  for (const key of ['gNorm', 'dNorm'] as const) {
    const n = config.architecture[key];
    if (!(FEATURE_NORMS as readonly string[]).includes(n)) issues.push({ path: `architecture.${key}`, message: `${f} supports ${FEATURE_NORMS.join(', ')} normalisation, not ${n}` });
  }
  if (shape.layout === layout && unetLevels(shape.height, shape.width) < minLevels) {
    const side = 2 ** minLevels * 4;
    issues.push({ path: 'dataset', message: `${f} needs image sides that halve ${minLevels} time(s) evenly down to at least 4 pixels (e.g. ${side - 4}, ${side}), the dataset is ${shape.height}×${shape.width}` });
  }
  if (config.architecture.selfAttention) issues.push({ path: 'architecture.selfAttention', message: `${f} has no self-attention block; turn selfAttention off (it belongs to sagan)` });
  if (config.regularizers.pullAway > 0) issues.push({ path: 'regularizers.pullAway', message: `${f} has no pulling-away term (it belongs to ebgan); set it to 0` });
  return issues;
}

/**
 * D's loss on a map of scores, with the configured tricks: per-sample targets (one-sided label
 * smoothing, label flips) broadcast over the patch map when set, else the objective's own loss.
 */
export function patchDiscriminatorLoss(ctx: StepContext, realScores: tf.Tensor, fakeScores: tf.Tensor): tf.Scalar {
  return discriminatorLoss(ctx, realScores, fakeScores, discriminatorTargets(ctx, realScores.shape[0]));
}

/** D's gradient penalty / R1 (weighted) when configured; zero otherwise. */
export function discriminatorPenalties(ctx: StepContext, d: (x: tf.Tensor) => tf.Tensor, real: tf.Tensor, fake: tf.Tensor): tf.Scalar | null {
  const { gradientPenalty: gp, r1 } = ctx.config.regularizers;
  let out: tf.Scalar | null = null;
  if (gp > 0) out = tf.mul(gradientPenalty(ctx, d, real, fake), gp) as tf.Scalar;
  if (r1 > 0) {
    const r = tf.mul(r1Penalty(d, real), r1 / 2) as tf.Scalar;
    out = out ? (tf.add(out, r) as tf.Scalar) : r;
  }
  return out;
}

/** mean D output for the charts: a probability for log-loss objectives, the raw score otherwise */
export function meanScore(objective: RunConfig['objective'], x: tf.Tensor): tf.Scalar {
  return (scoresAreLogits(objective) ? tf.mean(tf.sigmoid(x)) : tf.mean(x)) as tf.Scalar;
}

/** The runtime's uniform noise for a fixed sample grid: the same mask at every call. */
export function fixedNoise(seed: number, stream: number): UniformSource {
  const rng = Rng.derive(seed, stream);
  return (shape) => {
    const size = shape.reduce((a, b) => a * b, 1);
    const out = new Float32Array(size);
    for (let i = 0; i < size; i++) out[i] = rng.uniform();
    return tf.tensor(out, shape);
  };
}

export function checkPix2pix(config: RunConfig, shape: DataShape): Issue[] {
  const issues = checkTranslation(config, shape, 'paired', 1);
  if (config.regularizers.cycle > 0 || config.regularizers.identity > 0) {
    issues.push({ path: 'regularizers.cycle', message: 'pix2pix learns from pairs and has no cycle or identity loss (those belong to cyclegan); set regularizers.cycle and regularizers.identity to 0' });
  }
  return issues;
}

export function buildPix2pix(config: RunConfig, shape: DataShape, seed: number): FamilyRuntime {
  const arch = config.architecture;
  const g = buildUnetGenerator(
    { height: shape.height, width: shape.width, inChannels: shape.channels, outChannels: shape.channels, channels: arch.gChannels, norm: arch.gNorm as FeatureNorm, leak: arch.leak, dropout: arch.dropout },
    Rng.derive(seed, 1),
    'generator',
  );
  const d = buildPatchDiscriminator({ inChannels: 2 * shape.channels, channels: arch.dChannels, norm: arch.dNorm as FeatureNorm, leak: arch.leak }, Rng.derive(seed, 11), 'discriminator');
  const loss = OBJECTIVE_LOSSES[config.objective]!;
  const gOpt = createOptimizer(config.optimizer.g, 'g');
  const dOpt = createOptimizer(config.optimizer.d, 'd');
  const gTrainable = g.params.trainable();
  const dTrainable = d.params.trainable();
  const lambda = config.regularizers.l1;
  const { weightClip } = config.regularizers;
  // D sees the condition and the (real or generated) target side by side, as channels (§3.2.2).
  const pair = (a: tf.Tensor4D, b: tf.Tensor4D) => tf.concat([a, b], 3);
  const discriminate = (x: tf.Tensor) => d.apply(x as tf.Tensor4D);

  return {
    networks: { G: g.params, D: d.params },
    generatorKey: 'G',
    optimizers: [gOpt, dOpt],
    trainStep(ctx: StepContext, withGradNorms: boolean) {
      const out: Record<string, tf.Scalar> = {};
      let a!: tf.Tensor4D;
      let b!: tf.Tensor4D;
      for (let k = 0; k < config.schedule.dStepsPerG; k++) {
        const batch = ctx.batch();
        if (batch.kind !== 'paired') throw new Error(`pix2pix needs paired batches, got ${batch.kind}`);
        ({ a, b } = batch);
        // G's output outside D's tape: D's update does not differentiate through G
        const fake = g.apply(a, ctx.uniform);
        const realIn = discriminatorInput(ctx, pair(a, b));
        const fakeIn = discriminatorInput(ctx, pair(a, fake));
        let dReal!: tf.Scalar;
        let dFake!: tf.Scalar;
        const { value, grads } = tf.variableGrads(() => {
          const realScores = d.apply(realIn);
          const fakeScores = d.apply(fakeIn);
          let l = patchDiscriminatorLoss(ctx, realScores, fakeScores);
          const pen = discriminatorPenalties(ctx, discriminate, realIn, fakeIn);
          if (pen) l = tf.add(l, pen);
          dReal = tf.keep(meanScore(config.objective, realScores));
          dFake = tf.keep(meanScore(config.objective, fakeScores));
          return l;
        }, dTrainable.map(([, v]) => v));
        if (withGradNorms && k === config.schedule.dStepsPerG - 1) out['grad/d_norm'] = globalNorm(grads);
        dOpt.apply(dTrainable, grads);
        if (weightClip > 0) for (const [, v] of dTrainable) v.assign(tf.clipByValue(v, -weightClip, weightClip));
        out['loss/d'] = value;
        out['d/real'] = tf.clone(dReal);
        out['d/fake'] = tf.clone(dFake);
        tf.dispose([dReal, dFake]);
      }
      // G's update on the last D batch: fool D on the pair and stay close to the target in L1 (eq. 4)
      let adv!: tf.Scalar;
      let l1!: tf.Scalar;
      const { value: gLoss, grads } = tf.variableGrads(() => {
        const fake = g.apply(a, ctx.uniform);
        const advLoss = loss.generator(d.apply(discriminatorInput(ctx, pair(a, fake))));
        const l1Loss = tf.mean(tf.abs(tf.sub(fake, b))) as tf.Scalar;
        adv = tf.keep(advLoss);
        l1 = tf.keep(l1Loss);
        return lambda > 0 ? tf.add(advLoss, tf.mul(l1Loss, lambda)) : advLoss;
      }, gTrainable.map(([, v]) => v));
      if (withGradNorms) out['grad/g_norm'] = globalNorm(grads);
      gOpt.apply(gTrainable, grads);
      out['loss/g'] = gLoss;
      out['loss/g_adv'] = tf.clone(adv);
      out['l1/loss'] = tf.clone(l1);
      tf.dispose([adv, l1]);
      return out;
    },
    sample(fixed: FixedInputs): SampleOutput {
      if (!fixed.a || !fixed.b) throw new Error('pix2pix samples need the fixed input pairs');
      const n = Math.min(fixed.a.shape[0], fixed.b.shape[0]);
      const a = tf.slice(fixed.a, 0, n);
      const b = tf.slice(fixed.b, 0, n);
      // Dropout stays on at sampling time, as in the paper (§3.3), with a fixed mask per grid.
      const fake = g.apply(a, arch.dropout > 0 ? fixedNoise(seed, SAMPLE_NOISE_STREAM) : null);
      // one row per pair: input | output | target
      const [, h, w, c] = a.shape;
      const images = tf.reshape(tf.stack([a, fake, b], 1), [3 * n, h, w, c]) as tf.Tensor4D;
      return { kind: 'grid', images, cols: 3 };
    },
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

export const PIX2PIX: FamilyDefinition = { id: 'pix2pix', contract: 'paired', check: checkPix2pix, build: buildPix2pix };
