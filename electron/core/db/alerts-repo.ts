// Diagnostics alerts and per-run detector settings (issue 7). Functions take the db first
// (STYLE 9); an alert is keyed by (run, kind, start step), so writing the same alert again — while
// it is active, after a resume, from a replay — updates its row.
import { ALERT_KINDS, AlertSchema } from '../../common/api.ts';
import type { Alert, AlertKind, AlertSeverity } from '../../common/api.ts';
import { ApiError, invalidInput } from '../../common/errors.ts';
import { isForeignKeyError, readStatement, statement, translateSqliteError } from './database.ts';
import type { Db, ReadonlyDb } from './database.ts';

interface AlertRow {
  run_id: string;
  kind: string;
  severity: string;
  state: string;
  start_step: number;
  end_step: number;
  detected_step: number;
  sample_step: number | null;
  evidence: string;
  explanation: string;
  remedies: string;
  created_at: number;
  updated_at: number;
}

const COLUMNS = 'run_id, kind, severity, state, start_step, end_step, detected_step, sample_step, evidence, explanation, remedies, created_at, updated_at';

function toAlert(row: AlertRow): Alert {
  return {
    id: `${row.kind}:${row.start_step}`,
    runId: row.run_id,
    kind: row.kind as AlertKind,
    severity: row.severity as AlertSeverity,
    state: row.state as Alert['state'],
    startStep: row.start_step,
    endStep: row.end_step,
    detectedStep: row.detected_step,
    sampleStep: row.sample_step,
    evidence: JSON.parse(row.evidence) as Alert['evidence'],
    explanation: row.explanation,
    remedies: JSON.parse(row.remedies) as Alert['remedies'],
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** Inserts or updates an alert (validated); the first write's createdAt is kept. */
export function upsertAlert(db: Db, alert: Omit<Alert, 'createdAt' | 'updatedAt'> & { at?: number }): Alert {
  const at = Math.round(alert.at ?? Date.now());
  const parsed = AlertSchema.safeParse({ ...alert, createdAt: at, updatedAt: at });
  if (!parsed.success) throw invalidInput(parsed.error, 'invalid alert');
  const a = parsed.data;
  try {
    statement(
      db,
      `INSERT INTO alerts (${COLUMNS})
       VALUES (@runId, @kind, @severity, @state, @startStep, @endStep, @detectedStep, @sampleStep, @evidence, @explanation, @remedies, @at, @at)
       ON CONFLICT (run_id, kind, start_step) DO UPDATE SET severity = excluded.severity, state = excluded.state, end_step = excluded.end_step,
         sample_step = excluded.sample_step, evidence = excluded.evidence, explanation = excluded.explanation, remedies = excluded.remedies, updated_at = excluded.updated_at`,
    ).run({ ...a, evidence: JSON.stringify(a.evidence), remedies: JSON.stringify(a.remedies), at });
  } catch (err) {
    if (isForeignKeyError(err)) throw new ApiError('not_found', `run ${a.runId} not found`);
    translateSqliteError(err, `alert ${a.id} of run ${a.runId}`);
  }
  return getAlert(db, a.runId, a.id)!;
}

export function getAlert(db: ReadonlyDb, runId: string, alertId: string): Alert | undefined {
  const m = /^([a-z_]+):(\d+)$/.exec(alertId);
  if (!m) return undefined;
  const row = readStatement<AlertRow>(db, `SELECT ${COLUMNS} FROM alerts WHERE run_id = ? AND kind = ? AND start_step = ?`).get(runId, m[1], Number(m[2]));
  return row && toAlert(row);
}

/** A run's alerts, oldest first (by start step). */
export function listAlerts(db: ReadonlyDb, runId: string, opts: { kind?: AlertKind } = {}): Alert[] {
  if (opts.kind !== undefined && !(ALERT_KINDS as readonly string[]).includes(opts.kind)) throw new ApiError('invalid_input', `unknown alert kind ${JSON.stringify(opts.kind)}`);
  const rows = opts.kind
    ? readStatement<AlertRow>(db, `SELECT ${COLUMNS} FROM alerts WHERE run_id = ? AND kind = ? ORDER BY start_step, kind`).all(runId, opts.kind)
    : readStatement<AlertRow>(db, `SELECT ${COLUMNS} FROM alerts WHERE run_id = ? ORDER BY start_step, kind`).all(runId);
  return rows.map(toAlert);
}

/**
 * Before resuming from a checkpoint at `step`: alerts that started after it belong to the abandoned
 * trajectory and go; those that were still active are cut back to it (the replay re-opens them).
 */
export function rewindAlerts(db: Db, runId: string, step: number): { deleted: number } {
  return db
    .transaction(() => {
      const deleted = statement(db, 'DELETE FROM alerts WHERE run_id = ? AND start_step > ?').run(runId, step).changes;
      statement(db, 'UPDATE alerts SET end_step = MAX(start_step, MIN(end_step, ?)), detected_step = MIN(detected_step, MAX(start_step, ?)) WHERE run_id = ? AND end_step > ?').run(step, step, runId, step);
      return { deleted };
    })
    .immediate();
}

export function setRunDiagnostics(db: Db, runId: string, config: unknown): void {
  try {
    statement(db, 'INSERT INTO run_diagnostics (run_id, config) VALUES (?, ?) ON CONFLICT (run_id) DO UPDATE SET config = excluded.config').run(runId, JSON.stringify(config));
  } catch (err) {
    if (isForeignKeyError(err)) throw new ApiError('not_found', `run ${runId} not found`);
    throw err;
  }
}

/** The stored (already validated) diagnostics config of a run; undefined for runs started before it existed. */
export function getRunDiagnostics(db: ReadonlyDb, runId: string): unknown {
  const raw = readStatement<string>(db, 'SELECT config FROM run_diagnostics WHERE run_id = ?').pluck(true).get(runId);
  return raw === undefined ? undefined : (JSON.parse(raw) as unknown);
}
