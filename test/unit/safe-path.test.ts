import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, symlink, writeFile, realpath } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { checkUrlPath, isInside, resolveInside } from '../../electron/core/transport/safe-path.ts';

describe('safe-path', () => {
  let base: string;
  let root: string;

  before(async () => {
    base = await realpath(await mkdtemp(path.join(os.tmpdir(), 'gs-safe-path-')));
    root = path.join(base, 'www');
    await mkdir(path.join(root, 'assets'), { recursive: true });
    await writeFile(path.join(root, 'index.html'), '<!doctype html>');
    await writeFile(path.join(root, 'assets', 'app.js'), 'export {}');
    await writeFile(path.join(root, 'assets', 'with space.css'), 'body{}');
    await writeFile(path.join(base, 'secret.txt'), 'secret');
    await mkdir(path.join(base, 'www-evil'));
    await writeFile(path.join(base, 'www-evil', 'x.txt'), 'sibling');
    await symlink(path.join(base, 'secret.txt'), path.join(root, 'leak.txt'));
    await symlink(base, path.join(root, 'up'));
    await symlink(path.join(root, 'index.html'), path.join(root, 'alias.html'));
  });
  after(async () => {
    await rm(base, { recursive: true, force: true });
  });

  it('serves files inside the root', async () => {
    assert.deepEqual(await resolveInside(root, '/index.html'), { ok: true, file: path.join(root, 'index.html') });
    assert.deepEqual(await resolveInside(root, '/assets/app.js'), { ok: true, file: path.join(root, 'assets', 'app.js') });
    assert.deepEqual(await resolveInside(root, '/assets/with%20space.css'), { ok: true, file: path.join(root, 'assets', 'with space.css') });
    assert.deepEqual(await resolveInside(root, '/'), { ok: true, file: path.join(root, 'index.html') });
  });

  it('allows a symlink that stays inside the root', async () => {
    assert.deepEqual(await resolveInside(root, '/alias.html'), { ok: true, file: path.join(root, 'index.html') });
  });

  for (const evil of ['/../secret.txt', '/assets/../../secret.txt', '/%2e%2e/secret.txt', '/%2E%2E/secret.txt', '/assets/%2e%2e/%2e%2e/secret.txt', '/..%2fsecret.txt', '/%2e%2e%2fsecret.txt', '/.', '/./index.html']) {
    it(`rejects dot segments: ${evil}`, async () => {
      const r = await resolveInside(root, evil);
      assert.equal(r.ok, false);
      assert.ok(!r.ok && r.status === 400);
    });
  }

  for (const evil of ['/..%5csecret.txt', '/%5c..%5csecret.txt', '/assets\\..\\..\\secret.txt', '/%5cetc%5cpasswd']) {
    it(`rejects backslashes: ${evil}`, async () => {
      assert.equal((await resolveInside(root, evil)).ok, false);
    });
  }

  for (const evil of ['//etc/passwd', '/%2fetc%2fpasswd', '/C:/Windows/win.ini', '/c%3a/Windows/win.ini', 'etc/passwd', '/%2F%2Fetc/passwd']) {
    it(`rejects absolute paths: ${evil}`, async () => {
      const r = await resolveInside(root, evil);
      assert.ok(!r.ok && r.status === 400, JSON.stringify(r));
    });
  }

  it('reads an absolute-looking URL path relative to the root', async () => {
    assert.deepEqual(await resolveInside(root, '/etc/passwd'), { ok: false, status: 404, reason: 'not found' });
  });

  for (const evil of ['/index.html%00.js', '/index.html\0', '/%00']) {
    it(`rejects NUL: ${JSON.stringify(evil)}`, async () => {
      assert.deepEqual(await resolveInside(root, evil), { ok: false, status: 400, reason: 'NUL in path' });
    });
  }

  it('rejects malformed percent-encoding and very long paths', async () => {
    assert.equal((await resolveInside(root, '/%E0%A4%A')).ok, false);
    assert.equal((await resolveInside(root, '/' + 'a'.repeat(5000))).ok, false);
  });

  it('rejects a symlink pointing outside (realpath containment, not a lexical check)', async () => {
    assert.deepEqual(await resolveInside(root, '/leak.txt'), { ok: false, status: 404, reason: 'outside the root' });
    assert.deepEqual(await resolveInside(root, '/up/secret.txt'), { ok: false, status: 404, reason: 'outside the root' });
    assert.equal(checkUrlPath('/leak.txt').ok, true, 'lexically fine: only realpath catches it');
  });

  it('does not serve directories or missing files', async () => {
    assert.equal((await resolveInside(root, '/assets')).ok, false);
    assert.equal((await resolveInside(root, '/nope.js')).ok, false);
  });

  it('isInside does not confuse a sibling with a common prefix', () => {
    assert.equal(isInside(root, path.join(base, 'www-evil', 'x.txt')), false);
    assert.equal(isInside(root, path.join(root, '..foo')), true);
    assert.equal(isInside(root, root), true);
    assert.equal(isInside(root, base), false);
  });
});
