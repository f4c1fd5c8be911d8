// Opening the studio database (RELIABILITY E1, E3): pragmas, startup integrity check, moving a
// corrupt file aside so the app still starts, and the handle types the repositories take.
import fs from 'node:fs';
import Database from 'better-sqlite3';
import { ApiError } from '../../common/errors.ts';
import { LATEST_SCHEMA_VERSION, migrate } from './migrate.ts';

/** A writable connection. The core holds exactly one (E1: one writer). */
export type Db = Database.Database;

/** A prepared statement that can only read. */
export interface ReadonlyStatement<Row = unknown> {
  get(...params: unknown[]): Row | undefined;
  all(...params: unknown[]): Row[];
  iterate(...params: unknown[]): IterableIterator<Row>;
  pluck(toggleState?: boolean): this;
  raw(toggleState?: boolean): this;
}

/**
 * What read-only code gets: no `exec`, no `pragma`, statements without `run`. A `Db` is assignable
 * to it, so read functions accept either handle; a handle opened with `{readonly: true}` is also
 * read-only at the SQLite level.
 */
export interface ReadonlyDb {
  readonly name: string;
  readonly open: boolean;
  readonly memory: boolean;
  readonly inTransaction: boolean;
  prepare(source: string): ReadonlyStatement;
  /** a read transaction gives several queries one consistent snapshot */
  readonly transaction: Db['transaction'];
  close(): unknown;
}

export type OpenReport = { recovered: false } | { recovered: true; movedTo: string; reason: string };

export interface OpenOptions {
  readonly?: boolean;
  /** apply pending migrations on a writable handle (default true) */
  migrate?: boolean;
  /** run `PRAGMA quick_check` at open (default true); it reads every page, so it costs O(file size) */
  quickCheck?: boolean;
  /** busy timeout in ms (default 5000) */
  busyTimeoutMs?: number;
}

export const BUSY_TIMEOUT_MS = 5000;

/**
 * better-sqlite3 is not an N-API module: Electron's Node needs its own build. `gan-studio start`
 * builds one beside the Node build (node_modules keeps serving the CLI and tests) and points the
 * desktop app at it through this variable; packaged apps are rebuilt by electron-builder instead.
 */
export const SQLITE_BINDING_ENV = 'GAN_STUDIO_SQLITE_BINDING';

function nativeBindingOption(): { nativeBinding?: string } {
  const binding = process.env[SQLITE_BINDING_ENV];
  return binding ? { nativeBinding: binding } : {};
}

/** SQLite result codes that mean the file itself is damaged (as opposed to locked, full, missing). */
const CORRUPTION_CODES = new Set(['SQLITE_NOTADB', 'SQLITE_CORRUPT', 'SQLITE_CORRUPT_INDEX', 'SQLITE_CORRUPT_SEQUENCE', 'SQLITE_CORRUPT_VTAB']);

class CorruptDatabase extends Error {}

function isCorruptionError(err: unknown): boolean {
  if (err instanceof CorruptDatabase) return true;
  return err instanceof Database.SqliteError && CORRUPTION_CODES.has(err.code);
}

function configure(db: Db, readonly: boolean, busyTimeoutMs: number, quickCheck: boolean): void {
  db.pragma(`busy_timeout = ${Math.max(0, Math.floor(busyTimeoutMs))}`);
  if (!readonly) {
    // WAL: readers never block the single writer (charts read while the trainer's scalars land).
    db.pragma('journal_mode = WAL');
    // FULL rather than NORMAL: in WAL mode NORMAL may lose the last commits on power loss. A run's
    // lifecycle rows (status, checkpoint rows that point at files already renamed into place) must
    // survive, or resume would trust a state the database has forgotten. Commits are batched, so
    // the extra fsync per commit is cheap.
    db.pragma('synchronous = FULL');
    // After a burst (a big import, a long run) the WAL would otherwise stay at its high-water size.
    db.pragma(`journal_size_limit = ${64 * 1024 * 1024}`);
  }
  // Per connection, off by default in SQLite: without it the FKs in the schema are decoration.
  db.pragma('foreign_keys = ON');
  if (quickCheck) {
    const rows = db.pragma('quick_check') as { quick_check: string }[];
    const ok = rows.length === 1 && rows[0]!.quick_check === 'ok';
    if (!ok) {
      // SQLite may list thousands of damaged cells; the first few are enough to tell the user.
      const detail = rows.map((r) => r.quick_check).join('; ');
      throw new CorruptDatabase(`quick_check failed: ${detail.length > 400 ? `${detail.slice(0, 400)}…` : detail}`);
    }
  }
}

const SQLITE_MAGIC = Buffer.from('SQLite format 3\0', 'latin1');

/**
 * Checked before SQLite touches the file: on close SQLite deletes a -wal it could not use, which
 * would destroy part of what the user may want to recover from the moved-aside copy.
 */
function assertSqliteHeader(file: string): void {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    return; // missing: SQLite creates it (or reports it, for a read-only open)
  }
  try {
    const head = Buffer.alloc(SQLITE_MAGIC.length);
    const n = fs.readSync(fd, head, 0, head.length, 0);
    if (n > 0 && !head.subarray(0, n).equals(SQLITE_MAGIC.subarray(0, n))) throw new CorruptDatabase('file is not a database (no SQLite header)');
    if (n > 0 && n < SQLITE_MAGIC.length) throw new CorruptDatabase(`file is not a database (only ${n} bytes)`);
  } finally {
    fs.closeSync(fd);
  }
}

/** A read-only handle cannot migrate, so it only works on a database at exactly this code's schema. */
function assertSchemaVersion(db: Db): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version !== LATEST_SCHEMA_VERSION) {
    const hint = version > LATEST_SCHEMA_VERSION ? 'update GAN Studio' : 'open it once with a writable handle to migrate it';
    throw new ApiError('conflict', `the database has schema version ${version} but this version of GAN Studio reads version ${LATEST_SCHEMA_VERSION}; ${hint}`, {
      databaseVersion: version,
      supportedVersion: LATEST_SCHEMA_VERSION,
    });
  }
}

function timestamp(now: Date): string {
  return now.toISOString().replace(/[:.]/g, '-');
}

/** Renames the database and its -wal/-shm to `<file>.corrupt-<timestamp>[-wal|-shm]`. */
function moveAside(file: string): string {
  let movedTo = `${file}.corrupt-${timestamp(new Date())}`;
  for (let n = 1; fs.existsSync(movedTo); n++) movedTo = `${file}.corrupt-${timestamp(new Date())}-${n}`;
  // Side files first: a -wal carries no identity of its database, so one left behind by an
  // interrupted move would be replayed into the fresh file SQLite creates under the old name.
  for (const suffix of ['-wal', '-shm', '-journal']) {
    if (fs.existsSync(file + suffix)) fs.renameSync(file + suffix, movedTo + suffix);
  }
  fs.renameSync(file, movedTo);
  return movedTo;
}

function isFileDb(file: string): boolean {
  return file !== '' && file !== ':memory:' && !file.startsWith('file:');
}

function tryClose(db: Db | undefined): void {
  try {
    db?.close();
  } catch {
    // closing a handle to a damaged file may fail too; it is being discarded either way
  }
}

/**
 * Opens (creating if needed) the studio database. A writable handle gets WAL, `synchronous=FULL`,
 * foreign keys, a busy timeout, a `quick_check` and pending migrations. A corrupt file is renamed
 * to `<file>.corrupt-<timestamp>` (with its -wal/-shm) and a fresh database created; `report` says
 * so, so the UI can tell the user. A database from a newer app version is refused with a
 * `conflict` ApiError and left untouched.
 */
export function openDatabase(file: string, opts: OpenOptions & { readonly: true }): { db: ReadonlyDb; report: OpenReport };
export function openDatabase(file: string, opts?: OpenOptions & { readonly?: false }): { db: Db; report: OpenReport };
export function openDatabase(file: string, opts: OpenOptions = {}): { db: Db | ReadonlyDb; report: OpenReport } {
  const readonly = opts.readonly ?? false;
  const busy = opts.busyTimeoutMs ?? BUSY_TIMEOUT_MS;
  const quickCheck = opts.quickCheck ?? true;
  const runMigrations = (opts.migrate ?? true) && !readonly;

  const attempt = (): Db => {
    let db: Db | undefined;
    try {
      if (isFileDb(file)) assertSqliteHeader(file);
      db = new Database(file, { readonly, fileMustExist: readonly, ...nativeBindingOption() });
      configure(db, readonly, busy, quickCheck);
      if (runMigrations) migrate(db);
      else if (readonly) assertSchemaVersion(db);
      return db;
    } catch (err) {
      tryClose(db);
      throw err;
    }
  };

  try {
    return { db: attempt(), report: { recovered: false } };
  } catch (err) {
    if (!isCorruptionError(err)) {
      if (err instanceof ApiError) throw err;
      if (readonly && err instanceof Database.SqliteError && err.code === 'SQLITE_CANTOPEN') {
        throw new ApiError('not_found', `database ${file} does not exist`);
      }
      throw err;
    }
    const reason = err instanceof Error ? err.message : String(err);
    // A read-only handle must not move files around behind the writer's back.
    if (readonly || !isFileDb(file)) throw new ApiError('internal', `database ${file} is corrupt: ${reason}`);
    const movedTo = moveAside(file);
    return { db: attempt(), report: { recovered: true, movedTo, reason } };
  }
}

/** `PRAGMA integrity_check` (thorough, slow on big files): 'ok' or the problems found. */
export function integrityCheck(db: Db): string[] {
  const rows = db.pragma('integrity_check') as { integrity_check: string }[];
  return rows.map((r) => r.integrity_check);
}

// Prepared statements are compiled once per connection; the repositories' hot paths (scalar
// batches, list queries) would otherwise re-parse their SQL on every call.
const statementCache = new WeakMap<object, Map<string, unknown>>();

/** A cached prepared statement on a writable handle. */
export function statement(db: Db, source: string): Database.Statement {
  let cache = statementCache.get(db);
  if (!cache) statementCache.set(db, (cache = new Map()));
  let stmt = cache.get(source) as Database.Statement | undefined;
  if (!stmt) cache.set(source, (stmt = db.prepare(source)));
  return stmt;
}

/** A cached prepared statement on any handle, for reads. */
export function readStatement<Row = unknown>(db: ReadonlyDb, source: string): ReadonlyStatement<Row> {
  let cache = statementCache.get(db);
  if (!cache) statementCache.set(db, (cache = new Map()));
  let stmt = cache.get(source) as ReadonlyStatement<Row> | undefined;
  if (!stmt) cache.set(source, (stmt = db.prepare(source) as ReadonlyStatement<Row>));
  return stmt;
}

/**
 * A foreign-key violation. ON DELETE RESTRICT reports SQLITE_CONSTRAINT_TRIGGER rather than
 * SQLITE_CONSTRAINT_FOREIGNKEY, hence both.
 */
export function isForeignKeyError(err: unknown): boolean {
  return (
    err instanceof Database.SqliteError &&
    (err.code === 'SQLITE_CONSTRAINT_FOREIGNKEY' || (err.code === 'SQLITE_CONSTRAINT_TRIGGER' && err.message.includes('FOREIGN KEY')))
  );
}

/**
 * Turns SQLite constraint errors into API errors (STYLE 13); anything else is rethrown as is.
 * `what` names the thing being written, e.g. `run r_1`.
 */
export function translateSqliteError(err: unknown, what: string): never {
  if (isForeignKeyError(err)) throw new ApiError('conflict', `${what}: a referenced row is missing or still referenced`);
  if (err instanceof Database.SqliteError) {
    switch (err.code) {
      case 'SQLITE_CONSTRAINT_PRIMARYKEY':
      case 'SQLITE_CONSTRAINT_UNIQUE':
        throw new ApiError('conflict', `${what} already exists`);
      case 'SQLITE_CONSTRAINT_CHECK':
      case 'SQLITE_CONSTRAINT_NOTNULL':
      case 'SQLITE_CONSTRAINT_DATATYPE':
        throw new ApiError('invalid_input', `${what}: ${err.message}`);
    }
  }
  throw err;
}
