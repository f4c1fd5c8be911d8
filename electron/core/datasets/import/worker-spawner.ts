// Runs an import in a worker thread, off the thread that serves the API. The TypeScript entry is
// loaded through tsx (registered inside the worker, since Node 20 does not pass loader hooks to
// workers). The Electron shell, whose bundle has no tsx, injects a spawner for its bundled entry.
import { Worker } from 'node:worker_threads';
import type { HostToImporter, ImporterHandle, ImporterToHost, ImportSpawner } from './protocol.ts';

export const IMPORT_WORKER_ENTRY = new URL('./import-worker.ts', import.meta.url).href;

export function workerThreadSpawner(entry: string = IMPORT_WORKER_ENTRY, loader: string | null = import.meta.resolve('tsx/esm/api')): ImportSpawner {
  return () => {
    const code = loader ? `import(${JSON.stringify(loader)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); });` : `import(${JSON.stringify(entry)});`;
    const worker = new Worker(code, { eval: true, stdout: false, stderr: false });
    let exited = false;
    const exitListeners: ((code: number) => void)[] = [];
    let errored = false;
    worker.on('error', (err) => {
      // an uncaught error ends the worker; 'exit' follows and reports it
      errored = true;
      process.stderr.write(`[importer] ${err.stack ?? err.message}\n`);
    });
    worker.on('exit', (c) => {
      exited = true;
      for (const l of exitListeners) l(errored && c === 0 ? 1 : c);
    });
    const handle: ImporterHandle = {
      send(message: HostToImporter) {
        if (!exited) worker.postMessage(message);
      },
      onMessage(listener: (m: ImporterToHost) => void) {
        worker.on('message', listener);
      },
      onExit(listener) {
        exitListeners.push(listener);
      },
      async terminate() {
        if (!exited) await worker.terminate();
      },
    };
    return handle;
  };
}
