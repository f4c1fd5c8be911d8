// The job table that dataset imports and evaluations share (util/worker-jobs.ts), over real worker
// threads from the shared spawner (util/worker-thread.ts): a finished job, a crashed thread, an
// uncaught error, a polite cancel and one that ignores the cancel until the grace period ends.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WorkerJobs, type WorkerJobStatus } from '../../electron/core/util/worker-jobs.ts';
import { workerThreadSpawnerFor } from '../../electron/core/util/worker-thread.ts';

type In = { type: 'start'; mode: 'finish' | 'exit' | 'throw' | 'wait' | 'hang' } | { type: 'cancel' };
type Out = { type: 'progress'; fraction: number } | { type: 'finished' } | { type: 'cancelled' };
type Status = WorkerJobStatus & { id: string };

// on cancel: 'hang' says nothing (the table must terminate it); the others answer "cancelled"
const WORKER = `
import { parentPort } from 'node:worker_threads';
let mode = null;
parentPort.on('message', (m) => {
  if (m.type === 'cancel') { if (mode !== 'hang') parentPort.postMessage({ type: 'cancelled' }); return; }
  mode = m.mode;
  parentPort.postMessage({ type: 'progress', fraction: 0.5 });
  if (mode === 'finish') parentPort.postMessage({ type: 'finished' });
  if (mode === 'exit') process.exit(3);
  if (mode === 'throw') throw new Error('boom');
});
`;
const spawn = workerThreadSpawnerFor<In, Out>('worker-jobs test', `data:text/javascript,${encodeURIComponent(WORKER)}`, null);

function table(cancelGraceMs = 10_000) {
  const published: Status[] = [];
  const jobs = new WorkerJobs<Status, In, Out, { ended: string[] }>({ noun: 'test job', thread: 'the test thread', publish: (s) => published.push(structuredClone(s)), cancelMessage: { type: 'cancel' }, cancelGraceMs });
  const start = (id: string, mode: 'finish' | 'exit' | 'throw' | 'wait' | 'hang') => {
    const handle = spawn();
    const status: Status = { id, state: 'running', phase: 'starting', fraction: 0, error: null, endedAt: null };
    const job = jobs.add(id, status, handle, { ended: [] }, {
      beforeEnd: async (j, patch) => void j.data.ended.push(patch.state ?? '?'),
      onMessage: (j, m) => {
        if (m.type === 'progress') {
          Object.assign(j.status, { phase: 'working', fraction: m.fraction });
          jobs.publish(j);
        } else if (m.type === 'finished') void j.finish({ state: 'done' });
        else void j.finish({ state: 'cancelled' });
      },
    });
    handle.send({ type: 'start', mode });
    return job;
  };
  return { jobs, published, start };
}

test('a job that finishes: progress, then done once with phase "finished", the thread gone', async () => {
  const { jobs, published, start } = table();
  const job = start('a', 'finish');
  const end = await jobs.wait('a');
  assert.deepEqual([end.state, end.phase, end.fraction, end.error], ['done', 'finished', 1, null]);
  assert.ok(end.endedAt !== null && end.endedAt >= 0);
  assert.deepEqual(job.data.ended, ['done'], 'beforeEnd ran once, before the final status');
  assert.deepEqual(published.map((s) => s.state), ['running', 'done']);
  // the exit that follows the termination does not end it a second time
  await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(job.data.ended, ['done']);
  assert.deepEqual(jobs.list().map((s) => s.id), ['a']);
});

test('a thread that exits or throws fails the job with its exit code', async () => {
  const { jobs, start } = table();
  start('exit', 'exit');
  start('throw', 'throw');
  const exited = await jobs.wait('exit');
  assert.equal(exited.state, 'failed');
  assert.deepEqual(exited.error, { code: 'internal', message: 'the test thread stopped unexpectedly (exit code 3)' });
  const threw = await jobs.wait('throw');
  assert.equal(threw.state, 'failed');
  assert.match(threw.error!.message, /the test thread stopped unexpectedly \(exit code 1\)/);
  assert.deepEqual(jobs.list().map((s) => s.id), ['throw', 'exit'], 'newest first');
});

test('cancel: a polite thread answers; one that does not is terminated after the grace period', async () => {
  const { jobs, start } = table(300);
  const polite = start('polite', 'wait');
  await new Promise((r) => setTimeout(r, 200));
  let t0 = Date.now();
  assert.equal((await jobs.cancel('polite')).state, 'cancelled');
  assert.ok(Date.now() - t0 < 250, `answered before the grace period (${Date.now() - t0} ms)`);
  assert.equal(polite.cancelRequested, true);
  // 'hang' ignores the cancel: the job ends by termination, still as cancelled
  start('hung', 'hang');
  t0 = Date.now();
  assert.equal((await jobs.cancel('hung')).state, 'cancelled');
  assert.ok(Date.now() - t0 >= 250, `waited the grace period (${Date.now() - t0} ms)`);
  const other = table(10_000);
  other.start('b', 'finish');
  await other.jobs.wait('b');
  assert.equal((await other.jobs.cancel('b')).state, 'done', 'cancelling a finished job changes nothing');
  assert.throws(() => other.jobs.status('nope'), /test job nope not found/);
});

test('close cancels every running job', async () => {
  const { jobs, start } = table(200);
  start('x', 'hang');
  start('y', 'hang');
  await jobs.close();
  assert.deepEqual(jobs.list().map((s) => s.state), ['cancelled', 'cancelled']);
  assert.equal(jobs.running().length, 0);
});
