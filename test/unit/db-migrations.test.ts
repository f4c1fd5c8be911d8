import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { openDatabase, integrityCheck } from '../../electron/core/db/database.ts';
import type { Db } from '../../electron/core/db/database.ts';
import { migrate, checkMigrationList, getSchemaVersion, LATEST_SCHEMA_VERSION, MIGRATIONS } from '../../electron/core/db/migrate.ts';
import type { Migration } from '../../electron/core/db/migrate.ts';
import { updateToSchemaVersion1 } from '../../electron/core/db/migrations/0001-initial.ts';
import { upsertDataset, listDatasets } from '../../electron/core/db/datasets-repo.ts';
import { insertRun, insertScalars, getRunSummary, getRunDetail, setBestCheckpoint, deleteRun } from '../../electron/core/db/runs-repo.ts';
import { resolveRunConfig } from '../../electron/common/config.ts';
import { ApiError } from '../../electron/common/errors.ts';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gan-db-mig-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));
let counter = 0;
const tmpFile = () => path.join(tmp, `studio-${++counter}.db`);

const EXPECTED_TABLES = ['alerts', 'best_checkpoints', 'checkpoints', 'datasets', 'evaluations', 'events', 'extractors', 'rating_answers', 'rating_items', 'rating_raters', 'rating_sessions', 'run_diagnostics', 'runs', 'samples', 'scalars'];

function tables(db: Db): string[] {
  return db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").pluck().all() as string[];
}

function seed(db: Db, runId = 'r_1'): void {
  upsertDataset(db, {
    id: 'mnist',
    name: 'MNIST',
    kind: 'builtin',
    layout: 'images',
    description: '',
    dir: '/data/mnist',
    count: 10,
    width: 28,
    height: 28,
    channels: 1,
    classNames: null,
    classCounts: null,
    contentHash: 'abc',
    createdAt: 1,
  });
  insertRun(db, { id: runId, name: 'run', config: resolveRunConfig({ family: 'dcgan', dataset: 'mnist' }, () => 7), runDir: `/runs/${runId}` });
}

function assertApiError(code: string, pattern?: RegExp) {
  return (err: unknown) => {
    assert.ok(err instanceof ApiError, `expected ApiError, got ${String(err)}`);
    assert.equal(err.code, code);
    if (pattern) assert.match(err.message, pattern);
    return true;
  };
}

describe('migration list', () => {
  test('is ordered and contiguous and ends at LATEST_SCHEMA_VERSION', () => {
    checkMigrationList(MIGRATIONS);
    assert.equal(LATEST_SCHEMA_VERSION, MIGRATIONS.length);
  });

  test('a gap or a wrong order is refused before anything runs', () => {
    const noop = () => {};
    assert.throws(() => checkMigrationList([{ version: 1, name: 'a', up: noop }, { version: 3, name: 'c', up: noop }]), assertApiError('internal', /position 1 holds version 3/));
    assert.throws(() => checkMigrationList([{ version: 2, name: 'b', up: noop }, { version: 1, name: 'a', up: noop }]), assertApiError('internal'));
  });
});

describe('0001-initial on :memory:', () => {
  test('creates the tables, STRICT, and sets user_version', () => {
    const { db, report } = openDatabase(':memory:');
    assert.deepEqual(report, { recovered: false });
    assert.equal(getSchemaVersion(db), LATEST_SCHEMA_VERSION);
    assert.deepEqual(tables(db), EXPECTED_TABLES);
    const strict = db.prepare("SELECT name FROM pragma_table_list WHERE schema = 'main' AND strict = 1 AND name NOT LIKE 'sqlite_%' ORDER BY name").pluck().all();
    assert.deepEqual(strict, EXPECTED_TABLES);
    db.close();
  });

  test('updateToSchemaVersion1 runs on its own (a test per migration)', () => {
    const db = new Database(':memory:');
    updateToSchemaVersion1(db);
    assert.deepEqual(tables(db), EXPECTED_TABLES.filter((t) => t !== 'alerts' && t !== 'run_diagnostics' && t !== 'evaluations' && t !== 'extractors' && !t.startsWith('rating_') && t !== 'best_checkpoints'));
    db.close();
  });

  test('STRICT rejects a wrong type; CHECK rejects a bad enum', () => {
    const { db } = openDatabase(':memory:');
    seed(db);
    assert.throws(() => db.prepare("INSERT INTO scalars (run_id, tag, step, value) VALUES ('r_1', 'loss/g', 'ten', 1.0)").run(), /cannot store TEXT value in INTEGER column/);
    assert.throws(() => db.prepare("INSERT INTO scalars (run_id, tag, step, value) VALUES ('r_1', 'loss/g', 1.5, 1.0)").run(), /cannot store REAL value in INTEGER column/);
    assert.throws(() => db.prepare("INSERT INTO scalars (run_id, tag, step, value) VALUES ('r_1', 'loss/g', 1, 'x')").run(), /cannot store TEXT value in REAL column/);
    assert.throws(() => db.prepare("UPDATE datasets SET kind = 'weird'").run(), /CHECK constraint failed/);
    assert.throws(() => db.prepare("UPDATE runs SET config = 'not json'").run(), /CHECK constraint failed/);
    db.close();
  });

  test('foreign keys are enforced and cascade', () => {
    const { db } = openDatabase(':memory:');
    assert.equal(db.pragma('foreign_keys', { simple: true }), 1);
    assert.throws(() => db.prepare("INSERT INTO scalars (run_id, tag, step, value) VALUES ('nope', 'loss/g', 1, 1.0)").run(), /FOREIGN KEY constraint failed/);
    seed(db);
    insertScalars(db, 'r_1', [{ step: 1, tag: 'loss/g', value: 1 }]);
    assert.throws(() => db.prepare("DELETE FROM datasets WHERE id = 'mnist'").run(), /FOREIGN KEY constraint failed/);
    db.prepare("DELETE FROM runs WHERE id = 'r_1'").run();
    assert.equal(db.prepare('SELECT COUNT(*) FROM scalars').pluck().get(), 0);
    db.close();
  });
});

describe('migrations on a file', () => {
  test('fresh file: WAL, synchronous FULL, tables, user_version', () => {
    const file = tmpFile();
    const { db, report } = openDatabase(file);
    assert.deepEqual(report, { recovered: false });
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    assert.equal(db.pragma('synchronous', { simple: true }), 2); // FULL
    assert.ok((db.pragma('busy_timeout', { simple: true }) as number) > 0);
    assert.equal(getSchemaVersion(db), LATEST_SCHEMA_VERSION);
    assert.deepEqual(tables(db), EXPECTED_TABLES);
    db.close();
  });

  test('re-opening is idempotent and keeps the data', () => {
    const file = tmpFile();
    const first = openDatabase(file);
    seed(first.db);
    first.db.close();
    for (let i = 0; i < 2; i++) {
      const { db, report } = openDatabase(file);
      assert.deepEqual(report, { recovered: false });
      assert.equal(getSchemaVersion(db), LATEST_SCHEMA_VERSION);
      assert.equal(getRunSummary(db, 'r_1')?.id, 'r_1');
      assert.deepEqual(migrate(db), { from: LATEST_SCHEMA_VERSION, to: LATEST_SCHEMA_VERSION });
      db.close();
    }
  });

  test('a database from a newer app is refused, named, and left untouched', () => {
    const file = tmpFile();
    const { db } = openDatabase(file);
    db.pragma('user_version = 99');
    db.close();
    assert.throws(() => openDatabase(file), (err: unknown) => {
      assertApiError('conflict', /99/)(err);
      assert.match((err as ApiError).message, new RegExp(`only knows up to ${LATEST_SCHEMA_VERSION}`));
      assert.deepEqual((err as ApiError).details, { databaseVersion: 99, supportedVersion: LATEST_SCHEMA_VERSION });
      return true;
    });
    assert.ok(fs.existsSync(file));
    assert.equal(fs.readdirSync(tmp).filter((f) => f.startsWith(path.basename(file)) && f.includes('corrupt')).length, 0);
    const raw = new Database(file);
    assert.equal(raw.pragma('user_version', { simple: true }), 99);
    raw.close();
  });

  test('the runner applies 0002+ in order, each in its own transaction', () => {
    const { db } = openDatabase(':memory:');
    const next = LATEST_SCHEMA_VERSION + 1;
    const extra: Migration[] = [
      ...MIGRATIONS,
      { version: next, name: 'add notes', up: (d) => d.exec('CREATE TABLE notes (id INTEGER PRIMARY KEY, run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE) STRICT') },
      {
        version: next + 1,
        name: 'broken',
        up: (d) => {
          d.exec('CREATE TABLE half_done (x INTEGER) STRICT');
          throw new Error('boom');
        },
      },
    ];
    assert.throws(() => migrate(db, extra), /boom/);
    // the first committed, the broken one rolled back entirely
    assert.equal(getSchemaVersion(db), next);
    assert.ok(tables(db).includes('notes'));
    assert.ok(!tables(db).includes('half_done'));
    db.close();
  });

  test('a table-rebuilding migration runs with foreign keys off and checks them before commit', () => {
    const { db } = openDatabase(':memory:');
    seed(db);
    const rebuild: Migration = {
      version: LATEST_SCHEMA_VERSION + 1,
      name: 'rebuild datasets',
      rebuildsTables: true,
      up: (d) => {
        assert.equal(d.pragma('foreign_keys', { simple: true }), 0);
        // SQLite's 12-step table rebuild: new table, copy, drop, rename
        const ddl = d.prepare("SELECT sql FROM sqlite_schema WHERE name = 'datasets'").pluck().get() as string;
        d.exec(ddl.replace('CREATE TABLE datasets', 'CREATE TABLE datasets_new'));
        d.exec('INSERT INTO datasets_new SELECT * FROM datasets; DROP TABLE datasets; ALTER TABLE datasets_new RENAME TO datasets;');
      },
    };
    migrate(db, [...MIGRATIONS, rebuild]);
    assert.equal(getSchemaVersion(db), LATEST_SCHEMA_VERSION + 1);
    assert.equal(db.pragma('foreign_keys', { simple: true }), 1);
    assert.equal(listDatasets(db).length, 1);
    db.close();
  });
});

describe('corrupt database recovery', () => {
  test('a file of garbage bytes is moved aside and a fresh database works', () => {
    const file = tmpFile();
    const garbage = Buffer.alloc(16_384);
    for (let i = 0; i < garbage.length; i++) garbage[i] = (i * 7919) % 251;
    fs.writeFileSync(file, garbage);
    fs.writeFileSync(`${file}-wal`, 'stale wal');
    const { db, report } = openDatabase(file);
    assert.equal(report.recovered, true);
    if (!report.recovered) return;
    assert.match(report.movedTo, /\.corrupt-\d{4}-\d\d-\d\dT/);
    assert.match(report.reason, /not a database/);
    // the header is checked before SQLite opens the file, so the stale -wal is moved, not deleted
    assert.deepEqual(fs.readFileSync(report.movedTo), garbage);
    assert.equal(fs.readFileSync(`${report.movedTo}-wal`, 'utf8'), 'stale wal');
    seed(db);
    assert.equal(getRunSummary(db, 'r_1')?.status, 'queued');
    assert.deepEqual(integrityCheck(db), ['ok']);
    db.close();
  });

  test('a database whose pages are damaged (quick_check not ok) is moved aside', () => {
    const file = tmpFile();
    const { db: first } = openDatabase(file);
    seed(first);
    const rows = Array.from({ length: 20_000 }, (_, i) => ({ step: i, tag: 'loss/g', value: Math.sin(i) }));
    insertScalars(first, 'r_1', rows);
    first.close();
    const size = fs.statSync(file).size;
    const fd = fs.openSync(file, 'r+');
    // scribble over the middle of a b-tree page (not page 1, so the header still looks valid)
    const page = Math.floor(size / 4096 / 2);
    fs.writeSync(fd, Buffer.alloc(300, 0xab), 0, 300, page * 4096 + 100);
    fs.closeSync(fd);

    const { db, report } = openDatabase(file);
    assert.equal(report.recovered, true);
    if (report.recovered) {
      assert.match(report.reason, /quick_check failed|malformed/);
      assert.ok(fs.existsSync(report.movedTo));
    }
    assert.equal(getRunSummary(db, 'r_1'), undefined);
    seed(db);
    assert.deepEqual(integrityCheck(db), ['ok']);
    db.close();
  });

  test('a read-only handle reports corruption instead of moving files', () => {
    const file = tmpFile();
    fs.writeFileSync(file, Buffer.alloc(8192, 0x5a));
    assert.throws(() => openDatabase(file, { readonly: true }), assertApiError('internal', /corrupt/));
    assert.ok(fs.existsSync(file));
  });
});

describe('read-only handle', () => {
  test('reads, and writes fail at the SQLite level too', () => {
    const file = tmpFile();
    const { db } = openDatabase(file);
    seed(db);
    const ro = openDatabase(file, { readonly: true });
    assert.equal(getRunSummary(ro.db, 'r_1')?.id, 'r_1');
    // the type has no `run`; prove the connection itself refuses too
    const stmt = ro.db.prepare("UPDATE runs SET name = 'x'") as unknown as { run(): unknown };
    assert.throws(() => stmt.run(), /readonly/);
    ro.db.close();
    db.close();
  });

  test('a read-only handle refuses a schema it cannot migrate', () => {
    const file = tmpFile();
    const raw = new Database(file);
    raw.exec('CREATE TABLE x (a INTEGER) STRICT');
    raw.close();
    assert.throws(() => openDatabase(file, { readonly: true }), assertApiError('conflict', /schema version 0/));
  });

  test('an empty (zero-byte) file is a new database, not a corrupt one', () => {
    const file = tmpFile();
    fs.writeFileSync(file, '');
    const { db, report } = openDatabase(file);
    assert.deepEqual(report, { recovered: false });
    assert.equal(getSchemaVersion(db), LATEST_SCHEMA_VERSION);
    db.close();
  });

  test('a missing file is not_found for a read-only open', () => {
    assert.throws(() => openDatabase(path.join(tmp, 'missing.db'), { readonly: true }), assertApiError('not_found'));
  });
});

describe('0002-dataset-layout', () => {
  test('a version-1 database gains layout (default images), description and count_b, with checks', () => {
    const db = new Database(':memory:');
    migrate(db, MIGRATIONS.slice(0, 1));
    db.prepare("INSERT INTO datasets (id, name, kind, dir, count, width, height, channels, class_names, class_counts, content_hash, created_at) VALUES ('old', 'Old', 'builtin', 'd', 1, 28, 28, 1, NULL, NULL, 'h', 0)").run();
    assert.deepEqual(migrate(db, MIGRATIONS.slice(0, 2)), { from: 1, to: 2 });
    const row = db.prepare("SELECT layout, description, count_b FROM datasets WHERE id = 'old'").get();
    assert.deepEqual({ ...(row as object) }, { layout: 'images', description: '', count_b: 0 });
    assert.throws(() => db.prepare("UPDATE datasets SET layout = 'video' WHERE id = 'old'").run(), /CHECK constraint failed/);
    db.close();
  });
});

describe('0006-best-checkpoint', () => {
  test('a version-5 database with runs gains best_checkpoints: one row per run, checked, STRICT, gone with its run', () => {
    const db = new Database(':memory:');
    db.pragma('foreign_keys = ON');
    migrate(db, MIGRATIONS.slice(0, 5));
    // written as a version-5 app did (today's insertRun reads the new table back)
    db.prepare("INSERT INTO datasets (id, name, kind, dir, count, width, height, channels, class_names, class_counts, content_hash, created_at) VALUES ('mnist', 'MNIST', 'builtin', 'd', 10, 28, 28, 1, NULL, NULL, 'h', 0)").run();
    db.prepare("INSERT INTO runs (id, name, family, dataset_id, config, status, total_steps, created_at, run_dir) VALUES ('r_old', 'old', 'dcgan', 'mnist', ?, 'completed', 100, 0, '/runs/r_old')").run(JSON.stringify(resolveRunConfig({ family: 'dcgan', dataset: 'mnist' }, () => 7)));
    assert.deepEqual(migrate(db, MIGRATIONS.slice(0, 6)), { from: 5, to: 6 });
    assert.equal(getRunDetail(db, 'r_old')!.bestCheckpoint, undefined, 'no best until an evaluation makes one');
    const row = { runId: 'r_old', step: 20, metric: 'fid' as const, score: 31.5, evaluationId: 'eval-1', protocolKey: 'k', sha256: 's', bytes: 10 };
    setBestCheckpoint(db, { ...row, createdAt: 5 });
    setBestCheckpoint(db, { ...row, step: 40, score: 29, createdAt: 6 });
    assert.deepEqual(getRunDetail(db, 'r_old')!.bestCheckpoint, { step: 40, metric: 'fid', score: 29, evaluationId: 'eval-1', protocolKey: 'k', createdAt: 6 });
    assert.equal(db.prepare('SELECT COUNT(*) FROM best_checkpoints').pluck().get(), 1, 'replaced, not added');
    const insert = db.prepare("INSERT INTO best_checkpoints (run_id, step, metric, score, evaluation_id, protocol_key, sha256, bytes, created_at) VALUES ('r_old', 1, ?, ?, 'e', 'k', 's', 0, 0)");
    assert.throws(() => insert.run('is', 1), /CHECK constraint failed/);
    assert.throws(() => insert.run('fid', 'low'), /cannot store TEXT value in REAL column/);
    assert.throws(() => setBestCheckpoint(db, { ...row, runId: 'nope' }), assertApiError('not_found', /run nope not found/));
    assert.throws(() => setBestCheckpoint(db, { ...row, score: Number.NaN }), assertApiError('invalid_input', /finite/));
    assert.ok(deleteRun(db, 'r_old'));
    assert.equal(db.prepare('SELECT COUNT(*) FROM best_checkpoints').pluck().get(), 0);
    db.close();
  });
});
