// The core's side of evaluation (issue 6): resolves and validates a request on the main thread
// (bad input is refused before anything starts), runs the work in a worker thread, turns its
// messages into `evaluation.job` events, and stores a finished evaluation or classifier in SQLite.
// A cancelled, failed or crashed job stores nothing.
import crypto from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import type { z } from 'zod';
import type {
  EvaluationRequestSchema,
  ExtractorRegisterRequestSchema,
  ExtractorTrainRequestSchema} from '../../common/api-evaluation.ts';
import {
  EvaluationOptionsSchema,
  type EvalMetric,
  type EvaluationDetail,
  type EvaluationJob,
  type EvaluationSummary,
  type Extractor,
} from '../../common/api-evaluation.ts';
import type { ApiImplementation, StudioEvent } from '../../common/api.ts';
import type { DuringTrainingEvaluation } from '../../common/config.ts';
import { ApiError } from '../../common/errors.ts';
import type { Db } from '../db/database.ts';
import { getDataset, getDatasetDir } from '../db/datasets-repo.ts';
import * as repo from '../db/evaluation-repo.ts';
import { appendRunEvent, getBestCheckpoint, getRunDetail, getRunDir, setBestCheckpoint } from '../db/runs-repo.ts';
import { readDatasetManifest } from '../datasets/cache.ts';
import { listCheckpointDirs } from '../trainer/checkpoint.ts';
import { BEST_DIR, clearStalePins, decideBest, formatBestScore, pinCheckpoint, pinCheckpointDir, promoteToBest, readManifest, recoverBest, releasePin } from '../evaluation/best-checkpoint.ts';
import { featureDimOf, inspectUserModel, isPixelExtractorId, pixelExtractors, type ExtractorSpec } from '../evaluation/extractors.ts';
import { listImageFiles, probeShape } from '../evaluation/images.ts';
import { jobBackend } from '../evaluation/jobs.ts';
import type { EvalWorkerSpawner, EvalWorkerToHost, EvaluateJob, HostToEvalWorker, WorkerJob } from '../evaluation/protocol.ts';
import { metricProblem, protocolDifference, protocolKeyOf, resolveMetrics } from '../evaluation/scoring.ts';
import { evaluationWorkerSpawner } from '../evaluation/worker-spawner.ts';
import { WorkerJobs } from '../util/worker-jobs.ts';

export interface EvaluationServiceOptions {
  db: Db;
  home: string;
  emit(event: StudioEvent): void;
  spawn?: EvalWorkerSpawner;
  /** jobs running at once; more are refused with `conflict` */
  maxConcurrent?: number;
  cancelGraceMs?: number;
}

const rand = () => crypto.randomBytes(3).toString('hex');

export class EvaluationService {
  readonly #o: EvaluationServiceOptions;
  /** per job, the folder a classifier training writes (removed unless it finishes) */
  readonly #jobs: WorkerJobs<EvaluationJob, HostToEvalWorker, EvalWorkerToHost, { outDir: string | null }>;
  readonly #spawn: EvalWorkerSpawner;
  /** per run, the highest K-step mark a during-training evaluation was started for */
  readonly #marks = new Map<string, number>();
  /** a during-training evaluation is being resolved or runs (one at a time across runs) */
  #duringBusy: { runId: string; step: number } | null = null;
  /** pinned checkpoint folders of this process's running evaluations (see best-checkpoint.ts) */
  readonly #pins = new Set<string>();
  readonly extractorsDir: string;

  constructor(options: EvaluationServiceOptions) {
    this.#o = options;
    this.#spawn = options.spawn ?? evaluationWorkerSpawner();
    this.#jobs = new WorkerJobs({ noun: 'evaluation job', thread: 'the evaluation thread', publish: (job) => options.emit({ type: 'evaluation.job', job: structuredClone(job) }), cancelMessage: { type: 'cancel' }, cancelGraceMs: options.cancelGraceMs });
    this.extractorsDir = path.join(options.home, 'extractors');
  }

  // ---- extractors ----

  listExtractors(): Extractor[] {
    return [...pixelExtractors(), ...repo.listExtractors(this.#o.db).map((s) => s.extractor)];
  }

  #extractorSpec(id: string): ExtractorSpec {
    const pixel = pixelExtractors().find((e) => e.id === id);
    if (pixel) return { extractor: pixel, dir: null };
    const stored = repo.getExtractor(this.#o.db, id);
    if (!stored) throw new ApiError('not_found', `extractor ${id} not found; list them with "gan-studio extractor list" (built in: ${pixelExtractors().map((e) => e.id).join(', ')})`);
    return { extractor: stored.extractor, dir: stored.dir };
  }

  getExtractor(id: string): Extractor {
    return this.#extractorSpec(id).extractor;
  }

  trainExtractor(request: z.output<typeof ExtractorTrainRequestSchema>): EvaluationJob {
    const ds = getDataset(this.#o.db, request.datasetId);
    const dir = getDatasetDir(this.#o.db, request.datasetId);
    if (!ds || !dir) throw new ApiError('not_found', `dataset ${request.datasetId} not found`);
    if (ds.layout !== 'images') throw new ApiError('invalid_input', `dataset ${ds.id} holds ${ds.layout} data; a classifier trains on labelled images`);
    if (!ds.classNames || ds.classNames.length < 2) throw new ApiError('invalid_input', `dataset ${ds.id} is not labelled with at least 2 classes; a classifier needs labels`);
    const extractorId = `classifier-${Date.now().toString(36)}-${rand()}`;
    const outDir = path.join(this.extractorsDir, extractorId);
    return this.#start(
      { kind: 'extractor-train', extractorId, dataset: { id: ds.id, dir }, architecture: request.architecture, epochs: request.epochs, batchSize: request.batchSize, maxTrain: request.maxTrain ?? null, seed: request.seed, name: request.name ?? null, outDir },
      `classifier on ${ds.id}`,
      null,
      outDir,
    );
  }

  async registerExtractor(request: z.output<typeof ExtractorRegisterRequestSchema>): Promise<Extractor> {
    const tf = await jobBackend();
    const id = `user-${Date.now().toString(36)}-${rand()}`;
    const extractor = await inspectUserModel(tf, request, id);
    repo.insertExtractor(this.#o.db, extractor, request.path);
    return extractor;
  }

  async deleteExtractor(id: string): Promise<void> {
    if (isPixelExtractorId(id)) throw new ApiError('conflict', `${id} is built in and cannot be deleted`);
    const stored = repo.getExtractor(this.#o.db, id);
    if (!stored) throw new ApiError('not_found', `extractor ${id} not found`);
    repo.deleteExtractor(this.#o.db, id);
    // only folders the studio made; a user model's folder belongs to the user
    const root = path.resolve(this.extractorsDir);
    if (stored.extractor.kind === 'classifier' && path.resolve(stored.dir).startsWith(root + path.sep)) await fsp.rm(stored.dir, { recursive: true, force: true });
  }

  // ---- evaluations ----

  /** Resolves and validates a request into the worker's job; throws `invalid_input` / `not_found` before anything runs. */
  async resolve(
    request: z.output<typeof EvaluationRequestSchema>,
    opts: { duringTraining?: boolean; pinned?: { step: number; dir: string; label?: string } } = {},
  ): Promise<{ job: EvaluateJob; label: string; runId: string | null; skipped: string[] }> {
    const db = this.#o.db;
    const skipped: string[] = [];
    const src = request.source;
    if (src.kind === 'run') {
      const run = getRunDetail(db, src.runId);
      const runDir = getRunDir(db, src.runId);
      if (!run || !runDir) throw new ApiError('not_found', `run ${src.runId} not found`);
      let ckpt: { step: number; dir: string } | undefined = opts.pinned;
      if (!ckpt) {
        if (src.checkpoint === 'best') throw new ApiError('internal', 'the best checkpoint is evaluated through a pin (startEvaluation)');
        const checkpoints = await listCheckpointDirs(path.join(runDir, 'checkpoints'));
        if (checkpoints.length === 0) throw new ApiError('not_found', `run ${src.runId} has no checkpoint yet; train it further or wait for its first checkpoint`);
        ckpt = src.checkpoint === 'latest' ? checkpoints[0]! : checkpoints.find((c) => c.step === src.checkpoint);
        if (!ckpt) throw new ApiError('not_found', `run ${src.runId} has no checkpoint at step ${src.checkpoint}; it has steps ${checkpoints.map((c) => c.step).join(', ')}`);
      }
      const datasetDir = getDatasetDir(db, run.config.dataset);
      if (!datasetDir) throw new ApiError('not_found', `the dataset ${run.config.dataset} of run ${src.runId} is gone`);
      const m = await readDatasetManifest(datasetDir);
      if (m.layout !== 'images') throw new ApiError('invalid_input', `run ${src.runId} trains on ${m.layout} data; evaluation scores generators of images`);
      const holdout = m.holdout?.count ?? 0;
      if (request.referenceSplit === 'holdout' && holdout === 0) throw new ApiError('invalid_input', `dataset ${m.id} has no held-out split; use referenceSplit "train" (or re-import it with --holdout)`);
      const split = request.referenceSplit === 'auto' ? (holdout > 0 ? 'holdout' : 'train') : request.referenceSplit;
      const refCount = split === 'holdout' ? holdout : m.count;
      const extractorId = request.extractorId ?? repo.listExtractors(db, { datasetId: m.id })[0]?.extractor.id ?? 'pixel';
      const spec = this.#extractorSpec(extractorId);
      const e = spec.extractor;
      const shape = { height: m.height, width: m.width, channels: m.channels };
      const availability = {
        d: featureDimOf(e, shape),
        nReal: Math.min(request.n, refCount),
        nFake: request.n,
        hasProbs: e.probsLayer !== null,
        imageSide: e.inputHeight || m.height,
        trainCount: Math.min(request.options.nnReference, m.count),
      };
      let metrics = request.metrics;
      if (opts.duringTraining && metrics) {
        // a scheduled evaluation keeps what it can compute and says what it left out
        const problems = metrics.map((x) => metricProblem(x, availability, request.options));
        skipped.push(...problems.filter((p): p is string => p !== null));
        metrics = metrics.filter((_, i) => problems[i] === null);
        if (metrics.length === 0) throw new ApiError('invalid_input', `none of the metrics can be computed: ${skipped.join('; ')}`);
      }
      resolveMetrics(metrics, availability, request.options);
      const label = `run ${run.name} @ step ${ckpt.step}${opts.pinned?.label ? ` (${opts.pinned.label})` : ''}`;
      return {
        job: {
          kind: 'evaluate',
          source: { kind: 'run', runId: run.id, runName: run.name, config: run.config, checkpointDir: ckpt.dir, step: ckpt.step, dataset: { id: m.id, dir: datasetDir }, referenceSplit: split },
          extractor: spec,
          metrics: metrics ?? null,
          n: request.n,
          seed: request.seed,
          options: request.options,
          duringTraining: opts.duringTraining ?? false,
          lowPriority: opts.duringTraining ?? false,
        },
        label,
        runId: run.id,
        skipped,
      };
    }
    const realFiles = await listImageFiles(src.realDir, 'real folder');
    const fakeFiles = await listImageFiles(src.fakeDir, 'fake folder');
    const spec = this.#extractorSpec(request.extractorId ?? 'pixel');
    const e = spec.extractor;
    const probed = await probeShape(realFiles);
    const shape = e.kind === 'pixel' ? { height: e.inputHeight || probed.height, width: e.inputWidth || probed.width, channels: probed.channels } : { height: e.inputHeight, width: e.inputWidth, channels: e.inputChannels };
    resolveMetrics(
      request.metrics,
      {
        d: featureDimOf(e, shape),
        nReal: Math.min(request.n, realFiles.length),
        nFake: Math.min(request.n, fakeFiles.length),
        hasProbs: e.probsLayer !== null,
        imageSide: shape.height,
        trainCount: Math.min(request.n, realFiles.length),
      },
      request.options,
    );
    return {
      job: { kind: 'evaluate', source: { kind: 'folders', realDir: src.realDir, fakeDir: src.fakeDir }, extractor: spec, metrics: request.metrics ?? null, n: request.n, seed: request.seed, options: request.options, duringTraining: false },
      label: `${path.basename(src.realDir)} vs ${path.basename(src.fakeDir)}`,
      runId: null,
      skipped,
    };
  }

  async startEvaluation(request: z.output<typeof EvaluationRequestSchema>): Promise<EvaluationJob> {
    const src = request.source;
    if (src.kind !== 'run' || src.checkpoint !== 'best') {
      const { job, label, runId } = await this.resolve(request);
      return this.#start(job, label, runId, null);
    }
    // the best checkpoint is read through a pin: a promotion replacing `best` mid-read cannot mix two checkpoints
    const pin = await this.#pinBest(src.runId);
    try {
      const { job, label, runId } = await this.resolve(request, { pinned: pin });
      const started = this.#start(job, label, runId, null);
      void this.wait(started.jobId).then(
        () => this.#release(pin.dir),
        () => this.#release(pin.dir),
      );
      return started;
    } catch (err) {
      await this.#release(pin.dir);
      throw err;
    }
  }

  /** Pins the run's best checkpoint; `not_found` (saying how a run gets one) when it has none. */
  async #pinBest(runId: string): Promise<{ step: number; dir: string; label: string }> {
    const runDir = getRunDir(this.#o.db, runId);
    if (!runDir) throw new ApiError('not_found', `run ${runId} not found`);
    const best = getBestCheckpoint(this.#o.db, runId);
    if (!best) throw new ApiError('not_found', `run ${runId} has no best checkpoint yet: one is kept when the run's config has an "evaluation" section and a during-training evaluation has scored a checkpoint`);
    const checkpointsDir = path.join(runDir, 'checkpoints');
    await recoverBest(checkpointsDir);
    let dir: string;
    let claimed = '';
    try {
      dir = await pinCheckpointDir(checkpointsDir, BEST_DIR, (p) => this.#pins.add((claimed = p)));
    } catch (err) {
      this.#pins.delete(claimed);
      throw new ApiError('not_found', `run ${runId}'s best checkpoint (step ${best.step}) is missing from ${path.join(checkpointsDir, BEST_DIR)}: ${(err as Error).message}`);
    }
    try {
      // the folder says which step it holds (the row is written after it, so a crash in between can leave the row behind)
      const manifest = await readManifest(dir);
      return { step: manifest.step, dir, label: `best, ${manifest.step === best.step ? formatBestScore(best.metric, best.score) : 'being replaced'}` };
    } catch (err) {
      await this.#release(dir);
      throw new ApiError('not_found', `run ${runId}'s best checkpoint is unreadable: ${(err as Error).message}`);
    }
  }

  async #release(pin: string): Promise<void> {
    this.#pins.delete(pin);
    await releasePin(pin).catch(() => undefined);
  }

  #start(work: WorkerJob, label: string, runId: string | null, outDir: string | null): EvaluationJob {
    const duringTraining = work.kind === 'evaluate' && work.duringTraining;
    // a small-N evaluation scheduled during training runs at low priority, outside the `maxConcurrent` quota
    const running = this.#jobs.running().filter((j) => !j.status.duringTraining).length;
    if (!duringTraining && running >= (this.#o.maxConcurrent ?? 2)) throw new ApiError('conflict', `${running} evaluation jobs are already running; wait for one to finish or cancel it`);
    const jobId = `${work.kind === 'evaluate' ? 'eval' : 'train'}-${Date.now().toString(36)}-${rand()}`;
    const status: EvaluationJob = { jobId, kind: work.kind, state: 'running', phase: 'starting', fraction: 0, label, runId, duringTraining, resultId: null, error: null, startedAt: Date.now(), endedAt: null };
    const handle = this.#spawn();
    const job = this.#jobs.add(jobId, status, handle, { outDir }, {
      beforeEnd: async (_, patch) => {
        if (patch.state !== 'done' && outDir) await fsp.rm(outDir, { recursive: true, force: true }).catch(() => undefined);
      },
      onMessage: (j, m) => {
        switch (m.type) {
          case 'progress':
            if (j.cancelRequested) return;
            Object.assign(j.status, { phase: m.phase, fraction: Math.max(j.status.fraction, Math.min(0.99, m.fraction)) });
            this.#jobs.publish(j);
            return;
          case 'evaluated': {
            if (j.cancelRequested) return void j.finish({ state: 'cancelled' });
            try {
              const id = `eval-${Date.now().toString(36)}-${rand()}`;
              const detail: EvaluationDetail = { ...m.result, id, createdAt: Date.now(), protocolKey: protocolKeyOf(m.result.protocol) };
              repo.insertEvaluation(this.#o.db, detail);
              return void j.finish({ state: 'done', resultId: id });
            } catch (err) {
              return void j.finish({ state: 'failed', error: { code: 'internal', message: `the evaluation finished but could not be stored: ${(err as Error).message}` } });
            }
          }
          case 'trained':
            if (j.cancelRequested) return void j.finish({ state: 'cancelled' });
            try {
              repo.insertExtractor(this.#o.db, m.extractor, outDir!);
              return void j.finish({ state: 'done', resultId: m.extractor.id });
            } catch (err) {
              return void j.finish({ state: 'failed', error: { code: 'internal', message: `the classifier was trained but could not be recorded: ${(err as Error).message}` } });
            }
          case 'failed':
            return void j.finish({ state: 'failed', error: m.error });
          case 'cancelled':
            return void j.finish({ state: 'cancelled' });
        }
      },
    });
    handle.send({ type: 'start', job: work });
    this.#jobs.publish(job);
    return structuredClone(status);
  }

  // ---- evaluation during training ----

  /**
   * The run manager recorded a checkpoint. When the run asked for evaluations during training
   * (config `evaluation`) and this checkpoint is at or past its next multiple of `every` steps, a
   * small-N evaluation of it is queued in the evaluation thread, stored with `duringTraining`.
   * One at a time: while one is still running, the mark is skipped with a line in the run's log
   * (the next checkpoint past it tries again). Never throws, never waits: the trainer goes on.
   */
  onCheckpoint(c: { runId: string; step: number; dir: string }): void {
    let config;
    try {
      config = getRunDetail(this.#o.db, c.runId)?.config.evaluation;
    } catch {
      return;
    }
    if (!config) return;
    const mark = Math.floor(c.step / config.every) * config.every;
    if (mark < config.every || mark <= this.#lastMark(c.runId, config.every)) return;
    if (this.#duringBusy) {
      const b = this.#duringBusy;
      this.#runLog(c.runId, 'info', `evaluation during training skipped at step ${c.step}: the one of ${b.runId === c.runId ? '' : `run ${b.runId} at `}step ${b.step} is still running (the next checkpoint past step ${mark} tries again)`);
      return;
    }
    this.#duringBusy = { runId: c.runId, step: c.step };
    this.#marks.set(c.runId, mark);
    void this.#startDuringTraining(c, config).catch((err: unknown) => {
      this.#duringBusy = null;
      this.#runLog(c.runId, 'warn', `evaluation during training at step ${c.step} did not start: ${(err as Error).message}`);
    });
  }

  /** The highest mark already evaluated: this session's, else the stored during-training evaluations'. */
  #lastMark(runId: string, every: number): number {
    let last = this.#marks.get(runId);
    if (last === undefined) {
      const steps = repo.listEvaluations(this.#o.db, { runId, includeDuringTraining: true, limit: 10_000 }).filter((e) => e.protocol.duringTraining && e.step !== null).map((e) => e.step!);
      last = steps.length ? Math.floor(Math.max(...steps) / every) * every : 0;
      this.#marks.set(runId, last);
    }
    return last;
  }

  async #startDuringTraining(c: { runId: string; step: number }, config: DuringTrainingEvaluation): Promise<void> {
    // pinned first, before anything else awaits: the trainer may prune this step any moment now
    const runDir = getRunDir(this.#o.db, c.runId);
    if (!runDir) throw new ApiError('not_found', `run ${c.runId} not found`);
    const checkpointsDir = path.join(runDir, 'checkpoints');
    let pin: string;
    let claimed = '';
    try {
      pin = await pinCheckpoint(checkpointsDir, c.step, (p) => this.#pins.add((claimed = p)));
    } catch (err) {
      this.#pins.delete(claimed);
      throw new Error(`the checkpoint at step ${c.step} could not be kept for it (so it cannot become the best): ${(err as Error).message}`, { cause: err });
    }
    try {
      await this.#evaluateDuringTraining(c, config, checkpointsDir, pin);
    } catch (err) {
      await this.#release(pin);
      throw err;
    }
  }

  async #evaluateDuringTraining(c: { runId: string; step: number }, config: DuringTrainingEvaluation, checkpointsDir: string, pin: string): Promise<void> {
    await clearStalePins(checkpointsDir, this.#pins);
    const request = {
      source: { kind: 'run' as const, runId: c.runId, checkpoint: c.step },
      extractorId: config.extractor,
      metrics: [...config.metrics] as EvalMetric[],
      n: config.n,
      referenceSplit: 'auto' as const,
      // one seed for every step: the same latents and real subset, so the curve shows the generator's change
      seed: 0,
      options: EvaluationOptionsSchema.parse({}),
    };
    const { job, label, skipped } = await this.resolve(request, { duringTraining: true, pinned: { step: c.step, dir: pin } });
    const started = this.#start(job, `${label} (during training, N = ${config.n})`, c.runId, null);
    const what = `evaluation during training at step ${c.step} (N = ${config.n}, ${config.extractor}, ${job.metrics!.join(', ')})`;
    this.#runLog(c.runId, 'info', `${what} started${skipped.length ? `; left out: ${skipped.join('; ')}` : ''}`);
    void this.wait(started.jobId).then(async (end) => {
      try {
        if (end.state === 'done' && end.resultId) {
          const e = repo.getEvaluation(this.#o.db, end.resultId);
          const parts = e ? [e.scores.fid !== undefined ? `FID ${e.scores.fid.toPrecision(4)}` : null, e.scores.kid ? `KID ${e.scores.kid.mean.toPrecision(3)}` : null].filter(Boolean) : [];
          this.#runLog(c.runId, 'info', `${what} done${parts.length ? `: ${parts.join(', ')}` : ''} (small N: biased, for the trend only)`);
          if (e) await this.#considerBest(c.runId, e, checkpointsDir, pin);
        } else this.#runLog(c.runId, end.state === 'cancelled' ? 'info' : 'warn', `${what} ${end.state}${end.error ? `: ${end.error.message}` : ''}`);
      } finally {
        // released after the promotion: the next one of this run cannot overtake it
        await this.#release(pin);
        this.#duringBusy = null;
      }
    });
  }

  /**
   * Issue 3: a finished during-training evaluation whose score is the run's best so far (see
   * decideBest) makes its pinned checkpoint `checkpoints/best` (files first, then the row). Never
   * throws: a failure (e.g. the run deleted meanwhile) is a line in the run's log.
   */
  async #considerBest(runId: string, e: EvaluationDetail, checkpointsDir: string, pin: string): Promise<void> {
    const db = this.#o.db;
    try {
      const current = getBestCheckpoint(db, runId) ?? null;
      const peers = repo.listEvaluations(db, { runId, includeDuringTraining: true, limit: 10_000 }).filter((x) => x.protocol.duringTraining);
      const d = decideBest(e, current, peers);
      if (!d.promote) {
        this.#runLog(runId, 'info', `best checkpoint unchanged${current ? ` (step ${current.step})` : ''}: step ${e.step}'s ${d.reason}`);
        return;
      }
      const manifest = await readManifest(pin);
      await promoteToBest(checkpointsDir, pin);
      setBestCheckpoint(db, { runId, step: manifest.step, metric: d.metric, score: d.score, evaluationId: e.id, protocolKey: e.protocolKey, sha256: manifest.sha256, bytes: manifest.bytes });
      this.#runLog(runId, 'info', `best checkpoint: step ${manifest.step} (${d.reason}), kept as checkpoints/${BEST_DIR} beside the last K`);
    } catch (err) {
      this.#runLog(runId, 'warn', `the checkpoint at step ${e.step} could not be kept as the best: ${(err as Error).message}`);
    }
  }

  #runLog(runId: string, level: 'info' | 'warn', message: string): void {
    try {
      appendRunEvent(this.#o.db, runId, level, message);
      this.#o.emit({ type: 'run.log', runId, level, message });
    } catch {
      // the run may have been deleted meanwhile; a log line is not worth failing for
    }
  }

  status(jobId: string): EvaluationJob {
    return this.#jobs.status(jobId);
  }

  jobs(): EvaluationJob[] {
    return this.#jobs.list();
  }

  /** Waits for a job to end (for the CLI and tests). */
  async wait(jobId: string): Promise<EvaluationJob> {
    return this.#jobs.wait(jobId);
  }

  async cancel(jobId: string): Promise<EvaluationJob> {
    return this.#jobs.cancel(jobId);
  }

  getEvaluation(id: string): EvaluationDetail {
    const e = repo.getEvaluation(this.#o.db, id);
    if (!e) throw new ApiError('not_found', `evaluation ${id} not found`);
    return e;
  }

  compare(ids: string[]): { protocolKey: string; protocol: EvaluationSummary['protocol']; evaluations: EvaluationSummary[] } {
    const list = ids.map((id) => this.getEvaluation(id));
    const first = list[0]!;
    for (const other of list.slice(1)) {
      if (other.protocolKey !== first.protocolKey) {
        const diff = protocolDifference(first.protocol, other.protocol) ?? 'protocol';
        throw new ApiError('conflict', `evaluations ${first.id} and ${other.id} were measured under different protocols (${diff}); their scores are not comparable`, { first: first.id, other: other.id });
      }
    }
    const strip = ({ neighbours: _n, classCoverage: _c, fakePreview: _f, ...summary }: EvaluationDetail): EvaluationSummary => summary;
    return { protocolKey: first.protocolKey, protocol: first.protocol, evaluations: list.map(strip) };
  }

  async close(): Promise<void> {
    await this.#jobs.close();
  }
}

export type EvaluationMethods = Pick<
  ApiImplementation,
  | 'extractors.list'
  | 'extractors.get'
  | 'extractors.train'
  | 'extractors.register'
  | 'extractors.delete'
  | 'evaluations.start'
  | 'evaluations.job'
  | 'evaluations.jobs'
  | 'evaluations.cancel'
  | 'evaluations.list'
  | 'evaluations.get'
  | 'evaluations.compare'
  | 'evaluations.delete'
>;

export function evaluationApi(service: EvaluationService, db: Db): EvaluationMethods {
  return {
    'extractors.list': async () => service.listExtractors(),
    'extractors.get': async ({ extractorId }) => service.getExtractor(extractorId),
    'extractors.train': async (request) => service.trainExtractor(request),
    'extractors.register': async (request) => service.registerExtractor(request),
    'extractors.delete': async ({ extractorId }) => {
      await service.deleteExtractor(extractorId);
      return { deleted: true as const, extractorId };
    },
    'evaluations.start': async (request) => service.startEvaluation(request),
    'evaluations.job': async ({ jobId }) => service.status(jobId),
    'evaluations.jobs': async () => service.jobs(),
    'evaluations.cancel': async ({ jobId }) => service.cancel(jobId),
    'evaluations.list': async ({ runId, includeDuringTraining, limit }) => repo.listEvaluations(db, { runId, includeDuringTraining, limit }),
    'evaluations.get': async ({ evaluationId }) => service.getEvaluation(evaluationId),
    'evaluations.compare': async ({ evaluationIds }) => service.compare(evaluationIds),
    'evaluations.delete': async ({ evaluationId }) => {
      if (!repo.deleteEvaluation(db, evaluationId)) throw new ApiError('not_found', `evaluation ${evaluationId} not found`);
      return { deleted: true as const, evaluationId };
    },
  };
}
