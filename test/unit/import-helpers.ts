// Runs the import pipeline in-process into a temporary datasets folder, for the import tests.
import path from 'node:path';
import { readdirSync } from 'node:fs';
import { DatasetImportRequestSchema, type DatasetImportReport, type DatasetImportRequest } from '../../electron/common/api.ts';
import { loadDatasetCache } from '../../electron/core/datasets/cache.ts';
import { DEFAULT_IMPORT_LIMITS, type ImportLimits } from '../../electron/core/datasets/import/limits.ts';
import { ImportFailed, runImport, type ImportProgress } from '../../electron/core/datasets/import/pipeline.ts';
import { tempDir } from './import-fixtures.ts';

export interface Imported {
  report: DatasetImportReport;
  cache: Awaited<ReturnType<typeof loadDatasetCache>>;
  dir: string;
  datasetsDir: string;
  progress: ImportProgress[];
}

export async function importInProcess(request: Omit<DatasetImportRequest, 'path'> & { path: string }, limits: Partial<ImportLimits> = {}, signal = new AbortController().signal): Promise<Imported> {
  const datasetsDir = tempDir('gs-import-home-');
  const dir = path.join(datasetsDir, 'imported-test-1');
  const progress: ImportProgress[] = [];
  const { report } = await runImport({ request: DatasetImportRequestSchema.parse(request), datasetId: 'imported:test-1', dir }, { limits: { ...DEFAULT_IMPORT_LIMITS, ...limits }, signal, onProgress: (p) => progress.push(p) });
  return { report, cache: await loadDatasetCache(dir, { verifyHash: true }), dir, datasetsDir, progress };
}

/** Expects the import to fail; returns the error and checks that the datasets folder stayed empty. */
export async function importFailure(request: Omit<DatasetImportRequest, 'path'> & { path: string }, limits: Partial<ImportLimits> = {}): Promise<{ error: ImportFailed; leftovers: string[] }> {
  const datasetsDir = tempDir('gs-import-home-');
  const dir = path.join(datasetsDir, 'imported-test-1');
  try {
    await runImport({ request: DatasetImportRequestSchema.parse(request), datasetId: 'imported:test-1', dir }, { limits: { ...DEFAULT_IMPORT_LIMITS, ...limits }, signal: new AbortController().signal, onProgress: () => undefined });
  } catch (err) {
    if (!(err instanceof ImportFailed)) throw err;
    return { error: err, leftovers: readdirSync(datasetsDir) };
  }
  throw new Error('the import was expected to fail');
}

/** The reason the report gives for one path (rejections). */
export function reasonFor(report: { rejected: { path: string; reason: string }[] }, p: string): string | undefined {
  return report.rejected.find((r) => r.path === p)?.reason;
}
