// A small fake core for the transport tests: fixed answers, a recorder, and an event source the
// test drives by hand. The real core is not involved.
import type { ApiImplementation, DatasetImportStatus, DatasetSummary, EventSource, MethodName, RunSummary, StudioEvent } from '../../electron/common/api.ts';
import { ApiError } from '../../electron/common/errors.ts';
import { EVALUATION_API } from '../../electron/common/api-evaluation.ts';
import { RATING_API } from '../../electron/common/api-rating.ts';

export const DATASETS: DatasetSummary[] = [
  { id: 'mnist', name: 'MNIST (built-in)', kind: 'builtin', layout: 'images', description: 'digits', count: 10_000, width: 28, height: 28, channels: 1, classNames: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'], classCounts: [1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000], contentHash: 'abc', createdAt: 1 },
];

export const RUN: RunSummary = {
  id: 'run-1', name: 'first', family: 'dcgan', datasetId: 'mnist', status: 'running', statusReason: null, step: 10, totalSteps: 100,
  createdAt: 1, startedAt: 2, endedAt: null, durationMs: 5, finalGLoss: null, finalDLoss: null, backend: null,
};

export const IMPORT_STATUS: DatasetImportStatus = {
  importId: 'import-1', state: 'running', phase: 'decoding', fraction: 0.5, filesDone: 1, filesTotal: 2, currentFile: 'a.png',
  source: '/tmp/a', datasetId: null, error: null, report: null, startedAt: 1, endedAt: null,
};

export interface FakeCore {
  api: ApiImplementation;
  events: EventSource & { emit(event: StudioEvent): void; readonly listenerCount: number };
  calls: Array<{ method: MethodName; input: unknown }>;
}

export function createFakeCore(): FakeCore {
  const calls: FakeCore['calls'] = [];
  const record = (method: MethodName, input: unknown): void => void calls.push({ method, input });
  const listeners = new Set<(event: StudioEvent) => void>();
  const api: ApiImplementation = {
    'system.info': async (input) => (record('system.info', input), { version: '0.1.0', home: '/tmp/home', mode: 'memory', families: [{ id: 'dcgan', label: 'DCGAN', summary: 'conv', dataContract: 'unconditional', available: true }] }),
    'datasets.list': async (input) => (record('datasets.list', input), DATASETS),
    'datasets.get': async (input) => {
      record('datasets.get', input);
      const found = DATASETS.find((d) => d.id === input.datasetId);
      if (!found) throw new ApiError('not_found', `no dataset ${input.datasetId}`, { datasetId: input.datasetId });
      return found;
    },
    'datasets.preview': async (input) => (record('datasets.preview', input), { dataUrl: 'data:image/png;base64,', width: input.count, height: 1 }),
    'runs.list': async (input) => (record('runs.list', input), [RUN]),
    'runs.get': async (input) => {
      record('runs.get', input);
      throw new Error(`database is locked while reading ${input.runId}`);
    },
    'runs.start': async (input) => {
      record('runs.start', input);
      throw new ApiError('invalid_input', 'config.schedule.steps: Too small', { issues: [{ path: 'config.schedule.steps', message: 'Too small' }] });
    },
    'runs.alerts': async (input) => (record('runs.alerts', input), []),
    'runs.fork': async (input) => {
      record('runs.fork', input);
      throw new ApiError('not_found', `run ${input.runId} not found`);
    },
    'runs.dryRun': async (input) => (record('runs.dryRun', input), { msPerStep: 10, imgPerSec: 6400, etaSeconds: 20, backend: { name: 'cpu', provider: '@tensorflow/tfjs-backend-cpu', device: 'cpu', skipped: [], forced: false }, parameters: { generator: 1, discriminator: 1 } }),
    'runs.estimate': async (input) => (record('runs.estimate', input), { totalBytes: 1, limitBytes: 2, limitReason: 'test', fits: true, suggestedBatchSize: null, breakdown: {} }),
    'runs.pause': async (input) => (record('runs.pause', input), { ...RUN, status: 'paused' }),
    'runs.resume': async (input) => (record('runs.resume', input), RUN),
    'runs.stop': async (input) => {
      record('runs.stop', input);
      // not even an Error: a core bug that throws a string
      throw 'boom';
    },
    'runs.scalars': async (input) => (record('runs.scalars', input), { 'loss/g': { steps: [1, 2], values: [0.5, 0.4], total: 2 } }),
    // wrong output shape on purpose: output validation must catch it
    'runs.sample': async (input) => (record('runs.sample', input), { dataUrl: 42 } as never),
    // dataset import (issue 5): not exercised by the transport tests
    'datasets.import': async (input) => (record('datasets.import', input), IMPORT_STATUS),
    'datasets.importStatus': async (input) => (record('datasets.importStatus', input), IMPORT_STATUS),
    'datasets.importCancel': async (input) => (record('datasets.importCancel', input), { ...IMPORT_STATUS, state: 'cancelled' }),
    'datasets.imports': async (input) => (record('datasets.imports', input), [IMPORT_STATUS]),
    'datasets.report': async (input) => (record('datasets.report', input), { report: null, duplicatesPreview: null }),
    'datasets.delete': async (input) => (record('datasets.delete', input), { deleted: true, datasetId: input.datasetId }),
    // evaluation (issue 6): not exercised by the transport tests
    ...Object.fromEntries(Object.keys(EVALUATION_API).map((m) => [m, async (input: unknown) => (record(m as MethodName, input), Promise.reject(new ApiError('not_found', `${m} is not faked`)))])) as unknown as Pick<ApiImplementation, keyof typeof EVALUATION_API>,
    // rating sessions (issue 8): not exercised by the transport tests
    ...Object.fromEntries(Object.keys(RATING_API).map((m) => [m, async (input: unknown) => (record(m as MethodName, input), Promise.reject(new ApiError('not_found', `${m} is not faked`)))])) as unknown as Pick<ApiImplementation, keyof typeof RATING_API>,
  };
  const events = {
    subscribe(listener: (event: StudioEvent) => void) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    emit(event: StudioEvent) {
      for (const l of [...listeners]) l(event);
    },
    get listenerCount() {
      return listeners.size;
    },
  };
  return { api, events, calls };
}
