// Schema version 1: datasets, runs and what a run produces (scalars, samples, checkpoints, events).
// All tables STRICT, so a wrong type is an error instead of a silently stored string.
// Enumerations that will grow with later issues (run status, family) are checked in TypeScript
// against electron/common, not with CHECK constraints, because changing a CHECK means rebuilding
// the table; the small closed ones (dataset kind, checkpoint kind, log level) are checked here.
import type { Db } from '../database.ts';

export function updateToSchemaVersion1(db: Db): void {
  db.exec(`
    CREATE TABLE datasets (
      id            TEXT    NOT NULL PRIMARY KEY,
      name          TEXT    NOT NULL,
      kind          TEXT    NOT NULL CHECK (kind IN ('builtin', 'imported')),
      -- the preprocessed cache folder
      dir           TEXT    NOT NULL,
      count         INTEGER NOT NULL CHECK (count >= 0),
      width         INTEGER NOT NULL CHECK (width > 0),
      height        INTEGER NOT NULL CHECK (height > 0),
      channels      INTEGER NOT NULL CHECK (channels > 0),
      -- JSON arrays, NULL for an unlabelled dataset
      class_names   TEXT    CHECK (class_names IS NULL OR json_valid(class_names)),
      class_counts  TEXT    CHECK (class_counts IS NULL OR json_valid(class_counts)),
      content_hash  TEXT    NOT NULL,
      created_at    INTEGER NOT NULL
    ) STRICT;

    CREATE TABLE runs (
      id             TEXT    NOT NULL PRIMARY KEY,
      name           TEXT    NOT NULL,
      family         TEXT    NOT NULL,
      -- RESTRICT: a dataset with runs cannot be deleted from under their history
      dataset_id     TEXT    NOT NULL REFERENCES datasets(id) ON DELETE RESTRICT,
      config         TEXT    NOT NULL CHECK (json_valid(config)),
      status         TEXT    NOT NULL,
      status_reason  TEXT,
      step           INTEGER NOT NULL DEFAULT 0 CHECK (step >= 0),
      total_steps    INTEGER NOT NULL CHECK (total_steps >= 0),
      created_at     INTEGER NOT NULL,
      started_at     INTEGER,
      ended_at       INTEGER,
      -- training time, pauses excluded
      duration_ms    INTEGER NOT NULL DEFAULT 0 CHECK (duration_ms >= 0),
      final_g_loss   REAL,
      final_d_loss   REAL,
      backend        TEXT    CHECK (backend IS NULL OR json_valid(backend)),
      run_dir        TEXT    NOT NULL
    ) STRICT;
    -- the run list: newest first, optionally filtered by status
    CREATE INDEX runs_by_created ON runs (created_at, id);
    CREATE INDEX runs_by_status_created ON runs (status, created_at, id);
    CREATE INDEX runs_by_dataset ON runs (dataset_id);

    -- WITHOUT ROWID: the primary key is the only access path (one tag of one run, by step), so the
    -- rows live in that b-tree and need no second index. The key also makes a step written twice
    -- (replayed after a resume from an earlier checkpoint) an upsert instead of a duplicate point.
    CREATE TABLE scalars (
      run_id  TEXT    NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
      tag     TEXT    NOT NULL,
      step    INTEGER NOT NULL,
      value   REAL    NOT NULL,
      PRIMARY KEY (run_id, tag, step)
    ) STRICT, WITHOUT ROWID;

    CREATE TABLE samples (
      run_id      TEXT    NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
      step        INTEGER NOT NULL,
      -- the sample grid image, relative to the run's run_dir
      file        TEXT    NOT NULL,
      created_at  INTEGER NOT NULL,
      PRIMARY KEY (run_id, step)
    ) STRICT, WITHOUT ROWID;

    CREATE TABLE checkpoints (
      run_id      TEXT    NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
      step        INTEGER NOT NULL,
      -- the checkpoint folder, relative to the run's run_dir
      dir         TEXT    NOT NULL,
      bytes       INTEGER NOT NULL CHECK (bytes >= 0),
      kind        TEXT    NOT NULL CHECK (kind IN ('periodic', 'final', 'stop')),
      -- of the checkpoint manifest (RELIABILITY E4)
      sha256      TEXT,
      created_at  INTEGER NOT NULL,
      PRIMARY KEY (run_id, step)
    ) STRICT, WITHOUT ROWID;

    -- a run's log and history (status changes, resumes, warnings), in insertion order
    CREATE TABLE events (
      id          INTEGER NOT NULL PRIMARY KEY,
      run_id      TEXT    NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
      created_at  INTEGER NOT NULL,
      level       TEXT    NOT NULL CHECK (level IN ('info', 'warn', 'error')),
      message     TEXT    NOT NULL
    ) STRICT;
    CREATE INDEX events_by_run ON events (run_id, id);
  `);
}
