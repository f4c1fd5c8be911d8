// Numbered, transactional schema migrations keyed on `PRAGMA user_version` (RELIABILITY E3,
// STYLE 8). Add a migration: write `migrations/NNNN-what.ts` exporting `updateToSchemaVersionN(db)`
// and append it to MIGRATIONS; never edit one that has shipped.
import type { Db } from './database.ts';
import { ApiError } from '../../common/errors.ts';
import { updateToSchemaVersion1 } from './migrations/0001-initial.ts';
import { updateToSchemaVersion2 } from './migrations/0002-dataset-layout.ts';
import { updateToSchemaVersion3 } from './migrations/0003-alerts.ts';
import { updateToSchemaVersion4 } from './migrations/0004-evaluation.ts';
import { updateToSchemaVersion5 } from './migrations/0005-ratings.ts';
import { updateToSchemaVersion6 } from './migrations/0006-best-checkpoint.ts';

export interface Migration {
  version: number;
  name: string;
  up: (db: Db) => void;
  /**
   * Set for a migration that rebuilds a table (SQLite's 12-step ALTER): foreign keys are switched
   * off around its transaction (they cannot be toggled inside one) and `foreign_key_check` must
   * come back empty before it commits.
   */
  rebuildsTables?: boolean;
}

export const MIGRATIONS: readonly Migration[] = [
  { version: 1, name: 'initial', up: updateToSchemaVersion1 },
  { version: 2, name: 'dataset-layout', up: updateToSchemaVersion2 },
  { version: 3, name: 'alerts', up: updateToSchemaVersion3 },
  { version: 4, name: 'evaluation', up: updateToSchemaVersion4 },
  { version: 5, name: 'ratings', up: updateToSchemaVersion5 },
  { version: 6, name: 'best-checkpoint', up: updateToSchemaVersion6 },
];

export const LATEST_SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

export function getSchemaVersion(db: Db): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/** A programming error, caught by the tests: versions must run 1, 2, 3, … with no gap. */
export function checkMigrationList(migrations: readonly Migration[]): void {
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) {
      throw new ApiError('internal', `migration list is not ordered and contiguous: position ${i} holds version ${m.version} (${m.name}), expected ${i + 1}`);
    }
  });
}

/**
 * Brings the database to the newest schema this code knows. Each pending migration runs in its own
 * IMMEDIATE transaction together with the `user_version` bump, so a crash leaves the database at
 * the previous version, never in between. Refuses (`conflict`) a database written by a newer app.
 */
export function migrate(db: Db, migrations: readonly Migration[] = MIGRATIONS): { from: number; to: number } {
  checkMigrationList(migrations);
  const latest = migrations.length === 0 ? 0 : migrations[migrations.length - 1]!.version;
  const from = getSchemaVersion(db);
  if (from > latest) {
    throw new ApiError('conflict', `the database has schema version ${from} but this version of GAN Studio only knows up to ${latest}; update GAN Studio or open another data folder`, {
      databaseVersion: from,
      supportedVersion: latest,
    });
  }
  for (const m of migrations) {
    if (m.version <= from) continue;
    if (m.rebuildsTables) db.pragma('foreign_keys = OFF');
    try {
      db.transaction(() => {
        // Re-read inside the write lock: another process may have migrated meanwhile.
        if (getSchemaVersion(db) >= m.version) return;
        m.up(db);
        if (m.rebuildsTables) {
          const broken = db.pragma('foreign_key_check') as unknown[];
          if (broken.length > 0) throw new ApiError('internal', `migration ${m.version} (${m.name}) left ${broken.length} broken foreign keys`);
        }
        db.pragma(`user_version = ${m.version}`);
      }).immediate();
    } finally {
      if (m.rebuildsTables) db.pragma('foreign_keys = ON');
    }
  }
  return { from, to: Math.max(from, getSchemaVersion(db)) };
}
