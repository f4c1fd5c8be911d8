// The Electron-free core: opens the data folder, implements every API method, and owns the event
// stream. Electron IPC, the browser-mode server, the CLI and tests all sit on top of this.
import path from 'node:path';
import { promises as fsp } from 'node:fs';
import { createRequire } from 'node:module';
import type { ApiImplementation, EventSource, StudioEvent } from '../../common/api.ts';
import { FAMILIES, FAMILY_INFO } from '../../common/config.ts';
import { ApiError } from '../../common/errors.ts';
import { openDatabase, type Db, type OpenReport } from '../db/database.ts';
import * as runs from '../db/runs-repo.ts';
import { listAlerts } from '../db/alerts-repo.ts';
import { listDatasets } from '../db/datasets-repo.ts';
import { RunManager, type RunManagerOptions } from './run-manager.ts';
import { DatasetsService, ensureBuiltinDatasets } from './datasets-service.ts';
import { DatasetImportService } from '../datasets/import/import-service.ts';
import { datasetImportApi } from '../datasets/import/api.ts';
import { RatingService, ratingApi, type RatingMethods } from './rating-service.ts';
import type { ImportSpawner } from '../datasets/import/protocol.ts';
import type { TrainerSpawner } from '../trainer/trainer-process.ts';
import { forkTrainer } from '../trainer/fork-spawner.ts';
import { FAMILY_DEFINITIONS } from '../families/registry.ts';
import type { SupervisionOptions } from '../trainer/host.ts';
import { EvaluationService, evaluationApi, type EvaluationMethods } from './evaluation-service.ts';
import type { EvalWorkerSpawner } from '../evaluation/protocol.ts';

export interface StudioCoreOptions {
  home: string;
  mode: 'electron' | 'browser' | 'memory';
  spawnTrainer?: TrainerSpawner;
  supervision?: Partial<SupervisionOptions>;
  autoResume?: RunManagerOptions['autoResume'];
  trainerEnv?: Record<string, string>;
  /** where dataset imports run (default: a worker thread through tsx) */
  spawnImporter?: ImportSpawner;
  /** where evaluations and classifier trainings run (default: a worker thread through tsx) */
  spawnEvaluator?: EvalWorkerSpawner;
}

export interface StudioCore {
  api: ApiImplementation;
  events: EventSource;
  home: string;
  /** what happened when the database was opened (a corrupt one is moved aside and reported) */
  openReport: OpenReport;
  runs: RunManager;
  imports: DatasetImportService;
  evaluation: EvaluationService;
  close(): Promise<void>;
}

const VERSION: string = (createRequire(import.meta.url)('../../../package.json') as { version: string }).version;

export const DATABASE_FILE = 'studio.db';

export async function createStudioCore(options: StudioCoreOptions): Promise<StudioCore> {
  const home = path.resolve(options.home);
  const datasetsDir = path.join(home, 'datasets');
  const runsDir = path.join(home, 'runs');
  await fsp.mkdir(datasetsDir, { recursive: true });
  await fsp.mkdir(runsDir, { recursive: true });
  const { db, report } = openDatabase(path.join(home, DATABASE_FILE));
  const listeners = new Set<(e: StudioEvent) => void>();
  const emit = (event: StudioEvent) => {
    for (const l of listeners) {
      try {
        l(event);
      } catch {
        // one broken subscriber must not stop the others or the trainer bookkeeping
      }
    }
  };
  try {
    // Runs a previous session left active lost their trainer with it.
    for (const id of runs.markActiveRunsInterrupted(db, 'the studio exited while the run was active')) {
      runs.appendRunEvent(db, id, 'warn', 'marked interrupted at startup: resume it to continue from its last checkpoint');
    }
    await ensureBuiltinDatasets(db, datasetsDir);
  } catch (err) {
    db.close();
    throw err;
  }

  const manager = new RunManager({
    db,
    runsDir,
    spawnTrainer: options.spawnTrainer ?? forkTrainer,
    emit,
    supervision: options.supervision,
    autoResume: options.autoResume,
    trainerEnv: options.trainerEnv,
    // the run's optional small-N evaluations during training (config `evaluation`); never blocks the trainer
    onCheckpoint: (c) => evaluation.onCheckpoint(c),
  });
  const datasets = new DatasetsService(db);
  const imports = new DatasetImportService({ db, datasetsDir, emit, spawn: options.spawnImporter });
  await imports.sweep().catch(() => []);
  const evaluation = new EvaluationService({ db, home, emit, spawn: options.spawnEvaluator });
  const ratings = new RatingService({ db, home, emit });
  await ratings.sweep().catch(() => []);
  const api: ApiImplementation = { ...buildApi(db, manager, datasets, home, options.mode, imports), ...evaluationApi(evaluation, db), ...ratingApi(ratings) };
  let closed = false;

  return {
    api,
    home,
    openReport: report,
    runs: manager,
    imports,
    evaluation,
    events: {
      subscribe(listener) {
        listeners.add(listener);
        return () => listeners.delete(listener);
      },
    },
    async close() {
      if (closed) return;
      closed = true;
      ratings.cancelAll();
      await imports.close();
      await evaluation.close();
      await manager.close();
      listeners.clear();
      db.close();
    },
  };
}

function buildApi(db: Db, manager: RunManager, datasets: DatasetsService, home: string, mode: StudioCoreOptions['mode'], imports: DatasetImportService): Omit<ApiImplementation, keyof EvaluationMethods | keyof RatingMethods> {
  const requireRun = (runId: string) => {
    const detail = runs.getRunDetail(db, runId);
    if (!detail) throw new ApiError('not_found', `run ${runId} not found`);
    return detail;
  };
  return {
    'system.info': async () => ({
      version: VERSION,
      home,
      mode,
      families: FAMILIES.map((id) => ({ id, label: FAMILY_INFO[id].label, summary: FAMILY_INFO[id].summary, dataContract: FAMILY_INFO[id].dataContract, available: FAMILY_DEFINITIONS[id] !== undefined })),
    }),
    'datasets.list': async () => listDatasets(db),
    'datasets.get': async ({ datasetId }) => datasets.get(datasetId),
    'datasets.preview': async ({ datasetId, count }) => datasets.preview(datasetId, count),
    ...datasetImportApi(imports),
    'runs.list': async ({ status, limit }) => runs.listRuns(db, { status, limit }),
    'runs.get': async ({ runId }) => requireRun(runId),
    'runs.start': async ({ config, diagnostics }) => manager.start(config, diagnostics),
    'runs.estimate': async ({ config }) => manager.estimate(config).memory,
    'runs.dryRun': async ({ config, steps }) => manager.dryRun(config, steps),
    'runs.pause': async ({ runId }) => manager.pause(runId),
    'runs.resume': async ({ runId }) => manager.resume(runId),
    'runs.stop': async ({ runId }) => manager.stop(runId),
    'runs.scalars': async ({ runId, tags, maxPoints }) => {
      requireRun(runId);
      return runs.getScalars(db, runId, { tags, maxPoints });
    },
    'runs.alerts': async ({ runId, kind }) => {
      requireRun(runId);
      return listAlerts(db, runId, { kind });
    },
    'runs.fork': async (input) => manager.fork(input),
    'runs.sample': async ({ runId, step }) => {
      const runDir = runs.getRunDir(db, runId);
      if (!runDir) throw new ApiError('not_found', `run ${runId} not found`);
      const sample = step === undefined ? runs.latestSample(db, runId) : runs.getSample(db, runId, step);
      if (!sample) throw new ApiError('not_found', step === undefined ? `run ${runId} has no samples yet` : `run ${runId} has no sample at step ${step}`);
      const file = path.resolve(runDir, sample.file);
      if (!file.startsWith(path.resolve(runDir) + path.sep)) throw new ApiError('internal', `sample path of run ${runId} leaves its folder`);
      const png = await fsp.readFile(file).catch(() => {
        throw new ApiError('not_found', `the sample file of run ${runId} at step ${sample.step} is missing`);
      });
      const { width, height } = pngSize(png);
      return { step: sample.step, dataUrl: `data:image/png;base64,${png.toString('base64')}`, width, height };
    },
  };
}

/** Width and height from a PNG's IHDR chunk. */
function pngSize(png: Buffer): { width: number; height: number } {
  if (png.length < 24 || png.readUInt32BE(12) !== 0x49484452) return { width: 0, height: 0 };
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}
