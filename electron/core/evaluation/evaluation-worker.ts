// Entry of the evaluation thread: runs one evaluation or classifier training and reports progress
// (throttled), the result or the failure. A cancel aborts between batches; a classifier folder
// written before the cancel arrived is removed, so a cancelled job leaves nothing behind.
import { promises as fsp } from 'node:fs';
import os from 'node:os';
import { parentPort } from 'node:worker_threads';
import { ApiError } from '../../common/errors.ts';
import { runEvaluateJob, runTrainExtractorJob } from './jobs.ts';
import type { EvalWorkerToHost, HostToEvalWorker } from './protocol.ts';

const port = parentPort;
if (!port) throw new Error('evaluation-worker.ts runs as a worker thread');
const send = (m: EvalWorkerToHost) => port.postMessage(m);
const abort = new AbortController();
let lastProgress = 0;
const progress = (phase: string, fraction: number) => {
  const now = Date.now();
  if (now - lastProgress < 100 && fraction < 1) return;
  lastProgress = now;
  send({ type: 'progress', phase, fraction });
};

port.on('message', (msg: HostToEvalWorker) => {
  if (msg.type === 'cancel') {
    abort.abort();
    return;
  }
  const { job } = msg;
  if (job.kind === 'evaluate' && job.lowPriority && process.platform === 'linux') {
    // Linux nice values are per thread: 0 names this worker's thread, not the core's main thread
    try {
      os.setPriority(0, Math.min(19, os.getPriority(0) + 10));
    } catch {
      // not permitted: run at the normal priority
    }
  }
  const ctx = { signal: abort.signal, progress };
  const work = job.kind === 'evaluate' ? runEvaluateJob(job, ctx).then((result) => ({ type: 'evaluated' as const, result })) : runTrainExtractorJob(job, ctx).then((extractor) => ({ type: 'trained' as const, extractor }));
  work
    .then(async (done) => {
      if (abort.signal.aborted) {
        if (job.kind === 'extractor-train') await fsp.rm(job.outDir, { recursive: true, force: true });
        send({ type: 'cancelled' });
      } else send(done);
    })
    .catch(async (err: unknown) => {
      if (job.kind === 'extractor-train') await fsp.rm(job.outDir, { recursive: true, force: true }).catch(() => undefined);
      if (abort.signal.aborted || (err as Error).name === 'AbortError') send({ type: 'cancelled' });
      else if (err instanceof ApiError && (err.code === 'invalid_input' || err.code === 'not_found' || err.code === 'conflict')) send({ type: 'failed', error: { code: err.code, message: err.message } });
      else if (err instanceof RangeError) send({ type: 'failed', error: { code: 'invalid_input', message: err.message } });
      else send({ type: 'failed', error: { code: 'internal', message: `the job failed: ${(err as Error).message ?? String(err)}` } });
    })
    .finally(() => port.close());
});
