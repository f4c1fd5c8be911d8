// Migration 0003 and the alerts repository on :memory: — upsert by (run, kind, start step), the
// range update of an active alert, rewind before a resume, per-run settings, cascade on delete.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openDatabase } from '../../electron/core/db/database.ts';
import { getSchemaVersion } from '../../electron/core/db/migrate.ts';
import { insertRun, deleteRun } from '../../electron/core/db/runs-repo.ts';
import { upsertDataset } from '../../electron/core/db/datasets-repo.ts';
import { getAlert, getRunDiagnostics, listAlerts, rewindAlerts, setRunDiagnostics, upsertAlert } from '../../electron/core/db/alerts-repo.ts';
import { resolveRunConfig } from '../../electron/common/config.ts';
import type { Alert } from '../../electron/common/api.ts';

function setup() {
  const { db } = openDatabase(':memory:');
  upsertDataset(db, { id: 'd1', name: 'D', kind: 'builtin', dir: '/x', count: 10, width: 28, height: 28, channels: 1, classNames: null, classCounts: null, contentHash: 'h', layout: 'images', description: '', countB: 0, createdAt: 1 } as never);
  insertRun(db, { id: 'r1', name: 'r', config: resolveRunConfig({ dataset: 'd1', family: 'dcgan', seed: 1 }), runDir: '/r1' });
  return db;
}

const alert = (over: Partial<Alert> = {}): Omit<Alert, 'createdAt' | 'updatedAt'> => ({
  id: 'mode_collapse:100',
  runId: 'r1',
  kind: 'mode_collapse',
  severity: 'warning',
  state: 'active',
  startStep: 100,
  endStep: 150,
  detectedStep: 150,
  sampleStep: 140,
  evidence: { values: { diversityRatio: 0.3 }, tags: ['div/ratio'] },
  explanation: 'collapsed',
  remedies: [{ id: 'smaller_g_lr', title: 't', why: 'w', patch: { optimizer: { g: { lr: 5e-5 } } } }],
  ...over,
});

test('migration 0003: the alerts table, upsert while active, list, rewind, settings and cascade', () => {
  const db = setup();
  assert.ok(getSchemaVersion(db) >= 3);
  const first = upsertAlert(db, { ...alert(), at: 1000 });
  assert.equal(first.createdAt, 1000);
  const grown = upsertAlert(db, { ...alert({ endStep: 300, severity: 'critical' }), at: 2000 });
  assert.equal(grown.endStep, 300);
  assert.equal(grown.severity, 'critical');
  assert.equal(grown.createdAt, 1000, 'createdAt is kept');
  assert.equal(grown.updatedAt, 2000);
  upsertAlert(db, alert({ id: 'gradient:500', kind: 'gradient', startStep: 500, endStep: 520, detectedStep: 510 }));
  assert.deepEqual(listAlerts(db, 'r1').map((a) => a.id), ['mode_collapse:100', 'gradient:500']);
  assert.deepEqual(listAlerts(db, 'r1', { kind: 'gradient' }).map((a) => a.id), ['gradient:500']);
  assert.deepEqual(getAlert(db, 'r1', 'mode_collapse:100')!.remedies[0]!.patch, { optimizer: { g: { lr: 5e-5 } } });
  assert.throws(() => upsertAlert(db, alert({ runId: 'nope' })), /not found/);
  assert.throws(() => upsertAlert(db, { ...alert(), severity: 'fatal' as never }), /invalid alert/);
  // resume from step 200: the gradient alert is gone, the collapse is cut back to 200
  assert.deepEqual(rewindAlerts(db, 'r1', 200), { deleted: 1 });
  const cut = getAlert(db, 'r1', 'mode_collapse:100')!;
  assert.equal(cut.endStep, 200);
  assert.ok(cut.detectedStep <= 200);
  setRunDiagnostics(db, 'r1', { warmupSteps: 5 });
  assert.deepEqual(getRunDiagnostics(db, 'r1'), { warmupSteps: 5 });
  assert.equal(getRunDiagnostics(db, 'r2'), undefined);
  deleteRun(db, 'r1');
  assert.deepEqual(listAlerts(db, 'r1'), []);
  assert.equal(getRunDiagnostics(db, 'r1'), undefined);
  db.close();
});
