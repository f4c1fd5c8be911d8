// `gan-studio dataset …` as a user runs it: import a folder of class subfolders, list and show it,
// train DCGAN on it for a few steps, delete it; a source with nothing importable exits non-zero.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../../electron/core/paths.ts';
import { png, tempDir, writeFiles } from '../unit/import-fixtures.ts';

const BIN = path.join(PROJECT_ROOT, 'bin', 'gan-studio.js');
let home: string;
let src: string;

function cli(args: string[], timeout = 240_000) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout, env: { ...process.env, GAN_STUDIO_HOME: '' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, lines: r.stdout.split('\n').filter(Boolean) };
}

before(async () => {
  home = tempDir('gs-cli-import-');
  src = tempDir('gs-cli-src-');
  const files: Record<string, Buffer | string> = {};
  for (const [c, name] of ['circle', 'square', 'stripe'].entries()) {
    for (let i = 0; i < 12; i++) {
      files[`shapes/${name}/${i}.png`] = await png(24, 24, 3, (x, y, ch) => {
        const on = c === 0 ? (x - 12) ** 2 + (y - 12) ** 2 < 64 : c === 1 ? x > 6 && x < 18 && y > 6 && y < 18 : (x + i) % 6 < 3;
        return on ? 200 + ch * 20 : 10 + i;
      });
    }
  }
  files['shapes/notes.txt'] = 'a stray file';
  writeFiles(src, files);
});
after(() => {
  rmSync(home, { recursive: true, force: true });
  rmSync(src, { recursive: true, force: true });
});

test('dataset import → list → show → train 5 steps → delete', () => {
  const imp = cli(['dataset', 'import', src, '--name', 'Shapes', '--size', '16', '--home', home, '--json']);
  assert.equal(imp.code, 0, imp.stderr);
  const out = imp.lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.ok(out.some((o) => o.type === 'progress'));
  const done = out.at(-1)!;
  assert.equal(done.type, 'done');
  assert.match(done.id as string, /^imported:shapes-/);
  assert.equal((done.count as number) + (done.holdout as number), 36);
  assert.deepEqual(done.classes, ['circle', 'square', 'stripe']);
  assert.deepEqual(done.rejected, [{ path: 'shapes/notes.txt', reason: 'outside the class folders (one folder per class)' }]);
  const id = done.id as string;

  const list = cli(['dataset', 'list', '--home', home, '--json']);
  assert.equal(list.code, 0, list.stderr);
  assert.ok((JSON.parse(list.stdout) as { id: string }[]).some((d) => d.id === id));
  const show = cli(['dataset', 'show', id, '--home', home]);
  assert.equal(show.code, 0, show.stderr);
  assert.match(show.stdout, /classes \(training counts\): circle \d+, square \d+, stripe \d+/);
  assert.match(show.stdout, /shapes\/notes\.txt: outside the class folders/);

  const train = cli(['train', '--dataset', id, '--family', 'dcgan', '--steps', '5', '--batch', '8', '--backend', 'wasm', '--seed', '3', '--home', home, '--json']);
  assert.equal(train.code, 0, train.stderr + train.stdout);
  const last = JSON.parse(train.lines.at(-1)!) as { type: string; status: string; step: number };
  assert.deepEqual([last.type, last.status, last.step], ['done', 'completed', 5]);

  // used by a run: refused; the run keeps its dataset
  const refused = cli(['dataset', 'delete', id, '--home', home]);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /used by runs/);
});

test('a second dataset can be deleted; nothing importable exits 1 with the JSON error and writes nothing', () => {
  const imp = cli(['dataset', 'import', src, '--kind', 'images', '--size', '8', '--home', home, '--json']);
  assert.equal(imp.code, 0, imp.stderr);
  const id = (JSON.parse(imp.lines.at(-1)!) as { id: string }).id;
  const del = cli(['dataset', 'delete', id, '--home', home]);
  assert.equal(del.code, 0, del.stderr);
  assert.equal(readdirSync(path.join(home, 'datasets')).filter((n) => n.startsWith(id.replace(':', '-'))).length, 0);

  const empty = tempDir('gs-cli-empty-');
  writeFiles(empty, { 'x.png': Buffer.alloc(0) });
  const before = readdirSync(path.join(home, 'datasets')).sort();
  const bad = cli(['dataset', 'import', empty, '--home', home, '--json']);
  assert.equal(bad.code, 1);
  const err = JSON.parse(bad.lines.at(-1)!) as { error: { code: string; message: string }; rejected: { path: string; reason: string }[] };
  assert.equal(err.error.code, 'invalid_input');
  assert.match(err.error.message, /nothing importable/);
  assert.deepEqual(err.rejected, [{ path: 'x.png', reason: 'empty file (0 bytes)' }]);
  assert.deepEqual(readdirSync(path.join(home, 'datasets')).sort(), before);
  rmSync(empty, { recursive: true, force: true });

  const usage = cli(['dataset', 'import', '--home', home]);
  assert.equal(usage.code, 2);
  const badFlag = cli(['dataset', 'import', src, '--channels', '2', '--home', home]);
  assert.equal(badFlag.code, 2);
  assert.match(badFlag.stderr, /--channels must be 1 or 3/);
});
