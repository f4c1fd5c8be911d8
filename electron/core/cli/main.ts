// `gan-studio`: the core, headless. Train, list runs, serve browser mode, or start the studio.
// Every command takes --home (or GAN_STUDIO_HOME); --json prints one JSON object per line.
import type { ParseArgsConfig } from 'node:util';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { ApiClient, RunStatus, RunSummary, StudioEvent } from '../../common/api.ts';
import { ApiError } from '../../common/errors.ts';
import { BACKEND_CHOICES, FAMILIES, resolveRunConfig } from '../../common/config.ts';
import type { StudioCore } from '../services/studio.ts';
import { createInMemoryClient } from '../transport/in-memory.ts';
import { defaultHome, PROJECT_ROOT, RENDERER_DIST } from '../paths.ts';
import { SQLITE_BINDING_ENV } from '../db/database.ts';
import { EXIT, numberFlag, openCore, parseFlags, printError, UsageError } from './common.ts';

type Out = { json: boolean; print(obj: Record<string, unknown>, text: string): void; error(code: string, message: string): void };

function output(json: boolean): Out {
  return {
    json,
    print(obj, text) {
      process.stdout.write(json ? `${JSON.stringify(obj)}\n` : `${text}\n`);
    },
    error(code, message) {
      printError(json, code, message);
    },
  };
}

const COMMON = {
  home: { type: 'string' },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const satisfies ParseArgsConfig['options'];

const HELP: Record<string, string> = {
  main: `gan-studio — train, diagnose and evaluate GANs offline

Usage: gan-studio <command> [options]

Commands:
  start                     open the studio (Electron window; browser mode when Electron is absent)
  serve                     browser mode: the studio UI on http://127.0.0.1 with a per-launch token
  train                     train a GAN headless and print progress
  runs list                 list runs in the history
  dataset import PATH       import a folder, zip, IDX, CIFAR or .npy dataset (also: dataset list|show|delete)
  diagnose --run RUN_ID     a run's diagnostics alerts, and the detectors re-run over its scalars
  metrics --real R.npy --fake F.npy   FID, KID, precision/recall, density/coverage, PRD, SWD of feature files
  evaluate --run RUN_ID     score a checkpoint (FID, KID, IS, P&R, PRDC, PRD, SWD, modes, nearest neighbours)
  evaluate --real D --fake D  the same for two folders of images
  extractor train|list      domain classifiers and user TF.js models that give the features
  rating list|show|export   human rating sessions: scores with intervals, CSV/JSON export (also: rating create|kit|import-answers)

Options for every command:
  --home DIR                data folder (default: $GAN_STUDIO_HOME or ${defaultHome({})})
  --json                    one JSON object per line on stdout
  -h, --help                help for a command
  --version                 print the version

Run "gan-studio <command> --help" for a command's options.`,
  train: `gan-studio train — train a GAN headless

Usage: gan-studio train --dataset ID --family FAMILY [options]
       gan-studio train --resume RUN_ID [options]

Options:
  --dataset ID              dataset id, e.g. builtin:mnist
  --family NAME             GAN family: ${FAMILIES.join(', ')}
  --steps N                 training iterations (one D and one G update each)
  --batch B                 batch size
  --lr-g LR, --lr-d LR      learning rates of G and D
  --seed S                  random seed (recorded with the run; random when omitted)
  --backend NAME            ${BACKEND_CHOICES.join(' | ')} (default auto: tensorflow, then wasm, then cpu)
  --name TEXT               run name
  --config FILE             a JSON run config (flags override its fields)
  --resume RUN_ID           continue a stopped or interrupted run from its last good checkpoint
  --home DIR, --json        see "gan-studio --help"

With --json, stdout carries one object per line:
  {"type":"started","runId":…}
  {"type":"progress","step":…,"totalSteps":…,"gLoss":…,"dLoss":…,"dReal":…,"dFake":…,"imgPerSec":…}
  {"type":"sample","step":…}  {"type":"log","level":…,"message":…}  {"type":"status","status":…}
  {"type":"alert","kind":…,"severity":…,"step":…,"change":"opened"|"escalated"|"resolved","evidence":{…},…}
  {"type":"done","runId":…,"status":"completed"|"stopped"|"diverged"|"failed"|"interrupted","reason":…}
Exit status: 0 completed, 1 any other end, 2 bad usage or config, 130 stopped by Ctrl-C.
Ctrl-C (or q in a terminal) stops the run with a final checkpoint; a second Ctrl-C kills the
trainer. p in a terminal, or SIGUSR2 (kill -USR2 PID), pauses and resumes it.`,
  runs: `gan-studio runs list — the run history

Usage: gan-studio runs list [--status STATUS] [--limit N] [--home DIR] [--json]

  --status STATUS           only runs with this status (running, completed, stopped, interrupted, …)
  --limit N                 at most N runs, newest first (default 500)
With --json: one JSON array of run summaries.`,
  serve: `gan-studio serve — browser mode

Usage: gan-studio serve [--port P] [--no-open] [--home DIR] [--json]

  --port P                  port on 127.0.0.1 (default 0: a free port)
  --no-open                 do not open a browser
Prints the launch URL with its one-time token; the server only listens on 127.0.0.1.
With --json: {"type":"listening","url":…,"origin":…,"port":…}. Ctrl-C stops it.`,
  start: `gan-studio start — open the studio

Usage: gan-studio start [--home DIR]

Opens the Electron window when the Electron binary is installed; otherwise says so and starts
browser mode (as "gan-studio serve") and opens it in a local browser if one is found.`,
};

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(`${HELP.main}\n`);
    return command ? EXIT.ok : EXIT.usage;
  }
  if (command === '--version') {
    process.stdout.write(`${(createRequire(import.meta.url)('../../../package.json') as { version: string }).version}\n`);
    return EXIT.ok;
  }
  try {
    switch (command) {
      case 'train':
        return await trainCommand(rest);
      case 'runs':
        return await runsCommand(rest);
      case 'dataset':
        return await (await import('./dataset.ts')).datasetCommand(rest);
      case 'diagnose':
        return await (await import('./diagnose.ts')).diagnoseCommand(rest);
      case 'rating':
        return await (await import('./rating.ts')).ratingCommand(rest);
      case 'metrics':
        return await (await import('./metrics.ts')).metricsCommand(rest);
      case 'evaluate':
        return await (await import('./evaluate.ts')).evaluateCommand(rest);
      case 'extractor':
        return await (await import('./extractor.ts')).extractorCommand(rest);
      case 'serve':
        return await serveCommand(rest, false);
      case 'start':
        return await startCommand(rest);
      default:
        process.stderr.write(`gan-studio: unknown command "${command}"\n\n${HELP.main}\n`);
        return EXIT.usage;
    }
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`gan-studio: ${err.message}\n`);
      return EXIT.usage;
    }
    throw err;
  }
}

function parse<O extends ParseArgsConfig['options']>(args: string[], options: O, allowPositionals = false) {
  return parseFlags(args, { ...COMMON, ...options }, allowPositionals);
}

// ---------------------------------------------------------------------------------------------
// train

const FLAG_OF_PATH: Record<string, string> = {
  dataset: '--dataset',
  family: '--family',
  'schedule.steps': '--steps',
  'schedule.batchSize': '--batch',
  'optimizer.g.lr': '--lr-g',
  'optimizer.d.lr': '--lr-d',
  seed: '--seed',
  backend: '--backend',
  name: '--name',
};

async function trainCommand(args: string[]): Promise<number> {
  const { values } = parse(args, {
    dataset: { type: 'string' },
    family: { type: 'string' },
    steps: { type: 'string' },
    batch: { type: 'string' },
    'lr-g': { type: 'string' },
    'lr-d': { type: 'string' },
    seed: { type: 'string' },
    backend: { type: 'string' },
    name: { type: 'string' },
    config: { type: 'string' },
    resume: { type: 'string' },
  });
  if (values.help) {
    process.stdout.write(`${HELP.train}\n`);
    return EXIT.ok;
  }
  const out = output(values.json);
  let configInput: Record<string, unknown> | null = null;
  if (!values.resume) {
    let base: Record<string, unknown> = {};
    if (values.config) {
      const { readFile } = await import('node:fs/promises');
      try {
        base = JSON.parse(await readFile(values.config, 'utf8')) as Record<string, unknown>;
      } catch (err) {
        out.error('invalid_input', `--config ${values.config}: ${(err as Error).message}`);
        return EXIT.usage;
      }
    }
    const set = (obj: Record<string, unknown>, keys: string[], v: unknown) => {
      if (v === undefined) return;
      let o = obj;
      for (const k of keys.slice(0, -1)) o = (o[k] ??= {}) as Record<string, unknown>;
      o[keys[keys.length - 1]] = v;
    };
    set(base, ['dataset'], values.dataset);
    set(base, ['family'], values.family);
    set(base, ['schedule', 'steps'], numberFlag('--steps', values.steps));
    set(base, ['schedule', 'batchSize'], numberFlag('--batch', values.batch));
    set(base, ['optimizer', 'g', 'lr'], numberFlag('--lr-g', values['lr-g']));
    set(base, ['optimizer', 'd', 'lr'], numberFlag('--lr-d', values['lr-d']));
    set(base, ['seed'], numberFlag('--seed', values.seed));
    set(base, ['backend'], values.backend);
    set(base, ['name'], values.name);
    if (base.dataset === undefined) {
      out.error('invalid_input', 'missing --dataset (for example --dataset builtin:mnist)');
      return EXIT.usage;
    }
    // Validate before touching the data folder: a rejected run writes nothing.
    try {
      resolveRunConfig(base);
    } catch (err) {
      if (err instanceof ApiError) {
        out.error(err.code, withFlags(err));
        return EXIT.usage;
      }
      throw err;
    }
    configInput = base;
  }

  const core = await openCore(values.home, 'memory');
  const client = createInMemoryClient(core.api, core.events);
  try {
    return await followRun(client, core, out, configInput, values.resume);
  } finally {
    await core.close();
  }
}

/** Names the command-line flag next to the config path, e.g. "schedule.batchSize (--batch)". */
function withFlags(err: ApiError): string {
  const issues = (err.details?.issues as { path: string; message: string }[] | undefined) ?? [];
  if (issues.length === 0) return err.message;
  return `invalid run config: ${issues.map((i) => `${i.path}${FLAG_OF_PATH[i.path] ? ` (${FLAG_OF_PATH[i.path]})` : ''}: ${i.message}`).join('; ')}`;
}

const TERMINAL: RunStatus[] = ['completed', 'stopped', 'diverged', 'failed', 'interrupted'];

function formatEta(s: number | null): string {
  if (s === null || !Number.isFinite(s)) return '—';
  const m = Math.floor(s / 60);
  return m > 0 ? `${m}m${String(Math.round(s % 60)).padStart(2, '0')}s` : `${Math.round(s)}s`;
}

async function followRun(client: ApiClient, core: StudioCore, out: Out, configInput: Record<string, unknown> | null, resumeId: string | undefined): Promise<number> {
  let runId: string | null = null;
  let interrupts = 0;
  let eta: number | null = null;
  let totalSteps = 0;
  let lastStatus: RunStatus | null = null;
  let finished: (run: RunSummary) => void;
  const done = new Promise<RunSummary>((r) => (finished = r));
  const early: StudioEvent[] = [];

  const onEvent = (e: StudioEvent) => {
    if (runId === null) {
      early.push(e);
      return;
    }
    if ('runId' in e && e.runId !== runId) return;
    switch (e.type) {
      case 'run.progress':
        eta = e.etaSeconds;
        totalSteps = e.totalSteps;
        return;
      case 'run.scalars': {
        const s = e.series;
        const g = s['loss/g'];
        if (!g) return;
        for (let i = 0; i < g.steps.length; i++) {
          const at = (tag: string) => s[tag]?.values[i] ?? null;
          const step = g.steps[i];
          const row = { type: 'progress', step, totalSteps, gLoss: at('loss/g'), dLoss: at('loss/d'), dReal: at('d/real'), dFake: at('d/fake'), imgPerSec: at('perf/img_per_sec') };
          const f = (v: number | null, d = 3) => (v === null ? '—' : v.toFixed(d));
          out.print(row, `step ${step}/${totalSteps}  G ${f(row.gLoss)}  D ${f(row.dLoss)}  D(x) ${f(row.dReal, 2)}  D(G(z)) ${f(row.dFake, 2)}  ${f(row.imgPerSec, 1)} img/s  ETA ${formatEta(eta)}`);
        }
        return;
      }
      case 'run.sample':
        out.print({ type: 'sample', step: e.step }, `sample grid at step ${e.step}`);
        return;
      case 'run.log':
        out.print({ type: 'log', level: e.level, message: e.message }, `[${e.level}] ${e.message}`);
        return;
      case 'run.alert': {
        // range extensions ('updated') are for charts; a terminal wants the transitions
        if (e.change === 'updated') return;
        const a = e.alert;
        const row = { type: 'alert', kind: a.kind, severity: a.severity, step: e.change === 'resolved' ? a.endStep : a.detectedStep, change: e.change, id: a.id, state: a.state, stepRange: [a.startStep, a.endStep], sampleStep: a.sampleStep, evidence: { ...a.evidence.values, stepRange: [a.startStep, a.endStep], sampleStep: a.sampleStep, tags: a.evidence.tags }, explanation: a.explanation, remedies: a.remedies.map((r) => r.id) };
        if (out.json) out.print(row, '');
        // in text mode the run log already carries the alert's line
        return;
      }
      case 'run.status': {
        if (e.run.id !== runId) return;
        const r = e.run;
        lastStatus = r.status;
        out.print({ type: 'status', status: r.status, reason: r.statusReason, backend: r.backend }, `status: ${r.status}${r.statusReason ? ` (${r.statusReason})` : ''}${r.status === 'running' && r.backend ? ` on ${r.backend.name} via ${r.backend.provider}${r.backend.skipped.length ? `; skipped ${r.backend.skipped.map((s) => `${s.provider}: ${s.reason}`).join('; ')}` : ''}` : ''}`);
        // An interrupted run may be resumed automatically; wait for the final word.
        if (TERMINAL.includes(r.status) && (r.status !== 'interrupted' || !core.runs.activeRunIds.includes(r.id))) finished(r);
        return;
      }
    }
  };
  const unsubscribe = client.subscribe(onEvent);

  const onSigint = () => {
    interrupts++;
    if (!runId) return;
    if (interrupts === 1) {
      process.stderr.write('gan-studio: stopping (final checkpoint); press Ctrl-C again to kill the trainer\n');
      client.call('runs.stop', { runId }).catch(() => undefined);
    } else {
      void core.runs.close(0);
    }
  };
  // Pause/resume from the command line: `p` in a terminal, or SIGUSR2 from a script.
  const togglePause = () => {
    if (!runId) return;
    const call = lastStatus === 'paused' ? client.call('runs.resume', { runId }) : client.call('runs.pause', { runId });
    call.catch((err: unknown) => process.stderr.write(`gan-studio: ${(err as Error).message}\n`));
  };
  const onKey = (key: Buffer) => {
    const k = key.toString();
    if (k === 'p') togglePause();
    else if (k === 'q' || k === '\u0003') onSigint();
  };
  const tty = process.stdin.isTTY === true;
  if (tty) {
    process.stdin.setRawMode(true);
    process.stdin.on('data', onKey);
    if (!out.json) process.stderr.write('keys: p pause/resume, q stop (final checkpoint)\n');
  }
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigint);
  if (process.platform !== 'win32') process.on('SIGUSR2', togglePause);
  try {
    try {
      const started = resumeId ? await client.call('runs.resume', { runId: resumeId }) : await client.call('runs.start', { config: configInput! });
      runId = started.id;
      out.print({ type: 'started', runId, resumed: Boolean(resumeId) }, `${resumeId ? 'resuming' : 'started'} run ${runId}`);
    } catch (err) {
      if (err instanceof ApiError) {
        out.error(err.code, err.code === 'invalid_input' ? withFlags(err) : err.message);
        return err.code === 'invalid_input' ? EXIT.usage : EXIT.failed;
      }
      throw err;
    }
    for (const e of early.splice(0)) onEvent(e);
    // Wait for the end, also when an automatic resume is pending after a crash.
    let final = await done;
    while (final.status === 'interrupted' && core.runs.activeRunIds.includes(final.id)) final = await done;
    out.print({ type: 'done', runId, status: final.status, step: final.step, reason: final.statusReason }, `run ${runId} ${final.status} at step ${final.step}${final.statusReason ? `: ${final.statusReason}` : ''}`);
    if (final.status === 'completed') return EXIT.ok;
    return interrupts > 0 ? EXIT.interrupted : EXIT.failed;
  } finally {
    unsubscribe();
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
    process.off('SIGUSR2', togglePause);
    if (tty) {
      process.stdin.off('data', onKey);
      process.stdin.setRawMode(false);
      process.stdin.pause();
    }
  }
}

// ---------------------------------------------------------------------------------------------
// runs

async function runsCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, { status: { type: 'string' }, limit: { type: 'string' } }, true);
  if (values.help || positionals[0] !== 'list') {
    process.stdout.write(`${HELP.runs}\n`);
    return values.help ? EXIT.ok : EXIT.usage;
  }
  const out = output(values.json);
  const core = await openCore(values.home, 'memory');
  try {
    const client = createInMemoryClient(core.api, core.events);
    const list = await client.call('runs.list', { status: values.status as RunStatus | undefined, limit: numberFlag('--limit', values.limit) });
    if (values.json) {
      process.stdout.write(`${JSON.stringify(list)}\n`);
    } else if (list.length === 0) {
      process.stdout.write('no runs yet: start one with "gan-studio train --dataset builtin:mnist --family dcgan"\n');
    } else {
      const rows = list.map((r) => [r.id, r.name, r.family, r.status, `${r.step}/${r.totalSteps}`, `${(r.durationMs / 1000).toFixed(1)}s`, r.finalGLoss?.toFixed(3) ?? '—', r.finalDLoss?.toFixed(3) ?? '—', new Date(r.createdAt).toISOString().slice(0, 19).replace('T', ' ')]);
      const head = ['ID', 'NAME', 'FAMILY', 'STATUS', 'STEPS', 'TIME', 'G LOSS', 'D LOSS', 'CREATED'];
      const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
      for (const r of [head, ...rows]) process.stdout.write(`${r.map((c, i) => c.padEnd(widths[i])).join('  ')}\n`);
    }
    return EXIT.ok;
  } catch (err) {
    if (err instanceof ApiError) {
      out.error(err.code, err.message);
      return err.code === 'invalid_input' ? EXIT.usage : EXIT.failed;
    }
    throw err;
  } finally {
    await core.close();
  }
}

// ---------------------------------------------------------------------------------------------
// serve / start

function findBrowserOpener(): string[] | null {
  if (process.platform === 'darwin') return ['open'];
  if (process.platform === 'win32') return ['cmd', '/c', 'start', '""'];
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    for (const name of ['xdg-open', 'sensible-browser', 'chromium', 'google-chrome', 'firefox']) {
      if (dir && existsSync(path.join(dir, name))) return [path.join(dir, name)];
    }
  }
  return null;
}

async function serveCommand(args: string[], openByDefault: boolean): Promise<number> {
  const { values } = parse(args, { port: { type: 'string' }, 'no-open': { type: 'boolean', default: false }, open: { type: 'boolean', default: false } });
  if (values.help) {
    process.stdout.write(`${HELP.serve}\n`);
    return EXIT.ok;
  }
  const out = output(values.json);
  const port = numberFlag('--port', values.port) ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be an integer from 0 to 65535, got ${values.port}`);
  if (!existsSync(path.join(RENDERER_DIST, 'index.html'))) {
    out.error('not_found', `the user interface is not built (${RENDERER_DIST} is missing): run "npm run build:renderer"`);
    return EXIT.failed;
  }
  const { startBrowserServer } = await import('../transport/browser-server.ts');
  const core = await openCore(values.home, 'browser');
  const server = await startBrowserServer({ api: core.api, events: core.events, staticDir: RENDERER_DIST, port, uploads: { dir: path.join(core.home, 'uploads') } });
  out.print({ type: 'listening', url: server.url, origin: server.origin, port: server.port, home: core.home }, `GAN Studio (browser mode) is running.\nOpen: ${server.url}\nData folder: ${core.home}\nPress Ctrl-C to stop.`);
  if ((openByDefault || values.open) && !values['no-open']) {
    const opener = findBrowserOpener();
    if (opener) {
      const child = spawn(opener[0], [...opener.slice(1), server.url], { stdio: 'ignore', detached: true });
      child.on('error', () => undefined);
      child.unref();
    } else if (!values.json) {
      process.stdout.write('No local browser was found to open it automatically: open the URL above yourself.\n');
    }
  }
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  if (!values.json) process.stdout.write('\nstopping: finishing active runs with a final checkpoint…\n');
  await server.close();
  await core.close();
  return EXIT.ok;
}

/**
 * better-sqlite3 built for the installed Electron's ABI, in dist/native/electron-<version>/ (built
 * once with @electron/rebuild from a copy of the package, so node_modules keeps the Node build the
 * CLI and tests use). Returns the path of the .node file for better-sqlite3's nativeBinding.
 */
async function electronSqliteBinding(): Promise<string> {
  const require = createRequire(import.meta.url);
  const version = (require('electron/package.json') as { version: string }).version;
  const target = path.join(PROJECT_ROOT, 'dist', 'native', `electron-${version}`);
  const binding = path.join(target, 'node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node');
  if (existsSync(binding)) return binding;
  const { cp, mkdir, writeFile, rm } = await import('node:fs/promises');
  const source = path.dirname(require.resolve('better-sqlite3/package.json'));
  const sqliteVersion = (require('better-sqlite3/package.json') as { version: string }).version;
  await rm(target, { recursive: true, force: true });
  await mkdir(path.join(target, 'node_modules'), { recursive: true });
  await cp(source, path.join(target, 'node_modules', 'better-sqlite3'), { recursive: true, filter: (p) => !p.includes(`${path.sep}build${path.sep}`) });
  await writeFile(path.join(target, 'package.json'), JSON.stringify({ name: 'gan-studio-electron-native', version: '0.0.0', private: true, dependencies: { 'better-sqlite3': sqliteVersion } }));
  process.stdout.write(`Building better-sqlite3 ${sqliteVersion} for Electron ${version} (once)…\n`);
  const { rebuild } = (await import('@electron/rebuild')) as { rebuild: (o: { buildPath: string; electronVersion: string; onlyModules: string[]; force: boolean }) => Promise<void> };
  await rebuild({ buildPath: target, electronVersion: version, onlyModules: ['better-sqlite3'], force: true });
  if (!existsSync(binding)) throw new Error(`the rebuild finished without ${binding}`);
  return binding;
}

/** The Electron binary's path when it is installed, else the reason it is not. */
export function findElectron(): { path: string } | { missing: string } {
  try {
    const p = createRequire(import.meta.url)('electron') as unknown;
    if (typeof p === 'string' && existsSync(p)) return { path: p };
    return { missing: 'the electron package is installed without its binary' };
  } catch (err) {
    return { missing: (err as Error).message.split('\n')[0] };
  }
}

async function startCommand(args: string[]): Promise<number> {
  const { values } = parse(args, { port: { type: 'string' }, 'no-open': { type: 'boolean', default: false }, open: { type: 'boolean', default: false } });
  if (values.help) {
    process.stdout.write(`${HELP.start}\n`);
    return EXIT.ok;
  }
  const electron = findElectron();
  if ('path' in electron) {
    const build = spawn(process.execPath, [path.join(PROJECT_ROOT, 'scripts', 'build-electron.mjs')], { stdio: 'inherit' });
    const built = await new Promise<number>((r) => build.on('exit', (c) => r(c ?? 1)));
    if (built !== 0) return EXIT.failed;
    let binding: string;
    try {
      binding = await electronSqliteBinding();
    } catch (err) {
      process.stderr.write(`gan-studio: could not build better-sqlite3 for Electron (${(err as Error).message}); it needs python3, make and a C++ compiler, and Electron's headers from the network the first time\n`);
      return EXIT.failed;
    }
    const env = { ...process.env, [SQLITE_BINDING_ENV]: binding, ...(values.home ? { GAN_STUDIO_HOME: path.resolve(values.home) } : {}) };
    const app = spawn(electron.path, [PROJECT_ROOT], { stdio: 'inherit', env });
    return await new Promise<number>((r) => app.on('exit', (c) => r(c ?? 0)));
  }
  process.stdout.write(`Electron is not available here (${electron.missing}).\nStarting browser mode instead: the same studio, served on 127.0.0.1.\n`);
  return serveCommand(args, true);
}
