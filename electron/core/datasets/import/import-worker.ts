// Entry of the import thread: runs one import and reports progress, the result or the failure.
// A cancel aborts between files; whatever the import wrote is removed before "cancelled" is sent.
import { parentPort } from 'node:worker_threads';
import type { HostToImporter, ImporterToHost } from './protocol.ts';
import { ImportCancelled, ImportFailed, runImport } from './pipeline.ts';
import { removeImportOutput } from './cleanup.ts';

const port = parentPort;
if (!port) throw new Error('import-worker.ts runs as a worker thread');
const send = (m: ImporterToHost) => port.postMessage(m);
const abort = new AbortController();

port.on('message', (msg: HostToImporter) => {
  if (msg.type === 'cancel') {
    abort.abort();
    return;
  }
  const { job, limits } = msg;
  runImport(job, { limits, signal: abort.signal, onProgress: (progress) => send({ type: 'progress', progress }) })
    .then(async ({ manifest, report, timings }) => {
      if (abort.signal.aborted) {
        await removeImportOutput(job.dir);
        send({ type: 'cancelled' });
      } else send({ type: 'done', manifest, report, timings });
    })
    .catch(async (err: unknown) => {
      await removeImportOutput(job.dir).catch(() => undefined);
      if (err instanceof ImportCancelled || abort.signal.aborted) send({ type: 'cancelled' });
      else if (err instanceof ImportFailed) send({ type: 'failed', error: { code: err.code, message: err.message, details: err.details as Record<string, unknown> } });
      else send({ type: 'failed', error: { code: 'internal', message: `the import failed: ${(err as Error).message ?? String(err)}` } });
    })
    .finally(() => port.close());
});
