// EBGAN (Zhao, Mathieu & LeCun 2017, "Energy-based Generative Adversarial Network"): D is an
// autoencoder and the energy of an image is its reconstruction error. D pulls real energies down
// and pushes fake ones up to a margin; G lowers the energy of its samples, plus a pulling-away term
// that keeps the codes of one fake batch from collapsing onto one direction. G is DCGAN's.
import * as tf from '@tensorflow/tfjs-core';
import type { RunConfig } from '../../common/config.ts';
import type { Issue } from '../../common/errors.ts';
import { Rng } from '../models/rng.ts';
import { buildGenerator } from '../models/dcgan.ts';
import { autoencoderShapeProblem, buildAutoencoder, type Autoencoder, type AutoencoderSpec } from '../models/autoencoder.ts';
import { createOptimizer } from '../models/optim.ts';
import { updateRunningStats, type BatchStats } from '../models/layers.ts';
import { discriminatorInput, globalNorm } from './shared.ts';
import type { DataShape, FamilyDefinition, FamilyRuntime, FixedInputs, SampleOutput, StepContext } from './types.ts';

type AutoencoderObjective = 'energy' | 'boundary-equilibrium';

/**
 * What an autoencoder-discriminator family (EBGAN, BEGAN) cannot train with: the objective of the
 * other families, non-image data, and the knobs of other discriminators, which would otherwise be
 * silently ignored.
 */
export function checkAutoencoderRun(config: RunConfig, shape: DataShape, objective: AutoencoderObjective): Issue[] {
  const f = config.family;
  const issues: Issue[] = [];
  if (config.objective !== objective) issues.push({ path: 'objective', message: `${f} trains with the ${objective} objective, not ${config.objective}` });
  if (shape.layout !== 'images') issues.push({ path: 'dataset', message: `${f} needs an image dataset (its discriminator is a convolutional autoencoder); this dataset is ${shape.layout}` });
  else {
    const problem = autoencoderShapeProblem(shape);
    if (problem) issues.push({ path: 'dataset', message: `${f} ${problem}` });
  }
  const a = config.architecture;
  if (a.dNorm !== 'none') issues.push({ path: 'architecture.dNorm', message: `${f}'s autoencoder discriminator has no normalisation layers (an image's energy must not depend on its batch); dNorm must be none, not ${a.dNorm}` });
  if (a.selfAttention) issues.push({ path: 'architecture.selfAttention', message: `${f} has no self-attention block (that is SAGAN's); set selfAttention to false` });
  if (a.resolution !== null) issues.push({ path: 'architecture.resolution', message: `${f} generates at the dataset's resolution; resolution must be null, not ${a.resolution}` });
  const r = config.regularizers;
  if (r.gradientPenalty > 0) issues.push({ path: 'regularizers.gradientPenalty', message: `${f}'s ${objective} loss takes no gradient penalty; set gradientPenalty to 0` });
  if (r.r1 > 0) issues.push({ path: 'regularizers.r1', message: `${f}'s ${objective} loss takes no R1 penalty; set r1 to 0` });
  if (r.weightClip > 0) issues.push({ path: 'regularizers.weightClip', message: `${f}'s autoencoder discriminator is not a clipped critic; set weightClip to 0` });
  const t = config.tricks;
  if (t.labelSmoothing > 0) issues.push({ path: 'tricks.labelSmoothing', message: `${f}'s ${objective} loss has no real/fake targets to smooth; set labelSmoothing to 0` });
  if (t.labelFlip > 0) issues.push({ path: 'tricks.labelFlip', message: `${f}'s ${objective} loss has no real/fake labels to flip; set labelFlip to 0` });
  return issues;
}

export function checkEbgan(config: RunConfig, shape: DataShape): Issue[] {
  const issues = checkAutoencoderRun(config, shape, 'energy');
  const g = config.architecture.gNorm;
  if (g !== 'batch' && g !== 'none') issues.push({ path: 'architecture.gNorm', message: `ebgan's generator (DCGAN's) supports batch or no normalisation, not ${g}` });
  return issues;
}

/** Per-sample energy D(x) = mean over pixels of (Dec(Enc(x)) − x)², with the code for the pulling-away term. */
function energy(ae: Autoencoder, x: tf.Tensor4D): { energy: tf.Tensor1D; code: tf.Tensor2D } {
  const code = ae.encode(x);
  return { energy: tf.mean(tf.square(tf.sub(ae.decode(code), x)), [1, 2, 3]) as tf.Tensor1D, code };
}

/**
 * The pulling-away term (EBGAN eq. 4): mean squared cosine similarity between the codes of
 * different samples of a batch, 1/(N(N−1)) Σ_{i≠j} (sᵢᵀsⱼ / ‖sᵢ‖‖sⱼ‖)². It is 0 when the codes are
 * orthogonal and 1 when they all point one way (mode collapse).
 */
export function pullingAway(codes: tf.Tensor2D): tf.Scalar {
  const n = codes.shape[0];
  if (n < 2) return tf.scalar(0);
  const unit = tf.div(codes, tf.add(tf.norm(codes, 'euclidean', 1, true), 1e-8));
  const cos = tf.matMul(unit, unit, false, true);
  const offDiagonal = tf.sub(tf.ones([n, n]), tf.eye(n));
  return tf.div(tf.sum(tf.mul(tf.square(cos), offDiagonal)), n * (n - 1)) as tf.Scalar;
}

export function buildEbgan(config: RunConfig, shape: DataShape, seed: number): FamilyRuntime {
  const a = config.architecture;
  const rng = Rng.derive(seed, 1);
  const image = { height: shape.height, width: shape.width, channels: shape.channels };
  const g = buildGenerator({ image, latentDim: a.latentDim, gChannels: a.gChannels, dChannels: a.dChannels, gNorm: a.gNorm === 'batch' ? 'batch' : 'none', leak: a.leak }, rng);
  // the code has latentDim entries: the paper leaves its size open, and this keeps one knob
  const spec: AutoencoderSpec = { image, codeDim: a.latentDim, channels: a.dChannels, activation: 'leaky-relu', leak: a.leak };
  const ae = buildAutoencoder(spec, rng);
  const gOpt = createOptimizer(config.optimizer.g, 'g');
  const dOpt = createOptimizer(config.optimizer.d, 'd');
  const gTrainable = g.params.trainable();
  const dTrainable = ae.params.trainable();
  const margin = config.extras.margin;
  const lambdaPt = config.regularizers.pullAway;

  return {
    networks: { G: g.params, D: ae.params },
    generatorKey: 'G',
    optimizers: [gOpt, dOpt],
    trainStep(ctx: StepContext, withGradNorms: boolean) {
      const b = ctx.batchSize;
      const out: Record<string, tf.Scalar> = {};
      for (let k = 0; k < config.schedule.dStepsPerG; k++) {
        const batch = ctx.batch();
        if (batch.kind !== 'images') throw new Error(`ebgan trains on image batches, got ${batch.kind}`);
        const realIn = discriminatorInput(ctx, batch.x);
        // G's forward pass outside the tape: D's update needs no gradient through G
        const fakeIn = discriminatorInput(ctx, g.apply(ctx.latents(b), true));
        let eReal!: tf.Scalar;
        let eFake!: tf.Scalar;
        const { value, grads } = tf.variableGrads(() => {
          const real = energy(ae, realIn).energy;
          const fake = energy(ae, fakeIn).energy;
          eReal = tf.keep(tf.mean(real));
          eFake = tf.keep(tf.mean(fake));
          // L_D = D(x) + [m − D(G(z))]⁺ (EBGAN eq. 1), per sample, averaged over the batch
          return tf.add(tf.mean(real), tf.mean(tf.relu(tf.sub(margin, fake)))) as tf.Scalar;
        }, dTrainable.map(([, v]) => v));
        if (withGradNorms && k === config.schedule.dStepsPerG - 1) out['grad/d_norm'] = globalNorm(grads);
        dOpt.apply(dTrainable, grads);
        out['loss/d'] = value;
        // kept inside variableGrads' scope; re-owned by the caller's tidy through clone
        out['d/real'] = tf.clone(eReal);
        out['d/fake'] = tf.clone(eFake);
        tf.dispose([eReal, eFake]);
      }
      const stats: BatchStats = new Map();
      const z = ctx.latents(b);
      let pt!: tf.Scalar;
      const { value: gLoss, grads } = tf.variableGrads(() => {
        const fake = energy(ae, discriminatorInput(ctx, g.apply(z, true, stats)));
        pt = tf.keep(pullingAway(fake.code));
        // L_G = D(G(z)) + λ_PT·PT (EBGAN eqs. 2 and 4)
        const l = tf.mean(fake.energy) as tf.Scalar;
        return lambdaPt > 0 ? tf.add(l, tf.mul(pt, lambdaPt)) : l;
      }, gTrainable.map(([, v]) => v));
      if (withGradNorms) out['grad/g_norm'] = globalNorm(grads);
      gOpt.apply(gTrainable, grads);
      updateRunningStats(g.params, stats);
      out['loss/g'] = gLoss;
      out['ebgan/pull_away'] = tf.clone(pt);
      pt.dispose();
      return out;
    },
    sample(fixed: FixedInputs): SampleOutput {
      return { kind: 'grid', images: g.apply(fixed.z, false), cols: 8 };
    },
    // the probe's score (issue 7): minus the energy, so higher = more real as for the other families
    discriminate: (x: tf.Tensor) => tf.neg(energy(ae, x as tf.Tensor4D).energy) as tf.Tensor1D,
    state: () => ({}),
    restoreState: () => undefined,
    dispose() {
      g.params.dispose();
      ae.params.dispose();
      gOpt.dispose();
      dOpt.dispose();
    },
  };
}

export const EBGAN: FamilyDefinition = { id: 'ebgan', contract: 'unconditional', check: checkEbgan, build: buildEbgan };
