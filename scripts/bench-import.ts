// Dataset import throughput (issue 5) and the trainer's batch assembly from the cache.
//
//   npm run bench:import -- [--reps 3] [--files 60000] [--baseline 6000] [--no-train] [--json]
//
// 1. Fixture: 60 000 generated 28×28 grey PNGs in 10 class folders, made once and cached under
//    os.tmpdir() keyed by FIXTURE_VERSION (generation is not timed).
// 2. The real importer, as `gan-studio dataset import DIR --json` runs it: a studio core on a fresh
//    temporary home, `datasets.import` in its worker thread, timed from the call to the final
//    status. Median images/s over --reps runs against the 2 000 img/s target, and where the time
//    went: the importer times each phase (folder walk, plan, reads, decodes, statistics, exact and
//    near duplicates, content hash, cache write, progress messages; import/phases.ts) and the core
//    adds the import thread's start-up, printed as a table per run (and in --json as phasesMs).
// 3. Baselines measured in the same run: (a) a plain sequential sharp decode (read, decode, resize,
//    raw) of the first --baseline files, one at a time on this thread; (b) the importer in its
//    previous configuration (GAN_STUDIO_IMPORT_FAST_PNG=0: every PNG through sharp) on all files.
// 4. Batch assembly: DataSource.next(64) from the imported cache (uint8 → [-1, 1] floats and the
//    tensor), median over many batches, as a share of one W1 iteration measured by
//    scripts/bench-train.ts (wasm, batch 64) in a child process of this run. Target < 5 %.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, promises as fsp, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import { loadDatasetCache } from '../electron/core/datasets/cache.ts';
import { getDatasetDir } from '../electron/core/db/datasets-repo.ts';
import { openDatabase } from '../electron/core/db/database.ts';
import { createStudioCore } from '../electron/core/services/studio.ts';
import { DataSource, trainingDataFromCache } from '../electron/core/trainer/data-source.ts';
import type { DatasetImportStatus } from '../electron/common/api.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const FIXTURE_VERSION = 2;
const TARGET_IMG_PER_S = 2000;
const TARGET_BATCH_SHARE = 0.05;
const CLASSES = 10;

interface Options {
  reps: number;
  files: number;
  baseline: number;
  train: boolean;
  json: boolean;
  previous: boolean;
}

function parseArgs(argv: string[]): Options {
  const o: Options = { reps: 3, files: 60_000, baseline: 6000, train: true, json: false, previous: true };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const num = () => {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v < 1) throw new Error(`${a} needs a positive integer`);
      return v;
    };
    if (a === '--reps') o.reps = num();
    else if (a === '--files') o.files = Math.max(CLASSES, num());
    else if (a === '--baseline') o.baseline = num();
    else if (a === '--no-train') o.train = false;
    else if (a === '--no-previous') o.previous = false;
    else if (a === '--json') o.json = true;
    else throw new Error(`unknown flag ${a}`);
  }
  return o;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

let quiet = false;
const log = (msg: string) => {
  if (!quiet) process.stderr.write(`${msg}\n`);
};

/** A digit-like stroke pattern per class with per-item jitter, so files differ (PNG sizes vary as real ones do). */
function drawItem(cls: number, i: number): Buffer {
  const px = Buffer.alloc(28 * 28);
  let s = (cls * 7919 + i * 104_729) >>> 0;
  const rnd = () => ((s = (Math.imul(s, 1_664_525) + 1_013_904_223) >>> 0) / 2 ** 32);
  const cx = 14 + (rnd() - 0.5) * 6;
  const cy = 14 + (rnd() - 0.5) * 6;
  const r = 5 + cls * 0.6 + rnd() * 2;
  const arms = 1 + (cls % 5);
  for (let y = 0; y < 28; y++) {
    for (let x = 0; x < 28; x++) {
      const dx = x - cx;
      const dy = y - cy;
      const d = Math.hypot(dx, dy);
      const ang = Math.atan2(dy, dx);
      const ring = Math.exp(-((d - r) ** 2) / 2);
      const spoke = cls >= 5 ? Math.max(0, Math.cos(arms * ang)) ** 8 * (d < r ? 1 : 0) : 0;
      px[y * 28 + x] = Math.min(255, Math.round(255 * Math.max(ring, spoke) + rnd() * 12));
    }
  }
  return px;
}

async function ensureFixture(files: number): Promise<string> {
  const dir = path.join(os.tmpdir(), `gan-studio-bench-import-v${FIXTURE_VERSION}-${files}`);
  const done = path.join(dir, '.complete');
  if (existsSync(done)) {
    log(`fixture: reusing ${dir}`);
    return dir;
  }
  rmSync(dir, { recursive: true, force: true });
  log(`fixture: generating ${files} 28×28 PNGs in ${CLASSES} class folders under ${dir} (once; not timed)…`);
  const t0 = performance.now();
  const per = Math.ceil(files / CLASSES);
  for (let c = 0; c < CLASSES; c++) mkdirSync(path.join(dir, 'digits', `class-${c}`), { recursive: true });
  let made = 0;
  const jobs: Promise<void>[] = [];
  for (let c = 0; c < CLASSES; c++) {
    for (let i = 0; i < per && made < files; i++, made++) {
      const file = path.join(dir, 'digits', `class-${c}`, `${String(i).padStart(5, '0')}.png`);
      jobs.push(
        sharp(drawItem(c, i), { raw: { width: 28, height: 28, channels: 1 } })
          // one grey channel in the file, as MNIST-style PNGs have (sharp would write RGB otherwise)
          .toColourspace('b-w')
          .png()
          .toBuffer()
          .then((b) => fsp.writeFile(file, b)),
      );
      if (jobs.length >= 64) await Promise.all(jobs.splice(0));
    }
  }
  await Promise.all(jobs);
  writeFileSync(done, `${files}\n`);
  log(`fixture: ${files} files in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return dir;
}

/** The first n files of the fixture, class by class. */
async function fixtureFiles(dir: string, n: number): Promise<string[]> {
  const out: string[] = [];
  const classes = (await fsp.readdir(path.join(dir, 'digits'))).sort();
  const lists = await Promise.all(classes.map(async (c) => (await fsp.readdir(path.join(dir, 'digits', c))).sort().map((f) => path.join(dir, 'digits', c, f))));
  for (let i = 0; out.length < n; i++) {
    let any = false;
    for (const l of lists) {
      if (i < l.length && out.length < n) {
        out.push(l[i]);
        any = true;
      }
    }
    if (!any) break;
  }
  return out;
}

/** Baseline (a): read + sharp decode/resize/raw, one file at a time. */
async function sequentialSharp(files: string[]): Promise<number> {
  const t0 = performance.now();
  for (const f of files) {
    const buf = await fsp.readFile(f);
    await sharp(buf).resize(28, 28, { fit: 'cover' }).grayscale().raw().toBuffer();
  }
  return files.length / ((performance.now() - t0) / 1000);
}

interface ImportRun {
  seconds: number;
  /** wall ms per phase, from the importer (electron/core/datasets/import/phases.ts) and the core */
  timings: Record<string, number>;
  imgPerSec: number;
  imported: number;
  rejected: number;
  home: string;
  datasetId: string;
}

/** One import through the core, as the CLI runs it (worker thread, events, database). */
async function importOnce(source: string, env: Record<string, string> = {}): Promise<ImportRun> {
  const saved: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(env)) {
    saved[k] = process.env[k];
    process.env[k] = v;
  }
  const home = await fsp.mkdtemp(path.join(os.tmpdir(), 'gan-bench-import-home-'));
  const core = await createStudioCore({ home, mode: 'memory' });
  try {
    const t0 = performance.now();
    const started = await core.api['datasets.import']({ path: source, name: 'bench', size: 28, channels: 1, kind: 'auto', fit: 'crop', holdout: 0.1, flip: false, seed: 1 });
    const end: DatasetImportStatus = await core.imports.wait(started.importId);
    const seconds = (performance.now() - t0) / 1000;
    if (end.state !== 'done') throw new Error(`the import ended ${end.state}: ${end.error?.message}`);
    const imported = end.report!.counts.imported;
    const timings = core.imports.timings(started.importId);
    timings.wall = seconds * 1000;
    return { seconds, timings, imgPerSec: imported / seconds, imported, rejected: end.report!.counts.rejected, home, datasetId: end.datasetId! };
  } finally {
    await core.close();
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

/** The phases of one import, in pipeline order, as the importer timed them. */
const PHASES: [key: string, label: string][] = [
  ['threadStart', 'import thread start-up (worker + module load)'],
  ['walk', 'folder walk'],
  ['plan', 'plan (kinds, classes)'],
  ['probe', 'channel probe (first 32 files)'],
  ['read', 'file reads (Σ per file)'],
  ['decode', 'decode + preprocess (Σ per file)'],
  ['decodePhase', '  read + decode phase, wall'],
  ['assemble', 'labels, split, gather'],
  ['channelStats', 'channel mean / std'],
  ['exactDuplicates', 'exact duplicates'],
  ['dHash', 'dHash of every image'],
  ['nearDuplicates', 'near-duplicate search'],
  ['mirror', 'mirrored copies'],
  ['preview', 'duplicates preview PNG'],
  ['contentHash', 'content hash (sha256)'],
  ['write', 'cache write (fsync, rename)'],
  ['progress', 'progress messages (in the importer)'],
  ['total', 'importer total'],
  ['wall', 'wall, API call → final status'],
];

function phaseTable(runs: { label: string; timings: Record<string, number> }[]): string {
  const rows = PHASES.filter(([k]) => runs.some((r) => r.timings[k] !== undefined));
  const width = Math.max(...rows.map(([, l]) => l.length));
  const head = `  ${'phase'.padEnd(width)}  ${runs.map((r) => r.label.padStart(16)).join('')}`;
  const lines = rows.map(([k, l]) => {
    const cells = runs.map((r) => {
      const v = r.timings[k];
      if (v === undefined) return '—'.padStart(16);
      const pct = r.timings.wall ? ` ${((100 * v) / r.timings.wall).toFixed(0).padStart(3)}%` : '';
      return `${v.toFixed(0)} ms${pct}`.padStart(16);
    });
    return `  ${l.padEnd(width)}  ${cells.join('')}`;
  });
  const msgs = runs.map((r) => `${r.label}: ${r.timings.messages ?? '?'} messages, ${r.timings['count.progress'] ?? '?'} progress`).join('; ');
  return [head, ...lines, `  (worker → core ${msgs})`].join('\n');
}

/** Median ms of DataSource.next(64) + dispose from the imported cache. */
async function batchAssembly(home: string, datasetId: string): Promise<{ medianMs: number; batches: number }> {
  const { db } = openDatabase(path.join(home, 'studio.db'));
  const dir = getDatasetDir(db, datasetId)!;
  db.close();
  const cache = await loadDatasetCache(dir);
  await tf.setBackend('cpu');
  const source = new DataSource(trainingDataFromCache(cache), 1, 64);
  const times: number[] = [];
  for (let i = 0; i < 300; i++) {
    const t0 = performance.now();
    const batch = source.next(64);
    tf.dispose(Object.values(batch).filter((v): v is tf.Tensor => v instanceof tf.Tensor));
    if (i >= 20) times.push(performance.now() - t0);
  }
  return { medianMs: median(times), batches: times.length };
}

/** One W1 iteration (wasm, batch 64), measured by scripts/bench-train.ts in a child process. */
function w1IterationMs(): { ms: number; backend: string } | null {
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'scripts/bench-train.ts'), '--backends', 'wasm', '--iters', '5', '--json'], { cwd: ROOT, encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
  const line = r.stdout.split('\n').find((l) => l.startsWith('{'));
  if (!line) {
    log(`bench-train failed: ${r.stderr.slice(-500)}`);
    return null;
  }
  const parsed = JSON.parse(line) as { results: { backend: string; medianIterMs: number }[] };
  const w = parsed.results.find((x) => x.backend === 'wasm');
  return w ? { ms: w.medianIterMs, backend: 'wasm' } : null;
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  quiet = false;
  log(`machine: ${os.cpus().length} logical cores, ${(os.totalmem() / 1024 ** 3).toFixed(0)} GiB, Node ${process.version}, sharp ${sharp.versions.sharp} (libvips ${sharp.versions.vips}), sharp.concurrency ${sharp.concurrency()}`);
  const fixture = await ensureFixture(o.files);
  const source = path.join(fixture, 'digits');

  const baselineFiles = await fixtureFiles(fixture, Math.min(o.baseline, o.files));
  await sequentialSharp(baselineFiles.slice(0, 200));
  const seqRate = await sequentialSharp(baselineFiles);
  log(`baseline (a) sequential sharp decode of ${baselineFiles.length} files: ${seqRate.toFixed(0)} img/s`);

  const runs: ImportRun[] = [];
  for (let r = 0; r < o.reps; r++) {
    const run = await importOnce(source);
    runs.push(run);
    log(`import ${r + 1}/${o.reps}: ${run.imported} images (${run.rejected} rejected) in ${run.seconds.toFixed(1)} s = ${run.imgPerSec.toFixed(0)} img/s`);
  }
  const importRate = median(runs.map((r) => r.imgPerSec));
  log(`phase breakdown, ms and share of the wall time:\n${phaseTable(runs.map((r, i) => ({ label: `import ${i + 1}`, timings: r.timings })))}`);

  let previous: ImportRun | null = null;
  if (o.previous) {
    // the configuration before the plain-PNG fast path: every file through a sharp pipeline
    previous = await importOnce(source, { GAN_STUDIO_IMPORT_FAST_PNG: '0' });
    log(`baseline (b) importer without the PNG fast path (previous configuration): ${previous.seconds.toFixed(1)} s = ${previous.imgPerSec.toFixed(0)} img/s`);
    log(`phase breakdown of baseline (b):\n${phaseTable([{ label: 'baseline (b)', timings: previous.timings }])}`);
    await fsp.rm(previous.home, { recursive: true, force: true });
  }

  let batch: { medianMs: number; batches: number } | null = null;
  let w1: { ms: number; backend: string } | null = null;
  if (o.train) {
    batch = await batchAssembly(runs[0].home, runs[0].datasetId);
    log(`batch assembly (DataSource.next(64) + dispose): median ${batch.medianMs.toFixed(3)} ms over ${batch.batches} batches`);
    log('W1 iteration: running scripts/bench-train.ts --backends wasm --iters 5 …');
    w1 = w1IterationMs();
    if (w1) log(`W1 iteration (${w1.backend}, batch 64): median ${w1.ms.toFixed(0)} ms`);
  }
  for (const r of runs) await fsp.rm(r.home, { recursive: true, force: true });

  const share = batch && w1 ? batch.medianMs / w1.ms : null;
  const result = {
    files: o.files,
    reps: o.reps,
    importImgPerSec: Math.round(importRate),
    importRuns: runs.map((r) => ({ seconds: Number(r.seconds.toFixed(2)), imgPerSec: Math.round(r.imgPerSec), phasesMs: Object.fromEntries(Object.entries(r.timings).map(([k, v]) => [k, Math.round(v)])) })),
    target: TARGET_IMG_PER_S,
    meetsTarget: importRate >= TARGET_IMG_PER_S,
    baselineSequentialSharpImgPerSec: Math.round(seqRate),
    baselinePreviousConfigImgPerSec: previous ? Math.round(previous.imgPerSec) : null,
    speedupVsPrevious: previous ? Number((importRate / previous.imgPerSec).toFixed(2)) : null,
    batchAssemblyMs: batch ? Number(batch.medianMs.toFixed(3)) : null,
    w1IterationMs: w1 ? Math.round(w1.ms) : null,
    batchShareOfW1: share === null ? null : Number(share.toFixed(5)),
    batchShareTarget: TARGET_BATCH_SHARE,
    meetsBatchTarget: share === null ? null : share < TARGET_BATCH_SHARE,
  };
  if (o.json) {
    console.log(JSON.stringify(result));
    return;
  }
  console.log(`\nimport of ${o.files} 28×28 PNGs (median of ${o.reps}): ${result.importImgPerSec} img/s   target ${TARGET_IMG_PER_S}   ${result.meetsTarget ? 'MET' : 'NOT MET'}`);
  console.log(`  baseline, same run: sequential sharp decode ${result.baselineSequentialSharpImgPerSec} img/s (×${(importRate / seqRate).toFixed(2)})` + (previous ? `; previous configuration (every PNG through sharp) ${result.baselinePreviousConfigImgPerSec} img/s (×${result.speedupVsPrevious})` : ''));
  if (batch && w1) {
    console.log(`batch assembly from the cache: ${batch.medianMs.toFixed(3)} ms per batch of 64 = ${(100 * share!).toFixed(3)} % of a W1 iteration (${w1.ms.toFixed(0)} ms, ${w1.backend})   target < ${TARGET_BATCH_SHARE * 100} %   ${share! < TARGET_BATCH_SHARE ? 'MET' : 'NOT MET'}`);
  }
}

await main();
