// What the wizard knows about each family beyond FAMILY_INFO: which datasets it can train on,
// which knobs its networks actually have, and which family a dataset calls for. The core's
// family checks (electron/core/families/*) stay the authority: the wizard also asks it through
// `runs.estimate` and shows its issues at their fields. This table only decides what to show.
import type { DatasetSummary } from '../../../electron/common/api.ts';
import { FAMILY_INFO, type Family, type Norm, type Objective, type RunConfig } from '../../../electron/common/config.ts';

export type DatasetLayout = DatasetSummary['layout'];

/** the kind of data, in words: "labelled images", "A→B pairs", … */
export function datasetKind(d: Pick<DatasetSummary, 'layout' | 'classNames'>): string {
  switch (d.layout) {
    case 'images':
      return d.classNames && d.classNames.length > 1 ? 'labelled images' : 'images';
    case 'paired':
      return 'A→B pairs';
    case 'unpaired':
      return 'two unpaired domains';
    case 'points':
      return '2-D points';
  }
}

/** How many items the dataset holds, in its own unit. */
export function datasetSize(d: Pick<DatasetSummary, 'layout' | 'count'>): string {
  const n = d.count.toLocaleString('en-US');
  switch (d.layout) {
    case 'points':
      return `${n} points`;
    case 'paired':
      return `${n} pairs`;
    default:
      return `${n} images`;
  }
}

const ADVERSARIAL: Objective[] = ['non-saturating', 'minimax', 'least-squares', 'wasserstein', 'hinge'];
const TWO_PLAYER: Family[] = ['dcgan', 'wgan', 'wgan-gp', 'lsgan'];

/** Why `family` cannot train on `dataset`, or null when it can. Mirrors the core's data checks. */
export function familyMismatch(family: Family, dataset: DatasetSummary | null): string | null {
  if (!dataset) return null;
  const kind = datasetKind(dataset);
  const label = FAMILY_INFO[family].label;
  const labelled = dataset.layout === 'images' && (dataset.classNames?.length ?? 0) > 1;
  switch (family) {
    case 'pix2pix':
      return dataset.layout === 'paired' ? null : `${label} learns A → B from matching pairs; ${dataset.name} is ${kind}.`;
    case 'cyclegan':
      return dataset.layout === 'unpaired' ? null : `${label} translates between two unpaired domains; ${dataset.name} is ${kind}.`;
    case 'cgan':
      return labelled ? null : `${label} needs labelled images (at least 2 classes); ${dataset.name} is ${kind}.`;
    default:
      if (dataset.layout === 'paired' || dataset.layout === 'unpaired') return `${label} generates from noise and needs images or points; ${dataset.name} is ${kind} (use pix2pix or cyclegan).`;
      if (dataset.layout === 'points' && !TWO_PLAYER.includes(family)) return `${label} is convolutional and needs images; on 2-D points use DCGAN, WGAN, WGAN-GP or LSGAN.`;
      return null;
  }
}

export interface Recommendation {
  /** best first */
  families: Family[];
  /** turn DiffAugment on: few images overfit D quickly */
  diffAugment: boolean;
  why: string;
}

/** Below this many images a discriminator memorises the data; DiffAugment helps (Zhao et al. 2020). */
export const SMALL_DATASET = 2000;

export function recommend(dataset: DatasetSummary | null): Recommendation | null {
  if (!dataset) return null;
  const small = dataset.layout === 'images' && dataset.count < SMALL_DATASET;
  const diffNote = small ? ` Only ${dataset.count.toLocaleString('en-US')} images: DiffAugment keeps D from memorising them.` : '';
  switch (dataset.layout) {
    case 'paired':
      return { families: ['pix2pix'], diffAugment: false, why: 'A→B pairs: Pix2Pix learns the mapping with an L1 term and a PatchGAN critic.' };
    case 'unpaired':
      return { families: ['cyclegan'], diffAugment: false, why: 'Two unpaired domains: CycleGAN learns both directions, tied by the cycle loss.' };
    case 'points':
      return { families: ['dcgan', 'wgan-gp'], diffAugment: false, why: '2-D points: small MLPs train in seconds; watch mode collapse live. WGAN-GP usually covers more modes.' };
    case 'images':
      if ((dataset.classNames?.length ?? 0) > 1) return { families: ['cgan', 'dcgan'], diffAugment: small, why: `Labelled images: a conditional GAN lets you choose the class of each sample.${diffNote}` };
      return { families: ['dcgan', 'wgan-gp'], diffAugment: small, why: `Unlabelled images: DCGAN is the fast baseline; WGAN-GP is steadier.${diffNote}` };
  }
}

/** The knobs a family's networks have (what the architecture step shows). */
export interface FamilyKnobs {
  objectives: readonly Objective[];
  gNorms: readonly Norm[];
  dNorms: readonly Norm[];
  latent: boolean;
  widths: boolean;
  hiddenUnits: boolean;
  resolutions: readonly (number | null)[] | null;
  selfAttention: boolean;
  projection: boolean;
  mappingLayers: boolean;
  dropout: boolean;
  regularizers: readonly (keyof RunConfig['regularizers'])[];
  extras: readonly (keyof RunConfig['extras'])[];
  /** label smoothing and flips need real/fake targets */
  targets: boolean;
}

const FEATURE_NORMS: Norm[] = ['none', 'batch', 'instance', 'layer'];

export function familyKnobs(family: Family, layout: DatasetLayout | null): FamilyKnobs {
  const points = layout === 'points';
  const base: FamilyKnobs = {
    objectives: ADVERSARIAL,
    gNorms: [],
    dNorms: [],
    latent: true,
    widths: !points,
    hiddenUnits: points,
    resolutions: null,
    selfAttention: false,
    projection: false,
    mappingLayers: false,
    dropout: false,
    regularizers: ['gradientPenalty', 'r1', 'weightClip'],
    extras: [],
    targets: true,
  };
  switch (family) {
    case 'dcgan':
    case 'wgan':
    case 'wgan-gp':
    case 'lsgan':
      return { ...base, gNorms: points ? [] : ['batch', 'none'] };
    case 'cgan':
      return { ...base, widths: true, hiddenUnits: false, gNorms: ['none', 'batch', 'spectral'], dNorms: ['none', 'spectral'], selfAttention: true, projection: true };
    case 'sagan':
      return { ...base, widths: true, hiddenUnits: false, gNorms: ['none', 'batch', 'spectral'], dNorms: ['none', 'spectral'], selfAttention: true };
    case 'ebgan':
      return { ...base, widths: true, hiddenUnits: false, objectives: ['energy'], gNorms: ['batch', 'none'], regularizers: ['pullAway'], extras: ['margin'], targets: false };
    case 'began':
      return { ...base, widths: true, hiddenUnits: false, objectives: ['boundary-equilibrium'], regularizers: [], extras: ['gamma', 'lambdaK'], targets: false };
    case 'pix2pix':
      return { ...base, latent: false, widths: true, hiddenUnits: false, gNorms: FEATURE_NORMS, dNorms: FEATURE_NORMS, dropout: true, regularizers: ['l1', 'gradientPenalty', 'r1', 'weightClip'] };
    case 'cyclegan':
      return { ...base, latent: false, widths: true, hiddenUnits: false, gNorms: FEATURE_NORMS, dNorms: FEATURE_NORMS, regularizers: ['cycle', 'identity', 'gradientPenalty', 'r1'], extras: ['poolSize'] };
    case 'stylegan':
      return { ...base, widths: true, hiddenUnits: false, resolutions: [32, 64], mappingLayers: true, regularizers: ['r1', 'gradientPenalty'], extras: ['styleMixing', 'truncation'] };
  }
}

/** One line per objective, for the objective picker. */
export const OBJECTIVE_HELP: Record<Objective, string> = {
  'non-saturating': 'Log loss with G maximising log D(G(z)): the standard choice, strong gradients early on.',
  minimax: 'The original zero-sum log loss; G’s gradient vanishes when D wins, so it often stalls.',
  'least-squares': 'LSGAN: squared distance to the real/fake targets; penalises samples far from the data.',
  wasserstein: 'Critic scores estimate the earth-mover distance; needs a Lipschitz critic (clipping or GP).',
  hinge: 'Margin loss on D’s scores (SAGAN, BigGAN); pairs well with spectral normalisation.',
  energy: 'EBGAN: D’s reconstruction error is the energy; fakes are pushed above a margin m.',
  'boundary-equilibrium': 'BEGAN: matches the autoencoder losses of real and fake, balanced by k_t.',
};

export const NORM_HELP: Record<Norm, string> = {
  none: 'no normalisation',
  batch: 'batch norm (DCGAN)',
  instance: 'instance norm (style transfer, CycleGAN)',
  layer: 'layer norm',
  spectral: 'spectral norm: 1-Lipschitz layers (SAGAN)',
};

export const REGULARIZER_HELP: Record<keyof RunConfig['regularizers'], { label: string; hint: string; step: string }> = {
  gradientPenalty: { label: 'Gradient penalty λ', hint: 'WGAN-GP: keeps ‖∇D‖ near 1 on interpolates; 10 is standard. 0 = off.', step: 'any' },
  r1: { label: 'R1 penalty γ', hint: 'Penalises ‖∇D‖² on real data (StyleGAN uses 10). 0 = off.', step: 'any' },
  weightClip: { label: 'Weight clip c', hint: 'WGAN: clip every D weight to [−c, c]; 0.01 in the paper. 0 = off.', step: 'any' },
  pullAway: { label: 'Pulling-away weight', hint: 'EBGAN: pushes the codes of a fake batch apart against mode collapse.', step: 'any' },
  l1: { label: 'L1 weight λ', hint: 'Pix2Pix: keeps G(A) close to B pixel-wise; 100 in the paper.', step: 'any' },
  cycle: { label: 'Cycle weight λ', hint: 'CycleGAN: A → B → A must return A (and B → A → B); 10 in the paper.', step: 'any' },
  identity: { label: 'Identity weight', hint: 'CycleGAN: G_AB(B) should stay B; preserves colour and content.', step: 'any' },
};

export const EXTRA_HELP: Record<keyof RunConfig['extras'], { label: string; hint: string; step: string }> = {
  margin: { label: 'Margin m', hint: 'EBGAN: D only pushes a fake’s energy up to m.', step: 'any' },
  gamma: { label: 'Diversity ratio γ', hint: 'BEGAN: lower γ, sharper but less varied samples (0.5 typical).', step: 'any' },
  lambdaK: { label: 'k_t learning rate λ_k', hint: 'BEGAN: how fast the equilibrium term k_t adapts (0.001).', step: 'any' },
  poolSize: { label: 'Image pool size', hint: 'CycleGAN: D also sees older fakes, which damps oscillation. 0 = off.', step: '1' },
  styleMixing: { label: 'Style mixing probability', hint: 'StyleGAN: two latents per image, switched at a random layer.', step: 'any' },
  truncation: { label: 'Truncation ψ', hint: 'StyleGAN: samples drawn closer to the mean style; 1 = none.', step: 'any' },
};

/** One line per trick, from the well-known GAN training hacks. */
export const TRICK_HELP = {
  labelSmoothing: 'One-sided label smoothing: D’s real target becomes 1 − s (e.g. 0.1), so D stays less sure of itself.',
  labelFlip: 'Noisy labels: flip each real/fake label D sees with this probability (e.g. 0.05).',
  instanceNoise: 'Instance noise: Gaussian noise of this σ on everything D sees, annealed to 0; overlaps the two distributions early on.',
  instanceNoiseSteps: 'Steps over which the instance noise anneals linearly to 0.',
  latent: 'Where z comes from: a spherical Gaussian (usual) or uniform in [−1, 1].',
  diffAugment: 'DiffAugment: the same differentiable augmentation on real and fake images for D; essential with a few hundred images.',
  emaDecay: 'Exponential moving average of G’s weights for samples (0.999 is typical): smoother, often better samples. 0 = off.',
  dStepsPerG: 'D (critic) updates per G update: 5 for WGAN / WGAN-GP, 1 otherwise.',
  ttur: 'Two time-scale update rule: a faster D learning rate (e.g. D 4e-4, G 1e-4, as in SAGAN) instead of more D steps.',
} as const;

export const DIFF_AUGMENT_HELP = {
  translation: 'shift by up to ⅛ of the image',
  cutout: 'zero a random square of half the size',
  color: 'brightness, saturation and contrast',
} as const;

export const OPTIMIZER_HELP = {
  adam: 'Adam: β₁ momentum, β₂ second moment. GANs use β₁ 0.5 or 0.',
  rmsprop: 'RMSprop: β₂ is the decay ρ (β₁ unused); the WGAN paper’s choice.',
  sgd: 'SGD: β₁ is heavy-ball momentum (0 = plain SGD; β₂ unused).',
} as const;
