// Adversarial objectives over logits. Each returns scalar losses; the training step differentiates
// them with respect to one network's parameters only.
import * as tf from '@tensorflow/tfjs-core';
import type { Objective } from '../../common/config.ts';

/** numerically stable BCE with logits: max(x,0) − x·t + log(1 + e^−|x|) */
export function bceWithLogits(logits: tf.Tensor, target: number): tf.Scalar {
  return tf.tidy(() => tf.mean(tf.add(tf.sub(tf.relu(logits), tf.mul(logits, target)), tf.log1p(tf.exp(tf.neg(tf.abs(logits)))))));
}

/** BCE with logits against per-sample targets (label smoothing and flips), mean over the batch */
export function bceWithTargets(logits: tf.Tensor, targets: tf.Tensor): tf.Scalar {
  return tf.tidy(() => tf.mean(tf.add(tf.sub(tf.relu(logits), tf.mul(logits, targets)), tf.log1p(tf.exp(tf.neg(tf.abs(logits)))))));
}

export interface AdversarialLoss {
  discriminator(real: tf.Tensor, fake: tf.Tensor, realTarget: number): tf.Scalar;
  generator(fake: tf.Tensor): tf.Scalar;
}

/** Objectives that compare D's scores of real and fake directly; `energy` and `boundary-equilibrium`
 *  are defined by their autoencoder families. */
export const OBJECTIVE_LOSSES: Partial<Record<Objective, AdversarialLoss>> = {
  // Goodfellow et al. with the non-saturating generator loss −log D(G(z))
  'non-saturating': {
    discriminator: (real, fake, t) => tf.add(bceWithLogits(real, t), bceWithLogits(fake, 0)),
    generator: (fake) => bceWithLogits(fake, 1),
  },
  // the original minimax generator loss log(1 − D(G(z))), i.e. −BCE(fake, 0); saturates early
  minimax: {
    discriminator: (real, fake, t) => tf.add(bceWithLogits(real, t), bceWithLogits(fake, 0)),
    generator: (fake) => tf.neg(bceWithLogits(fake, 0)),
  },
  // LSGAN (Mao et al.) with a−b−c = 0−1−1
  'least-squares': {
    discriminator: (real, fake, t) => tf.mul(tf.add(tf.mean(tf.square(tf.sub(real, t))), tf.mean(tf.square(fake))), 0.5),
    generator: (fake) => tf.mul(tf.mean(tf.square(tf.sub(fake, 1))), 0.5),
  },
  // WGAN critic (Arjovsky et al.): D maximises E[D(x)] − E[D(G(z))]; needs clipping or a penalty
  wasserstein: {
    discriminator: (real, fake) => tf.sub(tf.mean(fake), tf.mean(real)),
    generator: (fake) => tf.neg(tf.mean(fake)) as tf.Scalar,
  },
  // hinge loss (Lim & Ye; SAGAN, BigGAN)
  hinge: {
    discriminator: (real, fake) => tf.add(tf.mean(tf.relu(tf.sub(1, real))), tf.mean(tf.relu(tf.add(1, fake)))),
    generator: (fake) => tf.neg(tf.mean(fake)) as tf.Scalar,
  },
};

/** Whether D's output is a logit whose sigmoid reads as a probability (for the D(x) charts). */
export function scoresAreLogits(objective: Objective): boolean {
  return objective === 'non-saturating' || objective === 'minimax';
}
