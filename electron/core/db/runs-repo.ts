// Runs and everything a run produces: status history, scalars, samples, checkpoints, log events.
// Functions take the db first (STYLE 9); write functions take a writable `Db`, read functions any
// handle. Inputs are validated on write; rows read back are trusted (only these functions write).
import { BackendReportSchema, RUN_STATUSES, ACTIVE_STATUSES } from '../../common/api.ts';
import type { BackendReport, BestCheckpoint, RunDetail, RunStatus, RunSummary, Series } from '../../common/api.ts';
import { RunConfigSchema } from '../../common/config.ts';
import type { RunConfig } from '../../common/config.ts';
import { ApiError, invalidInput } from '../../common/errors.ts';
import { isForeignKeyError, readStatement, statement, translateSqliteError } from './database.ts';
import type { Db, ReadonlyDb } from './database.ts';
import { lttbIndices } from '../../common/lttb.ts';

// ---------------------------------------------------------------------------------------------
// Types

export interface NewRun {
  id: string;
  name: string;
  /** validated against RunConfigSchema; family, dataset and total steps are taken from it */
  config: RunConfig;
  /** the run's folder (checkpoints, samples); sample files and checkpoint dirs are relative to it */
  runDir: string;
  /** default 'queued' */
  status?: RunStatus;
  /** ms since epoch, default now */
  createdAt?: number;
}

export interface RunProgress {
  step: number;
  /** training time so far, pauses excluded; unchanged when omitted */
  durationMs?: number;
  /** latest losses; unchanged when omitted, stored as NULL when null or not finite */
  finalGLoss?: number | null;
  finalDLoss?: number | null;
}

export interface ScalarPoint {
  step: number;
  tag: string;
  value: number;
}

export interface SampleRecord {
  runId: string;
  step: number;
  /** relative to the run's runDir */
  file: string;
  createdAt: number;
}

export type CheckpointKind = 'periodic' | 'final' | 'stop';
export interface CheckpointRecord {
  runId: string;
  step: number;
  /** relative to the run's runDir */
  dir: string;
  bytes: number;
  kind: CheckpointKind;
  /** of the checkpoint manifest */
  sha256: string | null;
  createdAt: number;
}

export type RunEventLevel = 'info' | 'warn' | 'error';
export interface RunEvent {
  id: number;
  runId: string;
  createdAt: number;
  level: RunEventLevel;
  message: string;
}

export const TERMINAL_STATUSES: readonly RunStatus[] = ['completed', 'stopped', 'interrupted', 'failed', 'diverged'];

// ---------------------------------------------------------------------------------------------
// Row mapping

interface RunRow {
  id: string;
  name: string;
  family: string;
  dataset_id: string;
  status: string;
  status_reason: string | null;
  step: number;
  total_steps: number;
  created_at: number;
  started_at: number | null;
  ended_at: number | null;
  duration_ms: number;
  final_g_loss: number | null;
  final_d_loss: number | null;
  backend: string | null;
}

// The list never needs the config JSON, the largest column, so it is not read for summaries.
const SUMMARY_COLUMNS =
  'id, name, family, dataset_id, status, status_reason, step, total_steps, created_at, started_at, ended_at, duration_ms, final_g_loss, final_d_loss, backend';

function toSummary(row: RunRow): RunSummary {
  return {
    id: row.id,
    name: row.name,
    family: row.family as RunSummary['family'],
    datasetId: row.dataset_id,
    status: row.status as RunStatus,
    statusReason: row.status_reason,
    step: row.step,
    totalSteps: row.total_steps,
    createdAt: row.created_at,
    startedAt: row.started_at,
    endedAt: row.ended_at,
    durationMs: row.duration_ms,
    finalGLoss: row.final_g_loss,
    finalDLoss: row.final_d_loss,
    backend: row.backend === null ? null : (JSON.parse(row.backend) as BackendReport),
  };
}

interface CheckpointRow {
  run_id: string;
  step: number;
  dir: string;
  bytes: number;
  kind: string;
  sha256: string | null;
  created_at: number;
}

function toCheckpoint(row: CheckpointRow): CheckpointRecord {
  return { runId: row.run_id, step: row.step, dir: row.dir, bytes: row.bytes, kind: row.kind as CheckpointKind, sha256: row.sha256, createdAt: row.created_at };
}

interface SampleRow {
  run_id: string;
  step: number;
  file: string;
  created_at: number;
}

function toSample(row: SampleRow): SampleRecord {
  return { runId: row.run_id, step: row.step, file: row.file, createdAt: row.created_at };
}

interface EventRow {
  id: number;
  run_id: string;
  created_at: number;
  level: string;
  message: string;
}

function toEvent(row: EventRow): RunEvent {
  return { id: row.id, runId: row.run_id, createdAt: row.created_at, level: row.level as RunEventLevel, message: row.message };
}

// ---------------------------------------------------------------------------------------------
// Validation helpers

function assertStatus(status: unknown): asserts status is RunStatus {
  if (!(RUN_STATUSES as readonly unknown[]).includes(status)) {
    throw new ApiError('invalid_input', `unknown run status ${JSON.stringify(status)}; expected one of ${RUN_STATUSES.join(', ')}`);
  }
}

function assertStep(step: unknown, what: string): asserts step is number {
  if (!Number.isSafeInteger(step) || (step as number) < 0) throw new ApiError('invalid_input', `${what}: step must be a non-negative integer, got ${String(step)}`);
}

function finiteOrNull(v: number | null | undefined): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

function notFound(runId: string): ApiError {
  return new ApiError('not_found', `run ${runId} not found`);
}

function runExists(db: ReadonlyDb, runId: string): boolean {
  return readStatement(db, 'SELECT 1 FROM runs WHERE id = ?').get(runId) !== undefined;
}

/** Foreign-key failures on a run's child rows mean the run is not there. */
function translateChildError(err: unknown, runId: string, what: string): never {
  if (isForeignKeyError(err)) throw notFound(runId);
  translateSqliteError(err, what);
}

// ---------------------------------------------------------------------------------------------
// Runs

/** Creates a run row; `not_found` if its dataset is unknown, `conflict` if the id is taken. */
export function insertRun(db: Db, run: NewRun): RunDetail {
  const parsed = RunConfigSchema.safeParse(run.config);
  if (!parsed.success) throw invalidInput(parsed.error, 'invalid run config');
  const config = parsed.data;
  const status = run.status ?? 'queued';
  assertStatus(status);
  const insert = db.transaction(() => {
    if (readStatement(db, 'SELECT 1 FROM datasets WHERE id = ?').get(config.dataset) === undefined) {
      throw new ApiError('not_found', `dataset ${config.dataset} not found`);
    }
    statement(
      db,
      `INSERT INTO runs (id, name, family, dataset_id, config, status, total_steps, created_at, run_dir)
       VALUES (@id, @name, @family, @datasetId, @config, @status, @totalSteps, @createdAt, @runDir)`,
    ).run({
      id: run.id,
      name: run.name,
      family: config.family,
      datasetId: config.dataset,
      config: JSON.stringify(config),
      status,
      totalSteps: config.schedule.steps,
      createdAt: Math.round(run.createdAt ?? Date.now()),
      runDir: run.runDir,
    });
  });
  try {
    insert.immediate();
  } catch (err) {
    if (err instanceof ApiError) throw err;
    translateSqliteError(err, `run ${run.id}`);
  }
  return getRunDetail(db, run.id)!;
}

export function getRunSummary(db: ReadonlyDb, runId: string): RunSummary | undefined {
  const row = readStatement<RunRow>(db, `SELECT ${SUMMARY_COLUMNS} FROM runs WHERE id = ?`).get(runId);
  return row && toSummary(row);
}

/** Summary plus config, checkpoints (ascending step) and the steps that have a sample grid. */
export function getRunDetail(db: ReadonlyDb, runId: string): RunDetail | undefined {
  // One read transaction: the run row and its child lists come from the same snapshot.
  return db.transaction(() => {
    const row = readStatement<RunRow & { config: string }>(db, `SELECT ${SUMMARY_COLUMNS}, config FROM runs WHERE id = ?`).get(runId);
    if (!row) return undefined;
    const checkpoints = listCheckpoints(db, runId).map((c) => ({ step: c.step, createdAt: c.createdAt, bytes: c.bytes, kind: c.kind }));
    // the diagnostics config stored at runs.start (issue 7), so the run page can show the thresholds in force
    const diagnostics = readStatement<string>(db, 'SELECT config FROM run_diagnostics WHERE run_id = ?').pluck(true).get(runId);
    return { ...toSummary(row), config: JSON.parse(row.config) as RunConfig, checkpoints, sampleSteps: listSampleSteps(db, runId), ...(diagnostics !== undefined ? { diagnostics: JSON.parse(diagnostics) as Record<string, unknown> } : {}), ...bestCheckpointField(db, runId) };
  })();
}

/** The run's folder; undefined when there is no such run. */
export function getRunDir(db: ReadonlyDb, runId: string): string | undefined {
  return readStatement<string>(db, 'SELECT run_dir FROM runs WHERE id = ?').pluck(true).get(runId);
}

/** Newest first (by created_at, then id). */
export function listRuns(db: ReadonlyDb, opts: { status?: RunStatus; datasetId?: string; limit?: number } = {}): RunSummary[] {
  const limit = opts.limit ?? 500;
  if (!Number.isSafeInteger(limit) || limit < 1) throw new ApiError('invalid_input', `limit must be a positive integer, got ${limit}`);
  if (opts.status !== undefined) assertStatus(opts.status);
  const where: string[] = [];
  if (opts.status !== undefined) where.push('status = @status');
  if (opts.datasetId !== undefined) where.push('dataset_id = @datasetId');
  const source = `SELECT ${SUMMARY_COLUMNS} FROM runs ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at DESC, id DESC LIMIT @limit`;
  return readStatement<RunRow>(db, source)
    .all({ limit, ...(opts.status !== undefined && { status: opts.status }), ...(opts.datasetId !== undefined && { datasetId: opts.datasetId }) })
    .map(toSummary);
}

function statusEventLevel(status: RunStatus): RunEventLevel {
  if (status === 'failed' || status === 'diverged') return 'error';
  if (status === 'interrupted') return 'warn';
  return 'info';
}

function setStatus(db: Db, runId: string, from: RunStatus, status: RunStatus, reason: string | null, at: number): void {
  // running: first start sets started_at; a resume clears the ended_at of an interruption.
  // queued/paused: not ended. Terminal statuses: ended now.
  const endedAt = TERMINAL_STATUSES.includes(status) ? at : null;
  statement(
    db,
    `UPDATE runs SET status = @status, status_reason = @reason, ended_at = @endedAt,
       started_at = CASE WHEN @status = 'running' THEN COALESCE(started_at, @at) ELSE started_at END
     WHERE id = @runId`,
  ).run({ runId, status, reason, endedAt, at });
  const message = from === status ? `status ${status}${reason ? `: ${reason}` : ''}` : `status ${from} → ${status}${reason ? `: ${reason}` : ''}`;
  insertEvent(db, runId, statusEventLevel(status), message, at);
}

/**
 * Sets a run's status and reason, maintains started_at/ended_at, and appends the change to the
 * run's events, in one transaction. With `opts.from` the change only happens when the current
 * status is one of those (`conflict` otherwise), so a late crash report cannot overwrite
 * 'completed'. Returns the updated summary (for the `run.status` event).
 */
export function updateRunStatus(
  db: Db,
  runId: string,
  status: RunStatus,
  reason?: string | null,
  opts: { from?: readonly RunStatus[]; at?: number } = {},
): RunSummary {
  assertStatus(status);
  const at = Math.round(opts.at ?? Date.now());
  return db
    .transaction(() => {
      const current = readStatement<string>(db, 'SELECT status FROM runs WHERE id = ?').pluck(true).get(runId) as RunStatus | undefined;
      if (current === undefined) throw notFound(runId);
      if (opts.from && !opts.from.includes(current)) {
        throw new ApiError('conflict', `run ${runId} is ${current}, not ${opts.from.join(' or ')}`, { status: current });
      }
      setStatus(db, runId, current, status, reason ?? null, at);
      return getRunSummary(db, runId)!;
    })
    .immediate();
}

/** Records training progress; `not_found` for an unknown run. */
export function updateRunProgress(db: Db, runId: string, progress: RunProgress): void {
  assertStep(progress.step, `run ${runId}`);
  const duration = progress.durationMs;
  if (duration !== undefined && !(Number.isFinite(duration) && duration >= 0)) {
    throw new ApiError('invalid_input', `run ${runId}: durationMs must be a non-negative number, got ${duration}`);
  }
  // Flags rather than COALESCE so that an explicit null clears a loss while undefined keeps it.
  const result = statement(
    db,
    `UPDATE runs SET step = @step,
       duration_ms = CASE WHEN @setDuration THEN @durationMs ELSE duration_ms END,
       final_g_loss = CASE WHEN @setG THEN @g ELSE final_g_loss END,
       final_d_loss = CASE WHEN @setD THEN @d ELSE final_d_loss END
     WHERE id = @runId`,
  ).run({
    runId,
    step: progress.step,
    setDuration: duration === undefined ? 0 : 1,
    durationMs: duration === undefined ? 0 : Math.round(duration),
    setG: progress.finalGLoss === undefined ? 0 : 1,
    g: finiteOrNull(progress.finalGLoss),
    setD: progress.finalDLoss === undefined ? 0 : 1,
    d: finiteOrNull(progress.finalDLoss),
  });
  if (result.changes === 0) throw notFound(runId);
}

/** Stores the backend report of the trainer (validated against BackendReportSchema). */
export function setRunBackend(db: Db, runId: string, backend: BackendReport): void {
  const parsed = BackendReportSchema.safeParse(backend);
  if (!parsed.success) throw invalidInput(parsed.error, 'invalid backend report');
  const result = statement(db, 'UPDATE runs SET backend = ? WHERE id = ?').run(JSON.stringify(parsed.data), runId);
  if (result.changes === 0) throw notFound(runId);
}

/**
 * At startup: runs a crash left queued, running or paused become 'interrupted' with `reason`
 * (and an event each). Returns their ids.
 */
export function markActiveRunsInterrupted(db: Db, reason: string, at: number = Date.now()): string[] {
  return db
    .transaction(() => {
      const placeholders = ACTIVE_STATUSES.map(() => '?').join(', ');
      const rows = readStatement<{ id: string; status: RunStatus }>(db, `SELECT id, status FROM runs WHERE status IN (${placeholders}) ORDER BY created_at, id`).all(...ACTIVE_STATUSES);
      for (const row of rows) setStatus(db, row.id, row.status, 'interrupted', reason, Math.round(at));
      return rows.map((r) => r.id);
    })
    .immediate();
}

/** Deletes a run and (by cascade) its scalars, samples, checkpoints and events. Files are the caller's. */
export function deleteRun(db: Db, runId: string): boolean {
  return statement(db, 'DELETE FROM runs WHERE id = ?').run(runId).changes > 0;
}

/**
 * Before resuming from a checkpoint at `step`: forgets the scalars and samples the abandoned
 * trajectory wrote after it and sets the run's step back. Returns the sample files no longer
 * referenced so the caller can delete them.
 */
export function rewindRun(db: Db, runId: string, step: number): { scalarsDeleted: number; sampleFiles: string[] } {
  assertStep(step, `run ${runId}`);
  return db
    .transaction(() => {
      if (!runExists(db, runId)) throw notFound(runId);
      const sampleFiles = readStatement<string>(db, 'SELECT file FROM samples WHERE run_id = ? AND step > ? ORDER BY step').pluck(true).all(runId, step);
      statement(db, 'DELETE FROM samples WHERE run_id = ? AND step > ?').run(runId, step);
      // Per tag: the key is (run_id, tag, step), so each is a range delete instead of a scan of
      // every row of the run.
      const del = statement(db, 'DELETE FROM scalars WHERE run_id = ? AND tag = ? AND step > ?');
      let scalarsDeleted = 0;
      for (const tag of listScalarTags(db, runId)) scalarsDeleted += del.run(runId, tag, step).changes;
      statement(db, 'UPDATE runs SET step = ? WHERE id = ?').run(step, runId);
      return { scalarsDeleted, sampleFiles };
    })
    .immediate();
}

// ---------------------------------------------------------------------------------------------
// Scalars

/**
 * Writes one batch of scalar points in one transaction (one fsync); the caller batches (e.g. each
 * message from the trainer). A (tag, step) already stored is overwritten: after a resume from an
 * earlier checkpoint the replayed steps replace the abandoned trajectory's. Non-finite values
 * (a diverging loss) cannot be charted or stored as REAL NOT NULL and are skipped and counted.
 */
export function insertScalars(db: Db, runId: string, rows: readonly ScalarPoint[]): { written: number; skipped: number } {
  for (const r of rows) {
    assertStep(r.step, `scalar ${r.tag}`);
    if (typeof r.tag !== 'string' || r.tag.length === 0 || r.tag.length > 100) throw new ApiError('invalid_input', `scalar tag must be 1-100 characters, got ${JSON.stringify(r.tag)}`);
    if (typeof r.value !== 'number') throw new ApiError('invalid_input', `scalar ${r.tag}@${r.step}: value must be a number`);
  }
  const stmt = statement(db, 'INSERT INTO scalars (run_id, tag, step, value) VALUES (?, ?, ?, ?) ON CONFLICT (run_id, tag, step) DO UPDATE SET value = excluded.value');
  let written = 0;
  try {
    db.transaction(() => {
      for (const r of rows) {
        if (!Number.isFinite(r.value)) continue;
        stmt.run(runId, r.tag, r.step, r.value);
        written++;
      }
    })();
  } catch (err) {
    translateChildError(err, runId, `scalars of run ${runId}`);
  }
  return { written, skipped: rows.length - written };
}

/** The tags a run has scalars for, sorted. */
export function listScalarTags(db: ReadonlyDb, runId: string): string[] {
  // A skip scan over the (run_id, tag, step) key: one seek per tag instead of reading every row.
  return readStatement<string>(
    db,
    `WITH RECURSIVE t(tag) AS (
       SELECT (SELECT MIN(tag) FROM scalars WHERE run_id = @runId)
       UNION ALL
       SELECT (SELECT MIN(tag) FROM scalars WHERE run_id = @runId AND tag > t.tag) FROM t WHERE t.tag IS NOT NULL
     )
     SELECT tag FROM t WHERE tag IS NOT NULL`,
  )
    .pluck(true)
    .all({ runId });
}

/**
 * A run's scalar series by tag, each downsampled with LTTB to at most `maxPoints` (first and last
 * points kept); `total` is the stored count. Without `tags`, every tag the run has; a requested tag
 * without data comes back empty. `not_found` for an unknown run.
 */
export function getScalars(db: ReadonlyDb, runId: string, opts: { tags?: readonly string[]; maxPoints?: number } = {}): Record<string, Series> {
  const maxPoints = opts.maxPoints ?? 2000;
  if (!Number.isSafeInteger(maxPoints) || maxPoints < 2) throw new ApiError('invalid_input', `maxPoints must be an integer >= 2, got ${maxPoints}`);
  return db.transaction(() => {
    if (!runExists(db, runId)) throw notFound(runId);
    const tags = opts.tags ? [...new Set(opts.tags)] : listScalarTags(db, runId);
    // Two single-column reads instead of one two-column read: better-sqlite3 allocates an array
    // (or object) per row otherwise, which is most of the cost at 10^5 rows (measured ~5x).
    // Both walk the same primary key in the same snapshot, so the arrays line up.
    const stepsOf = readStatement<number>(db, 'SELECT step FROM scalars WHERE run_id = ? AND tag = ? ORDER BY step').pluck(true);
    const valuesOf = readStatement<number>(db, 'SELECT value FROM scalars WHERE run_id = ? AND tag = ? ORDER BY step').pluck(true);
    const out: Record<string, Series> = {};
    for (const tag of tags) {
      const steps = stepsOf.all(runId, tag);
      const values = valuesOf.all(runId, tag);
      const total = steps.length;
      if (total <= maxPoints) {
        out[tag] = { steps, values, total };
      } else {
        const keep = lttbIndices(steps, values, maxPoints);
        out[tag] = { steps: keep.map((i) => steps[i]!), values: keep.map((i) => values[i]!), total };
      }
    }
    return out;
  })();
}

// ---------------------------------------------------------------------------------------------
// Samples

/** Records a sample grid; a step stored twice (replayed after a resume) points at the new file. */
export function insertSample(db: Db, sample: { runId: string; step: number; file: string; createdAt?: number }): SampleRecord {
  assertStep(sample.step, `sample of run ${sample.runId}`);
  const rec: SampleRecord = { runId: sample.runId, step: sample.step, file: sample.file, createdAt: Math.round(sample.createdAt ?? Date.now()) };
  try {
    statement(
      db,
      `INSERT INTO samples (run_id, step, file, created_at) VALUES (@runId, @step, @file, @createdAt)
       ON CONFLICT (run_id, step) DO UPDATE SET file = excluded.file, created_at = excluded.created_at`,
    ).run(rec);
  } catch (err) {
    translateChildError(err, sample.runId, `sample ${sample.step} of run ${sample.runId}`);
  }
  return rec;
}

export function getSample(db: ReadonlyDb, runId: string, step: number): SampleRecord | undefined {
  const row = readStatement<SampleRow>(db, 'SELECT run_id, step, file, created_at FROM samples WHERE run_id = ? AND step = ?').get(runId, step);
  return row && toSample(row);
}

export function latestSample(db: ReadonlyDb, runId: string): SampleRecord | undefined {
  const row = readStatement<SampleRow>(db, 'SELECT run_id, step, file, created_at FROM samples WHERE run_id = ? ORDER BY step DESC LIMIT 1').get(runId);
  return row && toSample(row);
}

/** Ascending. */
export function listSampleSteps(db: ReadonlyDb, runId: string): number[] {
  return readStatement<number>(db, 'SELECT step FROM samples WHERE run_id = ? ORDER BY step').pluck(true).all(runId);
}

// ---------------------------------------------------------------------------------------------
// Checkpoints

/**
 * Records a checkpoint after its files are in place (RELIABILITY E4: files, fsync, rename, then
 * this row). A second checkpoint at the same step (a stop right after a periodic one) replaces it.
 */
export function insertCheckpoint(
  db: Db,
  checkpoint: { runId: string; step: number; dir: string; bytes: number; kind: CheckpointKind; sha256?: string | null; createdAt?: number },
): CheckpointRecord {
  assertStep(checkpoint.step, `checkpoint of run ${checkpoint.runId}`);
  const rec: CheckpointRecord = {
    runId: checkpoint.runId,
    step: checkpoint.step,
    dir: checkpoint.dir,
    bytes: checkpoint.bytes,
    kind: checkpoint.kind,
    sha256: checkpoint.sha256 ?? null,
    createdAt: Math.round(checkpoint.createdAt ?? Date.now()),
  };
  try {
    statement(
      db,
      `INSERT INTO checkpoints (run_id, step, dir, bytes, kind, sha256, created_at)
       VALUES (@runId, @step, @dir, @bytes, @kind, @sha256, @createdAt)
       ON CONFLICT (run_id, step) DO UPDATE SET dir = excluded.dir, bytes = excluded.bytes, kind = excluded.kind, sha256 = excluded.sha256, created_at = excluded.created_at`,
    ).run(rec);
  } catch (err) {
    translateChildError(err, checkpoint.runId, `checkpoint ${checkpoint.step} of run ${checkpoint.runId}`);
  }
  return rec;
}

const CHECKPOINT_COLUMNS = 'run_id, step, dir, bytes, kind, sha256, created_at';

/** Ascending step. */
export function listCheckpoints(db: ReadonlyDb, runId: string): CheckpointRecord[] {
  return readStatement<CheckpointRow>(db, `SELECT ${CHECKPOINT_COLUMNS} FROM checkpoints WHERE run_id = ? ORDER BY step`).all(runId).map(toCheckpoint);
}

/** The checkpoint with the highest step, the one a resume starts from. */
export function latestCheckpoint(db: ReadonlyDb, runId: string): CheckpointRecord | undefined {
  const row = readStatement<CheckpointRow>(db, `SELECT ${CHECKPOINT_COLUMNS} FROM checkpoints WHERE run_id = ? ORDER BY step DESC LIMIT 1`).get(runId);
  return row && toCheckpoint(row);
}

/** Removes the row (delete the row first, then the files, so no row ever points at missing files). */
export function deleteCheckpoint(db: Db, runId: string, step: number): boolean {
  return statement(db, 'DELETE FROM checkpoints WHERE run_id = ? AND step = ?').run(runId, step).changes > 0;
}

// ---------------------------------------------------------------------------------------------
// Best checkpoint (issue 3: keep the last K plus the best; the folder is checkpoints/best)

export interface BestCheckpointRecord extends BestCheckpoint {
  runId: string;
  /** of the checkpoint manifest */
  sha256: string;
  bytes: number;
}

interface BestCheckpointRow {
  run_id: string;
  step: number;
  metric: string;
  score: number;
  evaluation_id: string;
  protocol_key: string;
  sha256: string;
  bytes: number;
  created_at: number;
}

const BEST_COLUMNS = 'run_id, step, metric, score, evaluation_id, protocol_key, sha256, bytes, created_at';

export function getBestCheckpoint(db: ReadonlyDb, runId: string): BestCheckpointRecord | undefined {
  const r = readStatement<BestCheckpointRow>(db, `SELECT ${BEST_COLUMNS} FROM best_checkpoints WHERE run_id = ?`).get(runId);
  return r && { runId: r.run_id, step: r.step, metric: r.metric as BestCheckpoint['metric'], score: r.score, evaluationId: r.evaluation_id, protocolKey: r.protocol_key, sha256: r.sha256, bytes: r.bytes, createdAt: r.created_at };
}

function bestCheckpointField(db: ReadonlyDb, runId: string): { bestCheckpoint?: BestCheckpoint } {
  const b = getBestCheckpoint(db, runId);
  return b ? { bestCheckpoint: { step: b.step, metric: b.metric, score: b.score, evaluationId: b.evaluationId, protocolKey: b.protocolKey, createdAt: b.createdAt } } : {};
}

/**
 * Records the run's best checkpoint after its folder is in place (files first, then the row);
 * replaces the previous one. `not_found` for an unknown (e.g. just deleted) run.
 */
export function setBestCheckpoint(db: Db, best: Omit<BestCheckpointRecord, 'createdAt'> & { createdAt?: number }): BestCheckpointRecord {
  assertStep(best.step, `best checkpoint of run ${best.runId}`);
  if (!Number.isFinite(best.score)) throw new ApiError('invalid_input', `best checkpoint of run ${best.runId}: the score must be a finite number, got ${best.score}`);
  const rec: BestCheckpointRecord = { ...best, createdAt: Math.round(best.createdAt ?? Date.now()) };
  try {
    statement(
      db,
      `INSERT INTO best_checkpoints (${BEST_COLUMNS}) VALUES (@runId, @step, @metric, @score, @evaluationId, @protocolKey, @sha256, @bytes, @createdAt)
       ON CONFLICT (run_id) DO UPDATE SET step = excluded.step, metric = excluded.metric, score = excluded.score, evaluation_id = excluded.evaluation_id,
         protocol_key = excluded.protocol_key, sha256 = excluded.sha256, bytes = excluded.bytes, created_at = excluded.created_at`,
    ).run(rec);
  } catch (err) {
    translateChildError(err, best.runId, `best checkpoint of run ${best.runId}`);
  }
  return rec;
}

// ---------------------------------------------------------------------------------------------
// Events (a run's log and history)

function insertEvent(db: Db, runId: string, level: RunEventLevel, message: string, at: number): number {
  return Number(statement(db, 'INSERT INTO events (run_id, created_at, level, message) VALUES (?, ?, ?, ?)').run(runId, at, level, message).lastInsertRowid);
}

/** Appends a line to a run's log; `not_found` for an unknown run. */
export function appendRunEvent(db: Db, runId: string, level: RunEventLevel, message: string, at: number = Date.now()): RunEvent {
  try {
    const id = insertEvent(db, runId, level, message, Math.round(at));
    return { id, runId, createdAt: Math.round(at), level, message };
  } catch (err) {
    translateChildError(err, runId, `event of run ${runId}`);
  }
}

/** Oldest first; `afterId` continues a previous page. */
export function listRunEvents(db: ReadonlyDb, runId: string, opts: { afterId?: number; limit?: number } = {}): RunEvent[] {
  return readStatement<EventRow>(db, 'SELECT id, run_id, created_at, level, message FROM events WHERE run_id = ? AND id > ? ORDER BY id LIMIT ?')
    .all(runId, opts.afterId ?? 0, opts.limit ?? 1000)
    .map(toEvent);
}
