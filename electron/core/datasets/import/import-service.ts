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
import type { HostToImporter, ImporterToHost, ImportSpawner } from './protocol.ts';
import { workerThreadSpawner } from './worker-spawner.ts';
import { WorkerJobs } from '../../util/worker-jobs.ts';

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
  /** per job: its folder, and the phase breakdown (the importer's own, plus thread start-up and messages seen here) */
  readonly #jobs: WorkerJobs<DatasetImportStatus, HostToImporter, ImporterToHost, { dir: string; timings: Record<string, number> }>;
  readonly #spawn: ImportSpawner;
  readonly #limits: ImportLimits;

  constructor(options: DatasetImportServiceOptions) {
    this.#o = options;
    // progress events carry no report; the final one does
    this.#jobs = new WorkerJobs({ noun: 'import', thread: 'the import thread', publish: (status) => options.emit({ type: 'dataset.import', status: structuredClone(status) }), cancelMessage: { type: 'cancel' }, cancelGraceMs: options.cancelGraceMs });
    this.#spawn = options.spawn ?? workerThreadSpawner();
    this.#limits = { ...DEFAULT_IMPORT_LIMITS, ...options.limits };
  }

  /** Removes temp folders of imports that a crash interrupted. */
  async sweep(): Promise<string[]> {
    return sweepStaleImports(this.#o.datasetsDir);
  }

  start(request: z.output<typeof DatasetImportRequestSchema>): DatasetImportStatus {
    if (!path.isAbsolute(request.path)) throw new ApiError('invalid_input', `path must be absolute, got ${JSON.stringify(request.path)}`, { issues: [{ path: 'path', message: 'must be an absolute path' }] });
    const running = this.#jobs.running().length;
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
    const t0 = performance.now();
    const job = this.#jobs.add(importId, status, handle, { dir, timings: { messages: 0 } }, {
      beforeEnd: async (j, patch) => {
        if (patch.state !== 'done') await removeImportOutput(dir).catch(() => undefined);
        j.status.currentFile = null;
      },
      onMessage: (j, m) => {
        const timings = j.data.timings;
        // from the start to the thread's first word: loading the worker (and tsx in development)
        timings.threadStart ??= performance.now() - t0;
        timings.messages++;
        switch (m.type) {
          case 'progress':
            Object.assign(j.status, m.progress);
            this.#jobs.publish(j);
            return;
          case 'done':
            Object.assign(timings, m.timings ?? {});
            timings.doneReceived = performance.now() - t0;
            if (j.cancelRequested) return void j.finish({ state: 'cancelled' });
            try {
              this.#record(m.manifest, dir);
            } catch (err) {
              return void j.finish({ state: 'failed', error: { code: 'internal', message: `the dataset was imported but could not be recorded: ${(err as Error).message}` } });
            }
            return void j.finish({ state: 'done', datasetId: m.manifest.id, report: m.report });
          case 'failed': {
            const rejected = (m.error.details?.rejected as DatasetImportReport['rejected'] | undefined) ?? [];
            return void j.finish({ state: 'failed', error: { code: m.error.code, message: m.error.message, details: { rejected: rejected.slice(0, 1000), rejectedCount: m.error.details?.rejectedCount ?? rejected.length } } });
          }
          case 'cancelled':
            return void j.finish({ state: 'cancelled' });
        }
      },
    });
    handle.send({ type: 'start', job: { request, datasetId, dir }, limits: this.#limits });
    this.#jobs.publish(job);
    return structuredClone(status);
  }

  #record(manifest: DatasetManifest, dir: string): void {
    upsertDataset(this.#o.db, datasetRecordOf(manifest, dir));
  }

  status(importId: string): DatasetImportStatus {
    return this.#jobs.status(importId);
  }

  /** Where an import's time went (ms per phase); empty until it is done. For benchmarks and diagnosis. */
  timings(importId: string): Record<string, number> {
    return { ...this.#jobs.get(importId).data.timings };
  }

  list(): DatasetImportStatus[] {
    return this.#jobs.list();
  }

  /** Waits for an import to end (for the CLI and tests). */
  async wait(importId: string): Promise<DatasetImportStatus> {
    return this.#jobs.wait(importId);
  }

  async cancel(importId: string): Promise<DatasetImportStatus> {
    return this.#jobs.cancel(importId);
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
    await this.#jobs.close();
  }
}
