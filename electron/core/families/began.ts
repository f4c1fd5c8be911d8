// BEGAN (Berthelot, Schumm & Metz 2017, "BEGAN: Boundary Equilibrium Generative Adversarial
// Networks"): D is an autoencoder scored by its L1 reconstruction loss, and a proportional
// controller k_t keeps the equilibrium E[L(G(z))] = γ·E[L(x)] between the two players. G is the
// decoder architecture with ELUs and no batch norm. M_global measures convergence and is what the
// UI charts as BEGAN's live convergence curve (with k_t).
import * as tf from '@tensorflow/tfjs-core';
import type { RunConfig } from '../../common/config.ts';
import type { Issue } from '../../common/errors.ts';
import { Rng } from '../models/rng.ts';
import { buildAutoencoder, buildDecoderGenerator, type Autoencoder, type AutoencoderSpec } from '../models/autoencoder.ts';
import { createOptimizer } from '../models/optim.ts';
import { discriminatorInput, globalNorm } from './shared.ts';
import { checkAutoencoderRun } from './ebgan.ts';
import type { DataShape, FamilyDefinition, FamilyRuntime, FixedInputs, SampleOutput, StepContext } from './types.ts';

export function checkBegan(config: RunConfig, shape: DataShape): Issue[] {
  const issues = checkAutoencoderRun(config, shape, 'boundary-equilibrium');
  if (config.architecture.gNorm !== 'none') issues.push({ path: 'architecture.gNorm', message: `began's generator is the decoder without normalisation layers (Berthelot et al.); gNorm must be none, not ${config.architecture.gNorm}` });
  if (config.regularizers.pullAway > 0) issues.push({ path: 'regularizers.pullAway', message: `the pulling-away term is EBGAN's; began balances G and D with k_t instead, so set pullAway to 0` });
  return issues;
}

/** L(v) = |v − D(v)|: the mean absolute reconstruction error per pixel, averaged over the batch (BEGAN eq. 1, η = 1). */
function reconstructionLoss(ae: Autoencoder, v: tf.Tensor4D): tf.Scalar {
  return tf.mean(tf.abs(tf.sub(ae.decode(ae.encode(v)), v)));
}

export function buildBegan(config: RunConfig, shape: DataShape, seed: number): FamilyRuntime {
  const a = config.architecture;
  const rng = Rng.derive(seed, 1);
  const image = { height: shape.height, width: shape.width, channels: shape.channels };
  // N_h = N_z as in the paper, so G and D's decoder share one architecture; G has its own width
  const dSpec: AutoencoderSpec = { image, codeDim: a.latentDim, channels: a.dChannels, activation: 'elu', leak: a.leak };
  const g = buildDecoderGenerator({ ...dSpec, channels: a.gChannels }, a.latentDim, rng);
  const ae = buildAutoencoder(dSpec, rng);
  const gOpt = createOptimizer(config.optimizer.g, 'g');
  const dOpt = createOptimizer(config.optimizer.d, 'd');
  const gTrainable = g.params.trainable();
  const dTrainable = ae.params.trainable();
  const { gamma, lambdaK } = config.extras;
  // k_t stays on the device so a step needs no read-back; state() reads it only for checkpoints.
  // k_0 = 0 as in the paper.
  const k = tf.variable(tf.scalar(0), false);

  return {
    networks: { G: g.params, D: ae.params },
    generatorKey: 'G',
    optimizers: [gOpt, dOpt],
    trainStep(ctx: StepContext, withGradNorms: boolean) {
      const b = ctx.batchSize;
      const out: Record<string, tf.Scalar> = {};
      let lossReal!: tf.Scalar;
      for (let step = 0; step < config.schedule.dStepsPerG; step++) {
        const batch = ctx.batch();
        if (batch.kind !== 'images') throw new Error(`began trains on image batches, got ${batch.kind}`);
        const realIn = discriminatorInput(ctx, batch.x);
        const fakeIn = discriminatorInput(ctx, g.apply(ctx.latents(b)));
        let lReal!: tf.Scalar;
        let lFake!: tf.Scalar;
        const { value, grads } = tf.variableGrads(() => {
          lReal = tf.keep(reconstructionLoss(ae, realIn));
          lFake = tf.keep(reconstructionLoss(ae, fakeIn));
          // L_D = L(x) − k_t·L(G(z_D)) (BEGAN eq. 4)
          return tf.sub(lReal, tf.mul(k, lFake)) as tf.Scalar;
        }, dTrainable.map(([, v]) => v));
        if (withGradNorms && step === config.schedule.dStepsPerG - 1) out['grad/d_norm'] = globalNorm(grads);
        dOpt.apply(dTrainable, grads);
        out['loss/d'] = value;
        // kept inside variableGrads' scope; re-owned by the caller's tidy through clone
        lossReal = tf.clone(lReal);
        out['d/real'] = lossReal;
        out['d/fake'] = tf.clone(lFake);
        tf.dispose([lReal, lFake]);
      }
      const z = ctx.latents(b);
      // L_G = L(G(z_G)) (BEGAN eq. 4)
      const { value: gLoss, grads } = tf.variableGrads(() => reconstructionLoss(ae, discriminatorInput(ctx, g.apply(z))), gTrainable.map(([, v]) => v));
      if (withGradNorms) out['grad/g_norm'] = globalNorm(grads);
      gOpt.apply(gTrainable, grads);
      out['loss/g'] = gLoss;
      // k_{t+1} = clip(k_t + λ_k(γ·L(x) − L(G(z_G))), 0, 1); M_global = L(x) + |γ·L(x) − L(G(z_G))| (BEGAN eq. 4 and §3.4.1)
      const balance = tf.sub(tf.mul(lossReal, gamma), gLoss);
      k.assign(tf.clipByValue(tf.add(k, tf.mul(balance, lambdaK)), 0, 1) as tf.Scalar);
      out['began/k'] = tf.clone(k);
      out['began/m_global'] = tf.add(lossReal, tf.abs(balance)) as tf.Scalar;
      return out;
    },
    sample(fixed: FixedInputs): SampleOutput {
      return { kind: 'grid', images: g.apply(fixed.z), cols: 8 };
    },
    // the probe's score (issue 7): minus each image's L1 reconstruction loss, so higher = more real
    discriminate: (x: tf.Tensor) => tf.neg(tf.mean(tf.abs(tf.sub(ae.decode(ae.encode(x as tf.Tensor4D)), x)), [1, 2, 3])) as tf.Tensor1D,
    state: () => ({ k: k.dataSync()[0] }),
    restoreState(state: Record<string, unknown>) {
      const value = typeof state.k === 'number' ? state.k : 0;
      tf.tidy(() => k.assign(tf.scalar(value)));
    },
    dispose() {
      g.params.dispose();
      ae.params.dispose();
      gOpt.dispose();
      dOpt.dispose();
      k.dispose();
    },
  };
}

export const BEGAN: FamilyDefinition = { id: 'began', contract: 'unconditional', check: checkBegan, build: buildBegan };
