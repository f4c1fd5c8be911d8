// Messages between the core and the thread that runs an evaluation or a classifier training. The
// worker never touches the database: the core resolved everything it needs (run config, dataset
// folder, checkpoint folder, extractor record) and records the result it reports.
import type { EvaluationDetail, EvaluationOptions, EvalMetric, Extractor } from '../../common/api-evaluation.ts';
import type { RunConfig } from '../../common/config.ts';
import type { WorkerHandle, WorkerSpawner } from '../util/worker-thread.ts';
import type { ExtractorSpec } from './extractors.ts';

export interface DatasetRef {
  id: string;
  dir: string;
}

export interface EvaluateJob {
  kind: 'evaluate';
  source:
    | { kind: 'run'; runId: string; runName: string; config: RunConfig; checkpointDir: string; step: number; dataset: DatasetRef; referenceSplit: 'holdout' | 'train' }
    | { kind: 'folders'; realDir: string; fakeDir: string };
  extractor: ExtractorSpec;
  /** null: every metric that can be computed */
  metrics: EvalMetric[] | null;
  n: number;
  seed: number;
  options: EvaluationOptions;
  duringTraining: boolean;
  /** run the thread at a lower OS priority (Linux: nice +10), so a training in progress keeps the CPU */
  lowPriority?: boolean;
}

export interface TrainExtractorJob {
  kind: 'extractor-train';
  extractorId: string;
  dataset: DatasetRef;
  architecture: 'auto' | 'lenet' | 'resnet';
  epochs: number;
  batchSize: number;
  maxTrain: number | null;
  seed: number;
  name: string | null;
  /** final folder of the model; written through a temp folder */
  outDir: string;
}

export type WorkerJob = EvaluateJob | TrainExtractorJob;

export type EvaluationResult = Omit<EvaluationDetail, 'id' | 'createdAt' | 'protocolKey'>;

export type HostToEvalWorker = { type: 'start'; job: WorkerJob } | { type: 'cancel' };

export type EvalWorkerToHost =
  | { type: 'progress'; phase: string; fraction: number }
  | { type: 'evaluated'; result: EvaluationResult }
  | { type: 'trained'; extractor: Extractor }
  | { type: 'failed'; error: { code: 'invalid_input' | 'not_found' | 'conflict' | 'internal'; message: string } }
  | { type: 'cancelled' };

export type EvalWorkerHandle = WorkerHandle<HostToEvalWorker, EvalWorkerToHost>;

export type EvalWorkerSpawner = WorkerSpawner<HostToEvalWorker, EvalWorkerToHost>;
