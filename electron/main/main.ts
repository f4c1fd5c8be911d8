// The Electron shell: one locked-down window on app://studio, the core in this process, training in
// a utilityProcess. Everything that can be decided without Electron lives in policy.ts and the
// core; this file only wires. Bundled to dist/electron/main.cjs by scripts/build-electron.mjs.
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { app, BrowserWindow, dialog, ipcMain, protocol, session, shell, utilityProcess } from 'electron';
import { createStudioCore } from '../core/services/studio.ts';
import type { StudioCore } from '../core/services/studio.ts';
import { forwardEvents, registerIpc } from './ipc.ts';
import { registerImportPicker } from './import-picker.ts';
import { APP_ENTRY_URL, webPreferencesWithPreload } from './policy.ts';
import { registerAppProtocol, registerAppScheme } from './protocol.ts';
import { hardenSession, hardenWebContents } from './security.ts';
import { createUtilityTrainerSpawner } from './utility-trainer.ts';
import { workerThreadSpawner } from '../core/datasets/import/worker-spawner.ts';
import { evaluationWorkerSpawner } from '../core/evaluation/worker-spawner.ts';

/** The core gets this long to stop trainers and write final checkpoints (RELIABILITY B5). */
const QUIT_DEADLINE_MS = 30_000;

// Both must happen before `ready`.
app.enableSandbox();
registerAppScheme(protocol);

const distDir = (...parts: string[]): string => path.join(app.getAppPath(), 'dist', ...parts);

let mainWindow: BrowserWindow | null = null;
let core: StudioCore | null = null;
const cleanups: Array<() => void> = [];

function createWindow(): BrowserWindow {
  const win = new BrowserWindow({
    width: 1440,
    height: 920,
    minWidth: 960,
    minHeight: 600,
    show: false,
    backgroundColor: '#111418',
    title: 'GAN Studio',
    webPreferences: webPreferencesWithPreload(distDir('electron', 'preload.cjs')),
  });
  win.once('ready-to-show', () => win.show());
  win.on('closed', () => {
    if (mainWindow === win) mainWindow = null;
  });
  void win.loadURL(APP_ENTRY_URL);
  return win;
}

async function start(): Promise<void> {
  await app.whenReady();
  hardenSession(session.defaultSession);
  registerAppProtocol(protocol, distDir('renderer'));
  const home = process.env.GAN_STUDIO_HOME || app.getPath('userData');
  core = await createStudioCore({
    home,
    mode: 'electron',
    spawnTrainer: createUtilityTrainerSpawner((modulePath, args, options) => utilityProcess.fork(modulePath, args, options), distDir('electron', 'trainer.cjs')),
    // the bundled import worker, loaded without the tsx loader the plain-Node CLI uses
    spawnImporter: workerThreadSpawner(pathToFileURL(distDir('electron', 'import-worker.cjs')).href, null),
    spawnEvaluator: evaluationWorkerSpawner(pathToFileURL(distDir('electron', 'evaluation-worker.cjs')).href, null),
  });
  cleanups.push(registerIpc(ipcMain, core.api));
  cleanups.push(
    registerImportPicker(
      ipcMain,
      (win, options) => (win ? dialog.showOpenDialog(win, options) : dialog.showOpenDialog(options)),
      (event) => BrowserWindow.fromWebContents(event.sender),
    ),
  );
  cleanups.push(forwardEvents(core.events, () => BrowserWindow.getAllWindows().map((w) => w.webContents)));
  mainWindow = createWindow();
}

// Every WebContents, including any created later, gets the navigation and window-open guards.
app.on('web-contents-created', (_event, contents) => hardenWebContents(contents, (url) => shell.openExternal(url)));

let quitState: 'running' | 'closing' | 'closed' = 'running';
async function shutdown(): Promise<void> {
  for (const cleanup of cleanups.splice(0)) cleanup();
  if (!core) return;
  const closing = core.close();
  const deadline = new Promise<void>((resolve) => setTimeout(resolve, QUIT_DEADLINE_MS));
  await Promise.race([closing.catch((err: unknown) => console.error('core.close failed:', err)), deadline]);
  core = null;
}

// Quit waits for the core: trainers stop with a final checkpoint, the database closes cleanly.
app.on('before-quit', (event) => {
  if (quitState === 'closed') return;
  event.preventDefault();
  if (quitState === 'closing') return;
  quitState = 'closing';
  void shutdown().finally(() => {
    quitState = 'closed';
    app.quit();
  });
});

app.on('window-all-closed', () => {
  // macOS keeps the app (and any training) alive without windows, as its apps do.
  if (process.platform !== 'darwin') app.quit();
});

app.on('activate', () => {
  if (core && BrowserWindow.getAllWindows().length === 0) mainWindow = createWindow();
});

for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => app.quit());

if (!app.requestSingleInstanceLock()) {
  // Two instances would fight over one database and one set of run folders.
  app.quit();
} else {
  app.on('second-instance', () => {
    if (!mainWindow) return;
    if (mainWindow.isMinimized()) mainWindow.restore();
    mainWindow.focus();
  });
  start().catch((err: unknown) => {
    console.error('GAN Studio failed to start:', err);
    dialog.showErrorBox('GAN Studio could not start', err instanceof Error ? err.message : String(err));
    app.exit(1);
  });
}
