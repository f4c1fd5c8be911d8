// Evaluation end to end (issue 6) on a real short run (forked trainer, wasm), real SQLite and the
// evaluation worker thread, through the API (in-memory transport) and the CLI:
// - a classifier trained in the studio scores the run's checkpoint; every score carries its
//   protocol (extractor + weights hash, N real/fake, split, seed, conventions, options);
// - scores under different protocols are refused side by side; a re-draw with another seed is not;
// - a cancelled job stores nothing; bad input (N too small for FID, a missing extractor or run)
//   is refused before anything runs and stores nothing;
// - the CLI: extractor list, evaluate --run, evaluate --real/--fake on two image folders, bad input → exit 2.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import type { EvaluationJob } from '../../electron/common/api-evaluation.ts';
import type { RunSummary } from '../../electron/common/api.ts';
import type { ApiError } from '../../electron/common/errors.ts';
import { PROJECT_ROOT } from '../../electron/core/paths.ts';
import { builtinMnistArrays } from '../../electron/core/datasets/builtin-mnist.ts';
import { countEvaluations } from '../../electron/core/db/evaluation-repo.ts';
import { openDatabase } from '../../electron/core/db/database.ts';
import { StudioHarness, makeTempDir, tinyConfigInput } from './fixtures/trainer-harness.ts';

const BIN = path.join(PROJECT_ROOT, 'bin', 'gan-studio.js');
let h: StudioHarness;
let run: RunSummary;
let classifierId: string;
const dirs: string[] = [];

before(async () => {
  h = await StudioHarness.create('gan-eval-api-', { supervision: { heartbeatTimeoutMs: 30_000, killGraceMs: 500 } });
  run = await h.start(tinyConfigInput('wasm', 3, { steps: 40, batchSize: 16 }));
  const end = await h.waitForStatus(run.id, ['completed', 'failed', 'interrupted'], 150_000);
  assert.equal(end.value.status, 'completed', end.value.statusReason ?? '');
});
after(async () => {
  await h?.close();
  h?.dispose();
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

const stored = async () => (await h.client.call('evaluations.list', { includeDuringTraining: true })).length;
const OPTIONS = { kidSubsets: 10, kidSubsetSize: 100, nnReference: 400 };

async function finished(job: EvaluationJob): Promise<EvaluationJob> {
  return h.core.evaluation.wait(job.jobId);
}

function cli(args: string[], timeout = 180_000) {
  const r = spawnSync(process.execPath, [BIN, ...args, '--home', h.home, '--json'], { encoding: 'utf8', timeout, env: { ...process.env, GAN_STUDIO_HOME: '' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, lines: r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) };
}

test('API: train a classifier, score the run with it; the protocol is stored with every score', async (t) => {
  const trainJob = await h.client.call('extractors.train', { datasetId: 'builtin:mnist', epochs: 1, maxTrain: 1000, seed: 3 });
  const trained = await finished(trainJob);
  assert.equal(trained.state, 'done', JSON.stringify(trained.error));
  const progress = h.events.filter((r) => r.event.type === 'evaluation.job' && r.event.job.jobId === trainJob.jobId && r.event.job.state === 'running').length;
  assert.ok(progress >= 3, `${progress} progress events`);
  const ex = await h.client.call('extractors.get', { extractorId: trained.resultId! });
  classifierId = ex.id;
  t.diagnostic(`classifier: held-out accuracy ${(ex.accuracy! * 100).toFixed(1)} % (${ex.accuracySplit}, n=${ex.accuracyCount}), weights ${ex.weightsHash.slice(0, 12)}…`);
  assert.ok(ex.accuracy! > 0.6, `accuracy ${ex.accuracy}`);
  assert.ok((await h.client.call('extractors.list', {})).some((e) => e.id === ex.id));

  const job = await h.client.call('evaluations.start', { source: { kind: 'run', runId: run.id }, extractorId: ex.id, n: 120, options: OPTIONS });
  const done = await finished(job);
  assert.equal(done.state, 'done', JSON.stringify(done.error));
  const e = await h.client.call('evaluations.get', { evaluationId: done.resultId! });
  t.diagnostic(`scores: ${JSON.stringify(e.scores)}`);
  assert.deepEqual(e.metrics, ['fid', 'kid', 'is', 'prc', 'prdc', 'prd', 'swd', 'fm', 'modes', 'nn']);
  assert.ok(Number.isFinite(e.scores.fid) && e.scores.fid! > 0);
  assert.ok(e.scores.is!.mean >= 1 && e.scores.is!.mean <= 10);
  assert.equal(e.scores.kid!.subsets, 10);
  assert.equal(e.protocol.weightsHash, ex.weightsHash);
  assert.equal(e.protocol.extractorId, ex.id);
  assert.equal(e.protocol.featureDim, 64);
  assert.deepEqual([e.protocol.nReal, e.protocol.nFake, e.protocol.referenceSplit, e.protocol.reference, e.protocol.seed], [120, 120, 'train', 'builtin:mnist', 0]);
  assert.match(e.protocol.convention.fid!, /numpy cov/);
  assert.equal(e.protocol.options.kidSubsetSize, 100);
  assert.equal(e.step, 40);
  assert.equal(e.neighbours.length, 2);
  for (const n of e.neighbours) {
    assert.match(n.image.dataUrl, /^data:image\/png;base64,/);
    assert.equal(n.rows.length, 8);
    assert.equal(n.rows[0]!.distances.length, 5);
    assert.ok(n.rows[0]!.distances[0]! <= n.rows[0]!.distances[4]!);
  }
  assert.equal(e.classCoverage!.fake.length, 10);
  assert.ok(Math.abs(e.classCoverage!.data.reduce((a, b) => a + b, 0) - 1) < 1e-9);
  assert.equal((await h.client.call('evaluations.list', { runId: run.id }))[0]!.id, e.id);
});

test('API: different protocols are refused side by side; another seed is comparable', async () => {
  const a = (await h.client.call('evaluations.list', { runId: run.id }))[0]!;
  const reseeded = await finished(await h.client.call('evaluations.start', { source: { kind: 'run', runId: run.id }, extractorId: classifierId, n: 120, seed: 9, metrics: ['fid', 'kid'], options: OPTIONS }));
  const pixel = await finished(await h.client.call('evaluations.start', { source: { kind: 'run', runId: run.id }, extractorId: 'pixel-8', n: 120, metrics: ['fid', 'kid'], options: OPTIONS }));
  assert.equal(reseeded.state, 'done', JSON.stringify(reseeded.error));
  assert.equal(pixel.state, 'done', JSON.stringify(pixel.error));
  const same = await h.client.call('evaluations.compare', { evaluationIds: [a.id, reseeded.resultId!] });
  assert.equal(same.evaluations.length, 2);
  await assert.rejects(h.client.call('evaluations.compare', { evaluationIds: [a.id, pixel.resultId!] }), (err: ApiError) => err.code === 'conflict' && /different protocols \(extractor: classifier-.* vs pixel-8\)/.test(err.message));
});

test('API: bad input is refused before anything runs and stores nothing', async () => {
  const before = await stored();
  await assert.rejects(h.client.call('evaluations.start', { source: { kind: 'run', runId: run.id }, extractorId: classifierId, n: 50, metrics: ['fid'] }), (err: ApiError) => err.code === 'invalid_input' && /fid needs N > d = 64/.test(err.message));
  await assert.rejects(h.client.call('evaluations.start', { source: { kind: 'run', runId: run.id }, extractorId: 'classifier-nope' }), (err: ApiError) => err.code === 'not_found' && /extractor classifier-nope not found/.test(err.message));
  await assert.rejects(h.client.call('evaluations.start', { source: { kind: 'run', runId: 'r_missing' } }), (err: ApiError) => err.code === 'not_found');
  await assert.rejects(h.client.call('evaluations.start', { source: { kind: 'run', runId: run.id, checkpoint: 7 } }), (err: ApiError) => err.code === 'not_found' && /no checkpoint at step 7; it has steps 40/.test(err.message));
  await assert.rejects(h.client.call('evaluations.start', { source: { kind: 'run', runId: run.id }, extractorId: 'pixel', metrics: ['is'] }), (err: ApiError) => err.code === 'invalid_input' && /no softmax/.test(err.message));
  await assert.rejects(h.client.call('extractors.train', { datasetId: 'builtin:ring-of-8' }), (err: ApiError) => err.code === 'invalid_input' || err.code === 'not_found');
  assert.equal(await stored(), before);
});

test('API: a cancelled evaluation stores nothing', async () => {
  const before = await stored();
  const job = await h.client.call('evaluations.start', { source: { kind: 'run', runId: run.id }, extractorId: classifierId, n: 3000, options: OPTIONS });
  await h.waitFor((e) => e.type === 'evaluation.job' && e.job.jobId === job.jobId && e.job.phase === 'generating' && e.job.fraction > 0.06, 60_000, 'generation to start');
  const end = await h.client.call('evaluations.cancel', { jobId: job.jobId });
  assert.equal(end.state, 'cancelled');
  assert.equal(end.resultId, null);
  assert.equal(await stored(), before);
});

test('CLI: extractor list, evaluate --run, evaluate two folders, bad input exits 2', async (t) => {
  await h.close();
  const list = cli(['extractor', 'list']);
  assert.equal(list.code, 0, list.stderr);
  const extractors = list.lines[0] as unknown as { id: string; weightsHash: string }[];
  assert.ok(extractors.some((e) => e.id === classifierId) && extractors.some((e) => e.id === 'pixel'));

  const ev = cli(['evaluate', '--run', run.id, '--n', '100', '--metrics', 'fid,kid,prc', '--kid-subsets', '5', '--kid-subset-size', '50']);
  assert.equal(ev.code, 0, ev.stderr);
  const out = ev.lines.at(-1)!;
  assert.equal(out.type, 'evaluation');
  assert.ok(ev.lines.some((l) => l.type === 'progress'));
  const protocol = out.protocol as { extractorId: string; nFake: number };
  assert.equal(protocol.extractorId, classifierId, 'default: the newest classifier of the run’s dataset');
  assert.equal(protocol.nFake, 100);
  assert.ok(Number.isFinite((out.scores as { fid: number }).fid));

  // two folders of PNGs: the same digits → FID ≈ 0 in pixel space (8×8, d = 64), other digits → larger
  const root = makeTempDir('gan-eval-folders-');
  dirs.push(root);
  const { arrays } = builtinMnistArrays();
  const write = async (dir: string, from: number, n: number) => {
    fs.mkdirSync(dir, { recursive: true });
    for (let i = 0; i < n; i++) await sharp(Buffer.from(arrays.images!.subarray((from + i) * 784, (from + i + 1) * 784)), { raw: { width: 28, height: 28, channels: 1 } }).toColourspace('b-w').png().toFile(path.join(dir, `${i}.png`));
  };
  await write(path.join(root, 'real'), 0, 90);
  await write(path.join(root, 'copy'), 0, 90);
  await write(path.join(root, 'other'), 5000, 90);
  const same = cli(['evaluate', '--real', path.join(root, 'real'), '--fake', path.join(root, 'copy'), '--extractor', 'pixel-8', '--metrics', 'fid,prc']);
  assert.equal(same.code, 0, same.stderr);
  const other = cli(['evaluate', '--real', path.join(root, 'real'), '--fake', path.join(root, 'other'), '--extractor', 'pixel-8', '--metrics', 'fid,prc']);
  assert.equal(other.code, 0, other.stderr);
  const fidSame = (same.lines.at(-1)!.scores as { fid: number; precision: number }).fid;
  const fidOther = (other.lines.at(-1)!.scores as { fid: number }).fid;
  t.diagnostic(`pixel-8 FID: identical folders ${fidSame.toExponential(2)}, different digits ${fidOther.toFixed(3)}`);
  assert.ok(Math.abs(fidSame) < 1e-6, String(fidSame));
  assert.equal((same.lines.at(-1)!.scores as { precision: number }).precision, 1);
  assert.ok(fidOther > 0.1, String(fidOther));
  assert.equal((same.lines.at(-1)!.protocol as { referenceSplit: string }).referenceSplit, 'folder');

  // bad input: exit 2, a clear message, nothing stored
  const count = () => {
    const { db } = openDatabase(path.join(h.home, 'studio.db'));
    try {
      return countEvaluations(db);
    } finally {
      db.close();
    }
  };
  const size = count();
  assert.equal(size, 6, 'three API evaluations, one CLI --run, two CLI folder ones');
  const small = cli(['evaluate', '--real', path.join(root, 'real'), '--fake', path.join(root, 'copy'), '--extractor', 'pixel', '--metrics', 'fid']);
  assert.equal(small.code, 2);
  assert.match(String(small.lines.at(-1)!.message), /fid needs N > d = 784/);
  const missing = cli(['evaluate', '--run', run.id, '--extractor', 'nope']);
  assert.equal(missing.code, 2);
  assert.match(String(missing.lines.at(-1)!.message), /extractor nope not found/);
  const noFolder = cli(['evaluate', '--real', path.join(root, 'absent'), '--fake', path.join(root, 'copy')]);
  assert.equal(noFolder.code, 2);
  assert.match(String(noFolder.lines.at(-1)!.message), /is not a folder/);
  assert.equal(count(), size);
});
