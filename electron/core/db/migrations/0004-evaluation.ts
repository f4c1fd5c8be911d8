// Schema version 4: evaluation (issue 6). Feature extractors the studio trained or the user
// supplied (the pixel extractors are built in and not stored), and evaluations with the protocol
// each score was measured under. An evaluation keeps its protocol (extractor id and weights hash
// among it) even after its extractor or run is deleted, so no foreign keys bind it to either.
import type { Db } from '../database.ts';

export function updateToSchemaVersion4(db: Db): void {
  db.exec(`
    CREATE TABLE extractors (
      id            TEXT    NOT NULL PRIMARY KEY,
      name          TEXT    NOT NULL,
      kind          TEXT    NOT NULL CHECK (kind IN ('classifier', 'user-model')),
      weights_hash  TEXT    NOT NULL,
      dataset_id    TEXT,
      -- the folder with model.json (+ shards) and, for classifiers, extractor.json
      dir           TEXT    NOT NULL,
      record        TEXT    NOT NULL CHECK (json_valid(record)),
      created_at    INTEGER NOT NULL
    ) STRICT;
    CREATE INDEX extractors_by_dataset ON extractors (dataset_id, created_at);

    CREATE TABLE evaluations (
      id              TEXT    NOT NULL PRIMARY KEY,
      run_id          TEXT,
      step            INTEGER,
      dataset_id      TEXT,
      source_kind     TEXT    NOT NULL CHECK (source_kind IN ('run', 'folders')),
      label           TEXT    NOT NULL,
      extractor_id    TEXT    NOT NULL,
      weights_hash    TEXT    NOT NULL,
      protocol_key    TEXT    NOT NULL,
      during_training INTEGER NOT NULL CHECK (during_training IN (0, 1)),
      metrics         TEXT    NOT NULL CHECK (json_valid(metrics)),
      scores          TEXT    NOT NULL CHECK (json_valid(scores)),
      protocol        TEXT    NOT NULL CHECK (json_valid(protocol)),
      warnings        TEXT    NOT NULL CHECK (json_valid(warnings)),
      -- neighbour strips, class histogram, sample grid (PNG data URLs): what the UI renders
      detail          TEXT    NOT NULL CHECK (json_valid(detail)),
      duration_ms     REAL    NOT NULL,
      created_at      INTEGER NOT NULL
    ) STRICT;
    CREATE INDEX evaluations_by_run ON evaluations (run_id, created_at);
    CREATE INDEX evaluations_by_protocol ON evaluations (protocol_key);
  `);
}
