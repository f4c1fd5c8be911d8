// Runs an import in a worker thread, off the thread that serves the API. The Electron shell
// injects a spawner for its bundled entry.
import { workerThreadSpawnerFor } from '../../util/worker-thread.ts';
import type { HostToImporter, ImporterToHost, ImportSpawner } from './protocol.ts';

export const IMPORT_WORKER_ENTRY = new URL('./import-worker.ts', import.meta.url).href;

export function workerThreadSpawner(entry: string = IMPORT_WORKER_ENTRY, loader?: string | null): ImportSpawner {
  return workerThreadSpawnerFor<HostToImporter, ImporterToHost>('importer', entry, loader);
}
