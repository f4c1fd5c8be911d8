// Schema version 6: a run's best checkpoint (issue 3, "keep the last K plus the best"). The
// checkpoint that scored best in the run's during-training evaluations is kept in its run folder as
// checkpoints/best (outside the trainer's keep-last-K pruning); this row says which step it holds and
// what it scored. A table of its own rather than a kind 'best' in `checkpoints`: that table's key is
// (run_id, step), and the best step is usually still there as a periodic checkpoint when it becomes
// the best, so a second row of the same step would need a new key (a rebuild of the table) and every
// reader of the checkpoints list would have to tell the two apart. At most one row per run; it goes
// with the run (ON DELETE CASCADE). The evaluation it came from is named without a foreign key, as
// evaluations outlive their runs and may be deleted on their own; the score is copied here.
import type { Db } from '../database.ts';

export function updateToSchemaVersion6(db: Db): void {
  db.exec(`
    CREATE TABLE best_checkpoints (
      run_id         TEXT    NOT NULL PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE,
      step           INTEGER NOT NULL CHECK (step >= 0),
      -- FID, or the KID mean when FID is not among the run's during-training metrics (lower is better)
      metric         TEXT    NOT NULL CHECK (metric IN ('fid', 'kid')),
      score          REAL    NOT NULL,
      evaluation_id  TEXT    NOT NULL,
      -- scores are only compared within one protocol (extractor, N, split, …)
      protocol_key   TEXT    NOT NULL,
      -- of the checkpoint manifest, and the size of its tensors
      sha256         TEXT    NOT NULL,
      bytes          INTEGER NOT NULL CHECK (bytes >= 0),
      created_at     INTEGER NOT NULL
    ) STRICT;
  `);
}
