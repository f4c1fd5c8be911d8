// The run config: a plain, versioned, JSON-serialisable description of a GAN run.
// A family is a preset over these parts (ARCHITECTURE.md "The GAN as data"), so the wizard, the
// command line and the run history all speak this one shape.
import { z } from 'zod';
import { invalidInput } from './errors.ts';

export const CONFIG_VERSION = 1;

/** Families with a preset and a model builder. Later families extend this list. */
export const FAMILIES = ['dcgan'] as const;
export type Family = (typeof FAMILIES)[number];

export const OBJECTIVES = ['non-saturating', 'minimax', 'least-squares'] as const;
export type Objective = (typeof OBJECTIVES)[number];

/** `auto` tries tensorflow (GPU, then native CPU), then wasm, then cpu. */
export const BACKEND_CHOICES = ['auto', 'tensorflow', 'wasm', 'cpu'] as const;
export type BackendChoice = (typeof BACKEND_CHOICES)[number];

export const OPTIMIZERS = ['adam', 'rmsprop', 'sgd'] as const;

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
        gNorm: z.enum(['batch', 'none']),
        leak: z.number().min(0).max(1),
      })
      .strict(),
    objective: z.enum(OBJECTIVES),
    regularizers: z
      .object({
        /** WGAN-GP style gradient penalty weight (0 = off) */
        gradientPenalty: z.number().min(0).max(1000),
        /** R1 penalty on real data (0 = off) */
        r1: z.number().min(0).max(1000),
      })
      .strict(),
    tricks: z
      .object({
        /** one-sided label smoothing: real targets become 1 - value */
        labelSmoothing: z.number().min(0).max(0.5),
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
  })
  .strict();

export type RunConfig = z.infer<typeof RunConfigSchema>;

type DeepPartial<T> = T extends object ? { [K in keyof T]?: DeepPartial<T[K]> } : T;
/** What a wizard or the command line sends: anything left out takes the family preset. */
export type RunConfigInput = DeepPartial<RunConfig> & { dataset: string; family: Family };

export interface FamilyInfo {
  id: Family;
  label: string;
  summary: string;
  /** what a batch holds */
  dataContract: 'unconditional' | 'conditional' | 'paired' | 'unpaired';
  defaults: Omit<RunConfig, 'dataset' | 'seed' | 'name'>;
}

/** DCGAN per Radford et al. with the W1 reference settings (PERFORMANCE.md). */
const DCGAN_DEFAULTS: FamilyInfo['defaults'] = {
  version: CONFIG_VERSION,
  family: 'dcgan',
  architecture: { latentDim: 100, gChannels: 128, dChannels: 64, gNorm: 'batch', leak: 0.2 },
  objective: 'non-saturating',
  regularizers: { gradientPenalty: 0, r1: 0 },
  tricks: { labelSmoothing: 0 },
  optimizer: {
    g: { kind: 'adam', lr: 2e-4, beta1: 0.5, beta2: 0.999 },
    d: { kind: 'adam', lr: 2e-4, beta1: 0.5, beta2: 0.999 },
  },
  schedule: { steps: 2000, batchSize: 64, dStepsPerG: 1, scalarEvery: 5, sampleEverySeconds: 3, checkpointEvery: 500 },
  backend: 'auto',
};

export const FAMILY_INFO: Record<Family, FamilyInfo> = {
  dcgan: {
    id: 'dcgan',
    label: 'DCGAN',
    summary: 'Deep convolutional GAN: transposed-conv generator, strided-conv discriminator, non-saturating loss.',
    dataContract: 'unconditional',
    defaults: DCGAN_DEFAULTS,
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
  return parsed.data;
}
