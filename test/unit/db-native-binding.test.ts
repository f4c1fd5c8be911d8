// The desktop app opens SQLite through a better-sqlite3 build for Electron's ABI, named by
// GAN_STUDIO_SQLITE_BINDING; the variable must really be used (and a wrong one must say so).
import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { createRequire } from 'node:module';
import { openDatabase, SQLITE_BINDING_ENV } from '../../electron/core/db/database.ts';

const saved = process.env[SQLITE_BINDING_ENV];
afterEach(() => {
  if (saved === undefined) delete process.env[SQLITE_BINDING_ENV];
  else process.env[SQLITE_BINDING_ENV] = saved;
});

test('an explicit native binding is loaded', () => {
  const pkg = path.dirname(createRequire(import.meta.url).resolve('better-sqlite3/package.json'));
  process.env[SQLITE_BINDING_ENV] = path.join(pkg, 'build', 'Release', 'better_sqlite3.node');
  const { db } = openDatabase(':memory:');
  assert.equal((db.prepare('SELECT 41 + 1 AS x').get() as { x: number }).x, 42);
  db.close();
});

test('a missing binding fails loudly instead of falling back', () => {
  process.env[SQLITE_BINDING_ENV] = '/nonexistent/better_sqlite3.node';
  assert.throws(() => openDatabase(':memory:'), /nonexistent|Cannot find|No such file/);
});
