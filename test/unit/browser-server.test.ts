import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, mkdir, rm, symlink, writeFile, realpath } from 'node:fs/promises';
import { request } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { WebSocket } from 'ws';
import { TRANSPORT_LIMITS } from '../../electron/common/api.ts';
import { WS_PATH } from '../../electron/common/wire.ts';
import { ApiError } from '../../electron/common/errors.ts';
import { secretsMatch, startBrowserServer } from '../../electron/core/transport/browser-server.ts';
import type { BrowserServer } from '../../electron/core/transport/browser-server.ts';
import { CONTENT_SECURITY_POLICY } from '../../electron/core/transport/security-headers.ts';
import { createWsClient } from '../../renderer/src/lib/transport/ws-client.ts';
import type { ConnectionState } from '../../renderer/src/lib/transport/ws-client.ts';
import { createFakeCore, DATASETS, RUN } from './transport-fakes.ts';
import type { FakeCore } from './transport-fakes.ts';

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

function http(port: number, target: string, options: { method?: string; headers?: Record<string, string>; body?: string; setHost?: boolean } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: target, method: options.method ?? 'GET', headers: options.headers, setHost: options.setHost ?? true }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

function tokenOf(server: BrowserServer): string {
  return new URL(server.url).searchParams.get('token')!;
}

/** Exchanges the launch token for the session cookie, as the browser does on first load. */
async function login(server: BrowserServer): Promise<string> {
  const r = await http(server.port, `/?token=${tokenOf(server)}`);
  assert.equal(r.status, 302);
  const setCookie = r.headers['set-cookie']?.[0] ?? '';
  return setCookie.split(';')[0];
}

function openSocket(port: number, headers: Record<string, string>): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}${WS_PATH}`, { headers });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

function upgradeStatus(port: number, headers: Record<string, string>, wsPath = WS_PATH): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}${wsPath}`, { headers });
    ws.once('open', () => {
      ws.close();
      resolve(101);
    });
    ws.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.once('error', (err) => reject(err));
  });
}

function nextMessage(ws: WebSocket): Promise<Record<string, unknown>> {
  return new Promise((resolve) => ws.once('message', (data) => resolve(JSON.parse(String(data)) as Record<string, unknown>)));
}

/** Waits until the server has let go of every earlier socket (each one holds an event subscription). */
async function settle(core: FakeCore): Promise<void> {
  for (let i = 0; i < 200 && core.events.listenerCount > 0; i++) await new Promise((resolve) => setTimeout(resolve, 10));
  assert.equal(core.events.listenerCount, 0, 'earlier sockets closed');
}

function assertSecurityHeaders(r: Reply): void {
  assert.equal(r.headers['content-security-policy'], CONTENT_SECURITY_POLICY);
  assert.equal(r.headers['x-content-type-options'], 'nosniff');
  assert.equal(r.headers['referrer-policy'], 'no-referrer');
  assert.deepEqual(Object.keys(r.headers).filter((h) => h.startsWith('access-control-')), [], 'no CORS headers, ever');
}

describe('browser-mode server', () => {
  let base: string;
  let staticDir: string;
  let core: FakeCore;
  let server: BrowserServer;
  let cookie: string;
  let host: string;
  let origin: string;

  before(async () => {
    base = await realpath(await mkdtemp(path.join(os.tmpdir(), 'gs-browser-server-')));
    staticDir = path.join(base, 'renderer');
    await mkdir(path.join(staticDir, 'assets'), { recursive: true });
    await writeFile(path.join(staticDir, 'index.html'), '<!doctype html><title>GAN Studio</title><script type="module" src="./assets/app.js"></script>');
    await writeFile(path.join(staticDir, 'assets', 'app.js'), 'export const x = 1;\n');
    await writeFile(path.join(staticDir, 'assets', 'style.css'), 'body{}');
    await writeFile(path.join(base, 'secret.txt'), 'top secret');
    await symlink(path.join(base, 'secret.txt'), path.join(staticDir, 'assets', 'leak.txt'));
    core = createFakeCore();
    server = await startBrowserServer({ api: core.api, events: core.events, staticDir, port: 0, onInternalError: () => {} });
    cookie = await login(server);
    host = `127.0.0.1:${server.port}`;
    origin = `http://${host}`;
  });
  after(async () => {
    await server?.close();
    await rm(base, { recursive: true, force: true });
  });

  it('binds 127.0.0.1 and prints a launch URL with a 256-bit token', () => {
    assert.equal(server.origin, `http://127.0.0.1:${server.port}`);
    assert.match(server.url, new RegExp(`^http://127\\.0\\.0\\.1:${server.port}/\\?token=[A-Za-z0-9_-]{43}$`));
    assert.ok(server.port > 0);
  });

  it('exchanges the token for an HttpOnly SameSite=Strict cookie and redirects it out of the URL', async () => {
    const r = await http(server.port, `/?token=${tokenOf(server)}`);
    assert.equal(r.status, 302);
    assert.equal(r.headers.location, '/');
    const setCookie = r.headers['set-cookie']?.[0] ?? '';
    assert.match(setCookie, /; HttpOnly/);
    assert.match(setCookie, /; SameSite=Strict/);
    assert.match(setCookie, /; Path=\//);
    assert.ok(!setCookie.includes(tokenOf(server)), 'the cookie is its own secret, not the launch token');
    assertSecurityHeaders(r);
    const page = await http(server.port, '/', { headers: { cookie } });
    assert.equal(page.status, 200);
    assert.match(page.body, /GAN Studio/);
    assert.equal(page.headers['content-type'], 'text/html; charset=utf-8');
    assert.equal(page.headers['cache-control'], 'no-store');
    assertSecurityHeaders(page);
  });

  it('answers 401 without token or cookie, pointing at the terminal', async () => {
    for (const target of ['/', '/index.html', '/assets/app.js', WS_PATH]) {
      const r = await http(server.port, target);
      assert.equal(r.status, 401, target);
      assert.match(r.body, /URL printed in the terminal/);
      assert.equal(r.headers['set-cookie'], undefined);
      assertSecurityHeaders(r);
    }
    assert.equal((await http(server.port, '/', { headers: { cookie: `${cookie.split('=')[0]}=forged` } })).status, 401);
    assert.equal((await http(server.port, '/', { headers: { cookie: cookie.replace(/^gan_studio_\d+/, 'gan_studio_1') } })).status, 401, 'cookie name is per port');
  });

  it('rejects a wrong token of the same length and of another length', async () => {
    const token = tokenOf(server);
    const sameLength = (token[0] === 'A' ? 'B' : 'A') + token.slice(1);
    for (const wrong of [sameLength, token.slice(0, -1), token + 'x', '', 'a'.repeat(1000)]) {
      const r = await http(server.port, `/?token=${encodeURIComponent(wrong)}`);
      assert.equal(r.status, 401);
      assert.equal(r.headers['set-cookie'], undefined);
    }
    assert.equal(secretsMatch(token, token), true);
    assert.equal(secretsMatch(sameLength, token), false);
    assert.equal(secretsMatch(token.slice(1), token), false);
  });

  it('rejects unexpected Host headers on HTTP (DNS rebinding)', async () => {
    for (const badHost of [`evil.example:${server.port}`, '127.0.0.1', `127.0.0.1:${server.port + 1}`, `localhost.evil.example:${server.port}`, `[::1]:${server.port}`]) {
      const r = await http(server.port, '/', { headers: { host: badHost, cookie } });
      assert.equal(r.status, 403, badHost);
      assertSecurityHeaders(r);
      assert.equal((await http(server.port, `/?token=${tokenOf(server)}`, { headers: { host: badHost } })).status, 403, 'not even the token exchange');
    }
    // Node's HTTP parser already refuses an HTTP/1.1 request without Host (400)
    assert.ok([400, 403].includes((await http(server.port, '/', { setHost: false, headers: { cookie } })).status), 'no Host at all');
    assert.equal((await http(server.port, '/', { headers: { host: `localhost:${server.port}`, cookie } })).status, 200);
    assert.equal((await http(server.port, '/', { headers: { host: `LOCALHOST:${server.port}`, cookie } })).status, 200);
  });

  it('allows GET and HEAD only; 405 for the rest, without CORS', async () => {
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']) {
      const r = await http(server.port, '/', { method, headers: { cookie, origin: 'http://evil.example', 'access-control-request-method': 'POST' }, body: method === 'OPTIONS' ? undefined : '{"a":1}' });
      assert.equal(r.status, 405, method);
      assert.equal(r.headers.allow, 'GET, HEAD');
      assertSecurityHeaders(r);
    }
    const head = await http(server.port, '/assets/app.js', { method: 'HEAD', headers: { cookie } });
    assert.equal(head.status, 200);
    assert.equal(head.body, '');
    assert.equal(head.headers['content-length'], String('export const x = 1;\n'.length));
    assert.equal((await http(server.port, '/', { headers: { cookie, 'content-length': '5' }, body: 'hello' })).status, 413);
  });

  it('serves static files with the right types and refuses to leave the folder', async () => {
    const js = await http(server.port, '/assets/app.js', { headers: { cookie } });
    assert.equal(js.status, 200);
    assert.equal(js.headers['content-type'], 'text/javascript; charset=utf-8');
    assert.equal(js.headers['cache-control'], 'no-cache');
    assertSecurityHeaders(js);
    assert.equal((await http(server.port, '/assets/style.css', { headers: { cookie } })).headers['content-type'], 'text/css; charset=utf-8');
    for (const evil of ['/../secret.txt', '/%2e%2e/secret.txt', '/assets/..%2f..%2fsecret.txt', '/..%5csecret.txt', '//etc/passwd', '/index.html%00', '/assets/leak.txt']) {
      const r = await http(server.port, evil, { headers: { cookie } });
      assert.ok(r.status === 400 || r.status === 404, `${evil} → ${r.status}`);
      assert.ok(!r.body.includes('top secret'));
    }
    assert.equal((await http(server.port, '/missing.js', { headers: { cookie } })).status, 404);
    const route = await http(server.port, '/runs/run-1', { headers: { cookie } });
    assert.equal(route.status, 200, 'client-side routes get the app shell');
    assert.match(route.body, /GAN Studio/);
  });

  it('rejects WebSocket upgrades with a bad Host, a foreign Origin or no cookie', async () => {
    assert.equal(await upgradeStatus(server.port, { cookie, origin }), 101);
    assert.equal(await upgradeStatus(server.port, { cookie, origin: `http://localhost:${server.port}`, host: `localhost:${server.port}` }), 101);
    assert.equal(await upgradeStatus(server.port, { cookie, origin, host: `evil.example:${server.port}` }), 403);
    assert.equal(await upgradeStatus(server.port, { cookie, origin: `http://evil.example:${server.port}`, host: `evil.example:${server.port}` }), 403);
    for (const badOrigin of ['http://evil.example', `http://localhost:${server.port}`, `https://127.0.0.1:${server.port}`, `http://127.0.0.1:${server.port + 1}`, 'null']) {
      assert.equal(await upgradeStatus(server.port, { cookie, origin: badOrigin }), 403, badOrigin);
    }
    assert.equal(await upgradeStatus(server.port, { cookie }), 403, 'no Origin at all');
    assert.equal(await upgradeStatus(server.port, { origin }), 401, 'no cookie');
    assert.equal(await upgradeStatus(server.port, { origin, cookie: `${cookie.split('=')[0]}=forged` }), 401);
    assert.equal(await upgradeStatus(server.port, { cookie, origin }, '/elsewhere'), 404);
  });

  it('round-trips calls over a real WebSocket, with typed errors', async () => {
    const ws = await openSocket(server.port, { cookie, origin });
    try {
      ws.send(JSON.stringify({ kind: 'call', id: 1, method: 'datasets.list', input: {} }));
      assert.deepEqual(await nextMessage(ws), { kind: 'result', id: 1, ok: true, output: DATASETS });
      ws.send(JSON.stringify({ kind: 'call', id: 2, method: 'runs.list', input: { limit: -3 } }));
      const invalid = await nextMessage(ws);
      assert.equal(invalid.ok, false);
      assert.equal((invalid.error as { code: string }).code, 'invalid_input');
      assert.match((invalid.error as { message: string }).message, /limit/);
      ws.send(JSON.stringify({ kind: 'call', id: 3, method: 'fs.readFile', input: {} }));
      assert.equal(((await nextMessage(ws)).error as { code: string }).code, 'unknown_method');
      ws.send(JSON.stringify({ kind: 'call', id: 4, method: 'runs.get', input: { runId: 'run-1' } }));
      assert.deepEqual(await nextMessage(ws), { kind: 'result', id: 4, ok: false, error: { code: 'internal', message: 'database is locked while reading run-1' } });
      ws.send(JSON.stringify({ kind: 'nonsense', id: 5 }));
      const bad = await nextMessage(ws);
      assert.equal(bad.id, 5);
      assert.equal((bad.error as { code: string }).code, 'invalid_input');
      ws.send(JSON.stringify({ kind: 'call', id: 6, method: 'runs.start', input: JSON.parse('{"config":{"__proto__":{"x":1}}}') }));
      assert.equal(((await nextMessage(ws)).error as { code: string }).code, 'invalid_input');
    } finally {
      ws.close();
    }
  });

  it('closes sockets that send garbage, binary or oversized frames', async () => {
    const closeCode = (ws: WebSocket): Promise<number> => new Promise((resolve) => ws.once('close', (code) => resolve(code)));
    let ws = await openSocket(server.port, { cookie, origin });
    let closed = closeCode(ws);
    ws.send('not json');
    assert.equal(await closed, 1007);
    ws = await openSocket(server.port, { cookie, origin });
    closed = closeCode(ws);
    ws.send(Buffer.from([1, 2, 3]));
    assert.equal(await closed, 1003);
    ws = await openSocket(server.port, { cookie, origin });
    ws.on('error', () => {});
    closed = closeCode(ws);
    ws.send(JSON.stringify({ kind: 'call', id: 1, method: 'runs.start', input: { config: { x: 'y'.repeat(TRANSPORT_LIMITS.maxRequestBytes) } } }));
    assert.equal(await closed, 1009);
  });

  it('pushes core events to every authenticated socket and unsubscribes on close', async () => {
    await settle(core);
    const before = core.events.listenerCount;
    const a = await openSocket(server.port, { cookie, origin });
    const b = await openSocket(server.port, { cookie, origin });
    assert.equal(core.events.listenerCount, before + 2);
    const event = { type: 'run.status' as const, run: RUN };
    const got = Promise.all([nextMessage(a), nextMessage(b)]);
    core.events.emit(event);
    assert.deepEqual(await got, [{ kind: 'event', event }, { kind: 'event', event }]);
    const gone = new Promise((resolve) => a.once('close', resolve));
    a.close();
    await gone;
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(core.events.listenerCount, before + 1);
    b.close();
  });

  it('drops events for a socket that does not read, instead of buffering them', async () => {
    await settle(core);
    const slow = await openSocket(server.port, { cookie, origin });
    const fast = await openSocket(server.port, { cookie, origin });
    let slowCount = 0;
    let fastCount = 0;
    slow.on('message', () => slowCount++);
    fast.on('message', () => fastCount++);
    // stop reading: the kernel buffers fill, then the server's bufferedAmount grows
    (slow as unknown as { _socket: { pause(): void; resume(): void } })._socket.pause();
    const total = 300;
    const message = 'x'.repeat(100_000);
    for (let i = 0; i < total; i++) {
      core.events.emit({ type: 'run.log', runId: 'run-1', level: 'info', message });
      if (i % 20 === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    }
    for (let i = 0; i < 200 && fastCount < total; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.equal(fastCount, total, 'a reading client gets every event');
    (slow as unknown as { _socket: { resume(): void } })._socket.resume();
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.ok(slowCount > 0 && slowCount < total, `the stalled client got ${slowCount} of ${total}`);
    // and it still works for calls afterwards
    const answer = new Promise<Record<string, unknown>>((resolve) =>
      slow.on('message', (data) => {
        const frame = JSON.parse(String(data)) as Record<string, unknown>;
        if (frame.kind === 'result') resolve(frame);
      }),
    );
    slow.send(JSON.stringify({ kind: 'call', id: 9, method: 'datasets.list', input: {} }));
    assert.deepEqual(await answer, { kind: 'result', id: 9, ok: true, output: DATASETS });
    slow.close();
    fast.close();
  });

  it(`caps WebSocket connections at ${TRANSPORT_LIMITS.maxConnections}`, async () => {
    await settle(core);
    const sockets: WebSocket[] = [];
    try {
      for (let i = 0; i < TRANSPORT_LIMITS.maxConnections; i++) sockets.push(await openSocket(server.port, { cookie, origin }));
      assert.equal(await upgradeStatus(server.port, { cookie, origin }), 503);
      const gone = new Promise((resolve) => sockets[0].once('close', resolve));
      sockets.shift()!.close();
      await gone;
      for (let i = 0; i < 200 && core.events.listenerCount >= TRANSPORT_LIMITS.maxConnections; i++) await new Promise((resolve) => setTimeout(resolve, 10));
      sockets.push(await openSocket(server.port, { cookie, origin }));
    } finally {
      for (const ws of sockets) ws.terminate();
    }
  });

  it('the renderer ws-client calls, receives events, reports state and reconnects', async () => {
    let currentCookie = cookie;
    const states: ConnectionState[] = [];
    const client = createWsClient(`ws://127.0.0.1:${server.port}${WS_PATH}`, {
      createSocket: (url) => new WebSocket(url, { headers: { cookie: currentCookie, origin: `http://127.0.0.1:${server.port}` } }) as never,
      initialBackoffMs: 20,
      maxBackoffMs: 100,
      queueTimeoutMs: 5_000,
    });
    client.onConnectionChange((s) => states.push(s));
    try {
      // queued until the socket opens
      assert.deepEqual(await client.call('datasets.list', {}), DATASETS);
      assert.equal(client.connectionState, 'open');
      await assert.rejects(client.call('datasets.get', { datasetId: 'nope' }), (err: unknown) => err instanceof ApiError && err.code === 'not_found' && err.details?.datasetId === 'nope');
      const events: unknown[] = [];
      client.subscribe((e) => events.push(e));
      const event = { type: 'run.progress' as const, runId: 'run-1', step: 3, totalSteps: 10, imgPerSec: 5, etaSeconds: 1 };
      core.events.emit(event);
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.deepEqual(events, [event]);

      // The server goes away: state flips to closed; a new server on the same port (new secrets) comes back.
      const port = server.port;
      await server.close();
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.notEqual(client.connectionState as ConnectionState, 'open');
      server = await startBrowserServer({ api: core.api, events: core.events, staticDir, port, onInternalError: () => {} });
      cookie = await login(server);
      currentCookie = cookie;
      assert.deepEqual(await client.call('datasets.list', {}), DATASETS);
      assert.ok(states.includes('closed'));
      assert.equal(states.at(-1), 'open');
    } finally {
      client.close();
    }
    await assert.rejects(client.call('datasets.list', {}), (err: unknown) => err instanceof ApiError && err.details?.reason === 'disconnected');
  });

  it('in headless Chromium: the CSP allows the page, its script and its same-origin WebSocket', { skip: !existsSync('/usr/bin/chromium') && 'no /usr/bin/chromium' }, async () => {
    const { chromium } = await import('playwright-core');
    await writeFile(
      path.join(staticDir, 'assets', 'app.js'),
      `const ws = new WebSocket('ws://' + location.host + '${WS_PATH}');
       ws.onopen = () => ws.send(JSON.stringify({ kind: 'call', id: 1, method: 'datasets.list', input: {} }));
       ws.onmessage = (e) => { document.title = 'ws:' + JSON.parse(e.data).output.length; };
       ws.onerror = () => { document.title = 'ws:error'; };`,
    );
    const userDataDir = await mkdtemp(path.join(os.tmpdir(), 'gs-chromium-'));
    const context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    try {
      const page = await context.newPage();
      const violations: string[] = [];
      page.on('console', (m) => {
        if (/Content Security Policy/i.test(m.text())) violations.push(m.text());
      });
      await page.goto(server.url);
      assert.equal(new URL(page.url()).search, '', 'token gone from the address bar');
      // page code as strings: this file is type-checked without the DOM library
      await page.waitForFunction("document.title.startsWith('ws:')", undefined, { timeout: 10_000 });
      assert.equal(await page.title(), `ws:${DATASETS.length}`);
      assert.deepEqual(violations, []);
      // the page has no Node in it, and an inline script is blocked by the CSP
      assert.equal(await page.evaluate('typeof require + typeof process'), 'undefinedundefined');
      await page.evaluate(`{ const s = document.createElement('script'); s.textContent = 'document.title = "inline ran"'; document.head.append(s); }`);
      assert.notEqual(await page.title(), 'inline ran');
      // ... and that refusal is reported, so the empty list above means something
      for (let i = 0; i < 50 && violations.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 20));
      assert.ok(violations.some((v) => /inline/i.test(v)), 'CSP violations are observable');
    } finally {
      await context.close();
      await rm(userDataDir, { recursive: true, force: true });
    }
  });
});
