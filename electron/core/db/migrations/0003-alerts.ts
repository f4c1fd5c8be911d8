// Schema version 3: diagnostics (issue 7). One row per alert, its step range updated while it is
// active; the key (run_id, kind, start_step) makes a resume or a replay of the same scalars an
// upsert instead of a duplicate. A run's detector thresholds are kept beside it, so a resume and
// `gan-studio diagnose` judge with the thresholds the run was started with.
import type { Db } from '../database.ts';

export function updateToSchemaVersion3(db: Db): void {
  db.exec(`
    CREATE TABLE alerts (
      id            INTEGER NOT NULL PRIMARY KEY,
      run_id        TEXT    NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
      -- checked in TypeScript against ALERT_KINDS (the list may grow)
      kind          TEXT    NOT NULL,
      severity      TEXT    NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
      state         TEXT    NOT NULL CHECK (state IN ('active', 'resolved')),
      start_step    INTEGER NOT NULL CHECK (start_step >= 0),
      end_step      INTEGER NOT NULL CHECK (end_step >= start_step),
      detected_step INTEGER NOT NULL CHECK (detected_step >= start_step),
      sample_step   INTEGER,
      evidence      TEXT    NOT NULL CHECK (json_valid(evidence)),
      explanation   TEXT    NOT NULL,
      remedies      TEXT    NOT NULL CHECK (json_valid(remedies)),
      created_at    INTEGER NOT NULL,
      updated_at    INTEGER NOT NULL,
      UNIQUE (run_id, kind, start_step)
    ) STRICT;
    CREATE INDEX alerts_by_run ON alerts (run_id, start_step);

    CREATE TABLE run_diagnostics (
      run_id  TEXT NOT NULL PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE,
      config  TEXT NOT NULL CHECK (json_valid(config))
    ) STRICT, WITHOUT ROWID;
  `);
}
