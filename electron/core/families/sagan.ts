// SAGAN (Zhang et al. 2019, "Self-Attention Generative Adversarial Networks"): DCGAN-shaped conv
// players with a self-attention block at the middle feature resolution, spectral normalisation
// (Miyato et al. 2018) of G's and D's weights, the hinge loss (Lim & Ye 2017) and two time-scale
// learning rates (TTUR, Heusel et al. 2017: D 4e-4, G 1e-4 in the preset). The runtime here is the
// conv two-player step with those options; cGAN (cgan.ts) is the same runtime with class labels.
import * as tf from '@tensorflow/tfjs-core';
import type { RunConfig } from '../../common/config.ts';
import type { Issue } from '../../common/errors.ts';
import { Rng } from '../models/rng.ts';
import { createOptimizer } from '../models/optim.ts';
import { OBJECTIVE_LOSSES, scoresAreLogits } from '../models/objectives.ts';
import { updateRunningStats, type BatchStats } from '../models/layers.ts';
import { buildConvDiscriminator, buildConvGenerator, oneHot, type ConvGanSpec } from '../models/conditional.ts';
import { checkAdversarialData } from './adversarial.ts';
import { discriminatorLoss, discriminatorTargets, discriminatorInput, globalNorm, gradientPenalty, r1Penalty } from './shared.ts';
import type { DataShape, FamilyDefinition, FamilyRuntime, FixedInputs, SampleOutput, StepContext } from './types.ts';

const G_NORMS = ['none', 'batch', 'spectral'] as const;
const D_NORMS = ['none', 'spectral'] as const;
/** a conditional grid shows at most this many class rows */
const MAX_CLASS_ROWS = 16;
const GRID_COLS = 8;

/** What the conv runtime cannot do on this data or with these knobs (shared by SAGAN and cGAN). */
export function checkConvGan(config: RunConfig, shape: DataShape): Issue[] {
  if (shape.layout === 'points') return [{ path: 'dataset', message: `${config.family} needs an image dataset: its conv layers${config.architecture.selfAttention ? ' and self-attention' : ''} do not apply to 2-D points (use dcgan, wgan, wgan-gp or lsgan)` }];
  const issues = checkAdversarialData(config, shape);
  const { gNorm, dNorm } = config.architecture;
  if (!(G_NORMS as readonly string[]).includes(gNorm)) issues.push({ path: 'architecture.gNorm', message: `${config.family} supports gNorm ${G_NORMS.join(', ')}, not ${gNorm}` });
  if (!(D_NORMS as readonly string[]).includes(dNorm)) issues.push({ path: 'architecture.dNorm', message: `${config.family} supports dNorm ${D_NORMS.join(', ')}, not ${dNorm}` });
  return issues;
}

/**
 * The conv two-player runtime: one G, one D (with SN and self-attention when configured), an
 * adversarial objective and the shared tricks/regularisers; `classes` > 0 conditions both players.
 */
export function buildConvGanRuntime(config: RunConfig, shape: DataShape, seed: number, classes: number): FamilyRuntime {
  const a = config.architecture;
  const spec: ConvGanSpec = {
    image: { height: shape.height, width: shape.width, channels: shape.channels },
    latentDim: a.latentDim,
    classes,
    gChannels: a.gChannels,
    dChannels: a.dChannels,
    gNorm: a.gNorm as ConvGanSpec['gNorm'],
    dNorm: a.dNorm as ConvGanSpec['dNorm'],
    leak: a.leak,
    selfAttention: a.selfAttention,
    projection: a.projection,
    dSecondOrder: config.regularizers.gradientPenalty > 0 || config.regularizers.r1 > 0,
  };
  const rng = Rng.derive(seed, 1);
  const G = buildConvGenerator(spec, rng);
  const D = buildConvDiscriminator(spec, rng);
  const loss = OBJECTIVE_LOSSES[config.objective]!;
  const logits = scoresAreLogits(config.objective);
  // unique optimizer scopes so slot names never collide with another family's in a checkpoint
  const gOpt = createOptimizer(config.optimizer.g, `${config.family}-g`);
  const dOpt = createOptimizer(config.optimizer.d, `${config.family}-d`);
  const { gradientPenalty: gp, r1, weightClip } = config.regularizers;
  const gTrainable = G.params.trainable();
  const dTrainable = D.params.trainable();
  const score = (x: tf.Tensor) => (logits ? tf.mean(tf.sigmoid(x)) : tf.mean(x)) as tf.Scalar;
  const labelsOf = (labels: Int32Array | null) => {
    if (classes === 0) return null;
    if (!labels) throw new Error(`${config.family} needs labelled batches`);
    return oneHot(labels, classes);
  };

  return {
    networks: { G: G.params, D: D.params },
    generatorKey: 'G',
    optimizers: [gOpt, dOpt],
    trainStep(ctx: StepContext, withGradNorms: boolean) {
      const b = ctx.batchSize;
      const out: Record<string, tf.Scalar> = {};
      for (let k = 0; k < config.schedule.dStepsPerG; k++) {
        const batch = ctx.batch();
        if (batch.kind !== 'images') throw new Error(`${config.family} trains on images, got a ${batch.kind} batch`);
        const real = batch.x;
        const realY = labelsOf(batch.labels);
        const fakeY = classes ? oneHot(ctx.randomLabels(b), classes) : null;
        // G in inference of its SN (stored u), training-mode BN without recording moments
        const fake = G.apply(ctx.latents(b), fakeY, { training: true });
        const realIn = discriminatorInput(ctx, real);
        const fakeIn = discriminatorInput(ctx, fake);
        // smoothing/flips act on the targets of the log and least-squares objectives only
        const targets = discriminatorTargets(ctx, b);
        // one power iteration per D update, outside the tape: u is a constant of this forward
        const dSn = D.sn?.iterate() ?? null;
        const disc = (x: tf.Tensor, y: tf.Tensor2D | null) => D.apply(x as tf.Tensor4D, y, { training: true, sn: dSn });
        let dReal!: tf.Scalar;
        let dFake!: tf.Scalar;
        const { value, grads } = tf.variableGrads(() => {
          const realScores = disc(realIn, realY);
          const fakeScores = disc(fakeIn, fakeY);
          let l = discriminatorLoss(ctx, realScores, fakeScores, targets);
          // penalties on D(·, y_real): interpolates take the real batch's labels
          if (gp > 0) l = tf.add(l, tf.mul(gradientPenalty(ctx, (x) => disc(x, realY), real, fake), gp));
          if (r1 > 0) l = tf.add(l, tf.mul(r1Penalty((x) => disc(x, realY), real), r1 / 2));
          dReal = tf.keep(score(realScores));
          dFake = tf.keep(score(fakeScores));
          return l;
        }, dTrainable.map(([, v]) => v));
        if (withGradNorms && k === config.schedule.dStepsPerG - 1) out['grad/d_norm'] = globalNorm(grads);
        dOpt.apply(dTrainable, grads);
        if (weightClip > 0) for (const [, v] of dTrainable) v.assign(tf.clipByValue(v, -weightClip, weightClip));
        if (dSn) D.sn!.commit(dSn);
        out['loss/d'] = value;
        out['d/real'] = tf.clone(dReal);
        out['d/fake'] = tf.clone(dFake);
        tf.dispose([dReal, dFake]);
      }
      const stats: BatchStats = new Map();
      const z = ctx.latents(b);
      const y = classes ? oneHot(ctx.randomLabels(b), classes) : null;
      const gSn = G.sn?.iterate() ?? null;
      const { value: gLoss, grads } = tf.variableGrads(() => {
        const fake = G.apply(z, y, { training: true, stats, sn: gSn });
        return loss.generator(D.apply(discriminatorInput(ctx, fake), y, { training: true, sn: null }));
      }, gTrainable.map(([, v]) => v));
      if (withGradNorms) out['grad/g_norm'] = globalNorm(grads);
      gOpt.apply(gTrainable, grads);
      updateRunningStats(G.params, stats);
      if (gSn) G.sn!.commit(gSn);
      out['loss/g'] = gLoss;
      // how much non-local evidence each player uses (γ starts at 0)
      if (a.selfAttention) {
        out['attention/g_gamma'] = tf.reshape(G.params.get('attention/gamma'), []) as tf.Scalar;
        out['attention/d_gamma'] = tf.reshape(D.params.get('attention/gamma'), []) as tf.Scalar;
      }
      return out;
    },
    sample(fixed: FixedInputs): SampleOutput {
      if (classes === 0) return { kind: 'grid', images: G.apply(fixed.z, null, { training: false }), cols: GRID_COLS };
      // one row per class, the same GRID_COLS latents in every row: a column is one "style"
      const rows = Math.min(classes, MAX_CLASS_ROWS);
      const cols = Math.min(GRID_COLS, fixed.z.shape[0]);
      const z = tf.tile(tf.slice(fixed.z, [0, 0], [cols, -1]), [rows, 1]) as tf.Tensor2D;
      const labels = Int32Array.from({ length: rows * cols }, (_, i) => Math.floor(i / cols));
      return { kind: 'grid', images: G.apply(z, oneHot(labels, classes), { training: false }), cols, labels };
    },
    // D's per-sample scores for the diagnostics probe (issue 7); a conditional D scores D(x, y) with each image's class
    discriminate(x: tf.Tensor, labels?: Int32Array | null) {
      if (classes > 0 && (!labels || labels.length !== x.shape[0])) throw new Error(`${config.family}'s discriminator scores an image with its class: pass one label per image (${x.shape[0]}), got ${labels ? labels.length : 'none'}`);
      return tf.reshape(D.apply(x as tf.Tensor4D, classes > 0 ? oneHot(labels!, classes) : null, { training: false }), [-1]) as tf.Tensor1D;
    },
    state: () => ({}),
    restoreState: () => undefined,
    dispose() {
      G.params.dispose();
      D.params.dispose();
      gOpt.dispose();
      dOpt.dispose();
    },
  };
}

export const SAGAN: FamilyDefinition = {
  id: 'sagan',
  contract: 'unconditional',
  check: checkConvGan,
  build: (config, shape, seed) => buildConvGanRuntime(config, shape, seed, 0),
};
