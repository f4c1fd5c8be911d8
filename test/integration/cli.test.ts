// The gan-studio command as a user runs it: a real process, a real data folder, real training.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, readdirSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { PROJECT_ROOT } from '../../electron/core/paths.ts';

const BIN = path.join(PROJECT_ROOT, 'bin', 'gan-studio.js');
let home: string;

function cli(args: string[], timeout = 240_000) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout, env: { ...process.env, GAN_STUDIO_HOME: '' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, lines: r.stdout.split('\n').filter(Boolean) };
}

before(() => {
  home = mkdtempSync(path.join(os.tmpdir(), 'gs-cli-'));
});
after(() => rmSync(home, { recursive: true, force: true }));

test('train: 20 steps of DCGAN on MNIST print JSON progress and end completed; runs list shows it', () => {
  const r = cli(['train', '--dataset', 'builtin:mnist', '--family', 'dcgan', '--steps', '20', '--batch', '8', '--backend', 'wasm', '--seed', '5', '--home', home, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const events = r.lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  const progress = events.filter((e) => e.type === 'progress');
  assert.ok(progress.length >= 3, `expected progress lines, got ${progress.length}`);
  for (const p of progress) {
    for (const k of ['step', 'gLoss', 'dLoss', 'imgPerSec']) assert.equal(typeof p[k], 'number', `progress.${k}`);
    assert.ok(Number.isFinite(p.gLoss as number) && (p.imgPerSec as number) > 0);
  }
  assert.deepEqual(progress.map((p) => p.step), [...progress.map((p) => p.step)].sort((a, b) => (a as number) - (b as number)));
  assert.ok(events.some((e) => e.type === 'sample'), 'a sample grid was written');
  const done = events.at(-1)!;
  assert.equal(done.type, 'done');
  assert.equal(done.status, 'completed');
  assert.equal(done.step, 20);

  const list = cli(['runs', 'list', '--home', home, '--json']);
  assert.equal(list.code, 0, list.stderr);
  const runs = JSON.parse(list.stdout) as { id: string; status: string; step: number; backend: { name: string }; finalGLoss: number }[];
  assert.equal(runs.length, 1);
  assert.equal(runs[0].id, done.runId);
  assert.equal(runs[0].status, 'completed');
  assert.equal(runs[0].step, 20);
  assert.equal(runs[0].backend.name, 'wasm');
  assert.equal(typeof runs[0].finalGLoss, 'number');
  // the run folder holds its samples and a final checkpoint
  const runDir = path.join(home, 'runs', runs[0].id);
  assert.ok(readdirSync(path.join(runDir, 'samples')).some((f) => f.endsWith('.png')));
  assert.ok(existsSync(path.join(runDir, 'checkpoints', 'step-000000020', 'manifest.json')));
});

test('an invalid config exits 2, names the field and its flag, and writes no run', () => {
  const cases: [string[], RegExp][] = [
    [['--family', 'nosuchgan'], /family \(--family\): unknown family "nosuchgan"/],
    [['--family', 'dcgan', '--batch', '0'], /schedule\.batchSize \(--batch\)/],
    [['--family', 'dcgan', '--steps', 'many'], /--steps must be a number/],
    [['--family', 'dcgan', '--backend', 'cuda'], /backend \(--backend\)/],
  ];
  for (const [flags, message] of cases) {
    const r = cli(['train', '--dataset', 'builtin:mnist', ...flags, '--home', home]);
    assert.equal(r.code, 2, `${flags.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
  }
  const missing = cli(['train', '--family', 'dcgan', '--home', home]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /--dataset/);
  const noData = cli(['train', '--dataset', 'nope', '--family', 'dcgan', '--home', home, '--json']);
  assert.equal(noData.code, 2);
  assert.match(JSON.parse(noData.lines[0]).message, /dataset \(--dataset\): no dataset with id nope/);
  const unknownFlag = cli(['train', '--dataset', 'builtin:mnist', '--family', 'dcgan', '--bacth', '8', '--home', home]);
  assert.equal(unknownFlag.code, 2);
  assert.match(unknownFlag.stderr, /bacth/);
  // only the run of the first test exists
  const db = new Database(path.join(home, 'studio.db'), { readonly: true });
  try {
    assert.equal((db.prepare('SELECT count(*) AS n FROM runs').get() as { n: number }).n, 1);
  } finally {
    db.close();
  }
  assert.equal(readdirSync(path.join(home, 'runs')).length, 1);
});

test('--help documents every flag of train, runs, serve and start', () => {
  const train = cli(['train', '--help']);
  assert.equal(train.code, 0);
  for (const flag of ['--dataset', '--family', '--steps', '--batch', '--lr-g', '--lr-d', '--seed', '--backend', '--name', '--config', '--resume', '--home', '--json']) assert.ok(train.stdout.includes(flag), `train --help mentions ${flag}`);
  const serve = cli(['serve', '--help']);
  for (const flag of ['--port', '--no-open', '--home', '--json']) assert.ok(serve.stdout.includes(flag), `serve --help mentions ${flag}`);
  assert.match(cli(['runs', '--help']).stdout, /--status/);
  assert.match(cli(['start', '--help']).stdout, /browser mode/);
  const top = cli(['--help']);
  for (const cmd of ['start', 'serve', 'train', 'runs list']) assert.ok(top.stdout.includes(cmd));
  assert.equal(cli(['frobnicate']).code, 2);
});

test('train can be paused and resumed (SIGUSR2) and stopped (SIGINT) with a final checkpoint', { skip: process.platform === 'win32' }, async () => {
  const { spawn } = await import('node:child_process');
  const child = spawn(process.execPath, [BIN, 'train', '--dataset', 'builtin:mnist', '--family', 'dcgan', '--steps', '5000', '--batch', '8', '--backend', 'wasm', '--seed', '9', '--home', home, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const seen: Record<string, unknown>[] = [];
  let buffer = '';
  const waiters: { pred: (e: Record<string, unknown>) => boolean; resolve: () => void }[] = [];
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    buffer += chunk;
    let nl;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const e = JSON.parse(buffer.slice(0, nl)) as Record<string, unknown>;
      buffer = buffer.slice(nl + 1);
      seen.push(e);
      for (const w of waiters.splice(0)) (w.pred(e) ? w.resolve : () => waiters.push(w))();
    }
  });
  const next = (pred: (e: Record<string, unknown>) => boolean) => new Promise<void>((resolve) => (seen.some(pred) ? resolve() : waiters.push({ pred, resolve })));
  const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
  try {
    await next((e) => e.type === 'progress');
    child.kill('SIGUSR2');
    await next((e) => e.type === 'status' && e.status === 'paused');
    const pausedAt = seen.filter((e) => e.type === 'progress').length;
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(seen.filter((e) => e.type === 'progress').length, pausedAt, 'no progress while paused');
    child.kill('SIGUSR2');
    await next((e) => e.type === 'status' && e.status === 'running' && seen.indexOf(e) > seen.findIndex((x) => x.status === 'paused'));
    const resumedAt = seen.length;
    await next((e) => e.type === 'progress' && seen.indexOf(e) >= resumedAt);
    child.kill('SIGINT');
    assert.equal(await exited, 130);
  } finally {
    child.kill('SIGKILL');
  }
  const done = seen.at(-1)!;
  assert.equal(done.type, 'done');
  assert.equal(done.status, 'stopped');
  const step = done.step as number;
  assert.ok(step > 0 && step < 5000);
  const manifest = JSON.parse((await import('node:fs')).readFileSync(path.join(home, 'runs', done.runId as string, 'checkpoints', `step-${String(step).padStart(9, '0')}`, 'manifest.json'), 'utf8')) as { kind: string; step: number };
  assert.equal(manifest.kind, 'stop');
  assert.equal(manifest.step, step);
});
