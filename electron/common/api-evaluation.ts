// The evaluation part of the API contract (issue 6): feature extractors, evaluation jobs and the
// stored results with the protocol each score was measured under. Spread into `API` in api.ts.
// Scores are only comparable when their `protocolKey`s are equal (METRICS.md: "Scores from
// different extractors, N, or splits are never shown as comparable").
import { z } from 'zod';

const Id = z.string().min(1).max(100).regex(/^[A-Za-z0-9:_-]+$/, 'ids hold letters, digits, ":", "_" and "-" only');
const method = <I extends z.ZodType, O extends z.ZodType>(input: I, output: O) => ({ input, output });
const empty = z.object({}).strict();
const Image = z.object({ dataUrl: z.string(), width: z.number().int(), height: z.number().int() });

// ---- extractors --------------------------------------------------------------------------------

/**
 * `classifier`: trained in the studio on a labelled dataset (penultimate layer → features, softmax →
 * IS and mode counting); `user-model`: a TF.js model folder the user supplied; `pixel`: flattened
 * pixels (optionally downsampled), built in, no network.
 */
export const EXTRACTOR_KINDS = ['classifier', 'user-model', 'pixel'] as const;
export type ExtractorKind = (typeof EXTRACTOR_KINDS)[number];
export const CLASSIFIER_ARCHITECTURES = ['auto', 'lenet', 'resnet'] as const;

export const ExtractorSchema = z.object({
  /** `pixel`, `pixel-16` (downsampled to 16×16), `classifier-…`, `user-…` */
  id: Id,
  name: z.string(),
  kind: z.enum(EXTRACTOR_KINDS),
  /** lenet / resnet (classifier), layers / graph (user-model), pixel */
  architecture: z.string(),
  /** sha256 of the weights (classifier, user model); for pixel extractors a fixed descriptor like `pixel:native` */
  weightsHash: z.string(),
  /** what images are resized to before the network (pixel: the output resolution, 0 = native) */
  inputWidth: z.number().int(),
  inputHeight: z.number().int(),
  inputChannels: z.number().int(),
  /** the layer (layers model) or output node (graph model) that gives the features */
  featureLayer: z.string().nullable(),
  /** feature dimension d; 0 for pixel extractors at native size (d = H·W·C of the data) */
  featureDim: z.number().int(),
  /** the value range the network takes (images are fed as floats in this range) */
  inputRange: z.enum(['-1..1', '0..1', '0..255']),
  /** the softmax layer / output node for IS and mode counting, when there is one */
  probsLayer: z.string().nullable(),
  /** class names of the softmax (classifier: the dataset's classes), null without one */
  classNames: z.array(z.string()).nullable(),
  /** the dataset a classifier was trained on, with its content hash at the time */
  datasetId: z.string().nullable(),
  datasetHash: z.string().nullable(),
  /** held-out accuracy of a classifier (0–1), measured on `accuracySplit` with `accuracyCount` images */
  accuracy: z.number().nullable(),
  accuracySplit: z.enum(['holdout', 'own-split']).nullable(),
  accuracyCount: z.number().int().nullable(),
  /** user-model: the folder it was loaded from (on the machine that runs the core) */
  source: z.string().nullable(),
  /** classifier training: epochs, training images, duration, backend */
  training: z.object({ epochs: z.number().int(), trainCount: z.number().int(), durationMs: z.number(), backend: z.string(), seed: z.number().int() }).nullable(),
  createdAt: z.number(),
});
export type Extractor = z.infer<typeof ExtractorSchema>;

export const ExtractorTrainRequestSchema = z
  .object({
    /** a labelled image dataset */
    datasetId: Id,
    /** LeNet-like for ≤ 32×32 grey, a small ResNet otherwise, unless forced */
    architecture: z.enum(CLASSIFIER_ARCHITECTURES).default('auto'),
    epochs: z.number().int().min(1).max(200).default(3),
    batchSize: z.number().int().min(8).max(1024).default(64),
    /** at most this many training images (all by default) */
    maxTrain: z.number().int().min(10).optional(),
    seed: z.number().int().min(0).max(2 ** 31 - 1).default(1),
    name: z.string().trim().min(1).max(200).optional(),
  })
  .strict();
export type ExtractorTrainRequest = z.input<typeof ExtractorTrainRequestSchema>;

export const ExtractorRegisterRequestSchema = z
  .object({
    /** absolute path of a folder with model.json and its weight shards (TF.js layers or graph model) */
    path: z.string().min(1).max(4096),
    name: z.string().trim().min(1).max(200).optional(),
    /** layer name (layers model) or output node name (graph model) that gives the features; default: the penultimate layer / the first output */
    featureLayer: z.string().min(1).max(300).optional(),
    /** optional softmax layer / node for IS and mode counting */
    probsLayer: z.string().min(1).max(300).optional(),
    /** input side in pixels (square); default: read from the model's input shape */
    inputSize: z.number().int().min(8).max(1024).optional(),
    inputChannels: z.union([z.literal(1), z.literal(3)]).optional(),
    /** the value range the model expects: [-1, 1] (default) or [0, 1] or [0, 255] */
    inputRange: z.enum(['-1..1', '0..1', '0..255']).default('-1..1'),
  })
  .strict();
export type ExtractorRegisterRequest = z.input<typeof ExtractorRegisterRequestSchema>;

// ---- evaluation requests and jobs ----------------------------------------------------------------

/** fid, kid, is (Inception-style score), prc (improved P&R k=3 + F1), prdc (density/coverage k=5), prd (F8, F1/8), swd (pixels), fm (feature matching), modes (class coverage + KL), nn (nearest neighbours + memorisation) */
export const EVAL_METRICS = ['fid', 'kid', 'is', 'prc', 'prdc', 'prd', 'swd', 'fm', 'modes', 'nn'] as const;
export type EvalMetric = (typeof EVAL_METRICS)[number];

export const EvaluationOptionsSchema = z
  .object({
    kidSubsets: z.number().int().min(1).max(1000).default(100),
    kidSubsetSize: z.number().int().min(2).max(10_000).default(1000),
    isSplits: z.number().int().min(1).max(100).default(10),
    /** generated samples shown with their nearest training images */
    nnSamples: z.number().int().min(1).max(32).default(8),
    nnK: z.number().int().min(1).max(10).default(5),
    /** training images searched for neighbours (a seeded subset when the set is larger) */
    nnReference: z.number().int().min(10).max(100_000).default(5000),
  })
  .strict();
export type EvaluationOptions = z.infer<typeof EvaluationOptionsSchema>;

export const EvaluationSourceSchema = z.discriminatedUnion('kind', [
  /** N samples from a run's checkpoint (EMA weights when the run keeps them) against the dataset's held-out split */
  z.object({ kind: z.literal('run'), runId: Id, checkpoint: z.union([z.literal('latest'), z.literal('best'), z.number().int().min(0)]).default('latest') }).strict(),
  /** two folders of images on the machine that runs the core (absolute paths) */
  z.object({ kind: z.literal('folders'), realDir: z.string().min(1).max(4096), fakeDir: z.string().min(1).max(4096) }).strict(),
]);

export const EvaluationRequestSchema = z
  .object({
    source: EvaluationSourceSchema,
    /** default: the newest classifier trained on the run's dataset, else `pixel` */
    extractorId: Id.optional(),
    /** default: every metric the extractor supports */
    metrics: z.array(z.enum(EVAL_METRICS)).min(1).optional(),
    /** generated samples (run source); real samples are capped at the same N */
    n: z.number().int().min(2).max(100_000).default(1000),
    /** `auto`: the dataset's held-out split when it has one, else its training split (recorded either way) */
    referenceSplit: z.enum(['auto', 'holdout', 'train']).default('auto'),
    /** seeds the latents, the real subset, KID subsets, PRD k-means, SWD patches */
    seed: z.number().int().min(0).max(2 ** 31 - 1).default(0),
    options: EvaluationOptionsSchema.prefault({}),
  })
  .strict();
export type EvaluationRequest = z.input<typeof EvaluationRequestSchema>;

export const JOB_STATES = ['running', 'done', 'failed', 'cancelled'] as const;
/** One long job of this part: an evaluation or a classifier's training. */
export const EvaluationJobSchema = z.object({
  jobId: Id,
  kind: z.enum(['evaluate', 'extractor-train']),
  state: z.enum(JOB_STATES),
  /** e.g. loading, generating, features, metrics:fid, training epoch 2/3, saving */
  phase: z.string(),
  /** 0–1 over the whole job */
  fraction: z.number(),
  /** what the job works on, for display: `run r-… @ step 400`, `folders a vs b`, `classifier on builtin:mnist` */
  label: z.string(),
  runId: z.string().nullable(),
  /** a small-N evaluation the core scheduled during training (config `evaluation`), not one the user started */
  duringTraining: z.boolean().default(false),
  /** state done: the stored evaluation (evaluate) or extractor (extractor-train) */
  resultId: z.string().nullable(),
  error: z.object({ code: z.string(), message: z.string() }).nullable(),
  startedAt: z.number(),
  endedAt: z.number().nullable(),
});
export type EvaluationJob = z.infer<typeof EvaluationJobSchema>;

// ---- stored results ------------------------------------------------------------------------------

/** Everything that decides whether two scores may be compared. */
export const EvaluationProtocolSchema = z.object({
  extractorId: z.string(),
  extractorKind: z.enum(EXTRACTOR_KINDS),
  /** part of every score's identity: a retrained classifier is a different ruler */
  weightsHash: z.string(),
  featureDim: z.number().int(),
  inputWidth: z.number().int(),
  inputHeight: z.number().int(),
  inputChannels: z.number().int(),
  nReal: z.number().int(),
  nFake: z.number().int(),
  /** where the real images came from */
  referenceSplit: z.enum(['holdout', 'train', 'folder']),
  /** dataset id and content hash for run sources; the real folder for folder sources */
  reference: z.string(),
  referenceHash: z.string().nullable(),
  seed: z.number().int(),
  /** one line per metric: the reference implementation whose conventions were matched */
  convention: z.record(z.string(), z.string()),
  options: EvaluationOptionsSchema,
  /** true for the small-N evaluations scheduled during training (never comparable with final ones) */
  duringTraining: z.boolean(),
});
export type EvaluationProtocol = z.infer<typeof EvaluationProtocolSchema>;

const MeanStd = z.object({ mean: z.number(), std: z.number() });
export const EvaluationScoresSchema = z.object({
  fid: z.number().optional(),
  kid: MeanStd.extend({ subsets: z.number().int(), subsetSize: z.number().int() }).optional(),
  is: MeanStd.extend({ splits: z.number().int() }).optional(),
  precision: z.number().optional(),
  recall: z.number().optional(),
  f1: z.number().optional(),
  density: z.number().optional(),
  coverage: z.number().optional(),
  prd: z.object({ f8: z.number(), f1_8: z.number() }).optional(),
  swd: z.object({ average: z.number(), perLevel: z.array(z.number()), resolutions: z.array(z.number()) }).optional(),
  fm: z.number().optional(),
  /** classes hit by the fakes' predicted classes, and KL(p̂_fake ‖ p_data) in nats */
  modes: z.object({ classes: z.number().int(), modesHit: z.number().int(), coverage: z.number(), kl: z.number() }).optional(),
  /** share of generated samples nearer a training image than the median train-to-train distance */
  memorisation: z.object({ pixel: z.number(), feature: z.number().nullable() }).optional(),
});
export type EvaluationScores = z.infer<typeof EvaluationScoresSchema>;

export const EvaluationSummarySchema = z.object({
  id: Id,
  runId: z.string().nullable(),
  /** the checkpoint step scored (run source) */
  step: z.number().int().nullable(),
  datasetId: z.string().nullable(),
  sourceKind: z.enum(['run', 'folders']),
  /** a short text, e.g. `run-… @ 400` or `real/ vs fake/` */
  label: z.string(),
  metrics: z.array(z.enum(EVAL_METRICS)),
  scores: EvaluationScoresSchema,
  protocol: EvaluationProtocolSchema,
  /** sha256 of the comparable part of the protocol (not the seed, not the step): equal keys ⇔ comparable */
  protocolKey: z.string(),
  /** warnings that do not make the number wrong but matter, e.g. a small N */
  warnings: z.array(z.string()),
  durationMs: z.number(),
  createdAt: z.number(),
});
export type EvaluationSummary = z.infer<typeof EvaluationSummarySchema>;

/** A nearest-neighbour strip: one row per generated sample, its image then its k nearest training images. */
export const NeighbourStripSchema = z.object({
  space: z.enum(['pixel', 'feature']),
  image: Image,
  /** side of one tile in the strip image, and the tiles per row (1 + k) */
  tile: z.number().int(),
  columns: z.number().int(),
  rows: z.array(z.object({ distances: z.array(z.number()), trainIndices: z.array(z.number().int()), memorised: z.boolean() })),
  /** median train-to-train nearest distance: a sample nearer than this to a training image counts as memorised */
  threshold: z.number(),
  share: z.number(),
});
export type NeighbourStrip = z.infer<typeof NeighbourStripSchema>;

export const EvaluationDetailSchema = EvaluationSummarySchema.extend({
  neighbours: z.array(NeighbourStripSchema),
  /** predicted-class shares of the fakes next to the data's class distribution */
  classCoverage: z.object({ classNames: z.array(z.string()), fake: z.array(z.number()), data: z.array(z.number()) }).nullable(),
  /** a grid of some of the generated samples that were scored */
  fakePreview: Image.nullable(),
});
export type EvaluationDetail = z.infer<typeof EvaluationDetailSchema>;

const jobRef = z.object({ jobId: Id }).strict();

export const EVALUATION_API = {
  /** The pixel extractors (built in) and every stored classifier and user model, newest first. */
  'extractors.list': method(empty, z.array(ExtractorSchema)),
  'extractors.get': method(z.object({ extractorId: Id }).strict(), ExtractorSchema),
  /** Starts training a domain classifier off the main thread; follow it with `evaluation.job` events. */
  'extractors.train': method(ExtractorTrainRequestSchema, EvaluationJobSchema),
  /** Loads and validates a user TF.js model folder (missing files, bad JSON, unknown layer → invalid_input) and stores it. */
  'extractors.register': method(ExtractorRegisterRequestSchema, ExtractorSchema),
  /** Deletes a stored extractor (its files too); pixel extractors cannot be deleted. Evaluations keep their protocol. */
  'extractors.delete': method(z.object({ extractorId: Id }).strict(), z.object({ deleted: z.literal(true), extractorId: z.string() })),
  /** Starts an evaluation off the main thread; bad input is refused here, before the job starts. */
  'evaluations.start': method(EvaluationRequestSchema, EvaluationJobSchema),
  /** A job's state (evaluations and classifier trainings of this session). */
  'evaluations.job': method(jobRef, EvaluationJobSchema),
  /** Jobs of this session, newest first. */
  'evaluations.jobs': method(empty, z.array(EvaluationJobSchema)),
  /** Cancels a running job; resolves once it has stopped. A cancelled job stores nothing. */
  'evaluations.cancel': method(jobRef, EvaluationJobSchema),
  /** Stored evaluations, newest first; by run, optionally with the during-training ones. */
  'evaluations.list': method(
    z.object({ runId: Id.optional(), includeDuringTraining: z.boolean().default(false), limit: z.number().int().min(1).max(10_000).default(500) }).strict(),
    z.array(EvaluationSummarySchema),
  ),
  /** One evaluation with its nearest-neighbour strips, class histogram and sample grid. */
  'evaluations.get': method(z.object({ evaluationId: Id }).strict(), EvaluationDetailSchema),
  /**
   * Puts evaluations side by side only when their protocols match: `conflict` naming the first
   * difference (extractor, weights, N, split, options…) otherwise.
   */
  'evaluations.compare': method(
    z.object({ evaluationIds: z.array(Id).min(2).max(50) }).strict(),
    z.object({ protocolKey: z.string(), protocol: EvaluationProtocolSchema, evaluations: z.array(EvaluationSummarySchema) }),
  ),
  'evaluations.delete': method(z.object({ evaluationId: Id }).strict(), z.object({ deleted: z.literal(true), evaluationId: z.string() })),
} as const;

/** `evaluation.job`: progress (throttled) and the end of an evaluation or classifier training. */
export const EvaluationEventSchemas = [z.object({ type: z.literal('evaluation.job'), job: EvaluationJobSchema })] as const;
