// Runs evaluations and classifier trainings in a worker thread, off the thread that serves the
// API (as dataset imports do). The TypeScript entry is loaded through tsx inside the worker.
import { Worker } from 'node:worker_threads';
import type { EvalWorkerHandle, EvalWorkerSpawner, EvalWorkerToHost, HostToEvalWorker } from './protocol.ts';

export const EVALUATION_WORKER_ENTRY = new URL('./evaluation-worker.ts', import.meta.url).href;

export function evaluationWorkerSpawner(entry: string = EVALUATION_WORKER_ENTRY, loader: string | null = import.meta.resolve('tsx/esm/api')): EvalWorkerSpawner {
  return () => {
    const code = loader ? `import(${JSON.stringify(loader)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); });` : `import(${JSON.stringify(entry)});`;
    const worker = new Worker(code, { eval: true, stdout: false, stderr: false });
    let exited = false;
    let errored = false;
    const exitListeners: ((code: number) => void)[] = [];
    worker.on('error', (err) => {
      errored = true;
      process.stderr.write(`[evaluation] ${err.stack ?? err.message}\n`);
    });
    worker.on('exit', (c) => {
      exited = true;
      for (const l of exitListeners) l(errored && c === 0 ? 1 : c);
    });
    const handle: EvalWorkerHandle = {
      send(message: HostToEvalWorker) {
        if (!exited) worker.postMessage(message);
      },
      onMessage(listener: (m: EvalWorkerToHost) => void) {
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
