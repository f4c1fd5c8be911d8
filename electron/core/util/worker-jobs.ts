// The jobs of a service that runs each piece of work in its own worker (dataset imports,
// evaluations and classifier trainings): a worker per job whose end settles the job once, a crash
// reported as a failure, cancel with a grace period before the thread is terminated, waiting for
// the end, and a bounded list of finished jobs. What the messages mean stays with the service.
import { ApiError } from '../../common/errors.ts';
import type { WorkerHandle } from './worker-thread.ts';

export interface WorkerJobStatus {
  state: 'running' | 'done' | 'failed' | 'cancelled';
  phase: string;
  fraction: number;
  error: { code: string; message: string } | null;
  endedAt: number | null;
}

export interface WorkerJob<S extends WorkerJobStatus, In, Out, X> {
  readonly status: S;
  readonly handle: WorkerHandle<In, Out>;
  /** what the service keeps with the job */
  readonly data: X;
  cancelRequested: boolean;
  readonly ended: Promise<void>;
  /**
   * Ends the job, once (later calls do nothing): `patch` goes into its status (a done job's phase
   * becomes "finished"), the status is published and the worker terminated.
   */
  finish(patch: Partial<S>): Promise<void>;
}

export interface WorkerJobsOptions<S, In> {
  /** names a job in `not_found` errors, e.g. "import" */
  noun: string;
  /** names the worker when it stops unexpectedly, e.g. "the import thread" */
  thread: string;
  publish(status: S): void;
  cancelMessage: In;
  /** how long a cancelled worker may take to stop before it is terminated */
  cancelGraceMs?: number;
  /** finished jobs kept for status queries */
  keepFinished?: number;
}

export interface WorkerJobHooks<S extends WorkerJobStatus, In, Out, X> {
  /** a message of the worker while the job is running */
  onMessage(job: WorkerJob<S, In, Out, X>, message: Out): void;
  /** before the final status is set, e.g. removing what a job that did not finish wrote */
  beforeEnd?(job: WorkerJob<S, In, Out, X>, patch: Partial<S>): Promise<void>;
}

export class WorkerJobs<S extends WorkerJobStatus, In, Out, X = undefined> {
  readonly #o: WorkerJobsOptions<S, In>;
  readonly #jobs = new Map<string, WorkerJob<S, In, Out, X>>();

  constructor(options: WorkerJobsOptions<S, In>) {
    this.#o = options;
  }

  /** Registers a job on a freshly spawned worker; the caller then sends it its work and publishes it. */
  add(id: string, status: S, handle: WorkerHandle<In, Out>, data: X, hooks: WorkerJobHooks<S, In, Out, X>): WorkerJob<S, In, Out, X> {
    let resolveEnded!: () => void;
    let settled = false;
    const job: WorkerJob<S, In, Out, X> = {
      status,
      handle,
      data,
      cancelRequested: false,
      ended: new Promise<void>((r) => (resolveEnded = r)),
      finish: async (patch) => {
        if (settled) return;
        settled = true;
        await hooks.beforeEnd?.(job, patch);
        Object.assign(job.status, patch, { endedAt: Date.now() }, patch.state === 'done' ? { fraction: 1, phase: 'finished' } : {});
        this.publish(job);
        resolveEnded();
        void handle.terminate().catch(() => undefined);
      },
    };
    this.#jobs.set(id, job);
    this.#prune();
    handle.onMessage((m) => {
      if (!settled) hooks.onMessage(job, m);
    });
    handle.onExit((code) => {
      if (job.cancelRequested) void job.finish({ state: 'cancelled' } as Partial<S>);
      else void job.finish({ state: 'failed', error: { code: 'internal', message: `${this.#o.thread} stopped unexpectedly (exit code ${code})` } } as Partial<S>);
    });
    return job;
  }

  publish(job: WorkerJob<S, In, Out, X>): void {
    this.#o.publish(job.status);
  }

  get(id: string): WorkerJob<S, In, Out, X> {
    const job = this.#jobs.get(id);
    if (!job) throw new ApiError('not_found', `${this.#o.noun} ${id} not found`);
    return job;
  }

  running(): WorkerJob<S, In, Out, X>[] {
    return [...this.#jobs.values()].filter((j) => j.status.state === 'running');
  }

  status(id: string): S {
    return structuredClone(this.get(id).status);
  }

  /** Every kept job's status, newest first. */
  list(): S[] {
    return [...this.#jobs.values()].map((j) => structuredClone(j.status)).reverse();
  }

  /** Waits for a job to end (for the CLI and tests). */
  async wait(id: string): Promise<S> {
    const job = this.get(id);
    await job.ended;
    return structuredClone(job.status);
  }

  async cancel(id: string): Promise<S> {
    const job = this.get(id);
    if (job.status.state !== 'running') return structuredClone(job.status);
    job.cancelRequested = true;
    job.handle.send(this.#o.cancelMessage);
    const grace = new Promise<'late'>((r) => setTimeout(() => r('late'), this.#o.cancelGraceMs ?? 10_000).unref());
    if ((await Promise.race([job.ended.then(() => 'ended' as const), grace])) === 'late') {
      await job.handle.terminate();
      await job.ended;
    }
    return structuredClone(job.status);
  }

  /** Cancels every running job (the studio is closing). */
  async close(): Promise<void> {
    await Promise.all([...this.#jobs.entries()].filter(([, j]) => j.status.state === 'running').map(([id]) => this.cancel(id).catch(() => undefined)));
  }

  #prune(): void {
    const finished = [...this.#jobs.entries()].filter(([, j]) => j.status.state !== 'running');
    for (const [id] of finished.slice(0, Math.max(0, finished.length - (this.#o.keepFinished ?? 50)))) this.#jobs.delete(id);
  }
}
