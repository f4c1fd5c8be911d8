import { test, describe, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { openDatabase } from '../../electron/core/db/database.ts';
import type { Db } from '../../electron/core/db/database.ts';
import { upsertDataset, getDataset, listDatasets, getDatasetDir, deleteDataset } from '../../electron/core/db/datasets-repo.ts';
import type { DatasetRecord } from '../../electron/core/db/datasets-repo.ts';
import {
  insertRun,
  getRunSummary,
  getRunDetail,
  getRunDir,
  listRuns,
  updateRunStatus,
  updateRunProgress,
  setRunBackend,
  insertScalars,
  getScalars,
  listScalarTags,
  insertSample,
  getSample,
  latestSample,
  listSampleSteps,
  insertCheckpoint,
  listCheckpoints,
  latestCheckpoint,
  deleteCheckpoint,
  appendRunEvent,
  listRunEvents,
  markActiveRunsInterrupted,
  rewindRun,
  deleteRun,
} from '../../electron/core/db/runs-repo.ts';
import { DatasetSummarySchema, RunDetailSchema, RunSummarySchema, SeriesSchema } from '../../electron/common/api.ts';
import type { BackendReport } from '../../electron/common/api.ts';
import { resolveRunConfig } from '../../electron/common/config.ts';
import { ApiError } from '../../electron/common/errors.ts';

const MNIST: DatasetRecord = {
  id: 'mnist',
  name: 'MNIST',
  kind: 'builtin',
  layout: 'images',
  description: '',
  dir: '/home/u/.gan-studio/datasets/mnist',
  count: 60000,
  width: 28,
  height: 28,
  channels: 1,
  classNames: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
  classCounts: [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949],
  contentHash: 'sha256:abc',
  createdAt: 1_700_000_000_000,
};

const config = (overrides: Record<string, unknown> = {}) => resolveRunConfig({ family: 'dcgan', dataset: 'mnist', ...overrides }, () => 1234);

const BACKEND: BackendReport = {
  name: 'cpu',
  provider: '@tensorflow/tfjs',
  device: 'cpu',
  skipped: [{ provider: '@tensorflow/tfjs-node-gpu', reason: 'no CUDA' }],
  forced: false,
};

function isApiError(code: string, pattern?: RegExp) {
  return (err: unknown) => {
    assert.ok(err instanceof ApiError, `expected ApiError, got ${String(err)}`);
    assert.equal(err.code, code);
    if (pattern) assert.match(err.message, pattern);
    return true;
  };
}

let db: Db;
beforeEach(() => {
  db = openDatabase(':memory:').db;
  upsertDataset(db, MNIST);
});
afterEach(() => db.close());

describe('datasets', () => {
  test('round-trip to DatasetSummary, upsert keeps created_at', () => {
    const got = getDataset(db, 'mnist');
    assert.ok(got);
    DatasetSummarySchema.parse(got);
    const { dir: _dir, ...summary } = MNIST;
    assert.deepEqual(got, summary);
    assert.equal(getDatasetDir(db, 'mnist'), MNIST.dir);
    upsertDataset(db, { ...MNIST, name: 'MNIST digits', createdAt: 5, count: 100 });
    assert.equal(getDataset(db, 'mnist')?.name, 'MNIST digits');
    assert.equal(getDataset(db, 'mnist')?.createdAt, MNIST.createdAt);
    assert.equal(getDataset(db, 'nope'), undefined);
    assert.equal(getDatasetDir(db, 'nope'), undefined);
  });

  test('list: built-in first, then by name; unlabelled datasets have null classes', () => {
    upsertDataset(db, { ...MNIST, id: 'zz', name: 'Alpha faces', kind: 'imported', classNames: null, classCounts: null });
    upsertDataset(db, { ...MNIST, id: 'aa', name: 'Beta', kind: 'imported', classNames: null, classCounts: null });
    assert.deepEqual(listDatasets(db).map((d) => d.id), ['mnist', 'zz', 'aa']);
    assert.equal(listDatasets(db)[1]!.classNames, null);
  });

  test('invalid rows are invalid_input; a dataset with runs cannot be deleted', () => {
    assert.throws(() => upsertDataset(db, { ...MNIST, id: 'bad', width: 0 }), isApiError('invalid_input'));
    assert.throws(() => upsertDataset(db, { ...MNIST, id: 'bad', classCounts: [1] }), isApiError('invalid_input'));
    insertRun(db, { id: 'r_1', name: 'a', config: config(), runDir: 'runs/r_1' });
    assert.throws(() => deleteDataset(db, 'mnist'), isApiError('conflict'));
    deleteRun(db, 'r_1');
    assert.equal(deleteDataset(db, 'mnist'), true);
  });
});

describe('runs', () => {
  test('insertRun round-trips to RunDetail and RunSummary', () => {
    const cfg = config({ name: 'first' });
    const detail = insertRun(db, { id: 'r_1', name: 'first', config: cfg, runDir: 'runs/r_1', createdAt: 1000 });
    RunDetailSchema.parse(detail);
    assert.deepEqual(detail, {
      id: 'r_1',
      name: 'first',
      family: 'dcgan',
      datasetId: 'mnist',
      status: 'queued',
      statusReason: null,
      step: 0,
      totalSteps: cfg.schedule.steps,
      createdAt: 1000,
      startedAt: null,
      endedAt: null,
      durationMs: 0,
      finalGLoss: null,
      finalDLoss: null,
      backend: null,
      config: cfg,
      checkpoints: [],
      sampleSteps: [],
    });
    const summary = getRunSummary(db, 'r_1');
    RunSummarySchema.parse(summary);
    const { config: _c, checkpoints: _k, sampleSteps: _s, ...expected } = detail;
    assert.deepEqual(summary, expected);
    assert.equal(getRunDir(db, 'r_1'), 'runs/r_1');
    assert.equal(getRunSummary(db, 'nope'), undefined);
    assert.equal(getRunDetail(db, 'nope'), undefined);
  });

  test('insertRun: unknown dataset is not_found, duplicate id is conflict, bad config is invalid_input', () => {
    assert.throws(() => insertRun(db, { id: 'r_x', name: 'x', config: config({ dataset: 'cifar' }), runDir: 'd' }), isApiError('not_found', /dataset cifar/));
    insertRun(db, { id: 'r_1', name: 'a', config: config(), runDir: 'd' });
    assert.throws(() => insertRun(db, { id: 'r_1', name: 'b', config: config(), runDir: 'd' }), isApiError('conflict'));
    const bad = { ...config(), seed: -1 };
    assert.throws(() => insertRun(db, { id: 'r_2', name: 'b', config: bad, runDir: 'd' }), isApiError('invalid_input', /seed/));
  });

  test('detail includes backend, progress, checkpoints and sample steps', () => {
    insertRun(db, { id: 'r_1', name: 'a', config: config(), runDir: 'runs/r_1' });
    setRunBackend(db, 'r_1', BACKEND);
    updateRunProgress(db, 'r_1', { step: 500, durationMs: 12_345.6, finalGLoss: 1.5, finalDLoss: 0.7 });
    insertCheckpoint(db, { runId: 'r_1', step: 500, dir: 'ckpt/500', bytes: 1024, kind: 'periodic', sha256: 'f'.repeat(64), createdAt: 10 });
    insertSample(db, { runId: 'r_1', step: 0, file: 'samples/0.png', createdAt: 1 });
    insertSample(db, { runId: 'r_1', step: 250, file: 'samples/250.png', createdAt: 2 });
    const d = getRunDetail(db, 'r_1')!;
    RunDetailSchema.parse(d);
    assert.deepEqual(d.backend, BACKEND);
    assert.equal(d.step, 500);
    assert.equal(d.durationMs, 12_346);
    assert.equal(d.finalGLoss, 1.5);
    assert.deepEqual(d.checkpoints, [{ step: 500, createdAt: 10, bytes: 1024, kind: 'periodic' }]);
    assert.deepEqual(d.sampleSteps, [0, 250]);

    // omitted fields stay; null or NaN clears a loss
    updateRunProgress(db, 'r_1', { step: 600 });
    assert.equal(getRunSummary(db, 'r_1')!.finalGLoss, 1.5);
    updateRunProgress(db, 'r_1', { step: 601, finalGLoss: Number.NaN, finalDLoss: null });
    const s = getRunSummary(db, 'r_1')!;
    assert.deepEqual([s.step, s.durationMs, s.finalGLoss, s.finalDLoss], [601, 12_346, null, null]);

    assert.throws(() => setRunBackend(db, 'r_1', { ...BACKEND, name: 'webgl' } as unknown as BackendReport), isApiError('invalid_input'));
    assert.throws(() => setRunBackend(db, 'nope', BACKEND), isApiError('not_found'));
    assert.throws(() => updateRunProgress(db, 'nope', { step: 1 }), isApiError('not_found'));
    assert.throws(() => updateRunProgress(db, 'r_1', { step: -1 }), isApiError('invalid_input'));
  });

  test('listRuns: newest first, status filter, limit', () => {
    for (let i = 0; i < 5; i++) insertRun(db, { id: `r_${i}`, name: `run ${i}`, config: config(), runDir: 'd', createdAt: 1000 + i });
    updateRunStatus(db, 'r_1', 'running');
    updateRunStatus(db, 'r_3', 'running');
    assert.deepEqual(listRuns(db, { limit: 10 }).map((r) => r.id), ['r_4', 'r_3', 'r_2', 'r_1', 'r_0']);
    assert.deepEqual(listRuns(db, { limit: 2 }).map((r) => r.id), ['r_4', 'r_3']);
    assert.deepEqual(listRuns(db, { status: 'running', limit: 10 }).map((r) => r.id), ['r_3', 'r_1']);
    assert.deepEqual(listRuns(db, { status: 'failed', limit: 10 }), []);
    assert.throws(() => listRuns(db, { status: 'bogus' as never, limit: 10 }), isApiError('invalid_input'));
  });

  test('updateRunStatus maintains started_at/ended_at, records events, and guards with `from`', () => {
    insertRun(db, { id: 'r_1', name: 'a', config: config(), runDir: 'd' });
    let s = updateRunStatus(db, 'r_1', 'running', null, { at: 100 });
    assert.deepEqual([s.status, s.startedAt, s.endedAt], ['running', 100, null]);
    s = updateRunStatus(db, 'r_1', 'paused', 'user paused', { at: 150 });
    assert.deepEqual([s.status, s.statusReason, s.startedAt, s.endedAt], ['paused', 'user paused', 100, null]);
    s = updateRunStatus(db, 'r_1', 'running', undefined, { at: 200 });
    assert.deepEqual([s.startedAt, s.statusReason], [100, null]);
    s = updateRunStatus(db, 'r_1', 'interrupted', 'trainer exited with signal SIGKILL', { at: 300 });
    assert.deepEqual([s.status, s.endedAt], ['interrupted', 300]);
    s = updateRunStatus(db, 'r_1', 'running', 'auto-resume 1/3', { at: 400 });
    assert.deepEqual([s.startedAt, s.endedAt], [100, null]); // a resume is not the end
    s = updateRunStatus(db, 'r_1', 'completed', null, { at: 500, from: ['running'] });
    assert.deepEqual([s.status, s.endedAt], ['completed', 500]);
    // a late crash report must not overwrite 'completed'
    assert.throws(() => updateRunStatus(db, 'r_1', 'interrupted', 'late', { from: ['running', 'paused'] }), isApiError('conflict', /is completed/));
    assert.equal(getRunSummary(db, 'r_1')!.status, 'completed');
    assert.throws(() => updateRunStatus(db, 'nope', 'running'), isApiError('not_found', /run nope not found/));
    assert.throws(() => updateRunStatus(db, 'r_1', 'bogus' as never), isApiError('invalid_input'));

    const events = listRunEvents(db, 'r_1');
    assert.deepEqual(
      events.map((e) => [e.level, e.message, e.createdAt]),
      [
        ['info', 'status queued → running', 100],
        ['info', 'status running → paused: user paused', 150],
        ['info', 'status paused → running', 200],
        ['warn', 'status running → interrupted: trainer exited with signal SIGKILL', 300],
        ['info', 'status interrupted → running: auto-resume 1/3', 400],
        ['info', 'status running → completed', 500],
      ],
    );
  });

  test('markActiveRunsInterrupted touches only queued/running/paused runs', () => {
    const statuses = ['queued', 'running', 'paused', 'completed', 'failed', 'stopped'] as const;
    statuses.forEach((st, i) => {
      insertRun(db, { id: `r_${st}`, name: st, config: config(), runDir: 'd', createdAt: i });
      if (st !== 'queued') updateRunStatus(db, `r_${st}`, st);
    });
    const ids = markActiveRunsInterrupted(db, 'GAN Studio quit unexpectedly', 9999);
    assert.deepEqual(ids.sort(), ['r_paused', 'r_queued', 'r_running']);
    for (const st of statuses) {
      const s = getRunSummary(db, `r_${st}`)!;
      if (ids.includes(`r_${st}`)) {
        assert.deepEqual([s.status, s.statusReason, s.endedAt], ['interrupted', 'GAN Studio quit unexpectedly', 9999]);
        assert.equal(listRunEvents(db, s.id).at(-1)!.level, 'warn');
      } else {
        assert.equal(s.status, st);
      }
    }
    assert.deepEqual(markActiveRunsInterrupted(db, 'again'), []);
  });

  test('deleteRun cascades to everything the run produced', () => {
    insertRun(db, { id: 'r_1', name: 'a', config: config(), runDir: 'd' });
    insertScalars(db, 'r_1', [{ step: 1, tag: 'loss/g', value: 1 }]);
    insertSample(db, { runId: 'r_1', step: 1, file: 'a.png' });
    insertCheckpoint(db, { runId: 'r_1', step: 1, dir: 'c', bytes: 1, kind: 'final' });
    appendRunEvent(db, 'r_1', 'info', 'hello');
    assert.equal(deleteRun(db, 'r_1'), true);
    for (const t of ['scalars', 'samples', 'checkpoints', 'events']) assert.equal(db.prepare(`SELECT COUNT(*) FROM ${t}`).pluck().get(), 0, t);
    assert.equal(deleteRun(db, 'r_1'), false);
  });
});

describe('scalars', () => {
  beforeEach(() => {
    insertRun(db, { id: 'r_1', name: 'a', config: config(), runDir: 'd' });
  });

  test('batches round-trip; a replayed step is overwritten; non-finite values are skipped', () => {
    const r1 = insertScalars(db, 'r_1', [
      { step: 0, tag: 'loss/g', value: 2 },
      { step: 0, tag: 'loss/d', value: 1 },
      { step: 5, tag: 'loss/g', value: 1.5 },
      { step: 5, tag: 'loss/d', value: Number.NaN },
      { step: 10, tag: 'loss/g', value: Number.POSITIVE_INFINITY },
    ]);
    assert.deepEqual(r1, { written: 3, skipped: 2 });
    // resume from step 0 replays step 5 with a new value
    insertScalars(db, 'r_1', [{ step: 5, tag: 'loss/g', value: 1.25 }]);
    const all = getScalars(db, 'r_1');
    assert.deepEqual(Object.keys(all).sort(), ['loss/d', 'loss/g']);
    assert.deepEqual(all['loss/g'], { steps: [0, 5], values: [2, 1.25], total: 2 });
    assert.deepEqual(all['loss/d'], { steps: [0], values: [1], total: 1 });
    assert.deepEqual(listScalarTags(db, 'r_1'), ['loss/d', 'loss/g']);
    // requested tags only; an unknown tag comes back empty
    assert.deepEqual(getScalars(db, 'r_1', { tags: ['loss/d', 'd/real'] }), { 'loss/d': { steps: [0], values: [1], total: 1 }, 'd/real': { steps: [], values: [], total: 0 } });
  });

  test('a failing batch writes nothing; unknown run is not_found', () => {
    assert.throws(() => insertScalars(db, 'r_1', [{ step: 1, tag: 'loss/g', value: 1 }, { step: 1.5, tag: 'loss/g', value: 1 }]), isApiError('invalid_input'));
    assert.throws(() => insertScalars(db, 'r_1', [{ step: 1, tag: '', value: 1 }]), isApiError('invalid_input'));
    assert.equal(getScalars(db, 'r_1')['loss/g'], undefined);
    assert.throws(() => insertScalars(db, 'nope', [{ step: 1, tag: 'loss/g', value: 1 }]), isApiError('not_found', /run nope/));
    assert.throws(() => getScalars(db, 'nope'), isApiError('not_found'));
    assert.deepEqual(insertScalars(db, 'r_1', []), { written: 0, skipped: 0 });
  });

  test('100 000 points come back as ≤ maxPoints with first, last and a spike kept', (t) => {
    const n = 100_000;
    const rows = [];
    for (let step = 0; step < n; step++) {
      rows.push({ step, tag: 'loss/g', value: 1 + 0.001 * Math.sin(step / 7) });
      rows.push({ step, tag: 'loss/d', value: 0.5 });
    }
    rows[2 * 61_234] = { step: 61_234, tag: 'loss/g', value: 42 };
    let t0 = performance.now();
    // the caller batches: 100 batches of 2 000 rows
    for (let i = 0; i < rows.length; i += 2000) insertScalars(db, 'r_1', rows.slice(i, i + 2000));
    const insertMs = performance.now() - t0;

    t0 = performance.now();
    const series = getScalars(db, 'r_1', { maxPoints: 2000 });
    const readMs = performance.now() - t0;
    t.diagnostic(`insert ${rows.length} rows: ${insertMs.toFixed(0)} ms; getScalars 2 tags × ${n} → 2000: ${readMs.toFixed(0)} ms`);
    const g = series['loss/g']!;
    SeriesSchema.parse(g);
    assert.equal(g.total, n);
    assert.ok(g.steps.length <= 2000 && g.steps.length === g.values.length);
    assert.equal(g.steps[0], 0);
    assert.equal(g.steps.at(-1), n - 1);
    assert.equal(Math.max(...g.values), 42);
    assert.ok(g.steps.includes(61_234));
    assert.ok(series['loss/d']!.values.every((v) => v === 0.5));

    t0 = performance.now();
    getScalars(db, 'r_1', { tags: ['loss/g'], maxPoints: 2000 });
    t.diagnostic(`getScalars 1 tag × ${n} rows (warm): ${(performance.now() - t0).toFixed(0)} ms`);
  });

  test('rewindRun forgets what the abandoned trajectory wrote after the checkpoint', () => {
    insertScalars(db, 'r_1', [0, 5, 10, 15].flatMap((step) => [{ step, tag: 'loss/g', value: step }, { step, tag: 'loss/d', value: -step }]));
    insertSample(db, { runId: 'r_1', step: 5, file: 'samples/5.png' });
    insertSample(db, { runId: 'r_1', step: 15, file: 'samples/15.png' });
    updateRunProgress(db, 'r_1', { step: 15 });
    const res = rewindRun(db, 'r_1', 5);
    assert.deepEqual(res, { scalarsDeleted: 4, sampleFiles: ['samples/15.png'] });
    assert.deepEqual(getScalars(db, 'r_1')['loss/g']!.steps, [0, 5]);
    assert.deepEqual(listSampleSteps(db, 'r_1'), [5]);
    assert.equal(getRunSummary(db, 'r_1')!.step, 5);
    assert.throws(() => rewindRun(db, 'nope', 0), isApiError('not_found'));
  });
});

describe('samples, checkpoints, events', () => {
  beforeEach(() => {
    insertRun(db, { id: 'r_1', name: 'a', config: config(), runDir: 'd' });
  });

  test('samples: get by step, latest, replace on replay', () => {
    assert.equal(latestSample(db, 'r_1'), undefined);
    insertSample(db, { runId: 'r_1', step: 100, file: 'samples/100.png', createdAt: 1 });
    insertSample(db, { runId: 'r_1', step: 200, file: 'samples/200.png', createdAt: 2 });
    assert.deepEqual(latestSample(db, 'r_1'), { runId: 'r_1', step: 200, file: 'samples/200.png', createdAt: 2 });
    assert.equal(getSample(db, 'r_1', 100)?.file, 'samples/100.png');
    assert.equal(getSample(db, 'r_1', 150), undefined);
    insertSample(db, { runId: 'r_1', step: 100, file: 'samples/100b.png', createdAt: 3 });
    assert.equal(getSample(db, 'r_1', 100)?.file, 'samples/100b.png');
    assert.throws(() => insertSample(db, { runId: 'nope', step: 1, file: 'x' }), isApiError('not_found'));
  });

  test('checkpoints: list ascending, latest, replace at the same step, delete', () => {
    insertCheckpoint(db, { runId: 'r_1', step: 500, dir: 'ckpt/500', bytes: 10, kind: 'periodic', createdAt: 1 });
    insertCheckpoint(db, { runId: 'r_1', step: 1000, dir: 'ckpt/1000', bytes: 11, kind: 'periodic', createdAt: 2 });
    insertCheckpoint(db, { runId: 'r_1', step: 1000, dir: 'ckpt/1000', bytes: 12, kind: 'stop', sha256: 'ab', createdAt: 3 });
    assert.deepEqual(listCheckpoints(db, 'r_1').map((c) => [c.step, c.kind, c.bytes]), [[500, 'periodic', 10], [1000, 'stop', 12]]);
    assert.deepEqual(latestCheckpoint(db, 'r_1'), { runId: 'r_1', step: 1000, dir: 'ckpt/1000', bytes: 12, kind: 'stop', sha256: 'ab', createdAt: 3 });
    assert.equal(deleteCheckpoint(db, 'r_1', 1000), true);
    assert.equal(deleteCheckpoint(db, 'r_1', 1000), false);
    assert.equal(latestCheckpoint(db, 'r_1')?.step, 500);
    assert.throws(() => insertCheckpoint(db, { runId: 'r_1', step: 1, dir: 'x', bytes: 1, kind: 'weird' as never }), isApiError('invalid_input'));
    assert.throws(() => insertCheckpoint(db, { runId: 'nope', step: 1, dir: 'x', bytes: 1, kind: 'final' }), isApiError('not_found'));
  });

  test('events: append and page', () => {
    const a = appendRunEvent(db, 'r_1', 'info', 'backend cpu', 1);
    const b = appendRunEvent(db, 'r_1', 'warn', 'D loss near zero', 2);
    assert.ok(b.id > a.id);
    assert.deepEqual(listRunEvents(db, 'r_1', { afterId: a.id }), [b]);
    assert.deepEqual(listRunEvents(db, 'r_1', { limit: 1 }), [a]);
    assert.throws(() => appendRunEvent(db, 'nope', 'info', 'x'), isApiError('not_found'));
    assert.throws(() => appendRunEvent(db, 'r_1', 'debug' as never, 'x'), isApiError('invalid_input'));
  });
});

test('listRuns over 1 000 runs and getRunDetail are fast (timings as diagnostics)', (t) => {
  const cfg = config();
  let t0 = performance.now();
  db.transaction(() => {
    for (let i = 0; i < 1000; i++) {
      insertRun(db, { id: `r_${String(i).padStart(4, '0')}`, name: `run ${i}`, config: cfg, runDir: `runs/${i}`, createdAt: 1_700_000_000_000 + i });
      if (i % 3 === 0) setRunBackend(db, `r_${String(i).padStart(4, '0')}`, BACKEND);
      if (i % 7 === 0) updateRunStatus(db, `r_${String(i).padStart(4, '0')}`, 'completed');
    }
  })();
  t.diagnostic(`insert 1000 runs: ${(performance.now() - t0).toFixed(0)} ms`);
  t0 = performance.now();
  const all = listRuns(db, { limit: 1000 });
  const listMs = performance.now() - t0;
  t0 = performance.now();
  const completed = listRuns(db, { status: 'completed', limit: 500 });
  const filterMs = performance.now() - t0;
  t0 = performance.now();
  const detail = getRunDetail(db, 'r_0500');
  const detailMs = performance.now() - t0;
  t.diagnostic(`listRuns 1000: ${listMs.toFixed(1)} ms; filtered: ${filterMs.toFixed(1)} ms; getRunDetail: ${detailMs.toFixed(1)} ms`);
  assert.equal(all.length, 1000);
  assert.equal(all[0]!.id, 'r_0999');
  assert.equal(completed.length, 143);
  assert.equal(detail?.id, 'r_0500');
});
