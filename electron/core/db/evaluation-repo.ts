// Feature extractors and evaluations (issue 6). Functions take the db first (STYLE 9). An
// evaluation is written in one statement inside a transaction with nothing else half-done: either
// the whole row (scores, protocol, strips) exists or none of it.
import { EvaluationDetailSchema, ExtractorSchema, type EvalMetric, type EvaluationDetail, type EvaluationSummary, type Extractor } from '../../common/api-evaluation.ts';
import { readStatement, statement } from './database.ts';
import type { Db, ReadonlyDb } from './database.ts';

interface ExtractorRow {
  id: string;
  dir: string;
  record: string;
}

export interface StoredExtractor {
  extractor: Extractor;
  /** folder of model.json and its shards */
  dir: string;
}

export function insertExtractor(db: Db, extractor: Extractor, dir: string): void {
  const e = ExtractorSchema.parse(extractor);
  if (e.kind === 'pixel') throw new Error('pixel extractors are built in and not stored');
  statement(db, 'INSERT INTO extractors (id, name, kind, weights_hash, dataset_id, dir, record, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)').run(e.id, e.name, e.kind, e.weightsHash, e.datasetId, dir, JSON.stringify(e), e.createdAt);
}

export function getExtractor(db: ReadonlyDb, id: string): StoredExtractor | null {
  const row = readStatement<ExtractorRow>(db, 'SELECT id, dir, record FROM extractors WHERE id = ?').get(id);
  return row ? { extractor: ExtractorSchema.parse(JSON.parse(row.record)), dir: row.dir } : null;
}

/** Newest first; optionally only the classifiers trained on one dataset. */
export function listExtractors(db: ReadonlyDb, opts: { datasetId?: string } = {}): StoredExtractor[] {
  const rows =
    opts.datasetId === undefined
      ? readStatement<ExtractorRow>(db, 'SELECT id, dir, record FROM extractors ORDER BY created_at DESC, id').all()
      : readStatement<ExtractorRow>(db, "SELECT id, dir, record FROM extractors WHERE dataset_id = ? AND kind = 'classifier' ORDER BY created_at DESC, id").all(opts.datasetId);
  return rows.map((r) => ({ extractor: ExtractorSchema.parse(JSON.parse(r.record)), dir: r.dir }));
}

export function deleteExtractor(db: Db, id: string): boolean {
  return statement(db, 'DELETE FROM extractors WHERE id = ?').run(id).changes > 0;
}

interface EvaluationRow {
  id: string;
  run_id: string | null;
  step: number | null;
  dataset_id: string | null;
  source_kind: string;
  label: string;
  protocol_key: string;
  metrics: string;
  scores: string;
  protocol: string;
  warnings: string;
  detail: string;
  duration_ms: number;
  created_at: number;
}

const SUMMARY_COLUMNS = 'id, run_id, step, dataset_id, source_kind, label, protocol_key, metrics, scores, protocol, warnings, duration_ms, created_at';

function toSummary(r: Omit<EvaluationRow, 'detail'>): EvaluationSummary {
  return {
    id: r.id,
    runId: r.run_id,
    step: r.step,
    datasetId: r.dataset_id,
    sourceKind: r.source_kind as EvaluationSummary['sourceKind'],
    label: r.label,
    metrics: JSON.parse(r.metrics) as EvalMetric[],
    scores: JSON.parse(r.scores) as EvaluationSummary['scores'],
    protocol: JSON.parse(r.protocol) as EvaluationSummary['protocol'],
    protocolKey: r.protocol_key,
    warnings: JSON.parse(r.warnings) as string[],
    durationMs: r.duration_ms,
    createdAt: r.created_at,
  };
}

/** Stores a finished evaluation (validated against the API schema first) in one transaction. */
export function insertEvaluation(db: Db, evaluation: EvaluationDetail): void {
  const e = EvaluationDetailSchema.parse(evaluation);
  const detail = { neighbours: e.neighbours, classCoverage: e.classCoverage, fakePreview: e.fakePreview };
  db.transaction(() => {
    statement(
      db,
      `INSERT INTO evaluations (id, run_id, step, dataset_id, source_kind, label, extractor_id, weights_hash, protocol_key, during_training, metrics, scores, protocol, warnings, detail, duration_ms, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      e.id,
      e.runId,
      e.step,
      e.datasetId,
      e.sourceKind,
      e.label,
      e.protocol.extractorId,
      e.protocol.weightsHash,
      e.protocolKey,
      e.protocol.duringTraining ? 1 : 0,
      JSON.stringify(e.metrics),
      JSON.stringify(e.scores),
      JSON.stringify(e.protocol),
      JSON.stringify(e.warnings),
      JSON.stringify(detail),
      e.durationMs,
      e.createdAt,
    );
  }).immediate();
}

export function listEvaluations(db: ReadonlyDb, opts: { runId?: string; includeDuringTraining?: boolean; limit?: number } = {}): EvaluationSummary[] {
  const where: string[] = [];
  const args: unknown[] = [];
  if (opts.runId !== undefined) {
    where.push('run_id = ?');
    args.push(opts.runId);
  }
  if (!opts.includeDuringTraining) where.push('during_training = 0');
  const sql = `SELECT ${SUMMARY_COLUMNS} FROM evaluations ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at DESC, id LIMIT ?`;
  return readStatement<Omit<EvaluationRow, 'detail'>>(db, sql).all(...args, opts.limit ?? 500).map(toSummary);
}

export function getEvaluation(db: ReadonlyDb, id: string): EvaluationDetail | null {
  const row = readStatement<EvaluationRow>(db, `SELECT ${SUMMARY_COLUMNS}, detail FROM evaluations WHERE id = ?`).get(id);
  if (!row) return null;
  const detail = JSON.parse(row.detail) as Pick<EvaluationDetail, 'neighbours' | 'classCoverage' | 'fakePreview'>;
  return { ...toSummary(row), ...detail };
}

export function deleteEvaluation(db: Db, id: string): boolean {
  return statement(db, 'DELETE FROM evaluations WHERE id = ?').run(id).changes > 0;
}

export function countEvaluations(db: ReadonlyDb): number {
  return readStatement<{ n: number }>(db, 'SELECT COUNT(*) AS n FROM evaluations').get()!.n;
}
