// Runs a module in a worker thread, off the thread that serves the API, behind a typed handle
// (dataset imports and evaluations do this). The TypeScript entry is loaded through tsx, registered
// inside the worker since Node 20 does not pass loader hooks to workers; the Electron shell, whose
// bundle has no tsx, passes its bundled entry and no loader.
import { Worker } from 'node:worker_threads';

/** One running worker, wherever it runs (a worker thread here; the Electron shell may inject another). */
export interface WorkerHandle<In, Out> {
  send(message: In): void;
  onMessage(listener: (message: Out) => void): void;
  /** called once, after the worker is gone, with its exit code */
  onExit(listener: (code: number) => void): void;
  terminate(): Promise<void>;
}

export type WorkerSpawner<In, Out> = () => WorkerHandle<In, Out>;

/** A spawner of worker threads running `entry`; `label` prefixes the worker's uncaught errors on stderr. */
export function workerThreadSpawnerFor<In, Out>(label: string, entry: string, loader: string | null = import.meta.resolve('tsx/esm/api')): WorkerSpawner<In, Out> {
  return () => {
    const code = loader ? `import(${JSON.stringify(loader)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); });` : `import(${JSON.stringify(entry)});`;
    const worker = new Worker(code, { eval: true, stdout: false, stderr: false });
    let exited = false;
    let errored = false;
    const exitListeners: ((code: number) => void)[] = [];
    worker.on('error', (err) => {
      // an uncaught error ends the worker; 'exit' follows and reports it
      errored = true;
      process.stderr.write(`[${label}] ${err.stack ?? err.message}\n`);
    });
    worker.on('exit', (c) => {
      exited = true;
      for (const l of exitListeners) l(errored && c === 0 ? 1 : c);
    });
    return {
      send(message) {
        if (!exited) worker.postMessage(message);
      },
      onMessage(listener) {
        worker.on('message', listener);
      },
      onExit(listener) {
        exitListeners.push(listener);
      },
      async terminate() {
        if (!exited) await worker.terminate();
      },
    };
  };
}
