// Messages between the core and the thread that runs an import. The importer never touches the
// database: it writes the cache folder it was given and reports; the core records the dataset.
import type { DatasetImportReport } from '../../../common/api.ts';
import type { DatasetManifest } from '../cache.ts';
import type { ImportLimits } from './limits.ts';
import type { ImportJob, ImportProgress } from './pipeline.ts';
import type { WorkerHandle, WorkerSpawner } from '../../util/worker-thread.ts';

export type HostToImporter = { type: 'start'; job: ImportJob; limits: ImportLimits } | { type: 'cancel' };

export type ImporterToHost =
  | { type: 'progress'; progress: ImportProgress }
  | { type: 'done'; manifest: DatasetManifest; report: DatasetImportReport; /** wall ms per phase (phases.ts) */ timings?: Record<string, number> }
  | { type: 'failed'; error: { code: 'invalid_input' | 'not_found' | 'internal'; message: string; details?: Record<string, unknown> } }
  | { type: 'cancelled' };

/** One running importer, wherever it runs (a worker thread here; the Electron shell may inject another). */
export type ImporterHandle = WorkerHandle<HostToImporter, ImporterToHost>;

export type ImportSpawner = WorkerSpawner<HostToImporter, ImporterToHost>;
