// Schema version 5: human rating sessions (issue 8). A session owns its items (blinded: an opaque
// id, the truth and the image files live here, never in what a rater sees), its raters (each with
// an own shuffled order) and their answers, one row per rater and item, written as they come so a
// session resumes after a restart. Sources (runs, checkpoints, real sets) are kept as JSON on the
// session: a deleted run must not delete the human judgments made about it.
import type { Db } from '../database.ts';

export function updateToSchemaVersion5(db: Db): void {
  db.exec(`
    CREATE TABLE rating_sessions (
      id          TEXT    NOT NULL PRIMARY KEY,
      name        TEXT    NOT NULL,
      -- checked in TypeScript against RATING_TYPES (the list may grow)
      type        TEXT    NOT NULL,
      state       TEXT    NOT NULL CHECK (state IN ('preparing', 'open', 'finished', 'failed')),
      -- question, seed, items, attentionShare, staircase, gridSize, neighbours, breakEvery, notes
      spec        TEXT    NOT NULL CHECK (json_valid(spec)),
      sources     TEXT    NOT NULL CHECK (json_valid(sources)),
      items_hash  TEXT    NOT NULL,
      created_at  INTEGER NOT NULL,
      finished_at INTEGER
    ) STRICT;

    CREATE TABLE rating_items (
      session_id TEXT    NOT NULL REFERENCES rating_sessions(id) ON DELETE CASCADE,
      item_id    TEXT    NOT NULL,
      -- canonical (shuffled) order of the session
      ord        INTEGER NOT NULL CHECK (ord >= 0),
      attention  INTEGER NOT NULL CHECK (attention IN (0, 1)),
      -- what the rater must not see: which source each image came from, the right answer
      truth      TEXT    NOT NULL CHECK (json_valid(truth)),
      -- image file names in the session folder, in display order
      files      TEXT    NOT NULL CHECK (json_valid(files)),
      PRIMARY KEY (session_id, item_id),
      UNIQUE (session_id, ord)
    ) STRICT, WITHOUT ROWID;

    CREATE TABLE rating_raters (
      session_id  TEXT    NOT NULL REFERENCES rating_sessions(id) ON DELETE CASCADE,
      name        TEXT    NOT NULL,
      state       TEXT    NOT NULL CHECK (state IN ('pending', 'in_progress', 'finished')),
      -- this rater's order of the session's item ids
      item_order  TEXT    NOT NULL CHECK (json_valid(item_order)),
      created_at  INTEGER NOT NULL,
      started_at  INTEGER,
      finished_at INTEGER,
      PRIMARY KEY (session_id, name)
    ) STRICT;

    CREATE TABLE rating_answers (
      session_id   TEXT    NOT NULL,
      rater        TEXT    NOT NULL,
      item_id      TEXT    NOT NULL,
      -- position in the rater's order when answered
      position     INTEGER NOT NULL CHECK (position >= 0),
      answer       TEXT    NOT NULL CHECK (json_valid(answer)),
      response_ms  REAL    NOT NULL CHECK (response_ms >= 0),
      -- timed sessions: what the staircase asked for and what the browser measured
      requested_ms REAL,
      exposure_ms  REAL,
      -- 'app' (answered in GAN Studio) or 'kit' (imported from an offline rater kit)
      origin       TEXT    NOT NULL CHECK (origin IN ('app', 'kit')),
      answered_at  INTEGER NOT NULL,
      PRIMARY KEY (session_id, rater, item_id),
      FOREIGN KEY (session_id, rater) REFERENCES rating_raters(session_id, name) ON DELETE CASCADE,
      FOREIGN KEY (session_id, item_id) REFERENCES rating_items(session_id, item_id) ON DELETE CASCADE
    ) STRICT, WITHOUT ROWID;
    CREATE INDEX rating_answers_by_item ON rating_answers (session_id, item_id);
  `);
}
