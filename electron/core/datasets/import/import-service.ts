// The core's side of dataset import: starts each import in its own thread, turns its messages into
// `dataset.import` events and statuses, records a finished dataset in the database, and makes sure
// a cancelled, failed or crashed import leaves no folder behind. Also deletes imported datasets
// and serves their import reports.
import crypto from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { DatasetImportReportSchema, type DatasetImportReport, type DatasetImportRequestSchema, type DatasetImportStatus, type StudioEvent } from '../../../common/api.ts';
import type { z } from 'zod';
import { ApiError } from '../../../common/errors.ts';
import type { Db } from '../../db/database.ts';
import { deleteDataset, getDataset, getDatasetDir, upsertDataset } from '../../db/datasets-repo.ts';
import { isInside } from '../../transport/safe-path.ts';
import { datasetRecordOf, readDatasetManifest, type DatasetManifest } from '../cache.ts';
import { removeImportOutput, sweepStaleImports } from './cleanup.ts';
import { DEFAULT_IMPORT_LIMITS, type ImportLimits } from './limits.ts';
import type { ImporterHandle, ImporterToHost, ImportSpawner } from './protocol.ts';
import { workerThreadSpawner } from './worker-spawner.ts';

export interface DatasetImportServiceOptions {
  db: Db;
  datasetsDir: string;
  emit(event: StudioEvent): void;
  spawn?: ImportSpawner;
  limits?: Partial<ImportLimits>;
  /** imports running at once; more are refused with `conflict` */
  maxConcurrent?: number;
  /** how long a cancelled importer may take to stop before it is terminated */
  cancelGraceMs?: number;
}

interface Job {
  status: DatasetImportStatus;
  dir: string;
  handle: ImporterHandle;
  cancelRequested: boolean;
  ended: Promise<void>;
  /** phase breakdown: the importer's own, plus thread start-up and messages seen here */
  timings: Record<string, number>;
}

const KEEP_FINISHED = 50;

export function slugify(name: string): string {
  return (
    name
      .toLowerCase()
      .normalize('NFKD')
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 40) || 'dataset'
  );
}

export class DatasetImportService {
  readonly #o: DatasetImportServiceOptions;
  readonly #jobs = new Map<string, Job>();
  readonly #spawn: ImportSpawner;
  readonly #limits: ImportLimits;

  constructor(options: DatasetImportServiceOptions) {
    this.#o = options;
    this.#spawn = options.spawn ?? workerThreadSpawner();
    this.#limits = { ...DEFAULT_IMPORT_LIMITS, ...options.limits };
  }

  /** Removes temp folders of imports that a crash interrupted. */
  async sweep(): Promise<string[]> {
    return sweepStaleImports(this.#o.datasetsDir);
  }

  start(request: z.output<typeof DatasetImportRequestSchema>): DatasetImportStatus {
    if (!path.isAbsolute(request.path)) throw new ApiError('invalid_input', `path must be absolute, got ${JSON.stringify(request.path)}`, { issues: [{ path: 'path', message: 'must be an absolute path' }] });
    const running = [...this.#jobs.values()].filter((j) => j.status.state === 'running').length;
    if (running >= (this.#o.maxConcurrent ?? 2)) throw new ApiError('conflict', `${running} imports are already running; wait for one to finish or cancel it`);
    const rand = crypto.randomBytes(3).toString('hex');
    const name = request.name ?? (request.sourceLabel ?? path.basename(request.path)).replace(/\.(zip|npy|gz|bin)$/i, '');
    const datasetId = `imported:${slugify(name)}-${rand}`;
    const importId = `import-${Date.now().toString(36)}-${rand}`;
    const dir = path.join(this.#o.datasetsDir, datasetId.replace(/[^A-Za-z0-9_-]/g, '-'));
    const status: DatasetImportStatus = {
      importId,
      state: 'running',
      phase: 'starting',
      fraction: 0,
      filesDone: 0,
      filesTotal: 0,
      currentFile: null,
      source: request.path,
      datasetId: null,
      error: null,
      report: null,
      startedAt: Date.now(),
      endedAt: null,
    };
    const handle = this.#spawn();
    let resolveEnded!: () => void;
    const t0 = performance.now();
    const job: Job = { status, dir, handle, cancelRequested: false, ended: new Promise<void>((r) => (resolveEnded = r)), timings: { messages: 0 } };
    this.#jobs.set(importId, job);
    this.#prune();

    let settled = false;
    const finish = async (patch: Partial<DatasetImportStatus>) => {
      if (settled) return;
      settled = true;
      if (patch.state !== 'done') await removeImportOutput(dir).catch(() => undefined);
      Object.assign(job.status, { ...patch, currentFile: null, endedAt: Date.now() }, patch.state === 'done' ? { fraction: 1, phase: 'finished' } : {});
      this.#emit(job);
      resolveEnded();
      void handle.terminate().catch(() => undefined);
    };
    handle.onMessage((m: ImporterToHost) => {
      if (settled) return;
      // from the start to the thread's first word: loading the worker (and tsx in development)
      job.timings.threadStart ??= performance.now() - t0;
      job.timings.messages++;
      switch (m.type) {
        case 'progress':
          Object.assign(job.status, m.progress);
          this.#emit(job);
          return;
        case 'done':
          Object.assign(job.timings, m.timings ?? {});
          job.timings.doneReceived = performance.now() - t0;
          if (job.cancelRequested) return void finish({ state: 'cancelled' });
          try {
            this.#record(m.manifest, dir);
          } catch (err) {
            return void finish({ state: 'failed', error: { code: 'internal', message: `the dataset was imported but could not be recorded: ${(err as Error).message}` } });
          }
          return void finish({ state: 'done', datasetId: m.manifest.id, report: m.report });
        case 'failed': {
          const rejected = (m.error.details?.rejected as DatasetImportReport['rejected'] | undefined) ?? [];
          return void finish({ state: 'failed', error: { code: m.error.code, message: m.error.message, details: { rejected: rejected.slice(0, 1000), rejectedCount: m.error.details?.rejectedCount ?? rejected.length } } });
        }
        case 'cancelled':
          return void finish({ state: 'cancelled' });
      }
    });
    handle.onExit((code) => {
      if (job.cancelRequested) void finish({ state: 'cancelled' });
      else void finish({ state: 'failed', error: { code: 'internal', message: `the import thread stopped unexpectedly (exit code ${code})` } });
    });
    handle.send({ type: 'start', job: { request, datasetId, dir }, limits: this.#limits });
    this.#emit(job);
    return structuredClone(status);
  }

  #record(manifest: DatasetManifest, dir: string): void {
    upsertDataset(this.#o.db, datasetRecordOf(manifest, dir));
  }

  #emit(job: Job): void {
    // progress events carry no report; the final one does
    this.#o.emit({ type: 'dataset.import', status: structuredClone(job.status) });
  }

  #prune(): void {
    const finished = [...this.#jobs.entries()].filter(([, j]) => j.status.state !== 'running');
    for (const [id] of finished.slice(0, Math.max(0, finished.length - KEEP_FINISHED))) this.#jobs.delete(id);
  }

  #job(importId: string): Job {
    const job = this.#jobs.get(importId);
    if (!job) throw new ApiError('not_found', `import ${importId} not found`);
    return job;
  }

  status(importId: string): DatasetImportStatus {
    return structuredClone(this.#job(importId).status);
  }

  /** Where an import's time went (ms per phase); empty until it is done. For benchmarks and diagnosis. */
  timings(importId: string): Record<string, number> {
    return { ...this.#job(importId).timings };
  }

  list(): DatasetImportStatus[] {
    return [...this.#jobs.values()].map((j) => structuredClone(j.status)).reverse();
  }

  /** Waits for an import to end (for the CLI and tests). */
  async wait(importId: string): Promise<DatasetImportStatus> {
    const job = this.#job(importId);
    await job.ended;
    return structuredClone(job.status);
  }

  async cancel(importId: string): Promise<DatasetImportStatus> {
    const job = this.#job(importId);
    if (job.status.state !== 'running') return structuredClone(job.status);
    job.cancelRequested = true;
    job.handle.send({ type: 'cancel' });
    const grace = new Promise<'late'>((r) => setTimeout(() => r('late'), this.#o.cancelGraceMs ?? 10_000).unref());
    if ((await Promise.race([job.ended.then(() => 'ended' as const), grace])) === 'late') {
      await job.handle.terminate();
      await job.ended;
    }
    return structuredClone(job.status);
  }

  /** Deletes an imported dataset: its row (refused while runs use it), then its cache folder. */
  async delete(datasetId: string): Promise<void> {
    const d = getDataset(this.#o.db, datasetId);
    if (!d) throw new ApiError('not_found', `dataset ${datasetId} not found`);
    if (d.kind === 'builtin') throw new ApiError('conflict', `${datasetId} is built in and cannot be deleted`);
    const dir = getDatasetDir(this.#o.db, datasetId)!;
    deleteDataset(this.#o.db, datasetId);
    const root = path.resolve(this.#o.datasetsDir);
    if (isInside(root, path.resolve(dir)) && path.resolve(dir) !== root) await fsp.rm(dir, { recursive: true, force: true });
  }

  async report(datasetId: string): Promise<{ report: DatasetImportReport | null; duplicatesPreview: { dataUrl: string; width: number; height: number } | null }> {
    const d = getDataset(this.#o.db, datasetId);
    if (!d) throw new ApiError('not_found', `dataset ${datasetId} not found`);
    const dir = getDatasetDir(this.#o.db, datasetId)!;
    const manifest = await readDatasetManifest(dir).catch(() => null);
    if (!manifest?.report) return { report: null, duplicatesPreview: null };
    const raw = await fsp.readFile(path.join(dir, manifest.report), 'utf8').catch(() => null);
    const parsed = raw === null ? null : DatasetImportReportSchema.safeParse(JSON.parse(raw));
    const png = await fsp.readFile(path.join(dir, 'duplicates.png')).catch(() => null);
    const preview = png && png.length >= 24 ? { dataUrl: `data:image/png;base64,${png.toString('base64')}`, width: png.readUInt32BE(16), height: png.readUInt32BE(20) } : null;
    return { report: parsed?.success ? parsed.data : null, duplicatesPreview: preview };
  }

  /** Cancels every running import (the studio is closing). */
  async close(): Promise<void> {
    await Promise.all([...this.#jobs.values()].filter((j) => j.status.state === 'running').map((j) => this.cancel(j.status.importId)));
  }
}
