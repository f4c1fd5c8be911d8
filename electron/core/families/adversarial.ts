// The classic two-player families: one G, one D, an objective from models/objectives.ts, and
// regularisers (weight clipping, gradient penalty, R1). DCGAN, WGAN, WGAN-GP and LSGAN are presets
// of this runtime; on 2-D point data G and D are MLPs (GAN Lab's setting).
import * as tf from '@tensorflow/tfjs-core';
import type { RunConfig } from '../../common/config.ts';
import type { Issue } from '../../common/errors.ts';
import { Rng } from '../models/rng.ts';
import { buildDiscriminator, buildGenerator, upsamplingStages, type DcganSpec } from '../models/dcgan.ts';
import { buildMlp } from '../models/mlp.ts';
import { createOptimizer } from '../models/optim.ts';
import { OBJECTIVE_LOSSES, scoresAreLogits } from '../models/objectives.ts';
import { updateRunningStats, type BatchStats } from '../models/layers.ts';
import type { ParamSet } from '../models/params.ts';
import { discriminatorLoss, discriminatorTargets, discriminatorInput, globalNorm, gradientPenalty, r1Penalty } from './shared.ts';
import type { DataShape, FamilyDefinition, FamilyRuntime, FixedInputs, SampleOutput, StepContext } from './types.ts';

interface Players {
  gParams: ParamSet;
  dParams: ParamSet;
  /** `dropoutSeed` (from the step's RNG) draws G's dropout masks when dropout is on */
  generate(z: tf.Tensor2D, training: boolean, stats?: BatchStats, dropoutSeed?: number): tf.Tensor;
  discriminate(x: tf.Tensor): tf.Tensor2D;
}

function convPlayers(config: RunConfig, shape: DataShape, rng: Rng): Players {
  const a = config.architecture;
  const spec: DcganSpec = { image: { height: shape.height, width: shape.width, channels: shape.channels }, latentDim: a.latentDim, gChannels: a.gChannels, dChannels: a.dChannels, gNorm: a.gNorm === 'batch' ? 'batch' : 'none', leak: a.leak, dropout: a.dropout };
  const g = buildGenerator(spec, rng);
  const d = buildDiscriminator(spec, rng);
  return { gParams: g.params, dParams: d.params, generate: (z, t, s, seed) => g.apply(z, t, s, seed), discriminate: (x) => d.apply(x as tf.Tensor4D) };
}

function mlpPlayers(config: RunConfig, rng: Rng): Players {
  const a = config.architecture;
  const g = buildMlp('generator', a.latentDim, a.hiddenUnits, 2, a.leak, rng);
  const d = buildMlp('discriminator', 2, a.hiddenUnits, 1, a.leak, rng);
  return { gParams: g.params, dParams: d.params, generate: (z) => g.apply(z), discriminate: (x) => d.apply(x as tf.Tensor2D) };
}

/** Objective and data problems of any two-player family (shared with SAGAN and cGAN). */
export function checkAdversarialData(config: RunConfig, shape: DataShape): Issue[] {
  const issues: Issue[] = [];
  if (!OBJECTIVE_LOSSES[config.objective]) issues.push({ path: 'objective', message: `${config.family} needs an adversarial objective (non-saturating, minimax, least-squares, wasserstein or hinge), not ${config.objective}` });
  if (shape.layout === 'paired' || shape.layout === 'unpaired') issues.push({ path: 'dataset', message: `${config.family} generates from noise and needs an image or point dataset; this dataset is ${shape.layout} (use pix2pix or cyclegan)` });
  if (shape.layout === 'images') {
    if (shape.height !== shape.width) issues.push({ path: 'dataset', message: `${config.family} needs square images, the dataset is ${shape.height}×${shape.width}` });
    else if (upsamplingStages(shape.height) < 1) issues.push({ path: 'dataset', message: `${config.family} needs an image side that halves down to at least 4 (e.g. 28, 32, 64), the dataset's is ${shape.height}` });
  }
  return issues;
}

/** Problems that make a config unusable with the DCGAN-shaped two-player runtime on this data. */
export function checkAdversarial(config: RunConfig, shape: DataShape): Issue[] {
  const issues = checkAdversarialData(config, shape);
  // Refuse what these players cannot do rather than ignore it.
  const a = config.architecture;
  if (a.gNorm !== 'batch' && a.gNorm !== 'none') issues.push({ path: 'architecture.gNorm', message: `${config.family}'s generator supports batch norm or none, not ${a.gNorm}${a.gNorm === 'spectral' ? ' (spectral norm and self-attention: use sagan)' : ''}` });
  if (a.dNorm !== 'none') issues.push({ path: 'architecture.dNorm', message: `${config.family}'s discriminator has no normalisation layers, not ${a.dNorm}${a.dNorm === 'spectral' ? ' (spectral norm: use sagan)' : ''}` });
  if (a.selfAttention) issues.push({ path: 'architecture.selfAttention', message: `${config.family} has no attention blocks (use sagan)` });
  if (a.projection) issues.push({ path: 'architecture.projection', message: `${config.family} is unconditional; a projection discriminator belongs to cgan` });
  if (shape.layout === 'points' && a.dropout > 0) issues.push({ path: 'architecture.dropout', message: 'dropout in G applies to image generators, not the 2-D MLPs' });
  return issues;
}

export function buildAdversarial(config: RunConfig, shape: DataShape, seed: number): FamilyRuntime {
  const players = shape.layout === 'points' ? mlpPlayers(config, Rng.derive(seed, 1)) : convPlayers(config, shape, Rng.derive(seed, 1));
  const loss = OBJECTIVE_LOSSES[config.objective]!;
  const logits = scoresAreLogits(config.objective);
  const gOpt = createOptimizer(config.optimizer.g, 'g');
  const dOpt = createOptimizer(config.optimizer.d, 'd');
  const { gradientPenalty: gp, r1, weightClip } = config.regularizers;
  const dTrainable = players.dParams.trainable();
  const gTrainable = players.gParams.trainable();

  const score = (x: tf.Tensor) => (logits ? tf.mean(tf.sigmoid(x)) : tf.mean(x)) as tf.Scalar;

  return {
    networks: { G: players.gParams, D: players.dParams },
    generatorKey: 'G',
    optimizers: [gOpt, dOpt],
    trainStep(ctx: StepContext, withGradNorms: boolean) {
      const b = ctx.batchSize;
      const out: Record<string, tf.Scalar> = {};
      for (let k = 0; k < config.schedule.dStepsPerG; k++) {
        const batch = ctx.batch();
        const real = batch.kind === 'images' || batch.kind === 'points' ? batch.x : batch.a;
        const z = ctx.latents(b);
        const fake = players.generate(z, true, undefined, config.architecture.dropout > 0 ? Math.floor(ctx.random() * 2 ** 31) : undefined);
        const realIn = discriminatorInput(ctx, real);
        const fakeIn = discriminatorInput(ctx, fake);
        // smoothing/flips act on the targets of the log and least-squares objectives only
        const targets = discriminatorTargets(ctx, b);
        let dReal!: tf.Scalar;
        let dFake!: tf.Scalar;
        const { value, grads } = tf.variableGrads(() => {
          const realScores = players.discriminate(realIn);
          const fakeScores = players.discriminate(fakeIn);
          let l = discriminatorLoss(ctx, realScores, fakeScores, targets);
          if (gp > 0) l = tf.add(l, tf.mul(gradientPenalty(ctx, players.discriminate, real, fake), gp));
          if (r1 > 0) l = tf.add(l, tf.mul(r1Penalty(players.discriminate, real), r1 / 2));
          dReal = tf.keep(score(realScores));
          dFake = tf.keep(score(fakeScores));
          return l;
        }, dTrainable.map(([, v]) => v));
        if (withGradNorms && k === config.schedule.dStepsPerG - 1) out['grad/d_norm'] = globalNorm(grads);
        dOpt.apply(dTrainable, grads);
        if (weightClip > 0) for (const [, v] of dTrainable) v.assign(tf.clipByValue(v, -weightClip, weightClip));
        out['loss/d'] = value;
        // the kept scores are re-owned by the caller's tidy through tf.clone, then freed here
        out['d/real'] = tf.clone(dReal);
        out['d/fake'] = tf.clone(dFake);
        tf.dispose([dReal, dFake]);
      }
      const stats: BatchStats = new Map();
      const z = ctx.latents(b);
      const dropoutSeed = config.architecture.dropout > 0 ? Math.floor(ctx.random() * 2 ** 31) : undefined;
      const { value: gLoss, grads } = tf.variableGrads(() => loss.generator(players.discriminate(discriminatorInput(ctx, players.generate(z, true, stats, dropoutSeed)))), gTrainable.map(([, v]) => v));
      if (withGradNorms) out['grad/g_norm'] = globalNorm(grads);
      gOpt.apply(gTrainable, grads);
      updateRunningStats(players.gParams, stats);
      out['loss/g'] = gLoss;
      return out;
    },
    sample(fixed: FixedInputs): SampleOutput {
      const fake = players.generate(fixed.z, false);
      if (shape.layout === 'points') {
        const [lo, hi] = fixed.extent ?? [-1, 1];
        const n = 48;
        const lattice = new Float32Array(n * n * 2);
        for (let i = 0; i < n; i++) {
          for (let j = 0; j < n; j++) {
            lattice[2 * (i * n + j)] = lo + ((j + 0.5) / n) * (hi - lo);
            lattice[2 * (i * n + j) + 1] = hi - ((i + 0.5) / n) * (hi - lo);
          }
        }
        const raw = tf.reshape(players.discriminate(tf.tensor2d(lattice, [n * n, 2])), [n * n]) as tf.Tensor1D;
        return { kind: 'points', fake: fake as tf.Tensor2D, decision: logits ? (tf.sigmoid(raw) as tf.Tensor1D) : raw, gridSize: n, extent: [lo, hi] };
      }
      return { kind: 'grid', images: fake as tf.Tensor4D, cols: 8 };
    },
    discriminate: (x: tf.Tensor) => tf.reshape(players.discriminate(x), [-1]) as tf.Tensor1D,
    state: () => ({}),
    restoreState: () => undefined,
    dispose() {
      players.gParams.dispose();
      players.dParams.dispose();
      gOpt.dispose();
      dOpt.dispose();
    },
  };
}

const twoPlayer = (id: FamilyDefinition['id']): FamilyDefinition => ({ id, contract: 'unconditional', check: checkAdversarial, build: buildAdversarial });

export const DCGAN = twoPlayer('dcgan');
export const WGAN = twoPlayer('wgan');
export const WGAN_GP = twoPlayer('wgan-gp');
export const LSGAN = twoPlayer('lsgan');
