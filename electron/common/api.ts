// The one API contract between the renderer and the core. Transports (Electron IPC, WebSocket for
// browser mode, in-memory for tests) carry `call(method, input)` and a stream of `StudioEvent`s;
// they know nothing else. Every input is validated against these schemas at the boundary.
import { z } from 'zod';
import { FAMILIES, RunConfigSchema } from './config.ts';

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
export const RunDetailSchema = RunSummarySchema.extend({
  config: RunConfigSchema,
  checkpoints: z.array(CheckpointSchema),
  sampleSteps: z.array(z.number().int()),
});
export type RunDetail = z.infer<typeof RunDetailSchema>;

/** A chart series: parallel arrays, downsampled (LTTB) on the core side when asked to. */
export const SeriesSchema = z.object({ steps: z.array(z.number()), values: z.array(z.number()), total: z.number().int() });
export type Series = z.infer<typeof SeriesSchema>;

export const SCALAR_TAGS = ['loss/g', 'loss/d', 'd/real', 'd/fake', 'perf/img_per_sec'] as const;

export const ImageSchema = z.object({ dataUrl: z.string(), width: z.number().int(), height: z.number().int() });

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
  'runs.list': method(z.object({ status: z.enum(RUN_STATUSES).optional(), limit: z.number().int().min(1).max(10_000).default(500) }).strict(), z.array(RunSummarySchema)),
  'runs.get': method(runRef, RunDetailSchema),
  /** Validates the (partial) config, fills in the family preset, creates the run and starts its trainer. */
  'runs.start': method(z.object({ config: z.record(z.string(), z.unknown()) }).strict(), RunDetailSchema),
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
