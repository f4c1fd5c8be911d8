// The run config: a plain, versioned, JSON-serialisable description of a GAN run.
// A family is a preset over these parts (ARCHITECTURE.md "The GAN as data"), so the wizard, the
// command line and the run history all speak this one shape.
import { z } from 'zod';
import { invalidInput } from './errors.ts';

export const CONFIG_VERSION = 1;

/** The GAN families. Each is a preset over the parts below, built by one generic training loop. */
export const FAMILIES = ['dcgan', 'cgan', 'wgan', 'wgan-gp', 'lsgan', 'ebgan', 'began', 'sagan', 'pix2pix', 'cyclegan', 'stylegan'] as const;
export type Family = (typeof FAMILIES)[number];

/**
 * Adversarial objectives. `energy` is EBGAN's margin loss on an autoencoder D; `boundary-equilibrium`
 * is BEGAN's with its k_t controller. Families accept only the objectives that fit them.
 */
export const OBJECTIVES = ['non-saturating', 'minimax', 'least-squares', 'wasserstein', 'hinge', 'energy', 'boundary-equilibrium'] as const;
export type Objective = (typeof OBJECTIVES)[number];

/** `auto` tries tensorflow (GPU, then native CPU), then wasm, then cpu. */
export const BACKEND_CHOICES = ['auto', 'tensorflow', 'wasm', 'cpu'] as const;
export type BackendChoice = (typeof BACKEND_CHOICES)[number];

export const OPTIMIZERS = ['adam', 'rmsprop', 'sgd'] as const;
export const NORMS = ['none', 'batch', 'instance', 'layer', 'spectral'] as const;
export type Norm = (typeof NORMS)[number];
export const DIFF_AUGMENT = ['translation', 'cutout', 'color'] as const;
export type DiffAugmentPolicy = (typeof DIFF_AUGMENT)[number];

const OptimizerSchema = z
  .object({
    kind: z.enum(OPTIMIZERS),
    lr: z.number().positive().max(1),
    beta1: z.number().min(0).lt(1),
    beta2: z.number().min(0).lt(1),
  })
  .strict();
export type OptimizerConfig = z.infer<typeof OptimizerSchema>;

const int = () => z.number().int();

/** The metrics a during-training evaluation may compute (not the nearest-neighbour strips). */
export const DURING_TRAINING_METRICS = ['fid', 'kid', 'is', 'prc', 'prdc', 'prd', 'swd', 'fm', 'modes'] as const;

/**
 * Optional small-N evaluations while the run trains (issue 6, "metric over steps"): when a
 * checkpoint at or past the next multiple of `every` steps is written, the core scores it with `n`
 * samples in the evaluation thread, one at a time, never holding up training. Stored apart from
 * final evaluations (flagged "during training", never comparable with them). Off when absent.
 */
export const DuringTrainingEvaluationSchema = z
  .object({
    /** evaluate the first checkpoint at or past every multiple of this many steps */
    every: int().min(1).max(10_000_000),
    /** generated (and real) samples; small, so the scores are biased and only for the trend */
    n: int().min(16).max(5000).default(256),
    /** `pixel-8` (built in, d = 64 per channel, so FID works at N = 256), `pixel-16`, or a stored extractor id */
    extractor: z.string().min(1).max(100).regex(/^[A-Za-z0-9:_-]+$/, 'ids hold letters, digits, ":", "_" and "-" only').default('pixel-8'),
    metrics: z.array(z.enum(DURING_TRAINING_METRICS)).min(1).max(DURING_TRAINING_METRICS.length).default(['fid', 'kid']),
  })
  .strict();
export type DuringTrainingEvaluation = z.infer<typeof DuringTrainingEvaluationSchema>;

export const RunConfigSchema = z
  .object({
    version: z.literal(CONFIG_VERSION),
    name: z.string().trim().min(1).max(200).optional(),
    dataset: z.string().min(1).max(200),
    family: z.enum(FAMILIES),
    architecture: z
      .object({
        latentDim: int().min(1).max(1024),
        /** channels of G's first feature map; halved at each upsampling */
        gChannels: int().min(4).max(1024),
        /** channels of D's first conv; doubled at each downsampling */
        dChannels: int().min(4).max(1024),
        gNorm: z.enum(NORMS),
        dNorm: z.enum(NORMS),
        leak: z.number().min(0).max(1),
        /** dropout rate in G's hidden layers (a noise source, pix2pix style); 0 = off */
        dropout: z.number().min(0).max(0.9),
        /** self-attention block in G and D at the middle resolution (SAGAN) */
        selfAttention: z.boolean(),
        /** conditional D: projection (Miyato & Koyama) instead of concatenating the label */
        projection: z.boolean(),
        /** StyleGAN mapping network depth */
        mappingLayers: int().min(1).max(8),
        /** output resolution for families whose G is not tied to the data's (StyleGAN: 32 or 64); null = the dataset's */
        resolution: int().min(4).max(256).nullable(),
        /** width of the MLPs used for 2-D point datasets */
        hiddenUnits: int().min(8).max(1024),
      })
      .strict(),
    objective: z.enum(OBJECTIVES),
    regularizers: z
      .object({
        /** WGAN-GP style gradient penalty weight (0 = off) */
        gradientPenalty: z.number().min(0).max(1000),
        /** R1 penalty on real data (0 = off) */
        r1: z.number().min(0).max(1000),
        /** WGAN weight clipping of D's parameters to [-c, c] (0 = off) */
        weightClip: z.number().min(0).max(10),
        /** EBGAN pulling-away term weight (0 = off) */
        pullAway: z.number().min(0).max(100),
        /** pix2pix L1 weight between G(a) and b */
        l1: z.number().min(0).max(1000),
        /** CycleGAN cycle-consistency and identity weights */
        cycle: z.number().min(0).max(1000),
        identity: z.number().min(0).max(1000),
      })
      .strict(),
    tricks: z
      .object({
        /** one-sided label smoothing: real targets become 1 - value */
        labelSmoothing: z.number().min(0).max(0.5),
        /** probability of flipping each real/fake label seen by D (noisy labels) */
        labelFlip: z.number().min(0).max(0.5),
        /** std of Gaussian instance noise added to D's inputs, annealed linearly to 0 over `instanceNoiseSteps` */
        instanceNoise: z.number().min(0).max(2),
        instanceNoiseSteps: int().min(1).max(10_000_000),
        latent: z.enum(['gaussian', 'uniform']),
        /** differentiable augmentation of everything D sees (Zhao et al. 2020), for small datasets */
        diffAugment: z.array(z.enum(DIFF_AUGMENT)).max(3),
        /** exponential moving average of G's weights used for samples (0 = off, e.g. 0.999) */
        emaDecay: z.number().min(0).lt(1),
      })
      .strict(),
    /** knobs that belong to one family */
    extras: z
      .object({
        /** EBGAN margin m */
        margin: z.number().min(0).max(100),
        /** BEGAN diversity ratio γ and k_t learning rate λ_k */
        gamma: z.number().gt(0).max(1),
        lambdaK: z.number().min(0).max(1),
        /** CycleGAN image pool size (0 = off) */
        poolSize: int().min(0).max(1000),
        /** StyleGAN style-mixing probability and sampling truncation ψ (1 = none) */
        styleMixing: z.number().min(0).max(1),
        truncation: z.number().min(0).max(1),
      })
      .strict(),
    optimizer: z.object({ g: OptimizerSchema, d: OptimizerSchema }).strict(),
    schedule: z
      .object({
        steps: int().min(1).max(10_000_000),
        batchSize: int().min(1).max(4096),
        dStepsPerG: int().min(1).max(20),
        /** scalars leave the trainer every this many steps (read back rarely, STYLE.md 7) */
        scalarEvery: int().min(1).max(100_000),
        /** a sample grid from the fixed latent batch every this many seconds */
        sampleEverySeconds: z.number().min(0.5).max(3600),
        /** periodic checkpoint every this many steps (0 = only at the end / on stop) */
        checkpointEvery: int().min(0).max(10_000_000),
      })
      .strict(),
    seed: int().min(0).max(2 ** 31 - 1),
    backend: z.enum(BACKEND_CHOICES),
    evaluation: DuringTrainingEvaluationSchema.optional(),
  })
  .strict();

export type RunConfig = z.infer<typeof RunConfigSchema>;

type DeepPartial<T> = T extends object ? { [K in keyof T]?: DeepPartial<T[K]> } : T;
/** What a wizard or the command line sends: anything left out takes the family preset. */
export type RunConfigInput = DeepPartial<RunConfig> & { dataset: string; family: Family };

/** What a batch holds: images (optionally with labels), image pairs, two unpaired domains, or 2-D points. */
export type DataContract = 'unconditional' | 'conditional' | 'paired' | 'unpaired';

export interface FamilyInfo {
  id: Family;
  label: string;
  summary: string;
  /** what a batch holds */
  dataContract: DataContract;
  defaults: Omit<RunConfig, 'dataset' | 'seed' | 'name'>;
}

type Defaults = FamilyInfo['defaults'];
type Patch = { [K in keyof Defaults]?: Defaults[K] extends object ? Partial<Defaults[K]> : Defaults[K] };

const adam = (lr: number, beta1 = 0.5, beta2 = 0.999): OptimizerConfig => ({ kind: 'adam', lr, beta1, beta2 });

/** DCGAN per Radford et al. with the W1 reference settings (PERFORMANCE.md); every preset starts here. */
const BASE: Defaults = {
  version: CONFIG_VERSION,
  family: 'dcgan',
  architecture: { latentDim: 100, gChannels: 128, dChannels: 64, gNorm: 'batch', dNorm: 'none', leak: 0.2, dropout: 0, selfAttention: false, projection: false, mappingLayers: 4, resolution: null, hiddenUnits: 128 },
  objective: 'non-saturating',
  regularizers: { gradientPenalty: 0, r1: 0, weightClip: 0, pullAway: 0, l1: 0, cycle: 0, identity: 0 },
  tricks: { labelSmoothing: 0, labelFlip: 0, instanceNoise: 0, instanceNoiseSteps: 1000, latent: 'gaussian', diffAugment: [], emaDecay: 0 },
  extras: { margin: 10, gamma: 0.5, lambdaK: 0.001, poolSize: 50, styleMixing: 0.9, truncation: 1 },
  optimizer: { g: adam(2e-4), d: adam(2e-4) },
  schedule: { steps: 2000, batchSize: 64, dStepsPerG: 1, scalarEvery: 5, sampleEverySeconds: 3, checkpointEvery: 500 },
  backend: 'auto',
};

function preset(family: Family, patch: Patch): Defaults {
  const out = { ...BASE, family } as Record<string, unknown>;
  for (const [k, v] of Object.entries(patch)) {
    const base = (BASE as Record<string, unknown>)[k];
    out[k] = typeof v === 'object' && v !== null && !Array.isArray(v) && typeof base === 'object' ? { ...(base as object), ...v } : v;
  }
  return out as Defaults;
}

export const FAMILY_INFO: Record<Family, FamilyInfo> = {
  dcgan: {
    id: 'dcgan',
    label: 'DCGAN',
    summary: 'Deep convolutional GAN: transposed-conv generator, strided-conv discriminator, non-saturating loss.',
    dataContract: 'unconditional',
    defaults: BASE,
  },
  cgan: {
    id: 'cgan',
    label: 'Conditional GAN',
    summary: 'Labels go into G and D, so you choose the class of each sample (concatenation or a projection discriminator).',
    dataContract: 'conditional',
    defaults: preset('cgan', { architecture: { projection: true } }),
  },
  wgan: {
    id: 'wgan',
    label: 'WGAN',
    summary: 'Wasserstein critic with weight clipping and RMSprop; a loss that tracks sample quality.',
    dataContract: 'unconditional',
    defaults: preset('wgan', {
      objective: 'wasserstein',
      architecture: { gNorm: 'batch', dNorm: 'none' },
      regularizers: { weightClip: 0.01 },
      optimizer: { g: { kind: 'rmsprop', lr: 5e-5, beta1: 0, beta2: 0.9 }, d: { kind: 'rmsprop', lr: 5e-5, beta1: 0, beta2: 0.9 } },
      schedule: { dStepsPerG: 5 },
    }),
  },
  'wgan-gp': {
    id: 'wgan-gp',
    label: 'WGAN-GP',
    summary: 'Wasserstein critic kept 1-Lipschitz by a gradient penalty (λ 10, 5 critic steps per G step).',
    dataContract: 'unconditional',
    defaults: preset('wgan-gp', {
      objective: 'wasserstein',
      architecture: { dNorm: 'none' },
      regularizers: { gradientPenalty: 10 },
      optimizer: { g: adam(1e-4, 0, 0.9), d: adam(1e-4, 0, 0.9) },
      schedule: { dStepsPerG: 5 },
    }),
  },
  lsgan: {
    id: 'lsgan',
    label: 'LSGAN',
    summary: 'Least-squares objective: smoother gradients for samples far from the data than the log loss.',
    dataContract: 'unconditional',
    defaults: preset('lsgan', { objective: 'least-squares' }),
  },
  ebgan: {
    id: 'ebgan',
    label: 'EBGAN',
    summary: 'Energy-based: D is an autoencoder whose reconstruction error is the energy, with a margin and the pulling-away term.',
    dataContract: 'unconditional',
    // margin 1: the energy is a per-pixel MSE on [-1, 1] images, where reconstructing nothing (all
    // zeros) already scores E[x²] ≈ 0.8 on MNIST; the paper's m = 10 belongs to its summed scaling
    defaults: preset('ebgan', { objective: 'energy', regularizers: { pullAway: 0.1 }, extras: { margin: 1 }, optimizer: { g: adam(2e-4), d: adam(2e-4) } }),
  },
  began: {
    id: 'began',
    label: 'BEGAN',
    summary: 'Boundary equilibrium: autoencoder D, a k_t controller balancing G and D, and a convergence measure M_global.',
    dataContract: 'unconditional',
    // G is the decoder (no batch norm, ELU), 64 wide to keep its full-resolution convs affordable; z ~ U[-1, 1] as in the paper
    defaults: preset('began', { objective: 'boundary-equilibrium', architecture: { gNorm: 'none', latentDim: 64, gChannels: 64 }, tricks: { latent: 'uniform' }, extras: { gamma: 0.5, lambdaK: 0.001 }, optimizer: { g: adam(1e-4, 0.5, 0.999), d: adam(1e-4, 0.5, 0.999) } }),
  },
  sagan: {
    id: 'sagan',
    label: 'SAGAN',
    summary: 'Self-attention in G and D, spectral normalisation, hinge loss and two time-scale learning rates.',
    dataContract: 'unconditional',
    defaults: preset('sagan', {
      objective: 'hinge',
      architecture: { gNorm: 'spectral', dNorm: 'spectral', selfAttention: true },
      optimizer: { g: adam(1e-4, 0, 0.9), d: adam(4e-4, 0, 0.9) },
    }),
  },
  pix2pix: {
    id: 'pix2pix',
    label: 'Pix2Pix',
    summary: 'Image-to-image translation on paired data: U-Net generator, PatchGAN discriminator, L1 + adversarial loss.',
    dataContract: 'paired',
    defaults: preset('pix2pix', { architecture: { gChannels: 32, dChannels: 32, gNorm: 'batch', dNorm: 'batch', dropout: 0.5 }, regularizers: { l1: 100 }, schedule: { batchSize: 16 } }),
  },
  cyclegan: {
    id: 'cyclegan',
    label: 'CycleGAN',
    summary: 'Unpaired translation between two domains: two generators and two discriminators, cycle and identity losses.',
    dataContract: 'unpaired',
    defaults: preset('cyclegan', {
      objective: 'least-squares',
      architecture: { gChannels: 32, dChannels: 32, gNorm: 'instance', dNorm: 'instance' },
      regularizers: { cycle: 10, identity: 5 },
      extras: { poolSize: 50 },
      schedule: { batchSize: 8 },
    }),
  },
  stylegan: {
    id: 'stylegan',
    label: 'StyleGAN (compact)',
    summary: 'Mapping network, per-layer style modulation and noise, style mixing and truncation, at 32×32 or 64×64.',
    dataContract: 'unconditional',
    defaults: preset('stylegan', {
      // D at 16 channels and batch 16 keep a step near a DCGAN-W1 step on 2-core wasm (measured)
      architecture: { latentDim: 128, gChannels: 128, dChannels: 16, gNorm: 'none', mappingLayers: 4, resolution: 32 },
      regularizers: { r1: 10 },
      optimizer: { g: adam(2e-3, 0, 0.99), d: adam(2e-3, 0, 0.99) },
      schedule: { batchSize: 16 },
    }),
  },
};

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Deep merge of plain objects; arrays and scalars in `over` replace those in `base`. */
function mergeDeep(base: unknown, over: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(over)) return over === undefined ? base : over;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = mergeDeep(base[k], v);
  return out;
}

export function randomSeed(): number {
  return Math.floor(Math.random() * 2 ** 31);
}

/**
 * Validates a (partial) config from the wizard, the command line or the API and fills in the
 * family preset. Throws an `invalid_input` ApiError whose message names every bad field.
 */
export function resolveRunConfig(input: unknown, seed: () => number = randomSeed): RunConfig {
  if (!isPlainObject(input)) {
    throw invalidInput(new z.ZodError([{ code: 'custom', path: [], message: 'config must be an object', input }]), 'invalid run config');
  }
  const family = z.enum(FAMILIES).safeParse(input.family);
  if (!family.success) {
    const msg = `unknown family ${JSON.stringify(input.family)}; expected one of ${FAMILIES.join(', ')}`;
    throw invalidInput(new z.ZodError([{ code: 'custom', path: ['family'], message: msg, input: input.family }]), 'invalid run config');
  }
  const merged = mergeDeep(FAMILY_INFO[family.data].defaults, input) as Record<string, unknown>;
  if (merged.seed === undefined) merged.seed = seed();
  const parsed = RunConfigSchema.safeParse(merged);
  if (!parsed.success) throw invalidInput(parsed.error, 'invalid run config');
  if (parsed.data.evaluation && parsed.data.schedule.checkpointEvery === 0) {
    const msg = 'evaluation during training scores checkpoints: set schedule.checkpointEvery > 0 (e.g. equal to evaluation.every)';
    throw invalidInput(new z.ZodError([{ code: 'custom', path: ['evaluation', 'every'], message: msg, input: parsed.data.evaluation.every }]), 'invalid run config');
  }
  return parsed.data;
}
