// Runs evaluations and classifier trainings in a worker thread, off the thread that serves the
// API (as dataset imports do).
import { workerThreadSpawnerFor } from '../util/worker-thread.ts';
import type { EvalWorkerSpawner, EvalWorkerToHost, HostToEvalWorker } from './protocol.ts';

export const EVALUATION_WORKER_ENTRY = new URL('./evaluation-worker.ts', import.meta.url).href;

export function evaluationWorkerSpawner(entry: string = EVALUATION_WORKER_ENTRY, loader?: string | null): EvalWorkerSpawner {
  return workerThreadSpawnerFor<HostToEvalWorker, EvalWorkerToHost>('evaluation', entry, loader);
}
