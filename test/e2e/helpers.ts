// Shared by the end-to-end tests: the real CLI serving the built renderer in browser mode
// (`gan-studio serve --json` prints its URL), headless Chromium with CSP and page-error capture,
// and small polling helpers. Needs `npm run build:renderer` first and /usr/bin/chromium.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type ConsoleMessage, type Page } from 'playwright-core';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const CLI = path.join(ROOT, 'bin/gan-studio.js');
export const ARTIFACTS = path.join(ROOT, 'test-artifacts/e2e');
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export const testid = (id: string) => `[data-testid="${id}"]`;

/** Fails the suite early, saying what to do, when the renderer the server serves is not built or Chromium is missing. */
export function assertE2ePrerequisites(): void {
  const dist = process.env.GAN_STUDIO_RENDERER_DIST ?? 'dist/renderer';
  assert.ok(existsSync(path.resolve(ROOT, dist, 'index.html')), `build the renderer first (${dist}/index.html is missing): npm run build:renderer`);
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install -y chromium`);
}

export type TrainLine = { type: string; runId?: string; status?: string; kind?: string };

export interface CliTraining {
  /** once the run has its id (its home and database exist), or the process ended */
  started: Promise<void>;
  /** its JSON lines, the `done` line (if any), stdout and stderr */
  ended: Promise<{ lines: TrainLine[]; done: TrainLine | undefined; stdout: string; stderr: string }>;
}

/** `gan-studio train FLAGS --home HOME --json` as a child process, killed after `timeoutMs`. */
export function trainWithCli(home: string, flags: string[], timeoutMs = 90_000): CliTraining {
  let onStarted = () => {};
  const started = new Promise<void>((resolve) => (onStarted = resolve));
  const ended = new Promise<Awaited<CliTraining['ended']>>((resolve) => {
    const child = spawn(process.execPath, [CLI, 'train', ...flags, '--home', home, '--json'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (stdout.includes('"type":"started"')) onStarted();
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      onStarted();
      const lines = stdout
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as TrainLine);
      resolve({ lines, done: lines.find((l) => l.type === 'done'), stdout, stderr });
    });
  });
  return { started, ended };
}

/** The id of the run a CLI training made, once it ended with `status`; else fails with its output. */
export async function trainedRun(training: CliTraining, status = 'completed'): Promise<string> {
  const r = await training.ended;
  assert.equal(r.done?.status, status, `the training did not end ${status}\n${r.stdout}\n${r.stderr}`);
  return r.done!.runId!;
}

/** Temporary folders, removed together by `removeTempDirs`. */
export class TempDirs {
  readonly #dirs: string[] = [];
  make(prefix: string): string {
    const dir = mkdtempSync(path.join(tmpdir(), prefix));
    this.#dirs.push(dir);
    return dir;
  }
  removeAll(): void {
    for (const dir of this.#dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  }
}

/** `gan-studio serve --json` in its own process group, so `stop` ends it and its trainers together. */
export class StudioServer {
  #child: ChildProcess | null = null;
  #exited: Promise<void> = Promise.resolve();

  /** Starts the server and resolves with the launch URL from its `listening` line. */
  async start(home: string): Promise<string> {
    const child = spawn(process.execPath, [CLI, 'serve', '--home', home, '--port', '0', '--json', '--no-open'], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    this.#child = child;
    this.#exited = new Promise((resolve) => child.once('exit', () => resolve()));
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const lines = createInterface({ input: child.stdout! });
    return await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`serve did not print its URL within 60 s\n${stderr}`)), 60_000);
      child.once('exit', (code) => reject(new Error(`serve exited with ${code} before listening\n${stderr}`)));
      lines.on('line', (line) => {
        try {
          const msg = JSON.parse(line) as { type?: string; url?: string };
          if (msg.type === 'listening' && msg.url) {
            clearTimeout(timer);
            resolve(msg.url);
          }
        } catch {
          // not a JSON line
        }
      });
    });
  }

  async stop(): Promise<void> {
    const child = this.#child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    // SIGINT lets the studio stop active runs with a final checkpoint; then the group is killed
    child.kill('SIGINT');
    const exited = await Promise.race([this.#exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 10_000))]);
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // the group is already gone
    }
    if (!exited) await this.#exited;
  }
}

export interface Browser {
  context: BrowserContext;
  page: Page;
  /** CSP violations seen in any page load: console reports plus `securitypolicyviolation` events */
  cspViolations: string[];
  pageErrors: string[];
}

/** Headless Chromium with a fresh profile; CSP violations and page errors are collected. */
export async function launchBrowser(profileDir: string, options: { acceptDownloads?: boolean } = {}): Promise<Browser> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const cspViolations: string[] = [];
  const pageErrors: string[] = [];
  const context = await chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 800 },
    acceptDownloads: options.acceptDownloads ?? false,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic'],
  });
  // bound functions survive reloads; the listener is installed before any page script runs
  await context.exposeBinding('__reportCsp', (_source, text: string) => void cspViolations.push(text));
  await context.addInitScript({
    content: `document.addEventListener('securitypolicyviolation', (e) => window.__reportCsp(e.violatedDirective + ' blocked ' + (e.blockedURI || '(inline)')));`,
  });
  const page = context.pages()[0] ?? (await context.newPage());
  page.on('console', (m: ConsoleMessage) => {
    if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text());
  });
  page.on('pageerror', (e) => pageErrors.push(e.message));
  return { context, page, cspViolations, pageErrors };
}

/**
 * One suite's studio: `gan-studio serve` on a home and a fresh headless Chromium; `close` ends
 * both and removes the suite's temporary folders (`temp`).
 */
export class E2eStudio {
  readonly temp = new TempDirs();
  readonly #server = new StudioServer();
  #browser: Browser | null = null;
  #url = '';

  /** Serves `home`, launches the browser (its profile in a temp folder named by `profilePrefix`) and returns its page. */
  async start(home: string, profilePrefix: string, options: { acceptDownloads?: boolean } = {}): Promise<Page> {
    this.#url = await this.#server.start(home);
    this.#browser = await launchBrowser(this.temp.make(profilePrefix), options);
    return this.#browser.page;
  }

  /** the launch URL with its one-time token */
  get url(): string {
    return this.#url;
  }

  get cspViolations(): string[] {
    return this.#browser?.cspViolations ?? [];
  }

  get pageErrors(): string[] {
    return this.#browser?.pageErrors ?? [];
  }

  async close(): Promise<void> {
    await this.#browser?.context.close().catch(() => {});
    await this.#server.stop();
    this.temp.removeAll();
  }
}

/** Loads the studio and waits for its live connection to the core. */
export async function openStudio(page: Page, url: string): Promise<void> {
  await page.goto(url);
  await page.locator(testid('connection') + '[data-state="open"]').waitFor();
}

/** Goes to a run's page and waits until it shows that run. */
export async function openRunPage(page: Page, runId: string): Promise<void> {
  await page.evaluate((id) => ((globalThis as unknown as { location: { hash: string } }).location.hash = `#/runs/${encodeURIComponent(id)}`), runId);
  await page.locator(`${testid('run-page')}[data-run-id="${runId}"] ${testid('run-name')}`).waitFor();
}

/**
 * A screenshot into test-artifacts/e2e. The studio scrolls inside <main>, so `tall` grows the
 * viewport to the page's full height for the shot (and restores it).
 */
export async function shot(page: Page, name: string, options: { tall?: boolean } = {}): Promise<void> {
  const file = path.join(ARTIFACTS, `${name}.png`);
  const viewport = page.viewportSize();
  if (!options.tall || !viewport) {
    await page.screenshot({ path: file, fullPage: true });
    return;
  }
  const height = await page.evaluate(() => {
    const main = (globalThis as unknown as { document: { querySelector(s: string): { scrollHeight: number } | null } }).document.querySelector('main');
    return main?.scrollHeight ?? 0;
  });
  await page.setViewportSize({ width: viewport.width, height: Math.min(4000, Math.max(viewport.height, height)) });
  try {
    await page.screenshot({ path: file });
  } finally {
    await page.setViewportSize(viewport);
  }
}

/** Polls `probe` from Node until `ok` holds (page functions would need DOM types here). */
export async function until<T>(what: string, probe: () => Promise<T>, ok: (value: T) => boolean, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await probe();
  while (!ok(value)) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last value: ${JSON.stringify(value)})`);
    await new Promise((r) => setTimeout(r, 100));
    value = await probe();
  }
  return value;
}

/** naturalWidth of an image once it has loaded, else 0 */
export const loadedWidth = (page: Page, selector: string) =>
  page.locator(selector).evaluate((img) => {
    const i = img as unknown as { complete: boolean; naturalWidth: number };
    return i.complete ? i.naturalWidth : 0;
  });
