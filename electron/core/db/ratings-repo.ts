// Rating sessions in SQLite (schema version 5): sessions, their blinded items, raters with their own
// order, and answers written one by one (resumable) or a whole kit import at once (one transaction).
import type { Db, ReadonlyDb } from './database.ts';
import type { RatingAnswerValue, RatingSession, RatingSource, RaterProgress, StaircaseOptions } from '../../common/api-rating.ts';
import type { AnswerRow, ItemRow, ItemTruth } from '../rating/model.ts';

export interface SessionSpec {
  question: string;
  seed: number;
  items: number;
  attentionShare: number;
  staircase: StaircaseOptions | null;
  gridSize: number | null;
  neighbours: number | null;
  breakEvery: number;
  notes: string[];
}

export interface NewSession {
  id: string;
  name: string;
  type: RatingSession['type'];
  spec: SessionSpec;
  sources: RatingSource[];
  itemsHash: string;
  createdAt: number;
  items: ItemRow[];
  raters: { name: string; order: string[] }[];
}

interface SessionRow {
  id: string;
  name: string;
  type: string;
  state: string;
  spec: string;
  sources: string;
  items_hash: string;
  created_at: number;
  finished_at: number | null;
}

export function insertSession(db: Db, s: NewSession): void {
  db.transaction(() => {
    db.prepare('INSERT INTO rating_sessions (id, name, type, state, spec, sources, items_hash, created_at, finished_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL)').run(
      s.id,
      s.name,
      s.type,
      'open',
      JSON.stringify(s.spec),
      JSON.stringify(s.sources),
      s.itemsHash,
      s.createdAt,
    );
    const item = db.prepare('INSERT INTO rating_items (session_id, item_id, ord, attention, truth, files) VALUES (?, ?, ?, ?, ?, ?)');
    for (const it of s.items) item.run(s.id, it.itemId, it.ord, it.attention ? 1 : 0, JSON.stringify(it.truth), JSON.stringify(it.files));
    for (const r of s.raters) insertRater(db, s.id, r.name, r.order, s.createdAt);
  })();
}

export function insertRater(db: Db, sessionId: string, name: string, order: string[], at: number): void {
  db.prepare("INSERT INTO rating_raters (session_id, name, state, item_order, created_at) VALUES (?, ?, 'pending', ?, ?)").run(sessionId, name, JSON.stringify(order), at);
}

function raterProgress(db: ReadonlyDb, sessionId: string): RaterProgress[] {
  const rows = db
    .prepare(
      `SELECT r.name, r.state, r.started_at, r.finished_at, json_array_length(r.item_order) AS total,
              (SELECT COUNT(*) FROM rating_answers a WHERE a.session_id = r.session_id AND a.rater = r.name) AS answered
       FROM rating_raters r WHERE r.session_id = ? ORDER BY r.created_at, r.rowid`,
    )
    .all(sessionId) as { name: string; state: RaterProgress['state']; started_at: number | null; finished_at: number | null; total: number; answered: number }[];
  return rows.map((r) => ({ name: r.name, state: r.state, answered: r.answered, total: r.total, startedAt: r.started_at, finishedAt: r.finished_at }));
}

function toSession(db: ReadonlyDb, r: SessionRow): RatingSession {
  const spec = JSON.parse(r.spec) as SessionSpec;
  return {
    id: r.id,
    name: r.name,
    type: r.type as RatingSession['type'],
    state: r.state as RatingSession['state'],
    question: spec.question,
    seed: spec.seed,
    items: spec.items,
    attentionShare: spec.attentionShare,
    staircase: spec.staircase,
    gridSize: spec.gridSize,
    neighbours: spec.neighbours,
    breakEvery: spec.breakEvery,
    sources: JSON.parse(r.sources) as RatingSource[],
    raters: raterProgress(db, r.id),
    notes: spec.notes,
    itemsHash: r.items_hash,
    createdAt: r.created_at,
    finishedAt: r.finished_at,
  };
}

export function getSession(db: ReadonlyDb, id: string): RatingSession | undefined {
  const row = db.prepare('SELECT * FROM rating_sessions WHERE id = ?').get(id) as SessionRow | undefined;
  return row ? toSession(db, row) : undefined;
}

export function listSessions(db: ReadonlyDb): RatingSession[] {
  const rows = db.prepare('SELECT * FROM rating_sessions ORDER BY created_at DESC, id').all() as SessionRow[];
  return rows.map((r) => toSession(db, r));
}

export function sessionIds(db: ReadonlyDb): string[] {
  return db.prepare('SELECT id FROM rating_sessions').pluck().all() as string[];
}

export function listItems(db: ReadonlyDb, sessionId: string): ItemRow[] {
  const rows = db.prepare('SELECT item_id, ord, attention, truth, files FROM rating_items WHERE session_id = ? ORDER BY ord').all(sessionId) as { item_id: string; ord: number; attention: number; truth: string; files: string }[];
  return rows.map((r) => ({ itemId: r.item_id, ord: r.ord, attention: r.attention === 1, truth: JSON.parse(r.truth) as ItemTruth, files: JSON.parse(r.files) as string[] }));
}

export function getRater(db: ReadonlyDb, sessionId: string, name: string): { state: RaterProgress['state']; order: string[] } | undefined {
  const row = db.prepare('SELECT state, item_order FROM rating_raters WHERE session_id = ? AND name = ?').get(sessionId, name) as { state: RaterProgress['state']; item_order: string } | undefined;
  return row ? { state: row.state, order: JSON.parse(row.item_order) as string[] } : undefined;
}

interface AnswerDbRow {
  rater: string;
  item_id: string;
  position: number;
  answer: string;
  response_ms: number;
  requested_ms: number | null;
  exposure_ms: number | null;
  origin: 'app' | 'kit';
  answered_at: number;
}
const toAnswer = (r: AnswerDbRow): AnswerRow => ({
  rater: r.rater,
  itemId: r.item_id,
  position: r.position,
  answer: JSON.parse(r.answer) as RatingAnswerValue,
  responseMs: r.response_ms,
  requestedMs: r.requested_ms,
  exposureMs: r.exposure_ms,
  origin: r.origin,
  answeredAt: r.answered_at,
});

export function listAnswers(db: ReadonlyDb, sessionId: string, rater?: string): AnswerRow[] {
  const rows = (
    rater === undefined
      ? db.prepare('SELECT * FROM rating_answers WHERE session_id = ? ORDER BY answered_at, rater, position').all(sessionId)
      : db.prepare('SELECT * FROM rating_answers WHERE session_id = ? AND rater = ? ORDER BY position').all(sessionId, rater)
  ) as AnswerDbRow[];
  return rows.map(toAnswer);
}

export function insertAnswer(db: Db, sessionId: string, a: AnswerRow): void {
  db.prepare(
    'INSERT INTO rating_answers (session_id, rater, item_id, position, answer, response_ms, requested_ms, exposure_ms, origin, answered_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
  ).run(sessionId, a.rater, a.itemId, a.position, JSON.stringify(a.answer), a.responseMs, a.requestedMs, a.exposureMs, a.origin, a.answeredAt);
  db.prepare("UPDATE rating_raters SET state = 'in_progress', started_at = COALESCE(started_at, ?) WHERE session_id = ? AND name = ? AND state = 'pending'").run(a.answeredAt, sessionId, a.rater);
}

/** Deletes the rater's most recent answer given in the app; returns its item id, or null when there is none. */
export function deleteLastAnswer(db: Db, sessionId: string, rater: string): string | null {
  const row = db
    .prepare("SELECT item_id FROM rating_answers WHERE session_id = ? AND rater = ? AND origin = 'app' ORDER BY answered_at DESC, position DESC LIMIT 1")
    .pluck()
    .get(sessionId, rater) as string | undefined;
  if (row === undefined) return null;
  db.prepare('DELETE FROM rating_answers WHERE session_id = ? AND rater = ? AND item_id = ?').run(sessionId, rater, row);
  return row;
}

/** Marks the rater finished, and the session too when every rater is; returns whether the session finished. */
export function finishRater(db: Db, sessionId: string, rater: string, at: number): boolean {
  db.prepare("UPDATE rating_raters SET state = 'finished', finished_at = ? WHERE session_id = ? AND name = ?").run(at, sessionId, rater);
  const open = db.prepare("SELECT COUNT(*) FROM rating_raters WHERE session_id = ? AND state != 'finished'").pluck().get(sessionId) as number;
  if (open === 0) {
    db.prepare("UPDATE rating_sessions SET state = 'finished', finished_at = ? WHERE id = ?").run(at, sessionId);
    return true;
  }
  return false;
}

/** A new rater reopens a finished session: its results are provisional again until they finish. */
export function reopenSession(db: Db, sessionId: string): void {
  db.prepare("UPDATE rating_sessions SET state = 'open', finished_at = NULL WHERE id = ?").run(sessionId);
}

export function deleteSession(db: Db, sessionId: string): boolean {
  return db.prepare('DELETE FROM rating_sessions WHERE id = ?').run(sessionId).changes > 0;
}
