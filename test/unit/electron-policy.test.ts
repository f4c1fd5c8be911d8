// The Electron shell cannot be launched here (no binary), so its policy and adapters are written
// Electron-free (Electron objects are injected) and tested in plain Node.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { mkdtemp, mkdir, readFile, rm, symlink, writeFile, realpath } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { METHOD_NAMES } from '../../electron/common/api.ts';
import { ApiError, ERROR_CODES } from '../../electron/common/errors.ts';
import { CONTENT_SECURITY_POLICY } from '../../electron/core/transport/security-headers.ts';
import { BRIDGE_FUNCTION_NAMES, bridgeFunctionName, createIpcClient, PICK_IMPORT_SOURCE_CHANNEL } from '../../renderer/src/lib/transport/ipc-client.ts';
/* eslint-disable no-restricted-imports -- these shell modules are Electron-free by design, so that this test can reach them */
import { APP_ENTRY_URL, denyPermissionCheck, denyPermissionRequest, isAllowedExternalUrl, isAllowedNavigation, isTrustedSender, WEB_PREFERENCES, webPreferencesWithPreload } from '../../electron/main/policy.ts';
import { forwardEvents, registerIpc, senderIsTrusted } from '../../electron/main/ipc.ts';
import { importDialogOptions, pickedPath, registerImportPicker } from '../../electron/main/import-picker.ts';
import { registerAppScheme, serveAppRequest } from '../../electron/main/protocol.ts';
import { hardenSession, hardenWebContents } from '../../electron/main/security.ts';
import { createUtilityTrainerSpawner, TRAINER_SERVICE_NAME } from '../../electron/main/utility-trainer.ts';
import type { UtilityFork } from '../../electron/main/utility-trainer.ts';
import { buildBridge } from '../../electron/preload/bridge.ts';
/* eslint-enable no-restricted-imports */
import { createFakeCore, DATASETS, RUN } from './transport-fakes.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(path.join(root, 'package.json'));

describe('WEB_PREFERENCES (A1)', () => {
  it('locks the renderer down and is frozen', () => {
    assert.equal(WEB_PREFERENCES.contextIsolation, true);
    assert.equal(WEB_PREFERENCES.sandbox, true);
    assert.equal(WEB_PREFERENCES.webSecurity, true);
    assert.equal(WEB_PREFERENCES.nodeIntegration, false);
    assert.equal(WEB_PREFERENCES.nodeIntegrationInWorker, false);
    assert.equal(WEB_PREFERENCES.nodeIntegrationInSubFrames, false);
    assert.equal(WEB_PREFERENCES.webviewTag, false);
    assert.equal(WEB_PREFERENCES.allowRunningInsecureContent, false);
    assert.equal(WEB_PREFERENCES.experimentalFeatures, false);
    assert.equal('preload' in WEB_PREFERENCES, false);
    assert.ok(Object.isFrozen(WEB_PREFERENCES));
    assert.throws(() => {
      (WEB_PREFERENCES as { nodeIntegration: boolean }).nodeIntegration = true;
    }, TypeError);
  });

  it('adds the preload without loosening anything', () => {
    const prefs = webPreferencesWithPreload('/app/dist/electron/preload.cjs');
    assert.ok(Object.isFrozen(prefs));
    assert.equal(prefs.preload, '/app/dist/electron/preload.cjs');
    assert.deepEqual({ ...prefs, preload: undefined }, { ...WEB_PREFERENCES, preload: undefined });
    assert.throws(() => webPreferencesWithPreload(''));
  });
});

describe('navigation and external links (A4), permissions (A5)', () => {
  it('allows navigation to the app origin only', () => {
    for (const ok of [APP_ENTRY_URL, 'app://studio/', 'app://studio/assets/index-abc.js', 'app://studio/index.html#/runs/1', 'APP://STUDIO/index.html']) assert.equal(isAllowedNavigation(ok), true, ok);
    for (const bad of ['app://evil/index.html', 'app://studio.evil/', 'app://studio:1234/', 'app://user@studio/', 'http://127.0.0.1:5173/', 'https://studio/', 'file:///etc/passwd', 'javascript:alert(1)', 'data:text/html,hi', 'about:blank', 'devtools://devtools/', 'not a url', '', null, 42]) {
      assert.equal(isAllowedNavigation(bad), false, String(bad));
    }
  });

  it('opens external links only over https to allow-listed hosts, parsed not matched as text', () => {
    assert.equal(isAllowedExternalUrl('https://github.com/tensorflow/tfjs'), true);
    assert.equal(isAllowedExternalUrl('https://arxiv.org/abs/1406.2661'), true);
    for (const bad of ['http://github.com/', 'https://github.com.evil.example/', 'https://evil.example/?u=https://github.com', 'https://evil.example/github.com', 'https://user:pw@github.com/', 'https://github.com@evil.example/', 'https://github.com:8443/', 'https://gist.github.com/', 'javascript:alert(1)//https://github.com', 'file:///etc/passwd', 'app://studio/', 'mailto:a@github.com', 'not a url', undefined]) {
      assert.equal(isAllowedExternalUrl(bad), false, String(bad));
    }
    assert.equal(isAllowedExternalUrl('https://example.org/x', ['example.org']), true);
  });

  it('denies every permission request and check', () => {
    const answers: boolean[] = [];
    for (const permission of ['media', 'geolocation', 'notifications', 'openExternal', 'clipboard-read', 'fullscreen']) denyPermissionRequest(null, permission, (granted) => answers.push(granted));
    assert.deepEqual(answers, [false, false, false, false, false, false]);
    assert.equal(denyPermissionCheck(), false);
    const set: Record<string, unknown> = {};
    hardenSession({
      setPermissionRequestHandler: (h: unknown) => void (set.request = h),
      setPermissionCheckHandler: (h: unknown) => void (set.check = h),
      setDevicePermissionHandler: (h: unknown) => void (set.device = h),
    } as never);
    assert.equal(set.request, denyPermissionRequest);
    assert.equal(set.check, denyPermissionCheck);
    assert.equal((set.device as () => boolean)(), false);
  });

  it('hardens every WebContents: navigation guard, no windows, no webview', async () => {
    const contents = new EventEmitter() as EventEmitter & { openHandler?: (d: { url: string }) => { action: string } };
    (contents as unknown as { setWindowOpenHandler(h: (d: { url: string }) => { action: string }): void }).setWindowOpenHandler = (h) => (contents.openHandler = h);
    const opened: string[] = [];
    hardenWebContents(contents as never, async (url: string) => void opened.push(url));
    const navigate = (event: string, url: string): boolean => {
      let prevented = false;
      contents.emit(event, { url, preventDefault: () => (prevented = true) });
      return prevented;
    };
    for (const event of ['will-navigate', 'will-frame-navigate', 'will-redirect']) {
      assert.equal(navigate(event, 'https://evil.example/'), true, event);
      assert.equal(navigate(event, 'file:///etc/passwd'), true, event);
      assert.equal(navigate(event, 'app://studio/index.html'), false, event);
    }
    let webviewBlocked = false;
    contents.emit('will-attach-webview', { preventDefault: () => (webviewBlocked = true) }, {}, {});
    assert.equal(webviewBlocked, true);
    assert.deepEqual(contents.openHandler!({ url: 'https://github.com/x' }), { action: 'deny' });
    assert.deepEqual(contents.openHandler!({ url: 'https://evil.example/' }), { action: 'deny' });
    assert.deepEqual(contents.openHandler!({ url: 'app://studio/index.html' }), { action: 'deny' });
    await Promise.resolve();
    assert.deepEqual(opened, ['https://github.com/x']);
  });
});

describe('app:// protocol (A2, A3)', () => {
  let base: string;
  let dir: string;
  before(async () => {
    base = await realpath(await mkdtemp(path.join(os.tmpdir(), 'gs-app-protocol-')));
    dir = path.join(base, 'renderer');
    await mkdir(path.join(dir, 'assets'), { recursive: true });
    await writeFile(path.join(dir, 'index.html'), '<!doctype html>');
    await writeFile(path.join(dir, 'assets', 'a.js'), 'export {}');
    await writeFile(path.join(base, 'secret.txt'), 'secret');
    await symlink(path.join(base, 'secret.txt'), path.join(dir, 'assets', 'leak.txt'));
  });
  after(() => rm(base, { recursive: true, force: true }));

  it('registers app: as a standard, secure scheme', () => {
    let registered: unknown;
    registerAppScheme({ registerSchemesAsPrivileged: (s: unknown) => void (registered = s) } as never);
    assert.deepEqual(registered, [{ scheme: 'app', privileges: { standard: true, secure: true, supportFetchAPI: true } }]);
  });

  it('serves the renderer with the CSP, GET only, and never outside its folder', async () => {
    const index = await serveAppRequest(dir, { method: 'GET', url: 'app://studio/index.html' });
    assert.equal(index.status, 200);
    assert.equal(index.headers['Content-Security-Policy'], CONTENT_SECURITY_POLICY);
    assert.equal(index.headers['X-Content-Type-Options'], 'nosniff');
    assert.equal(index.headers['Content-Type'], 'text/html; charset=utf-8');
    assert.equal(index.headers['Cache-Control'], 'no-store');
    assert.equal((await serveAppRequest(dir, { method: 'GET', url: 'app://studio/' })).status, 200);
    assert.equal((await serveAppRequest(dir, { method: 'GET', url: 'app://studio/assets/a.js' })).headers['Content-Type'], 'text/javascript; charset=utf-8');
    for (const method of ['POST', 'PUT', 'HEAD', 'OPTIONS']) assert.equal((await serveAppRequest(dir, { method, url: 'app://studio/index.html' })).status, 405, method);
    for (const url of ['app://studio/assets/leak.txt', 'app://studio/..%2fsecret.txt', 'app://studio/%2e%2e%5csecret.txt', 'app://studio/index.html%00', 'app://evil/index.html', 'app://studio/missing.js']) {
      const r = await serveAppRequest(dir, { method: 'GET', url });
      assert.ok(r.status === 400 || r.status === 404, `${url} → ${r.status}`);
      assert.equal(r.headers['Content-Security-Policy'], CONTENT_SECURITY_POLICY);
    }
  });
});

/** A fake ipcMain plus a fake ipcRenderer wired to it, to run the whole IPC path in Node. */
function fakeIpc() {
  const handlers = new Map<string, (event: unknown, ...args: unknown[]) => unknown>();
  const rendererListeners = new Map<string, Set<(event: unknown, ...args: unknown[]) => void>>();
  const topFrame = { url: 'app://studio/index.html', parent: null };
  const ipcMain = {
    handle: (channel: string, h: (event: unknown, ...args: unknown[]) => unknown) => {
      assert.ok(!handlers.has(channel), `duplicate handler ${channel}`);
      handlers.set(channel, h);
    },
    removeHandler: (channel: string) => void handlers.delete(channel),
  };
  const ipcRenderer = {
    invoke: async (channel: string, ...args: unknown[]) => {
      const h = handlers.get(channel);
      if (!h) throw new Error(`No handler registered for '${channel}'`);
      return structuredClone(await h({ senderFrame: topFrame }, ...args.map((a) => structuredClone(a))));
    },
    on: (channel: string, l: (event: unknown, ...args: unknown[]) => void) => {
      if (!rendererListeners.has(channel)) rendererListeners.set(channel, new Set());
      rendererListeners.get(channel)!.add(l);
    },
    removeListener: (channel: string, l: (event: unknown, ...args: unknown[]) => void) => void rendererListeners.get(channel)?.delete(l),
  };
  const webContents = {
    destroyed: false,
    url: 'app://studio/index.html',
    isDestroyed() {
      return this.destroyed;
    },
    getURL() {
      return this.url;
    },
    send(channel: string, ...args: unknown[]) {
      for (const l of rendererListeners.get(channel) ?? []) l({ sender: 'ipc-event-object' }, ...args.map((a) => structuredClone(a)));
    },
  };
  return { handlers, ipcMain, ipcRenderer, webContents, rendererListeners };
}

describe('IPC (A6)', () => {
  it('checks the sender: app origin, top frame, live frame', () => {
    assert.equal(isTrustedSender({ url: 'app://studio/index.html', isTopFrame: true }), true);
    assert.equal(isTrustedSender({ url: 'app://studio/index.html', isTopFrame: false }), false);
    assert.equal(isTrustedSender({ url: 'https://evil.example/', isTopFrame: true }), false);
    assert.equal(isTrustedSender(null), false);
    assert.equal(senderIsTrusted({ senderFrame: { url: 'app://studio/', parent: null } } as never), true);
    assert.equal(senderIsTrusted({ senderFrame: { url: 'app://studio/', parent: {} } } as never), false);
    assert.equal(senderIsTrusted({ senderFrame: null } as never), false);
    const destroyed = { get url(): string { throw new Error('Render frame was disposed'); }, parent: null };
    assert.equal(senderIsTrusted({ senderFrame: destroyed } as never), false);
  });

  it('registers one handler per method and refuses untrusted senders', async () => {
    const core = createFakeCore();
    const ipc = fakeIpc();
    const dispose = registerIpc(ipc.ipcMain as never, core.api, { onInternalError: () => {} });
    assert.deepEqual([...ipc.handlers.keys()].sort(), METHOD_NAMES.map((m) => `api:${m}`).sort());
    const list = ipc.handlers.get('api:datasets.list')!;
    assert.deepEqual(await list({ senderFrame: { url: 'app://studio/index.html', parent: null } }, {}), { ok: true, output: DATASETS });
    for (const senderFrame of [{ url: 'https://evil.example/', parent: null }, { url: 'app://studio/index.html', parent: {} }, null]) {
      assert.deepEqual(await list({ senderFrame }, {}), { ok: false, error: { code: 'unauthorized', message: 'IPC from an untrusted frame' } });
    }
    assert.equal(core.calls.length, 1);
    dispose();
    assert.equal(ipc.handlers.size, 0);
  });

  it('fuzz: every channel answers junk with typed error data', async () => {
    const core = createFakeCore();
    const ipc = fakeIpc();
    registerIpc(ipc.ipcMain as never, core.api, { onInternalError: () => {} });
    const junk: unknown[] = ['', 'x'.repeat(300_000), 0, -1, NaN, null, undefined, true, [], new Array(100_000).fill(1), {}, { runId: '../../etc' }, { datasetId: 'a'.repeat(101) }, JSON.parse('{"__proto__":{"x":1}}'), { constructor: { prototype: 1 } }, new Uint8Array(1_000_000), new Map(), new Date(0)];
    for (const [channel, handler] of ipc.handlers) {
      for (const input of junk) {
        const r = (await handler({ senderFrame: { url: 'app://studio/', parent: null } }, input, 'extra', 'args')) as { ok: boolean; error?: { code: string; message: string } };
        assert.equal(typeof r.ok, 'boolean', channel);
        if (!r.ok) {
          assert.ok((ERROR_CODES as readonly string[]).includes(r.error!.code), `${channel}: ${r.error!.code}`);
          assert.equal(typeof r.error!.message, 'string');
        }
      }
    }
  });

  it('the preload bridge exposes named functions only, each bound to its own channel', async () => {
    const calls: unknown[][] = [];
    const ipc = { invoke: async (...args: unknown[]) => void calls.push(args), on: () => {}, removeListener: () => {} };
    const bridge = buildBridge(ipc, { getPathForFile: () => '/x' });
    assert.deepEqual(Object.keys(bridge).sort(), [...BRIDGE_FUNCTION_NAMES].sort());
    assert.ok(Object.isFrozen(bridge));
    for (const generic of ['invoke', 'send', 'sendSync', 'on', 'ipcRenderer', 'call', 'postMessage']) assert.equal(generic in bridge, false, generic);
    assert.equal(bridgeFunctionName('datasets.list'), 'datasetsList');
    assert.equal(bridgeFunctionName('runs.scalars'), 'runsScalars');
    for (const method of METHOD_NAMES) {
      const fn = (bridge as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[bridgeFunctionName(method)];
      assert.equal(typeof fn, 'function');
      await fn({ a: 1 }, 'smuggled', 'args');
      assert.deepEqual(calls.at(-1), [`api:${method}`, { a: 1 }], 'exactly one argument, fixed channel');
    }
  });

  it('the bridge turns a dropped File into its path in the preload and asks main for the open dialog on one fixed channel', async () => {
    const calls: unknown[][] = [];
    const ipc = { invoke: async (...args: unknown[]) => (calls.push(args), { ok: true, output: { path: '/data/faces' } }), on: () => {}, removeListener: () => {} };
    const seen: unknown[] = [];
    const bridge = buildBridge(ipc, {
      getPathForFile: (f: File) => {
        seen.push(f);
        if ((f as unknown as { broken?: boolean }).broken) throw new Error('not a file');
        return '/home/me/pets.zip';
      },
    });
    const file = new File([new Uint8Array([1])], 'pets.zip');
    assert.equal(bridge.pathForFile(file), '/home/me/pets.zip');
    assert.deepEqual(seen, [file]);
    assert.equal(bridge.pathForFile({ broken: true } as never), '', 'an error becomes no path');
    for (const junk of [null, undefined, 'pets.zip', 42]) assert.equal(bridge.pathForFile(junk as never), '');
    assert.deepEqual(await (bridge.pickImportSource as (...a: unknown[]) => Promise<unknown>)('folder', 'smuggled'), { ok: true, output: { path: '/data/faces' } });
    assert.deepEqual(calls, [[PICK_IMPORT_SOURCE_CHANNEL, 'folder']]);
  });

  it('the import picker: sender checked, argument validated, dialog options by kind, cancel → null', async () => {
    const ipc = fakeIpc();
    const shown: unknown[][] = [];
    let answer: { canceled: boolean; filePaths: string[] } = { canceled: false, filePaths: ['/data/mnist'] };
    const win = { id: 1 } as never;
    const dispose = registerImportPicker(ipc.ipcMain as never, async (w, options) => (shown.push([w, options]), answer), () => win);
    const pick = ipc.handlers.get(PICK_IMPORT_SOURCE_CHANNEL)!;
    const trusted = { senderFrame: { url: 'app://studio/index.html', parent: null } };
    assert.deepEqual(await pick(trusted, 'folder'), { ok: true, output: { path: '/data/mnist' } });
    assert.deepEqual(shown[0], [win, importDialogOptions('folder')]);
    assert.deepEqual(importDialogOptions('folder').properties, ['openDirectory', 'dontAddToRecent']);
    answer = { canceled: false, filePaths: ['/data/train-images-idx3-ubyte'] };
    assert.deepEqual(await pick(trusted, 'file'), { ok: true, output: { path: '/data/train-images-idx3-ubyte' } });
    const fileOptions = shown[1]![1] as { properties: string[]; filters: { extensions: string[] }[] };
    assert.deepEqual(fileOptions.properties, ['openFile', 'dontAddToRecent']);
    for (const ext of ['zip', 'npy', 'gz', 'bin']) assert.ok(fileOptions.filters[0]!.extensions.includes(ext), ext);
    assert.deepEqual(fileOptions.filters.at(-1)!.extensions, ['*'], 'IDX files often have no extension');
    answer = { canceled: true, filePaths: [] };
    assert.deepEqual(await pick(trusted, 'file'), { ok: true, output: null });
    assert.equal(pickedPath({ canceled: false, filePaths: [] }), null);
    for (const senderFrame of [{ url: 'https://evil.example/', parent: null }, { url: 'app://studio/index.html', parent: {} }, null]) {
      assert.deepEqual(await pick({ senderFrame }, 'folder'), { ok: false, error: { code: 'unauthorized', message: 'IPC from an untrusted frame' } });
    }
    const before = shown.length;
    for (const junk of ['../etc', '', null, { kind: 'folder' }, ['folder'], 'x'.repeat(100_000)]) {
      const r = (await pick(trusted, junk)) as { ok: boolean; error?: { code: string } };
      assert.equal(r.ok, false);
      assert.equal(r.error!.code, 'invalid_input');
    }
    assert.equal(shown.length, before, 'no dialog for an untrusted sender or a bad argument');
    const failing = fakeIpc();
    registerImportPicker(failing.ipcMain as never, async () => Promise.reject(new Error('no display')), () => null);
    assert.deepEqual(await failing.handlers.get(PICK_IMPORT_SOURCE_CHANNEL)!(trusted, 'folder'), { ok: false, error: { code: 'internal', message: 'the open dialog failed: no display' } });
    dispose();
    assert.equal(ipc.handlers.has(PICK_IMPORT_SOURCE_CHANNEL), false);
  });

  it('preload.ts exposes only buildBridge(ipcRenderer), and its bundle requires only electron', async () => {
    const source = await readFile(path.join(root, 'electron/preload/preload.ts'), 'utf8');
    assert.equal(source.match(/exposeInMainWorld/g)?.length, 1);
    assert.match(source, /contextBridge\.exposeInMainWorld\('ganStudio', buildBridge\(ipcRenderer, webUtils\)\);/);
    const out = await build({ entryPoints: [path.join(root, 'electron/preload/preload.ts')], bundle: true, format: 'cjs', platform: 'browser', external: ['electron'], write: false, logLevel: 'silent' });
    const bundle = out.outputFiles[0].text;
    assert.deepEqual([...new Set([...bundle.matchAll(/\brequire\(\s*["']([^"']+)["']\s*\)/g)].map((m) => m[1]))], ['electron']);
    assert.doesNotMatch(bundle, /ipcRenderer\.(send|sendSync|sendTo|sendToHost|postMessage)\b/);
    assert.equal(bundle.match(/exposeInMainWorld\(/g)?.length, 1);
    assert.match(bundle, /exposeInMainWorld\(\s*["']ganStudio["']\s*,\s*buildBridge\(\s*[\w$]*\.?ipcRenderer\s*,\s*[\w$]*\.?webUtils\s*\)\s*\)/);
  });

  it('end to end in Node: ipc client → preload bridge → ipcMain handler → core, events back', async () => {
    const core = createFakeCore();
    const ipc = fakeIpc();
    registerIpc(ipc.ipcMain as never, core.api, { onInternalError: () => {} });
    const stopForwarding = forwardEvents(core.events, () => [ipc.webContents]);
    const client = createIpcClient(buildBridge(ipc.ipcRenderer, { getPathForFile: () => '' }));
    assert.deepEqual(await client.call('datasets.list', {}), DATASETS);
    await assert.rejects(client.call('datasets.get', { datasetId: 'nope' }), (e: unknown) => e instanceof ApiError && e.code === 'not_found' && e.details?.datasetId === 'nope');
    await assert.rejects(client.call('runs.list', { limit: 0 }), (e: unknown) => e instanceof ApiError && e.code === 'invalid_input' && /limit/.test(e.message));
    await assert.rejects(client.call('nope' as never, {} as never), (e: unknown) => e instanceof ApiError && e.code === 'unknown_method');
    const got: unknown[] = [];
    const unsubscribe = client.subscribe((e) => got.push(e));
    const event = { type: 'run.status' as const, run: RUN };
    core.events.emit(event);
    assert.deepEqual(got, [event], 'the listener gets the event, not the IPC event object');
    ipc.webContents.url = 'https://evil.example/';
    core.events.emit(event);
    assert.equal(got.length, 1, 'events only go to windows showing the app');
    unsubscribe();
    assert.equal(ipc.rendererListeners.get('api:event')?.size, 0);
    stopForwarding();
    assert.equal(core.events.listenerCount, 0);
  });
});

describe('utilityProcess trainer spawner', () => {
  function fakeChild(pid: number | undefined) {
    const child = Object.assign(new EventEmitter(), { pid, stdout: new PassThrough(), stderr: new PassThrough(), posted: [] as unknown[], killed: 0 });
    return Object.assign(child, { postMessage: (m: unknown) => void child.posted.push(m), kill: () => (child.killed++, true) });
  }

  it('forks the bundled entry as a named utility process and adapts its events', async () => {
    let forked: unknown[] = [];
    const child = fakeChild(4242);
    const fork: UtilityFork = (...args) => ((forked = args), child as never);
    const trainer = createUtilityTrainerSpawner(fork, '/app/dist/electron/trainer.cjs')({ env: { GAN_STUDIO_X: '1' } });
    assert.equal(forked[0], '/app/dist/electron/trainer.cjs');
    assert.deepEqual(forked[1], []);
    const opts = forked[2] as { serviceName: string; stdio: string; env: Record<string, string> };
    assert.equal(opts.serviceName, TRAINER_SERVICE_NAME);
    assert.equal(opts.stdio, 'pipe');
    assert.equal(opts.env.GAN_STUDIO_X, '1');
    assert.equal(opts.env.PATH, process.env.PATH, 'env merged over the parent environment');
    assert.equal(trainer.pid, 4242);
    trainer.send({ type: 'pause' });
    assert.deepEqual(child.posted, [{ type: 'pause' }]);
    const messages: unknown[] = [];
    const stderr: string[] = [];
    const exits: unknown[] = [];
    trainer.onMessage((m) => messages.push(m));
    trainer.onStderr((t) => stderr.push(t));
    trainer.onExit((e) => exits.push(e));
    child.emit('message', { type: 'heartbeat', step: 1 });
    child.stderr.write('oops\n');
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(messages, [{ type: 'heartbeat', step: 1 }]);
    assert.deepEqual(stderr, ['oops\n']);
    trainer.kill();
    assert.equal(child.killed, 1);
    child.emit('exit', 137);
    assert.deepEqual(exits, [{ code: 137, signal: null }]);
    trainer.send({ type: 'resume' });
    assert.equal(child.posted.length, 1, 'nothing is posted to an exited process');
  });

  it('delivers SIGKILL through the pid (utilityProcess.kill only sends SIGTERM)', async () => {
    const victim = spawn('sleep', ['30']);
    const gone = new Promise<string | null>((resolve) => victim.once('exit', (_c, signal) => resolve(signal)));
    const child = fakeChild(victim.pid);
    const trainer = createUtilityTrainerSpawner(() => child as never, 'x')({});
    trainer.kill('SIGKILL');
    assert.equal(await gone, 'SIGKILL');
    assert.equal(child.killed, 0);
  });
});

describe('packaging (A7)', () => {
  it('electron-builder finds and validates the config: targets, asar, files, fuses', async () => {
    const { getConfig, validateConfiguration } = require('app-builder-lib/out/util/config/config.js') as {
      getConfig(dir: string, file: string | null, options: null): Promise<Record<string, unknown>>;
      validateConfiguration(config: unknown, logger: unknown): Promise<void>;
    };
    const { DebugLogger } = require('builder-util') as { DebugLogger: new (enabled: boolean) => unknown };
    const config = (await getConfig(root, null, null)) as {
      asar: boolean;
      files: Array<string | { filter: string[] }>;
      asarUnpack: string[];
      electronFuses: Record<string, boolean>;
      linux: { target: string[] };
      win: { target: string[] };
      mac: { target: string[] };
    };
    await validateConfiguration(config, new DebugLogger(false));
    assert.deepEqual(config.linux.target, ['AppImage', 'deb']);
    assert.deepEqual(config.win.target, ['nsis']);
    assert.deepEqual(config.mac.target, ['dmg']);
    assert.equal(config.asar, true);
    // electron-builder normalises `files` into `{filter}` groups
    const files = config.files.flatMap((f) => (typeof f === 'string' ? [f] : f.filter));
    for (const f of ['package.json', 'dist/electron/**/*', 'dist/renderer/**/*', 'dist/rater-kit/**/*']) assert.ok(files.includes(f), f);
    assert.ok(!files.some((f) => /^(electron|renderer|test|scripts)\//.test(f)), 'no sources in the package');
    for (const native of ['better-sqlite3', 'sharp', '@tensorflow/tfjs-node', 'tfjs-backend-wasm/dist/*.wasm', '*.node']) {
      assert.ok(config.asarUnpack.some((p) => p.includes(native)), `asarUnpack covers ${native}`);
    }
    assert.equal(config.electronFuses.runAsNode, false);
    assert.equal(config.electronFuses.enableNodeOptionsEnvironmentVariable, false);
    assert.equal(config.electronFuses.enableNodeCliInspectArguments, false);
    assert.equal(config.electronFuses.onlyLoadAppFromAsar, true);
    assert.equal(config.electronFuses.enableEmbeddedAsarIntegrityValidation, true);
    assert.equal(config.electronFuses.grantFileProtocolExtraPrivileges, false);
  });

  it('package.json main and the build script agree on dist/electron/*.cjs', async () => {
    const pkg = JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8')) as { main: string; scripts: Record<string, string> };
    assert.equal(pkg.main, 'dist/electron/main.cjs');
    assert.equal(pkg.scripts['build:electron'], 'node scripts/build-electron.mjs');
    const script = await readFile(path.join(root, 'scripts/build-electron.mjs'), 'utf8');
    for (const out of ['main.cjs', 'preload.cjs', 'trainer.cjs']) assert.ok(script.includes(`'${out}'`), out);
    for (const external of ['electron', 'better-sqlite3', 'sharp', '@tensorflow/*']) assert.ok(script.includes(`'${external}'`), external);
  });
});
