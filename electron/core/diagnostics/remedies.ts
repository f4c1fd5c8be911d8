// Remedies from GAN practice, each a pure function from the run's config to a partial config that
// "fork with this remedy" merges into it (resolveRunConfig(merge(parent, patch))). A remedy that
// does not apply to a config (the trick is already on, the family has no such knob) returns null.
import type { AlertKind, Remedy } from '../../common/api.ts';
import type { Family, RunConfig } from '../../common/config.ts';

export type Patch = Record<string, unknown>;

interface RemedyDefinition {
  title: string;
  why: string;
  patch(config: RunConfig, layout: 'images' | 'points' | 'paired' | 'unpaired'): Patch | null;
}

const TWO_PLAYER: readonly Family[] = ['dcgan', 'wgan', 'wgan-gp', 'lsgan'];
const CONV_SN: readonly Family[] = ['sagan', 'cgan'];
const usesTargets = (c: RunConfig) => c.objective === 'non-saturating' || c.objective === 'minimax' || c.objective === 'least-squares';
const round = (x: number) => Number(x.toPrecision(3));

export const REMEDIES = {
  label_smoothing: {
    title: 'One-sided label smoothing (0.1)',
    why: "D's targets for real images become 0.9, so it cannot grow arbitrarily confident (Salimans et al. 2016).",
    patch: (c) => (usesTargets(c) && c.tricks.labelSmoothing < 0.1 ? { tricks: { labelSmoothing: 0.1 } } : null),
  },
  instance_noise: {
    title: 'Instance noise (σ 0.1, annealed)',
    why: "Gaussian noise on everything D sees makes real and fake distributions overlap, so D's gradients stay informative (Sønderby et al. 2017).",
    patch: (c) => (c.tricks.instanceNoise < 0.1 ? { tricks: { instanceNoise: 0.1, instanceNoiseSteps: Math.max(1000, Math.round(c.schedule.steps / 2)) } } : null),
  },
  lower_d_lr: {
    title: "Lower D's learning rate (÷4)",
    why: 'A slower D leaves G time to catch up; the two players stay nearer balance.',
    patch: (c) => ({ optimizer: { d: { ...c.optimizer.d, lr: round(c.optimizer.d.lr / 4) } } }),
  },
  ttur: {
    title: 'Two time-scale update rule (G 1e-4, D 4e-4, Adam β 0, 0.9)',
    why: 'Separate learning rates with a faster D provably converge to a local Nash equilibrium (Heusel et al. 2017); SAGAN and BigGAN use them.',
    patch: (c) => (c.optimizer.g.lr === 1e-4 && c.optimizer.d.lr === 4e-4 ? null : { optimizer: { g: { kind: 'adam', lr: 1e-4, beta1: 0, beta2: 0.9 }, d: { kind: 'adam', lr: 4e-4, beta1: 0, beta2: 0.9 } } }),
  },
  smaller_g_lr: {
    title: "Smaller G learning rate (÷4)",
    why: 'Large G steps jump between modes that D has not yet learned to reject; smaller ones spread G over the data.',
    patch: (c) => ({ optimizer: { g: { ...c.optimizer.g, lr: round(c.optimizer.g.lr / 4) } } }),
  },
  lower_lr: {
    title: 'Both learning rates ÷10, Adam',
    why: 'Steps that overshoot make the losses blow up; smaller Adam steps keep the updates bounded.',
    patch: (c) => ({ optimizer: { g: { kind: 'adam', lr: round(c.optimizer.g.lr / 10), beta1: 0.5, beta2: 0.999 }, d: { kind: 'adam', lr: round(c.optimizer.d.lr / 10), beta1: 0.5, beta2: 0.999 } } }),
  },
  fewer_d_steps: {
    title: 'Fewer D steps per G step',
    why: 'Each extra D update makes D stronger relative to G.',
    patch: (c) => (c.schedule.dStepsPerG > 1 ? { schedule: { dStepsPerG: Math.max(1, Math.floor(c.schedule.dStepsPerG / 2)) } } : null),
  },
  wgan_gp: {
    title: 'WGAN-GP (Wasserstein loss, gradient penalty λ 10, 5 critic steps)',
    why: 'The critic gives useful gradients even when it separates real and fake, and the penalty keeps it 1-Lipschitz (Gulrajani et al. 2017); it resists collapse and vanishing gradients.',
    patch: (c) => {
      if (!TWO_PLAYER.includes(c.family) || (c.objective === 'wasserstein' && c.regularizers.gradientPenalty > 0)) return null;
      return {
        family: 'wgan-gp',
        objective: 'wasserstein',
        // a gradient penalty needs a D without batch statistics
        architecture: { dNorm: 'none' },
        regularizers: { gradientPenalty: 10, weightClip: 0 },
        tricks: { labelSmoothing: 0, labelFlip: 0 },
        optimizer: { g: { kind: 'adam', lr: 1e-4, beta1: 0, beta2: 0.9 }, d: { kind: 'adam', lr: 1e-4, beta1: 0, beta2: 0.9 } },
        schedule: { dStepsPerG: 5 },
      };
    },
  },
  hinge_sn: {
    title: 'Hinge loss with spectral normalisation in D',
    why: "Spectral norm bounds D's Lipschitz constant, so its gradients can neither explode nor vanish; with the hinge loss it is the SAGAN/BigGAN recipe (Miyato et al. 2018).",
    patch: (c, layout) => {
      if (CONV_SN.includes(c.family)) return c.objective === 'hinge' && c.architecture.dNorm === 'spectral' ? null : { objective: 'hinge', architecture: { dNorm: 'spectral' } };
      if (!TWO_PLAYER.includes(c.family)) return null;
      // the plain two-player runtime has no spectral norm; its conv twin does (SAGAN without attention)
      if (layout !== 'images') return c.objective === 'hinge' ? null : { objective: 'hinge', regularizers: { weightClip: 0, gradientPenalty: 0 } };
      return { family: 'sagan', objective: 'hinge', architecture: { dNorm: 'spectral', gNorm: c.architecture.gNorm === 'batch' ? 'batch' : 'none', selfAttention: false }, regularizers: { weightClip: 0 } };
    },
  },
  diff_augment: {
    title: 'DiffAugment (translation, cutout)',
    why: 'Differentiable augmentation of everything D sees keeps D from memorising a small training set (Zhao et al. 2020).',
    patch: (c, layout) => (layout === 'images' && c.tricks.diffAugment.length === 0 ? { tricks: { diffAugment: ['translation', 'cutout'] } } : null),
  },
  r1: {
    title: 'R1 penalty on real data (γ 10)',
    why: "Penalising D's gradient on real images keeps it from sharpening around the training set (Mescheder et al. 2018).",
    patch: (c) => (c.regularizers.r1 > 0 || c.objective === 'energy' || c.objective === 'boundary-equilibrium' ? null : { regularizers: { r1: 10 } }),
  },
  non_saturating: {
    title: 'Non-saturating generator loss',
    why: "The minimax G loss log(1 − D(G(z))) has almost no gradient once D rejects G's samples; −log D(G(z)) has a strong one there (Goodfellow et al. 2014).",
    patch: (c) => (c.objective === 'minimax' ? { objective: 'non-saturating' } : null),
  },
  more_steps: {
    title: 'Raise both learning rates (×2)',
    why: 'When nothing changes any more the steps may be too small to leave a plateau.',
    patch: (c) => ({ optimizer: { g: { ...c.optimizer.g, lr: Math.min(1, round(c.optimizer.g.lr * 2)) }, d: { ...c.optimizer.d, lr: Math.min(1, round(c.optimizer.d.lr * 2)) } } }),
  },
} satisfies Record<string, RemedyDefinition>;

export type RemedyId = keyof typeof REMEDIES;

/** Remedies per alert kind, most specific first. */
export const REMEDIES_BY_KIND: Record<AlertKind, readonly RemedyId[]> = {
  convergence_failure: ['lower_d_lr', 'label_smoothing', 'instance_noise', 'fewer_d_steps', 'hinge_sn', 'wgan_gp', 'non_saturating'],
  mode_collapse: ['smaller_g_lr', 'wgan_gp', 'hinge_sn', 'instance_noise', 'label_smoothing', 'ttur'],
  instability: ['lower_lr', 'ttur', 'hinge_sn', 'wgan_gp', 'instance_noise'],
  gradient: ['hinge_sn', 'wgan_gp', 'lower_lr', 'non_saturating', 'instance_noise'],
  divergence: ['lower_lr', 'wgan_gp', 'hinge_sn'],
  stagnation: ['ttur', 'more_steps', 'lower_d_lr'],
  d_overfitting: ['diff_augment', 'r1', 'label_smoothing', 'instance_noise', 'lower_d_lr'],
};

/** The patch of one remedy for this config, or null when it does not apply. */
export function remedyPatch(remedyId: RemedyId, config: RunConfig, layout: 'images' | 'points' | 'paired' | 'unpaired' = 'images'): Patch | null {
  return REMEDIES[remedyId].patch(config, layout);
}

export function isRemedyId(id: string): id is RemedyId {
  return Object.prototype.hasOwnProperty.call(REMEDIES, id);
}

/** Every remedy for an alert kind that applies to this config, with its patch. */
export function remediesFor(kind: AlertKind, config: RunConfig | null, layout: 'images' | 'points' | 'paired' | 'unpaired' = 'images'): Remedy[] {
  const out: Remedy[] = [];
  for (const id of REMEDIES_BY_KIND[kind]) {
    const def = REMEDIES[id];
    const patch = config ? def.patch(config, layout) : {};
    if (patch) out.push({ id, title: def.title, why: def.why, patch });
  }
  return out;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Deep merge: plain objects merge, arrays and scalars in `patch` replace. */
export function mergePatch<T>(base: T, patch: Patch): T {
  if (!isPlainObject(base)) return patch as T;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(patch)) out[k] = isPlainObject(v) && isPlainObject(out[k]) ? mergePatch(out[k], v) : v;
  return out as T;
}
