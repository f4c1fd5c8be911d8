// The browser-mode zip upload against a real core (real SQLite, the import in its worker thread):
// the same Host / session-cookie checks as the rest of the server plus the Origin, a byte cap with
// 413, zip signature checked, nothing left in the staging folder after a refusal, an abort, a
// failed import or a finished one; a good zip becomes a listed dataset.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, readdir, realpath, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { mkdtemp } from 'node:fs/promises';
import { DatasetImportRequestSchema, type DatasetImportStatus } from '../../electron/common/api.ts';
import { UPLOAD_PATH, uploadQuery, parseUploadQuery } from '../../electron/common/upload.ts';
import { createStudioCore, type StudioCore } from '../../electron/core/services/studio.ts';
import { startBrowserServer, type BrowserServer } from '../../electron/core/transport/browser-server.ts';
import { uploadDisplayName } from '../../electron/core/transport/zip-upload.ts';
import { createApiHandler } from '../../electron/core/transport/api-handler.ts';
import { makeZip, png } from './import-fixtures.ts';

const MAX = 64 * 1024;

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  json: { status?: DatasetImportStatus; error?: { code: string; message: string } } | null;
}

/** One request; `body` as chunks lets a test stream without Content-Length, `abortAfter` cuts it. */
function post(port: number, target: string, options: { method?: string; headers?: Record<string, string>; body?: Buffer | Buffer[]; abortAfterMs?: number } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const chunked = Array.isArray(options.body);
    const headers: Record<string, string> = { ...options.headers };
    if (!chunked && options.body) headers['content-length'] = String(options.body.length);
    const req = request({ host: '127.0.0.1', port, path: target, method: options.method ?? 'POST', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: Reply['json'] = null;
        try {
          json = JSON.parse(text) as Reply['json'];
        } catch {
          // a plain-text answer
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, json });
      });
    });
    // the server may answer and close before the whole body is sent
    req.on('error', (err) => (options.abortAfterMs !== undefined ? resolve({ status: 0, headers: {}, json: null }) : reject(err)));
    if (options.abortAfterMs !== undefined) {
      const parts = options.body as Buffer[];
      req.write(parts[0]);
      setTimeout(() => req.destroy(), options.abortAfterMs);
      return;
    }
    if (chunked) {
      for (const c of options.body as Buffer[]) req.write(c);
      req.end();
    } else req.end(options.body);
  });
}

describe('zip upload (browser mode)', { timeout: 60_000 }, () => {
  let base: string;
  let home: string;
  let staging: string;
  let core: StudioCore;
  let server: BrowserServer;
  let cookie: string;
  let origin: string;
  let zip: Buffer;

  const staged = async () => (await readdir(staging).catch(() => [] as string[])).sort();
  const importedFolders = async () => (await readdir(path.join(home, 'datasets'))).filter((n) => n.startsWith('imported'));
  const authed = (extra: Record<string, string> = {}) => ({ cookie, origin, 'content-type': 'application/zip', ...extra });

  async function waitEnd(importId: string): Promise<DatasetImportStatus> {
    for (let i = 0; i < 400; i++) {
      const s = await core.api['datasets.importStatus']({ importId });
      if (s.state !== 'running') return s;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('the import did not end');
  }
  /** the staged zip is removed on the import's final event, a moment after the status says so */
  async function stagingEmpties(): Promise<string[]> {
    for (let i = 0; i < 100 && (await staged()).length > 0; i++) await new Promise((r) => setTimeout(r, 20));
    return staged();
  }

  before(async () => {
    base = await realpath(await mkdtemp(path.join(os.tmpdir(), 'gs-upload-')));
    home = path.join(base, 'home');
    staging = path.join(home, 'uploads');
    const staticDir = path.join(base, 'renderer');
    await mkdir(staticDir, { recursive: true });
    await writeFile(path.join(staticDir, 'index.html'), '<!doctype html><title>GAN Studio</title>');
    core = await createStudioCore({ home, mode: 'memory' });
    server = await startBrowserServer({ api: core.api, events: core.events, staticDir, port: 0, onInternalError: () => {}, uploads: { dir: staging, maxBytes: MAX, idleTimeoutMs: 2000 } });
    const login = await post(server.port, `/?token=${new URL(server.url).searchParams.get('token')}`, { method: 'GET' });
    assert.equal(login.status, 302);
    cookie = (login.headers['set-cookie']?.[0] ?? '').split(';')[0];
    origin = server.origin;
    const entries = [];
    for (const [c, cls] of ['left', 'right'].entries()) {
      for (let i = 0; i < 6; i++) entries.push({ name: `${cls}/${i}.png`, data: await png(10, 10, 1, (x, y) => (c ? x : y) * 20 + i), method: 'deflate' as const });
    }
    zip = makeZip(entries);
    assert.ok(zip.length < MAX);
  });
  after(async () => {
    await server?.close();
    await core?.close();
    await rm(base, { recursive: true, force: true });
  });

  it('the query string round-trips the import options and refuses anything else', () => {
    const q = uploadQuery({ name: 'a b&c', size: 16, channels: 1, holdout: 0.2, flip: true, seed: 7, fit: 'pad' });
    const parsed = parseUploadQuery(new URLSearchParams(q.slice(1)));
    assert.deepEqual(parsed, { ok: true, options: { name: 'a b&c', size: 16, channels: 1, holdout: 0.2, flip: true, seed: 7, fit: 'pad' }, fileName: '' });
    const named = parseUploadQuery(new URLSearchParams(uploadQuery({}, '../../My Pets (2024).ZIP').slice(1)));
    assert.deepEqual(named, { ok: true, options: {}, fileName: 'My_Pets_2024_' }, 'the file name is reduced to safe characters, no path');
    assert.equal(parseUploadQuery(new URLSearchParams('path=/etc')).ok, false);
    assert.equal(parseUploadQuery(new URLSearchParams('kind=npy')).ok, false);
    assert.equal(parseUploadQuery(new URLSearchParams('size=1&size=2')).ok, false);
    assert.equal(parseUploadQuery(new URLSearchParams('size=abc')).ok, false);
    assert.equal(parseUploadQuery(new URLSearchParams('flip=yes')).ok, false);
  });

  it('refuses without the session cookie (401), from another Origin or none (403), at a foreign Host (403), and other methods (405)', async () => {
    const noCookie = await post(server.port, UPLOAD_PATH, { headers: { origin }, body: zip });
    assert.equal(noCookie.status, 401);
    assert.equal(noCookie.json?.error?.code, 'unauthorized');
    const wrongCookie = await post(server.port, UPLOAD_PATH, { headers: { origin, cookie: `${cookie.split('=')[0]}=forged` }, body: zip });
    assert.equal(wrongCookie.status, 401);
    const evil = await post(server.port, UPLOAD_PATH, { headers: authed({ origin: 'http://evil.example' }), body: zip });
    assert.equal(evil.status, 403);
    assert.match(evil.json?.error?.message ?? '', /Origin/);
    const otherPort = await post(server.port, UPLOAD_PATH, { headers: authed({ origin: `http://127.0.0.1:${server.port + 1}` }), body: zip });
    assert.equal(otherPort.status, 403);
    const noOrigin = await post(server.port, UPLOAD_PATH, { headers: { cookie }, body: zip });
    assert.equal(noOrigin.status, 403);
    const rebound = await post(server.port, UPLOAD_PATH, { headers: authed({ host: 'evil.example' }), body: zip });
    assert.equal(rebound.status, 403);
    const get = await post(server.port, UPLOAD_PATH, { method: 'GET', headers: authed() });
    assert.equal(get.status, 405);
    assert.equal(get.headers.allow, 'POST');
    assert.deepEqual(await staged(), []);
    assert.deepEqual((await core.api['datasets.imports']({})).length, 0, 'no import was started');
  });

  it('oversize: 413 on the declared length and on a streamed body past the cap, nothing left on disk', async () => {
    const declared = await post(server.port, UPLOAD_PATH, { headers: authed(), body: Buffer.concat([zip, Buffer.alloc(MAX)]) }).catch(() => null);
    // the server answers before reading the body, then closes
    assert.equal(declared?.status, 413);
    assert.equal(declared?.json?.error?.code, 'payload_too_large');
    const chunks = [zip.subarray(0, 4), ...Array.from({ length: 20 }, () => Buffer.alloc(8 * 1024, 7))];
    const streamed = await post(server.port, UPLOAD_PATH, { headers: authed(), body: chunks }).catch(() => null);
    assert.equal(streamed?.status, 413);
    assert.match(streamed?.json?.error?.message ?? '', /limit of 0\.1 MiB/);
    assert.deepEqual(await staged(), []);
    assert.deepEqual(await importedFolders(), []);
  });

  it('only zip: a PNG, an empty body and a bad option are refused, nothing left on disk', async () => {
    const notZip = await post(server.port, UPLOAD_PATH, { headers: authed(), body: await png(8, 8, 1, () => 1) });
    assert.equal(notZip.status, 415);
    assert.match(notZip.json?.error?.message ?? '', /zip signature/);
    const empty = await post(server.port, UPLOAD_PATH, { headers: authed(), body: Buffer.alloc(0) });
    assert.equal(empty.status, 415);
    const badOption = await post(server.port, `${UPLOAD_PATH}?path=/etc/passwd`, { headers: authed(), body: zip });
    assert.equal(badOption.status, 400);
    const badSize = await post(server.port, `${UPLOAD_PATH}?size=2`, { headers: authed(), body: zip });
    assert.equal(badSize.status, 400, 'the import schema checks the values');
    assert.equal(badSize.json?.error?.code, 'invalid_input');
    assert.deepEqual(await staged(), []);
  });

  it('an upload cut off half-way leaves no .part file', async () => {
    const big = Buffer.concat([zip, Buffer.alloc(20 * 1024)]);
    const r = await post(server.port, UPLOAD_PATH, { headers: authed({ 'content-length': String(big.length) }), body: [big.subarray(0, 10 * 1024)], abortAfterMs: 150 });
    assert.equal(r.status, 0);
    for (let i = 0; i < 50 && (await staged()).length > 0; i++) await new Promise((res) => setTimeout(res, 20));
    assert.deepEqual(await staged(), []);
  });

  it('a good zip starts a normal import that ends in a listed dataset, and the staged zip is removed', async () => {
    const r = await post(server.port, `${UPLOAD_PATH}${uploadQuery({ name: 'Uploaded shapes', size: 8, holdout: 0 }, '../shapes/../../x.zip')}`, { headers: authed(), body: zip });
    assert.equal(r.status, 202, JSON.stringify(r.json));
    const status = r.json!.status!;
    assert.equal(status.state, 'running');
    assert.equal(path.dirname(status.source), staging, 'staged inside the studio home');
    assert.match(path.basename(status.source), /^upload-[0-9a-f]{16}-x\.zip$/);
    const end = await waitEnd(status.importId);
    assert.equal(end.state, 'done', JSON.stringify(end.error));
    assert.equal(end.report?.container, 'zip');
    assert.equal(end.report?.counts.imported, 12);
    const listed = (await core.api['datasets.list']({})).find((d) => d.id === end.datasetId);
    assert.equal(listed?.name, 'Uploaded shapes');
    assert.equal(listed?.count, 12);
    assert.deepEqual(listed?.classNames, ['left', 'right']);
    assert.equal(end.report?.source, 'x.zip', 'the report names the uploaded file, not the staged one');
    assert.deepEqual(await stagingEmpties(), []);
  });

  it("the report, the manifest and the default name use the user's file name, never the staged path", async () => {
    const fileName = 'C:\\Users\\Zoë\\My Pets (2024)\u0007.zip';
    const r = await post(server.port, `${UPLOAD_PATH}${uploadQuery({ size: 8, holdout: 0 }, fileName)}`, { headers: authed(), body: zip });
    assert.equal(r.status, 202, JSON.stringify(r.json));
    const end = await waitEnd(r.json!.status!.importId);
    assert.equal(end.state, 'done', JSON.stringify(end.error));
    assert.equal(end.report?.source, 'My Pets (2024).zip', 'base name only, control characters dropped');
    const { report } = await core.api['datasets.report']({ datasetId: end.datasetId! });
    assert.equal(report?.source, 'My Pets (2024).zip');
    assert.doesNotMatch(JSON.stringify(report), /upload-[0-9a-f]{16}|uploads/, 'nothing in the stored report points at the staged file');
    const listed = (await core.api['datasets.list']({})).find((d) => d.id === end.datasetId)!;
    assert.equal(listed.name, 'My Pets (2024)', 'the default dataset name comes from the file name');
    assert.match(listed.description, /^Imported from My Pets \(2024\)\.zip \(labelled\)/);
    assert.match(end.datasetId!, /^imported:my-pets-2024-[0-9a-f]{6}$/);
    const dir = path.join(home, 'datasets', end.datasetId!.replace(/[^A-Za-z0-9_-]/g, '-'));
    const manifest = JSON.parse(await readFile(path.join(dir, 'manifest.json'), 'utf8')) as { source: string };
    assert.equal(manifest.source, 'My Pets (2024).zip');
    assert.deepEqual(await stagingEmpties(), []);
  });

  it('uploadDisplayName keeps a readable base name within 200 characters; sourceLabel is validated', async () => {
    assert.equal(uploadDisplayName('../../a/b/photos.zip'), 'photos.zip');
    assert.equal(uploadDisplayName('  spaced name.zip  '), 'spaced name.zip');
    assert.equal(uploadDisplayName('\u0000\u001b\u007f'), null);
    assert.equal(uploadDisplayName('dir/'), null);
    assert.equal(uploadDisplayName(null), null);
    assert.equal(Array.from(uploadDisplayName('😀'.repeat(300))!).length, 200, 'cut on characters, not UTF-16 units');
    // the contract the transports check every request against
    const handler = createApiHandler(core.api);
    for (const bad of ['a/b.zip', 'a\\b.zip', 'bell\u0007.zip', '', '   ', 'x'.repeat(201), 42]) {
      const r = await handler('datasets.import', { path: path.join(base, 'none.zip'), sourceLabel: bad });
      assert.equal(r.ok ? 'accepted' : r.error.code, 'invalid_input', JSON.stringify(bad));
      assert.match(r.ok ? '' : JSON.stringify(r.error), /sourceLabel/);
    }
    assert.equal(DatasetImportRequestSchema.parse({ path: '/x.zip', sourceLabel: ' Zoë’s cats (1).zip ' }).sourceLabel, 'Zoë’s cats (1).zip');
  });

  it('a zip with nothing importable fails its import and is removed too', async () => {
    const hopeless = makeZip([{ name: 'a.png', data: Buffer.from('not a png') }]);
    const r = await post(server.port, UPLOAD_PATH, { headers: authed(), body: hopeless });
    assert.equal(r.status, 202);
    const end = await waitEnd(r.json!.status!.importId);
    assert.equal(end.state, 'failed');
    assert.match(end.error?.message ?? '', /nothing importable/);
    assert.deepEqual(await stagingEmpties(), []);
  });

  it('without an upload folder the endpoint does not exist', async () => {
    const other = await startBrowserServer({ api: core.api, events: core.events, staticDir: path.join(base, 'renderer'), port: 0, onInternalError: () => {} });
    try {
      const r = await post(other.port, UPLOAD_PATH, { headers: { origin: other.origin }, body: zip });
      assert.equal(r.status, 404);
    } finally {
      await other.close();
    }
  });
});
