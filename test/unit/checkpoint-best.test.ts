// Issue 3's "plus the best": the checkpoint that scored best in a run's during-training evaluations
// survives keep-last-K pruning as checkpoints/best. Real SQLite file, real checkpoint files written
// and pruned exactly as the trainer does (writeCheckpoint, then pruneCheckpoints with K = 1), the
// real EvaluationService; only the scores are injected: the evaluation thread is replaced by one
// that loads the checkpoint it is handed (readCheckpoint, hash verified) and reports the FID this
// test chose for that step, so which step is best is known in advance. The real FID path is
// test/integration/evaluation-best-checkpoint.test.ts.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EvaluationOptionsSchema, type EvaluationDetail, type EvaluationProtocol, type EvaluationSummary } from '../../electron/common/api-evaluation.ts';
import type { StudioEvent } from '../../electron/common/api.ts';
import { resolveRunConfig } from '../../electron/common/config.ts';
import { ApiError } from '../../electron/common/errors.ts';
import { openDatabase, type Db } from '../../electron/core/db/database.ts';
import * as evalRepo from '../../electron/core/db/evaluation-repo.ts';
import { deleteRun, deleteCheckpoint, getBestCheckpoint, getRunDetail, insertCheckpoint, insertRun, setBestCheckpoint } from '../../electron/core/db/runs-repo.ts';
import { BUILTIN_DATASETS, ensureBuiltinDatasets } from '../../electron/core/services/datasets-service.ts';
import { EvaluationService } from '../../electron/core/services/evaluation-service.ts';
import { bestCheckpointDir, clearStalePins, decideBest, pinCheckpoint, promoteToBest, recoverBest } from '../../electron/core/evaluation/best-checkpoint.ts';
import type { EvalWorkerHandle, EvalWorkerToHost, EvaluateJob } from '../../electron/core/evaluation/protocol.ts';
import { protocolKeyOf } from '../../electron/core/evaluation/scoring.ts';
import { nodeCheckpointFs, pruneCheckpoints, readCheckpoint, writeCheckpoint, type CheckpointFs, type TensorEntry } from '../../electron/core/trainer/checkpoint.ts';

const home = fs.mkdtempSync(path.join(os.tmpdir(), 'gan-best-'));
let db: Db;
const events: StudioEvent[] = [];
let service: EvaluationService;

/** step → the FID the fake evaluation thread reports for it */
const fidOf = new Map<number, number>();
/** what each fake evaluation read: the folder it was handed and the step in that checkpoint */
const reads: { dir: string; step: number }[] = [];
/** fake evaluations wait here until the test lets them finish (to prune their checkpoint meanwhile) */
let gate: Promise<void> = Promise.resolve();
let started: (() => void) | null = null;

const OPTIONS = EvaluationOptionsSchema.parse({});

function protocol(job: EvaluateJob, over: Partial<EvaluationProtocol> = {}): EvaluationProtocol {
  return {
    extractorId: job.extractor.extractor.id,
    extractorKind: 'pixel',
    weightsHash: 'p'.repeat(64),
    featureDim: 64,
    inputWidth: 8,
    inputHeight: 8,
    inputChannels: 1,
    nReal: job.n,
    nFake: job.n,
    referenceSplit: 'train',
    reference: 'builtin:mnist',
    referenceHash: 'h'.repeat(64),
    seed: job.seed,
    convention: { fid: 'test' },
    options: job.options,
    duringTraining: job.duringTraining,
    ...over,
  };
}

/** The evaluation thread, with injected scores: it loads the checkpoint it is given, as the real one does. */
function fakeEvaluator(): EvalWorkerHandle {
  const listeners: ((m: EvalWorkerToHost) => void)[] = [];
  const exits: ((code: number) => void)[] = [];
  const emit = (m: EvalWorkerToHost) => listeners.forEach((l) => l(m));
  return {
    send(m) {
      if (m.type === 'cancel') return emit({ type: 'cancelled' });
      const job = m.job as EvaluateJob;
      if (job.source.kind !== 'run') throw new Error('run sources only');
      const src = job.source;
      void (async () => {
        started?.();
        await gate;
        try {
          const ckpt = await readCheckpoint(src.checkpointDir);
          reads.push({ dir: src.checkpointDir, step: ckpt.manifest.step });
          const fid = fidOf.get(ckpt.manifest.step)!;
          emit({
            type: 'evaluated',
            result: {
              runId: src.runId,
              step: src.step,
              datasetId: src.dataset.id,
              sourceKind: 'run',
              label: `run ${src.runName} @ ${src.step}`,
              metrics: ['fid'],
              scores: { fid },
              protocol: protocol(job),
              warnings: [],
              durationMs: 1,
              neighbours: [],
              classCoverage: null,
              fakePreview: null,
            },
          });
        } catch (err) {
          emit({ type: 'failed', error: { code: 'internal', message: (err as Error).message } });
        }
      })();
    },
    onMessage: (l) => void listeners.push(l),
    onExit: (l) => void exits.push(l),
    terminate: async () => exits.forEach((l) => l(0)),
  };
}

function tensorsFor(step: number): TensorEntry[] {
  const data = new Float32Array(64).map((_, i) => Math.sin(step * 31 + i));
  return [{ name: 'G/w', shape: [8, 8], data }];
}

const RUN = 'r_best';
const runDir = path.join(home, 'runs', RUN);
const ckDir = path.join(runDir, 'checkpoints');

/** What the trainer does at a checkpoint (write, prune to K = 1) and what the run manager does with its message. */
async function trainerCheckpoint(step: number, notify = true): Promise<void> {
  const written = await writeCheckpoint(ckDir, step, 'periodic', tensorsFor(step), { step });
  const pruned = await pruneCheckpoints(ckDir, 1);
  insertCheckpoint(db, { runId: RUN, step, dir: path.relative(runDir, written.dir), bytes: written.bytes, kind: 'periodic', sha256: written.sha256 });
  for (const s of pruned) deleteCheckpoint(db, RUN, s);
  if (notify) service.onCheckpoint({ runId: RUN, step, dir: written.dir });
}

function logsSince(from: number): string[] {
  return events.slice(from).flatMap((e) => (e.type === 'run.log' && e.runId === RUN ? [e.message] : []));
}

async function waitForLog(re: RegExp, from: number, ms = 10_000): Promise<string> {
  const end = Date.now() + ms;
  for (;;) {
    const hit = logsSince(from).find((l) => re.test(l));
    if (hit) return hit;
    if (Date.now() > end) throw new Error(`no log line ${re} in:\n${logsSince(from).join('\n')}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const debris = () => fs.readdirSync(ckDir).filter((n) => n.startsWith('.'));

before(async () => {
  ({ db } = openDatabase(path.join(home, 'studio.db')));
  await ensureBuiltinDatasets(db, path.join(home, 'datasets'), BUILTIN_DATASETS.filter((b) => b.id === 'builtin:mnist'));
  const config = resolveRunConfig({ family: 'dcgan', dataset: 'builtin:mnist', schedule: { steps: 60, checkpointEvery: 5 }, evaluation: { every: 10, n: 80, extractor: 'pixel-8', metrics: ['fid'] } }, () => 3);
  fs.mkdirSync(runDir, { recursive: true });
  insertRun(db, { id: RUN, name: 'best-run', config, runDir });
  service = new EvaluationService({ db, home, emit: (e) => events.push(e), spawn: fakeEvaluator });
});
after(async () => {
  await service?.close();
  db?.close();
  fs.rmSync(home, { recursive: true, force: true });
});

describe('the best checkpoint of a run, K = 1', () => {
  test('an earlier step that scored best survives pruning, even when pruned while its evaluation ran', async () => {
    // FIDs by step: 20 is best; 30 and 40 are worse than it but 40 beats 30
    for (const [s, f] of [[10, 50], [20, 30], [30, 40], [40, 35]] as const) fidOf.set(s, f);
    const promoted: number[] = [];
    for (const step of [10, 20, 30, 40]) {
      const from = events.length;
      let release!: () => void;
      gate = new Promise((r) => (release = r));
      const running = new Promise<void>((r) => (started = r));
      await trainerCheckpoint(step);
      await running;
      // the trainer goes on while the evaluation runs: with K = 1 its next checkpoint prunes this one
      await trainerCheckpoint(step + 5, false);
      assert.ok(!fs.existsSync(path.join(ckDir, `step-${String(step).padStart(9, '0')}`)), `step ${step} was pruned`);
      release();
      const line = await waitForLog(/^best checkpoint/, from);
      if (/^best checkpoint: step/.test(line)) promoted.push(step);
      // the pin is released, then the next during-training evaluation may start
      while (debris().length) await new Promise((r) => setTimeout(r, 10));
      await new Promise((r) => setTimeout(r, 20));
      assert.equal(reads.at(-1)!.step, step, 'the evaluation read the checkpoint of its own step');
    }
    assert.deepEqual(promoted, [10, 20], 'promoted when it beat the best so far, and only then');
    const best = getBestCheckpoint(db, RUN)!;
    assert.deepEqual([best.step, best.metric, best.score], [20, 'fid', 30]);
    assert.deepEqual(getRunDetail(db, RUN)!.bestCheckpoint, { step: 20, metric: 'fid', score: 30, evaluationId: best.evaluationId, protocolKey: best.protocolKey, createdAt: best.createdAt });
    assert.equal(evalRepo.getEvaluation(db, best.evaluationId)!.step, 20);
    // only the newest periodic checkpoint (K = 1) and the best are left; no pins, no trash
    assert.deepEqual(fs.readdirSync(ckDir).sort(), ['best', 'step-000000045']);
    const loaded = await readCheckpoint(bestCheckpointDir(ckDir));
    assert.equal(loaded.manifest.step, 20);
    assert.deepEqual(Array.from(loaded.tensors.get('G/w')!.data), Array.from(tensorsFor(20)[0]!.data));
    assert.equal(best.sha256, loaded.manifest.sha256);
    const log = logsSince(0).filter((l) => /^best checkpoint/.test(l));
    assert.match(log[1]!, /^best checkpoint: step 20 \(FID 30\.00 beats the best so far, step 10 \(FID 50\.00\)\)/);
    assert.match(log[2]!, /^best checkpoint unchanged \(step 20\): step 30's FID 40\.00 does not beat the best, step 20/);
  });

  test('"best" is what an evaluation of checkpoint best reads, through a pin that is released after', async () => {
    const job = await service.startEvaluation({ source: { kind: 'run', runId: RUN, checkpoint: 'best' }, extractorId: 'pixel-8', metrics: ['fid'], n: 80, referenceSplit: 'auto', seed: 0, options: OPTIONS });
    assert.match(job.label, /@ step 20 \(best, FID 30\.00\)/);
    const end = await service.wait(job.jobId);
    assert.equal(end.state, 'done', JSON.stringify(end.error));
    assert.equal(reads.at(-1)!.step, 20);
    assert.match(path.basename(reads.at(-1)!.dir), /^\.pin-best-/, 'read through a pin, not the folder a promotion may replace');
    const stored = evalRepo.getEvaluation(db, end.resultId!)!;
    assert.deepEqual([stored.step, stored.scores.fid, stored.protocol.duringTraining], [20, 30, false]);
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(debris(), [], 'the pin is released when the job ends');
  });

  test('a checkpoint pruned before its evaluation could start is skipped with the reason in the log', async () => {
    const from = events.length;
    fidOf.set(50, 1);
    await trainerCheckpoint(50, false);
    await trainerCheckpoint(55, false); // prunes 50 before the core hears of it
    service.onCheckpoint({ runId: RUN, step: 50, dir: path.join(ckDir, 'step-000000050') });
    const line = await waitForLog(/evaluation during training at step 50 did not start/, from);
    assert.match(line, /the checkpoint at step 50 could not be kept for it .*step-000000050 is gone \(pruned by keep-last-K/);
    assert.equal(getBestCheckpoint(db, RUN)!.step, 20);
    assert.deepEqual(debris(), []);
  });

  test('a crash in the middle of replacing the best leaves the previous best readable', async () => {
    const pin = await pinCheckpoint(ckDir, 55);
    // the second rename fails (as a crash there would stop): the old best is put back
    let renames = 0;
    const failing: CheckpointFs = { ...nodeCheckpointFs, rename: async (a, b) => (++renames === 2 ? Promise.reject(new Error('EIO: injected')) : nodeCheckpointFs.rename(a, b)) };
    await assert.rejects(promoteToBest(ckDir, pin, failing), /EIO: injected/);
    assert.equal((await readCheckpoint(bestCheckpointDir(ckDir))).manifest.step, 20);
    assert.ok(fs.existsSync(pin), 'the pin is still there to retry with');
    // a real crash between the two renames (the process gone, nothing put back): no best, the old one
    // as trash, exactly what the first rename leaves; the next reader or promotion renames it back
    fs.renameSync(bestCheckpointDir(ckDir), path.join(ckDir, '.best-old-999-deadbeef'));
    assert.ok(!fs.existsSync(bestCheckpointDir(ckDir)));
    await recoverBest(ckDir);
    assert.equal((await readCheckpoint(bestCheckpointDir(ckDir))).manifest.step, 20);
    // a crash mid-pin (a dead process's pin) is debris; this process's live pin stays
    fs.mkdirSync(path.join(ckDir, '.pin-step-000000055-999999999-0badf00d'));
    const removed = await clearStalePins(ckDir, new Set([pin]));
    assert.deepEqual(removed, ['.pin-step-000000055-999999999-0badf00d']);
    assert.ok(fs.existsSync(pin));
    await promoteToBest(ckDir, pin);
    assert.equal((await readCheckpoint(bestCheckpointDir(ckDir))).manifest.step, 55);
    assert.deepEqual(debris(), []);
  });

  test('run deletion: the row goes with the run; a promotion into a deleted folder does not recreate it', async () => {
    const pin = await pinCheckpoint(ckDir, 55);
    const moved = `${ckDir}-gone`;
    fs.renameSync(ckDir, moved);
    await assert.rejects(promoteToBest(ckDir, path.join(ckDir, path.basename(pin))), /ENOENT/);
    assert.ok(!fs.existsSync(ckDir), 'not recreated');
    fs.renameSync(moved, ckDir);
    fs.rmSync(pin, { recursive: true });
    assert.ok(deleteRun(db, RUN));
    assert.equal(getBestCheckpoint(db, RUN), undefined);
    assert.equal(db.prepare('SELECT COUNT(*) FROM best_checkpoints').pluck().get(), 0);
    await assert.rejects(
      service.startEvaluation({ source: { kind: 'run', runId: RUN, checkpoint: 'best' }, n: 80, referenceSplit: 'auto', seed: 0, options: OPTIONS }),
      (e: unknown) => e instanceof ApiError && e.code === 'not_found' && /run r_best not found/.test(e.message),
    );
  });

  test('checkpoint "best" of a run without one is refused, saying how a run gets one', async () => {
    const config = resolveRunConfig({ family: 'dcgan', dataset: 'builtin:mnist' }, () => 3);
    insertRun(db, { id: 'r_plain', name: 'plain', config, runDir: path.join(home, 'runs', 'r_plain') });
    await assert.rejects(
      service.startEvaluation({ source: { kind: 'run', runId: 'r_plain', checkpoint: 'best' }, n: 80, referenceSplit: 'auto', seed: 0, options: OPTIONS }),
      (e: unknown) => e instanceof ApiError && e.code === 'not_found' && /has no best checkpoint yet: .*"evaluation" section/.test(e.message),
    );
  });
});

describe('decideBest with scores injected through the repository', () => {
  let n = 0;
  const base = { extractorId: 'pixel-8', extractorKind: 'pixel', weightsHash: 'p'.repeat(64), featureDim: 64, inputWidth: 8, inputHeight: 8, inputChannels: 1, nReal: 80, nFake: 80, referenceSplit: 'train', reference: 'builtin:mnist', referenceHash: 'h'.repeat(64), seed: 0, convention: {}, options: OPTIONS, duringTraining: true } satisfies EvaluationProtocol;
  function store(runId: string, step: number, scores: EvaluationDetail['scores'], p: Partial<EvaluationProtocol> = {}): EvaluationSummary {
    const protocol = { ...base, ...p };
    const d: EvaluationDetail = { id: `e${++n}`, runId, step, datasetId: 'builtin:mnist', sourceKind: 'run', label: `@${step}`, metrics: scores.fid !== undefined ? ['fid'] : ['kid'], scores, protocol, protocolKey: protocolKeyOf(protocol), warnings: [], durationMs: 1, createdAt: n, neighbours: [], classCoverage: null, fakePreview: null };
    evalRepo.insertEvaluation(db, d);
    return evalRepo.getEvaluation(db, d.id)!;
  }
  const peersOf = (runId: string) => evalRepo.listEvaluations(db, { runId, includeDuringTraining: true });
  /** what the service does with a finished evaluation: decide, and record a promotion */
  function consider(e: EvaluationSummary) {
    const current = getBestCheckpoint(db, e.runId!) ?? null;
    const d = decideBest(e, current, peersOf(e.runId!));
    if (d.promote) setBestCheckpoint(db, { runId: e.runId!, step: e.step!, metric: d.metric, score: d.score, evaluationId: e.id, protocolKey: e.protocolKey, sha256: 'x', bytes: 1 });
    return d;
  }

  test('KID mean when FID is not among the scores; a tie keeps the earlier step', () => {
    insertRun(db, { id: 'r_kid', name: 'kid', config: resolveRunConfig({ family: 'dcgan', dataset: 'builtin:mnist' }, () => 1), runDir: '/x' });
    const kid = (mean: number) => ({ kid: { mean, std: 0, subsets: 1, subsetSize: 80 } });
    assert.equal(consider(store('r_kid', 5, kid(0.2))).promote, true);
    assert.equal(consider(store('r_kid', 10, kid(0.05))).promote, true);
    const tie = consider(store('r_kid', 15, kid(0.05)));
    assert.equal(tie.promote, false);
    assert.match(tie.reason, /KID 0\.05000 does not beat the best, step 10/);
    assert.deepEqual([getBestCheckpoint(db, 'r_kid')!.step, getBestCheckpoint(db, 'r_kid')!.metric], [10, 'kid']);
    assert.equal(decideBest(store('r_kid', 20, {}), null, []).promote, false);
  });

  test('scores are compared within one protocol; a lower score whose checkpoint was not kept is reported', () => {
    insertRun(db, { id: 'r_proto', name: 'proto', config: resolveRunConfig({ family: 'dcgan', dataset: 'builtin:mnist' }, () => 1), runDir: '/y' });
    // step 10 scored 20 but its checkpoint was never kept (no promotion recorded): 30 at step 20 does not count as best
    store('r_proto', 10, { fid: 20 });
    const lost = consider(store('r_proto', 20, { fid: 30 }));
    assert.equal(lost.promote, false);
    assert.match(lost.reason, /does not beat step 10 \(FID 20\.00\), whose checkpoint was not kept/);
    assert.equal(consider(store('r_proto', 30, { fid: 15 })).promote, true);
    // another protocol (a different N): not comparable, so its first evaluation takes over, saying why
    const other = consider(store('r_proto', 40, { fid: 60 }, { nReal: 120, nFake: 120 }));
    assert.equal(other.promote, true);
    assert.match(other.reason, /replaces the best at step 30, which was measured under another protocol/);
    assert.equal(consider(store('r_proto', 50, { fid: 16 })).promote, false, 'a score under the old protocol does not compete with the new best');
    assert.equal(getBestCheckpoint(db, 'r_proto')!.step, 40);
  });
});
