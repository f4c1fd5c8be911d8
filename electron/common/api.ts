// The one API contract between the renderer and the core. Transports (Electron IPC, WebSocket for
// browser mode, in-memory for tests) carry `call(method, input)` and a stream of `StudioEvent`s;
// they know nothing else. Every input is validated against these schemas at the boundary.
import { z } from 'zod';
import { FAMILIES, RunConfigSchema } from './config.ts';
import { EVALUATION_API, EvaluationEventSchemas } from './api-evaluation.ts';
import { RATING_API, RATING_EVENT_SCHEMAS } from './api-rating.ts';

const Id = z.string().min(1).max(100).regex(/^[A-Za-z0-9:_-]+$/, 'ids hold letters, digits, ":", "_" and "-" only');

export const BACKEND_NAMES = ['tensorflow', 'wasm', 'cpu'] as const;
export const BackendReportSchema = z.object({
  /** the tfjs backend in use */
  name: z.enum(BACKEND_NAMES),
  /** which package provided it, e.g. @tensorflow/tfjs-node-gpu */
  provider: z.string(),
  device: z.enum(['gpu', 'cpu']),
  /** every faster backend that was not used, with the exact reason */
  skipped: z.array(z.object({ provider: z.string(), reason: z.string() })),
  /** set when the user forced a backend */
  forced: z.boolean(),
});
export type BackendReport = z.infer<typeof BackendReportSchema>;

/** images (optionally labelled), A→B pairs, two unpaired domains, or 2-D points */
export const DATASET_LAYOUTS = ['images', 'paired', 'unpaired', 'points'] as const;

export const DatasetSummarySchema = z.object({
  id: Id,
  name: z.string(),
  kind: z.enum(['builtin', 'imported']),
  layout: z.enum(DATASET_LAYOUTS),
  /** one line on what the dataset is for */
  description: z.string(),
  count: z.number().int(),
  width: z.number().int(),
  height: z.number().int(),
  channels: z.number().int(),
  classNames: z.array(z.string()).nullable(),
  classCounts: z.array(z.number().int()).nullable(),
  contentHash: z.string(),
  createdAt: z.number(),
});
export type DatasetSummary = z.infer<typeof DatasetSummarySchema>;

export const RUN_STATUSES = ['queued', 'running', 'paused', 'completed', 'stopped', 'interrupted', 'failed', 'diverged'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];
export const ACTIVE_STATUSES: readonly RunStatus[] = ['queued', 'running', 'paused'];

export const RunSummarySchema = z.object({
  id: Id,
  name: z.string(),
  family: z.enum(FAMILIES),
  datasetId: z.string(),
  status: z.enum(RUN_STATUSES),
  statusReason: z.string().nullable(),
  step: z.number().int(),
  totalSteps: z.number().int(),
  createdAt: z.number(),
  startedAt: z.number().nullable(),
  endedAt: z.number().nullable(),
  /** time spent training (excludes pauses) */
  durationMs: z.number(),
  finalGLoss: z.number().nullable(),
  finalDLoss: z.number().nullable(),
  backend: BackendReportSchema.nullable(),
});
export type RunSummary = z.infer<typeof RunSummarySchema>;

export const CheckpointSchema = z.object({ step: z.number().int(), createdAt: z.number(), bytes: z.number().int(), kind: z.enum(['periodic', 'final', 'stop']) });
/** The checkpoint that scored best in the run's during-training evaluations (lower FID, else KID mean), kept apart from keep-last-K pruning (issue 3) */
export const BestCheckpointSchema = z.object({ step: z.number().int(), metric: z.enum(['fid', 'kid']), score: z.number(), evaluationId: z.string(), protocolKey: z.string(), createdAt: z.number() });
export type BestCheckpoint = z.infer<typeof BestCheckpointSchema>;
export const RunDetailSchema = RunSummarySchema.extend({
  config: RunConfigSchema,
  checkpoints: z.array(CheckpointSchema),
  sampleSteps: z.array(z.number().int()),
  /** the diagnostics thresholds and actions in force (a DiagnosticsConfig, electron/common/diagnostics-config.ts; issue 7); absent for runs from before them */
  diagnostics: z.record(z.string(), z.unknown()).optional(),
  /** absent until a during-training evaluation has made one of the run's checkpoints its best */
  bestCheckpoint: BestCheckpointSchema.optional(),
});
export type RunDetail = z.infer<typeof RunDetailSchema>;

/** A chart series: parallel arrays, downsampled (LTTB) on the core side when asked to. */
export const SeriesSchema = z.object({ steps: z.array(z.number()), values: z.array(z.number()), total: z.number().int() });
export type Series = z.infer<typeof SeriesSchema>;

export const SCALAR_TAGS = ['loss/g', 'loss/d', 'd/real', 'd/fake', 'perf/img_per_sec'] as const;

export const ImageSchema = z.object({ dataUrl: z.string(), width: z.number().int(), height: z.number().int() });

// ---- dataset import (issue 5) ------------------------------------------------------------------

/** How to read the source: `auto` sniffs content and folder structure; the rest force a reading. */
export const IMPORT_KINDS = ['auto', 'folder', 'zip', 'images', 'labelled', 'paired', 'unpaired', 'idx', 'cifar', 'npy'] as const;
/** What a source turned out to be (the report's `kind`). */
export const DETECTED_IMPORT_KINDS = ['images', 'labelled', 'paired', 'unpaired', 'idx', 'cifar', 'npy'] as const;
export const IMPORT_FITS = ['crop', 'pad', 'stretch'] as const;

export const DatasetImportRequestSchema = z
  .object({
    /** a folder, a zip, or one IDX / CIFAR / .npy file, on the machine that runs the core */
    path: z.string().min(1).max(4096),
    name: z.string().trim().min(1).max(200).optional(),
    kind: z.enum(IMPORT_KINDS).default('auto'),
    /** square side in pixels; default: the native size of IDX / CIFAR / .npy data, 32 for images */
    size: z.number().int().min(4).max(512).optional(),
    /** 1 grey or 3 RGB; default: grey when every sampled source image is grey */
    channels: z.union([z.literal(1), z.literal(3)]).optional(),
    /** centre crop to square, pad (black) to square, or stretch */
    fit: z.enum(IMPORT_FITS).default('crop'),
    /** held-out fraction kept out of training for evaluation (stratified by class when labelled) */
    holdout: z.number().min(0).max(0.5).default(0.1),
    /** materialise a horizontally mirrored copy of every training item */
    flip: z.boolean().default(false),
    /** seeds the held-out split */
    seed: z.number().int().min(0).max(2 ** 31 - 1).default(1),
    /** what the report and manifest name as the source instead of `path` (an upload: the user's file name) */
    sourceLabel: z.string().trim().min(1).max(200).refine((s) => ![...s].some((ch) => ch < ' ' || ch === '\x7f' || ch === '/' || ch === '\\'), 'a file name, without control characters or slashes').optional(),
  })
  .strict();
export type DatasetImportRequest = z.input<typeof DatasetImportRequestSchema>;

const ItemRefSchema = z.object({ path: z.string(), split: z.enum(['train', 'holdout']), index: z.number().int(), domain: z.enum(['a', 'b']) });
export const DatasetImportReportSchema = z.object({
  source: z.string(),
  container: z.enum(['folder', 'zip', 'file']),
  kind: z.enum(DETECTED_IMPORT_KINDS),
  layout: z.enum(DATASET_LAYOUTS),
  options: z.object({ size: z.number().int(), channels: z.number().int(), fit: z.enum(IMPORT_FITS), holdout: z.number(), flip: z.boolean(), seed: z.number().int() }),
  counts: z.object({
    /** files (or records) looked at */
    seen: z.number().int(),
    imported: z.number().int(),
    rejected: z.number().int(),
    train: z.number().int(),
    holdout: z.number().int(),
    /** second domain (unpaired) */
    trainB: z.number().int(),
    holdoutB: z.number().int(),
    /** mirrored copies added to the training split */
    flipped: z.number().int(),
  }),
  classNames: z.array(z.string()).nullable(),
  /** imported items per class, training and held-out together */
  classCounts: z.array(z.number().int()).nullable(),
  holdoutClassCounts: z.array(z.number().int()).nullable(),
  /** every rejected file or record with its reason (capped at 10 000 entries; counts.rejected is exact) */
  rejected: z.array(z.object({ path: z.string(), reason: z.string() })),
  /** accepted but worth knowing: converted 16-bit / alpha / CMYK, extensions that lie, skipped folders */
  warnings: z.array(z.object({ path: z.string(), message: z.string() })),
  stats: z.object({
    /** per channel over every imported pixel, 0–255 scale */
    channelMean: z.array(z.number()),
    channelStd: z.array(z.number()),
    exactDuplicates: z.object({ groups: z.number().int(), extraCopies: z.number().int(), pairs: z.array(z.object({ a: ItemRefSchema, b: ItemRefSchema })) }),
    /** 64-bit difference hash of the preprocessed image; pairs at Hamming distance ≤ threshold (exact ones excluded) */
    nearDuplicates: z.object({ threshold: z.number().int(), pairs: z.array(z.object({ a: ItemRefSchema, b: ItemRefSchema, distance: z.number().int() })), truncated: z.boolean() }),
    /** source image sizes, most frequent first (at most 50) */
    sourceSizes: z.array(z.object({ width: z.number().int(), height: z.number().int(), count: z.number().int() })),
    /** source images by their longer side: ≤16, ≤32, ≤64, ≤128, ≤256, ≤512, ≤1024, larger */
    sourceSideHistogram: z.array(z.object({ upTo: z.number().nullable(), count: z.number().int() })),
  }),
  durationMs: z.number(),
  itemsPerSecond: z.number(),
});
export type DatasetImportReport = z.infer<typeof DatasetImportReportSchema>;

export const IMPORT_STATES = ['running', 'done', 'failed', 'cancelled'] as const;
export const IMPORT_PHASES = ['starting', 'scanning', 'decoding', 'statistics', 'writing', 'finished'] as const;
export const DatasetImportStatusSchema = z.object({
  importId: Id,
  state: z.enum(IMPORT_STATES),
  phase: z.enum(IMPORT_PHASES),
  /** 0–1 over the whole import */
  fraction: z.number(),
  filesDone: z.number().int(),
  filesTotal: z.number().int(),
  currentFile: z.string().nullable(),
  source: z.string(),
  /** set once the dataset exists (state done) */
  datasetId: z.string().nullable(),
  /** state failed: e.g. invalid_input "nothing importable" with details.rejected */
  error: z.object({ code: z.string(), message: z.string(), details: z.record(z.string(), z.unknown()).optional() }).nullable(),
  /** state done, and failed when files were rejected */
  report: DatasetImportReportSchema.nullable(),
  startedAt: z.number(),
  endedAt: z.number().nullable(),
});
export type DatasetImportStatus = z.infer<typeof DatasetImportStatusSchema>;
const importRef = z.object({ importId: Id }).strict();

// ---- training-time diagnostics (issue 7) -------------------------------------------------------

/** What a detector watches for (METRICS.md "Training-time diagnostics"). */
export const ALERT_KINDS = ['mode_collapse', 'convergence_failure', 'instability', 'gradient', 'divergence', 'stagnation', 'd_overfitting'] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];
export const ALERT_SEVERITIES = ['info', 'warning', 'critical'] as const;
export type AlertSeverity = (typeof ALERT_SEVERITIES)[number];

/** A fix from GAN practice as a partial run config; "fork with this remedy" merges it into the parent's config. */
export const RemedySchema = z.object({
  id: z.string(),
  title: z.string(),
  why: z.string(),
  patch: z.record(z.string(), z.unknown()),
});
export type Remedy = z.infer<typeof RemedySchema>;

export const AlertSchema = z.object({
  /** `${kind}:${startStep}`, stable across a resume and a replay of the same scalars */
  id: z.string(),
  runId: Id,
  kind: z.enum(ALERT_KINDS),
  severity: z.enum(ALERT_SEVERITIES),
  /** active while the condition holds (its endStep grows), resolved once it has cleared (hysteresis) */
  state: z.enum(['active', 'resolved']),
  /** the chart region to mark: from the first step the condition held to the last */
  startStep: z.number().int(),
  endStep: z.number().int(),
  /** the step at which the detector raised it (its latency is detectedStep − startStep) */
  detectedStep: z.number().int(),
  /** the sample grid nearest to the alert (runs.sample with this step), null before the first */
  sampleStep: z.number().int().nullable(),
  /** the numbers behind it and the chart tags they come from */
  evidence: z.object({ values: z.record(z.string(), z.number()), tags: z.array(z.string()) }),
  explanation: z.string(),
  remedies: z.array(RemedySchema),
  createdAt: z.number(),
  updatedAt: z.number(),
});
export type Alert = z.infer<typeof AlertSchema>;
export const ALERT_CHANGES = ['opened', 'escalated', 'updated', 'resolved'] as const;

const method = <I extends z.ZodType, O extends z.ZodType>(input: I, output: O) => ({ input, output });
const empty = z.object({}).strict();
const runRef = z.object({ runId: Id }).strict();

export const API = {
  'system.info': method(
    empty,
    z.object({
      version: z.string(),
      home: z.string(),
      mode: z.enum(['electron', 'browser', 'memory']),
      /** every family; `available` is false for those this build cannot train yet */
      families: z.array(z.object({ id: z.enum(FAMILIES), label: z.string(), summary: z.string(), dataContract: z.string(), available: z.boolean() })),
    }),
  ),
  'datasets.list': method(empty, z.array(DatasetSummarySchema)),
  'datasets.get': method(z.object({ datasetId: Id }).strict(), DatasetSummarySchema),
  /** a grid of the first images of each class (or the first images when unlabelled) */
  'datasets.preview': method(z.object({ datasetId: Id, count: z.number().int().min(1).max(400).default(100) }).strict(), ImageSchema),
  /** Starts an import off the main thread; follow it with `dataset.import` events or datasets.importStatus. */
  'datasets.import': method(DatasetImportRequestSchema, DatasetImportStatusSchema),
  'datasets.importStatus': method(importRef, DatasetImportStatusSchema),
  /** Cancels a running import; resolves once everything it wrote is gone. */
  'datasets.importCancel': method(importRef, DatasetImportStatusSchema),
  /** Imports of this session, newest first. */
  'datasets.imports': method(empty, z.array(DatasetImportStatusSchema)),
  /** The import report (statistics, rejected files) of an imported dataset, and a grid of its duplicate pairs. */
  'datasets.report': method(z.object({ datasetId: Id }).strict(), z.object({ report: DatasetImportReportSchema.nullable(), duplicatesPreview: ImageSchema.nullable() })),
  /** Deletes an imported dataset and its cache; `conflict` while runs use it; built-ins cannot be deleted. */
  'datasets.delete': method(z.object({ datasetId: Id }).strict(), z.object({ deleted: z.literal(true), datasetId: z.string() })),
  'runs.list': method(z.object({ status: z.enum(RUN_STATUSES).optional(), limit: z.number().int().min(1).max(10_000).default(500) }).strict(), z.array(RunSummarySchema)),
  'runs.get': method(runRef, RunDetailSchema),
  /** Validates the (partial) config, fills in the family preset, creates the run and starts its trainer. */
  /** `diagnostics`: detector thresholds and options (issue 7), validated by the core; defaults when left out. */
  'runs.start': method(z.object({ config: z.record(z.string(), z.unknown()), diagnostics: z.record(z.string(), z.unknown()).optional() }).strict(), RunDetailSchema),
  /** Memory estimate of a (partial) config before it starts (RELIABILITY F4). */
  'runs.estimate': method(
    z.object({ config: z.record(z.string(), z.unknown()) }).strict(),
    z.object({
      totalBytes: z.number(),
      limitBytes: z.number(),
      limitReason: z.string(),
      fits: z.boolean(),
      /** the largest batch size that fits, when the requested one does not */
      suggestedBatchSize: z.number().int().nullable(),
      breakdown: z.record(z.string(), z.number()),
    }),
  ),
  /**
   * Trains a few steps of the config in a throwaway trainer on the chosen backend and reports the
   * measured step time, so the wizard can show a real ETA before starting. Nothing is stored.
   */
  'runs.dryRun': method(
    z.object({ config: z.record(z.string(), z.unknown()), steps: z.number().int().min(1).max(10).default(3) }).strict(),
    z.object({ msPerStep: z.number(), imgPerSec: z.number(), etaSeconds: z.number(), backend: BackendReportSchema, parameters: z.object({ generator: z.number().int(), discriminator: z.number().int() }) }),
  ),
  'runs.pause': method(runRef, RunSummarySchema),
  'runs.resume': method(runRef, RunSummarySchema),
  'runs.stop': method(runRef, RunSummarySchema),
  'runs.scalars': method(
    z.object({ runId: Id, tags: z.array(z.string().max(100)).max(50).optional(), maxPoints: z.number().int().min(10).max(100_000).default(2000) }).strict(),
    z.record(z.string(), SeriesSchema),
  ),
  'runs.sample': method(z.object({ runId: Id, step: z.number().int().min(0).optional() }).strict(), ImageSchema.extend({ step: z.number().int() })),
  /** The diagnostics alerts of a run (issue 7), oldest first. */
  'runs.alerts': method(z.object({ runId: Id, kind: z.enum(ALERT_KINDS).optional() }).strict(), z.array(AlertSchema)),
  /**
   * Starts a new run from a parent's config merged with a patch (e.g. an alert's remedy). With
   * `fromCheckpoint` it continues from the parent's last checkpoint at or before `fromStep` (the
   * last healthy one: before the alert) instead of step 0, when the patch keeps the networks.
   */
  'runs.fork': method(
    z
      .object({
        runId: Id,
        patch: z.record(z.string(), z.unknown()).default({}),
        /** a remedy id of one of the parent's alerts; its patch is applied before `patch` */
        remedy: z.object({ alertId: z.string().max(200), remedyId: z.string().max(100) }).strict().optional(),
        fromCheckpoint: z.boolean().default(false),
        fromStep: z.number().int().min(0).optional(),
        note: z.string().max(500).optional(),
      })
      .strict(),
    RunDetailSchema,
  ),
  // evaluation (issue 6): extractors, evaluation jobs, stored results with their protocol
  ...EVALUATION_API,
  // human rating sessions (issue 8)
  ...RATING_API,
} as const;

export type ApiMethods = typeof API;
export type MethodName = keyof ApiMethods;
export type MethodInput<M extends MethodName> = z.input<ApiMethods[M]['input']>;
export type MethodOutput<M extends MethodName> = z.output<ApiMethods[M]['output']>;
export const METHOD_NAMES = Object.keys(API) as MethodName[];

export function isMethodName(name: unknown): name is MethodName {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(API, name);
}

/** Events pushed to every subscribed client. Progress is throttled by the core. */
export const StudioEventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('run.status'), run: RunSummarySchema }),
  z.object({
    type: z.literal('run.progress'),
    runId: Id,
    step: z.number().int(),
    totalSteps: z.number().int(),
    imgPerSec: z.number(),
    etaSeconds: z.number().nullable(),
  }),
  /** new scalar points since the last event, grouped by tag */
  z.object({ type: z.literal('run.scalars'), runId: Id, series: z.record(z.string(), z.object({ steps: z.array(z.number()), values: z.array(z.number()) })) }),
  z.object({ type: z.literal('run.sample'), runId: Id, step: z.number().int() }),
  z.object({ type: z.literal('run.log'), runId: Id, level: z.enum(['info', 'warn', 'error']), message: z.string() }),
  /** an alert opened, escalated, had its step range extended (throttled) or resolved */
  z.object({ type: z.literal('run.alert'), runId: Id, change: z.enum(ALERT_CHANGES), alert: AlertSchema }),
  /** an import's progress (throttled) and its end */
  z.object({ type: z.literal('dataset.import'), status: DatasetImportStatusSchema }),
  /** an evaluation's or a classifier training's progress (throttled) and its end (issue 6) */
  ...EvaluationEventSchemas,
  /** rating session preparation progress and session changes (issue 8) */
  ...RATING_EVENT_SCHEMAS,
]);
export type StudioEvent = z.infer<typeof StudioEventSchema>;

/** What every transport gives a renderer or a test. */
export interface ApiClient {
  call<M extends MethodName>(method: M, input: MethodInput<M>): Promise<MethodOutput<M>>;
  /** returns an unsubscribe function */
  subscribe(listener: (event: StudioEvent) => void): () => void;
}

/** Caps at every transport boundary (RELIABILITY A6, C6). */
export const TRANSPORT_LIMITS = {
  maxRequestBytes: 256 * 1024,
  maxConnections: 16,
} as const;

/** The core's side of the contract: one function per method, taking the parsed (defaulted) input. */
export type ApiImplementation = {
  [M in MethodName]: (input: z.output<ApiMethods[M]['input']>) => Promise<MethodOutput<M>>;
};

/** Where events come from on the core side. */
export interface EventSource {
  subscribe(listener: (event: StudioEvent) => void): () => void;
}
