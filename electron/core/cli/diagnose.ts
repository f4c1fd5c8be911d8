// `gan-studio diagnose --run RUN_ID [--home DIR] [--json]`: the alerts stored for a run, and the
// detectors re-run over its stored scalars (with the thresholds the run was started with), so the
// two can be compared. Reads the database through a read-only handle: safe while the studio runs.
import path from 'node:path';
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { Alert } from '../../common/api.ts';
import { ApiError } from '../../common/errors.ts';
import { openDatabase, type ReadonlyDb } from '../db/database.ts';
import * as runs from '../db/runs-repo.ts';
import { getRunDiagnostics, listAlerts } from '../db/alerts-repo.ts';
import { getDataset } from '../db/datasets-repo.ts';
import { resolveDiagnosticsConfig } from '../diagnostics/config.ts';
import { replayScalars, type EngineAlert } from '../diagnostics/detectors.ts';
import { defaultHome } from '../paths.ts';

export const DIAGNOSE_HELP = `gan-studio diagnose — alerts of a run, and the detectors re-run over its stored scalars

Usage: gan-studio diagnose --run RUN_ID [--home DIR] [--json]

With --json, stdout carries one object per line:
  {"type":"alert","source":"stored"|"replay","kind":…,"severity":…,"step":…,"startStep":…,"endStep":…,"evidence":{…},…}
  {"type":"diagnosis","runId":…,"status":…,"stored":N,"replayed":N,"matched":[ids],"onlyStored":[ids],"onlyReplayed":[ids]}
Exit status: 0 when it ran (whatever it found), 1 unknown run or unreadable data, 2 bad usage.`;

function alertLine(source: 'stored' | 'replay', a: EngineAlert | Alert): Record<string, unknown> {
  return { type: 'alert', source, step: a.detectedStep, ...a };
}

export async function diagnoseCommand(args: string[]): Promise<number> {
  let values: { run?: string; home?: string; json?: boolean; help?: boolean };
  try {
    ({ values } = parseArgs({ args, options: { run: { type: 'string' }, home: { type: 'string' }, json: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h', default: false } }, strict: true }));
  } catch (err) {
    process.stderr.write(`gan-studio: ${(err as Error).message}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(`${DIAGNOSE_HELP}\n`);
    return 0;
  }
  const json = values.json === true;
  const fail = (code: string, message: string, exit: number) => {
    if (json) process.stdout.write(`${JSON.stringify({ type: 'error', code, message })}\n`);
    process.stderr.write(`gan-studio: ${message}\n`);
    return exit;
  };
  if (!values.run) return fail('invalid_input', 'missing --run RUN_ID', 2);
  const file = path.join(values.home ? path.resolve(values.home) : defaultHome(), 'studio.db');
  if (!existsSync(file)) return fail('not_found', `no studio database at ${file}`, 1);
  let db: ReadonlyDb;
  try {
    db = openDatabase(file, { readonly: true, quickCheck: false }).db;
  } catch (err) {
    return fail(err instanceof ApiError ? err.code : 'internal', (err as Error).message, 1);
  }
  try {
    const detail = runs.getRunDetail(db, values.run);
    if (!detail) return fail('not_found', `run ${values.run} not found`, 1);
    const stored = listAlerts(db, detail.id);
    let config;
    try {
      config = resolveDiagnosticsConfig(getRunDiagnostics(db, detail.id) ?? {});
    } catch {
      config = resolveDiagnosticsConfig({});
    }
    const series = runs.getScalars(db, detail.id, { maxPoints: Number.MAX_SAFE_INTEGER });
    const replay = replayScalars(
      { config, objective: detail.config.objective, runConfig: detail.config, layout: getDataset(db, detail.config.dataset)?.layout ?? 'images' },
      series,
      { sampleSteps: detail.sampleSteps, end: { status: detail.status, step: detail.step, reason: detail.statusReason } },
    );
    const storedIds = new Set(stored.map((a) => a.id));
    const replayIds = new Set(replay.alerts.map((a) => a.id));
    const summary = {
      type: 'diagnosis',
      runId: detail.id,
      status: detail.status,
      step: detail.step,
      stored: stored.length,
      replayed: replay.alerts.length,
      matched: [...storedIds].filter((id) => replayIds.has(id)),
      onlyStored: [...storedIds].filter((id) => !replayIds.has(id)),
      onlyReplayed: [...replayIds].filter((id) => !storedIds.has(id)),
    };
    if (json) {
      for (const a of stored) process.stdout.write(`${JSON.stringify(alertLine('stored', a))}\n`);
      for (const a of replay.alerts) process.stdout.write(`${JSON.stringify(alertLine('replay', a))}\n`);
      process.stdout.write(`${JSON.stringify(summary)}\n`);
      return 0;
    }
    const show = (title: string, list: (EngineAlert | Alert)[]) => {
      process.stdout.write(`${title}: ${list.length === 0 ? 'none' : ''}\n`);
      for (const a of list) {
        process.stdout.write(`  ${a.severity.toUpperCase().padEnd(8)} ${a.kind.padEnd(19)} steps ${a.startStep}–${a.endStep} (${a.state}, raised at ${a.detectedStep})\n    ${a.explanation}\n`);
        if (a.remedies.length) process.stdout.write(`    remedies: ${a.remedies.map((r) => r.id).join(', ')}\n`);
      }
    };
    process.stdout.write(`run ${detail.id} (${detail.family}, ${detail.status} at step ${detail.step}/${detail.totalSteps})\n`);
    show('stored alerts', stored);
    show('detectors re-run over the stored scalars', replay.alerts);
    process.stdout.write(`matched ${summary.matched.length}; only stored ${summary.onlyStored.length}; only in the re-run ${summary.onlyReplayed.length}\n`);
    return 0;
  } finally {
    db.close();
  }
}
