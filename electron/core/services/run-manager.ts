// Runs: creation, the trainer processes behind them, and everything they report. Scalars go to
// SQLite in batched transactions; events to subscribers, throttled; crashes become `interrupted`
// with a reason and are resumed from the last good checkpoint a bounded number of times
// (RELIABILITY B2–B3); quitting stops every trainer with a final checkpoint and a deadline (B5).
import path from 'node:path';
import crypto from 'node:crypto';
import { promises as fsp } from 'node:fs';
import type { Alert, MethodInput, MethodOutput, RunDetail, RunStatus, RunSummary, StudioEvent } from '../../common/api.ts';
import { ApiError } from '../../common/errors.ts';
import { resolveRunConfig, type RunConfig } from '../../common/config.ts';
import type { TrainerToHost } from '../../common/trainer-protocol.ts';
import type { Db } from '../db/database.ts';
import * as runs from '../db/runs-repo.ts';
import { getDataset, getDatasetDir } from '../db/datasets-repo.ts';
import { TrainerHost, type CrashInfo, type SupervisionOptions } from '../trainer/host.ts';
import type { TrainerSpawner } from '../trainer/trainer-process.ts';
import { estimateRunMemory, largestFittingBatch, memoryLimit } from '../models/memory.ts';
import { nativePackageInstalled } from '../trainer/backend.ts';
import { checkRun } from '../families/registry.ts';
import type { DataShape } from '../families/types.ts';
import * as alertsRepo from '../db/alerts-repo.ts';
import { resolveDiagnosticsConfig, type DiagnosticsConfig } from '../diagnostics/config.ts';
import { DiagnosticsEngine, TAGS, type AlertChange } from '../diagnostics/detectors.ts';
import { isRemedyId, mergePatch, remedyPatch } from '../diagnostics/remedies.ts';
import { listCheckpointDirs } from '../trainer/checkpoint.ts';
import { listEvaluations } from '../db/evaluation-repo.ts';

export interface RunManagerOptions {
  db: Db;
  runsDir: string;
  spawnTrainer: TrainerSpawner;
  emit: (event: StudioEvent) => void;
  supervision?: Partial<SupervisionOptions>;
  /** automatic resume after a crash: at most `maxRestarts` within `windowMs`, with backoff */
  autoResume?: { maxRestarts: number; windowMs: number; backoffMs: number };
  /** extra environment for trainer processes */
  trainerEnv?: Record<string, string>;
  /** called after a checkpoint the trainer wrote is recorded (scheduled evaluations listen here) */
  onCheckpoint?: (c: { runId: string; step: number; dir: string }) => void;
}

const EVENT_INTERVAL_MS = 200;
const DB_FLUSH_INTERVAL_MS = 500;
const DEFAULT_AUTO_RESUME = { maxRestarts: 3, windowMs: 5 * 60_000, backoffMs: 1000 };
/** an active alert whose step range grows is re-announced at most this often */
const ALERT_UPDATE_INTERVAL_MS = 1000;
/** how often a run with evaluations during training looks for newly finished ones (besides at each checkpoint) */
const EVAL_POLL_INTERVAL_MS = 2000;

interface ActiveRun {
  runId: string;
  config: RunConfig;
  runDir: string;
  host: TrainerHost;
  status: RunStatus;
  step: number;
  /** training time accumulated before the current running interval */
  durationMs: number;
  runningSince: number | null;
  lastGLoss: number | null;
  lastDLoss: number | null;
  imgPerSec: number;
  pendingRows: runs.ScalarPoint[];
  pendingSeries: Map<string, { steps: number[]; values: number[] }>;
  pendingProgress: boolean;
  stopRequested: boolean;
  restarts: number[];
  exited: Promise<void>;
  /** issue 7: thresholds, the detector engine (built at `ready`), throttled range updates */
  diagnostics: DiagnosticsConfig;
  engine: DiagnosticsEngine | null;
  pendingAlertUpdates: Map<string, Alert>;
  alertEmittedAt: Map<string, number>;
  /** automatic rollback under way: the alert that asked for it (the trainer is stopping) */
  rollback: { alert: Alert; n: number } | null;
  /** a refused rollback is logged once per trainer */
  rollbackRefused: boolean;
  /** evaluations during training already taken in as quality scalars (ids), and when they were last looked for */
  evalSeen: Set<string>;
  evalPolledAt: number;
}

export class RunManager {
  readonly #o: RunManagerOptions;
  readonly #active = new Map<string, ActiveRun>();
  readonly #restartTimers = new Set<NodeJS.Timeout>();
  /** automatic rollbacks per run (counted from the run's events when first needed, so it survives a restart) */
  readonly #rollbacks = new Map<string, number>();
  readonly #rollbackTargets = new Map<string, number>();
  #eventTimer: NodeJS.Timeout | null = null;
  #dbTimer: NodeJS.Timeout | null = null;
  #closing = false;

  constructor(options: RunManagerOptions) {
    this.#o = options;
  }

  get activeRunIds(): string[] {
    return [...this.#active.keys()];
  }

  /** The process id of a run's current trainer, if it has one (supervision tests, diagnostics). */
  trainerPid(runId: string): number | undefined {
    return this.#active.get(runId)?.host.pid;
  }

  /** Validates, records and launches a run. Nothing is written when validation fails. */
  async start(configInput: unknown, diagnosticsInput?: unknown, origin?: { note: string; checkpoint?: { runId: string; step: number } }): Promise<RunDetail> {
    if (this.#closing) throw new ApiError('conflict', 'the studio is shutting down');
    const diagnostics = resolveDiagnosticsConfig(diagnosticsInput);
    const { config, dataset, memory } = this.estimate(configInput);
    if (!memory.fits) {
      const gib = (b: number) => `${(b / 2 ** 30).toFixed(2)} GiB`;
      const message = `needs about ${gib(memory.totalBytes)} of memory but ${memory.limitReason} (${gib(memory.limitBytes)})${memory.suggestedBatchSize ? `: use a batch size of at most ${memory.suggestedBatchSize}` : ': use a smaller model'}`;
      throw new ApiError('invalid_input', `schedule.batchSize: ${message}`, { issues: [{ path: 'schedule.batchSize', message }], memory });
    }
    const runId = newRunId();
    const runDir = path.join(this.#o.runsDir, runId);
    await fsp.mkdir(runDir, { recursive: true });
    const shortName = dataset.name.split(/\s+/)[0]!.toLowerCase();
    const detail = runs.insertRun(this.#o.db, { id: runId, name: config.name ?? `${config.family}-${shortName}-${runId.slice(-4)}`, config, runDir, status: 'queued' });
    alertsRepo.setRunDiagnostics(this.#o.db, runId, diagnostics);
    runs.appendRunEvent(this.#o.db, runId, 'info', `run created: ${config.family} on ${dataset.name}, ${config.schedule.steps} steps, batch ${config.schedule.batchSize}, seed ${config.seed}`);
    if (origin) runs.appendRunEvent(this.#o.db, runId, 'info', origin.note);
    let resume = false;
    if (origin?.checkpoint) {
      // a fork from a checkpoint: the parent's checkpoint folder is copied, and the trainer resumes from it
      const parentDir = runs.getRunDir(this.#o.db, origin.checkpoint.runId)!;
      const dirs = await listCheckpointDirs(path.join(parentDir, 'checkpoints'));
      const source = dirs.find((d) => d.step === origin.checkpoint!.step);
      if (source) {
        const target = path.join(runDir, 'checkpoints', path.basename(source.dir));
        await fsp.cp(source.dir, target, { recursive: true });
        const parentRow = runs.listCheckpoints(this.#o.db, origin.checkpoint.runId).find((c) => c.step === source.step);
        runs.insertCheckpoint(this.#o.db, { runId, step: source.step, dir: path.relative(runDir, target), bytes: parentRow?.bytes ?? 0, kind: parentRow?.kind ?? 'periodic', sha256: parentRow?.sha256 ?? null });
        resume = true;
      }
    }
    this.#emitStatus(detail);
    this.#launch(runId, config, runDir, resume, 0);
    return runs.getRunDetail(this.#o.db, runId)!;
  }

  /** Validates a (partial) config and estimates its memory against this machine (F4). */
  estimate(configInput: unknown) {
    const config = resolveRunConfig(configInput);
    const dataset = getDataset(this.#o.db, config.dataset);
    if (!dataset) throw new ApiError('invalid_input', `dataset: no dataset with id ${JSON.stringify(config.dataset)}`, { issues: [{ path: 'dataset', message: `no dataset with id ${config.dataset}` }] });
    const shape: DataShape = { layout: dataset.layout, height: dataset.height, width: dataset.width, channels: dataset.channels, count: dataset.count, classes: dataset.layout === 'images' && dataset.classNames ? dataset.classNames.length : null };
    const issues = checkRun(config, shape);
    if (issues.length > 0) throw new ApiError('invalid_input', `invalid run config: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, { issues });
    const image = { height: dataset.height, width: dataset.width, channels: dataset.channels };
    const est = estimateRunMemory(config, image, dataset.count, dataset.layout);
    const limit = memoryLimit(config.backend, nativePackageInstalled());
    const fits = est.totalBytes <= limit.bytes;
    const memory = {
      totalBytes: est.totalBytes,
      limitBytes: limit.bytes,
      limitReason: limit.reason,
      fits,
      suggestedBatchSize: fits ? null : largestFittingBatch(config, image, dataset.count, limit.bytes, dataset.layout),
      breakdown: est.breakdown,
    };
    return { config, dataset, memory };
  }

  /**
   * Measures the step time of a config: a throwaway trainer on the chosen backend trains one
   * warm-up step and `steps` timed ones, in a temporary folder that is removed afterwards.
   */
  async dryRun(configInput: unknown, steps: number): Promise<MethodOutput<'runs.dryRun'>> {
    if (this.#closing) throw new ApiError('conflict', 'the studio is shutting down');
    const { config: full, dataset } = this.estimate(configInput);
    const datasetDir = getDatasetDir(this.#o.db, full.dataset)!;
    const config: RunConfig = { ...full, schedule: { ...full.schedule, steps: steps + 1, scalarEvery: 1, checkpointEvery: 0, sampleEverySeconds: 3600 } };
    const dir = await fsp.mkdtemp(path.join(this.#o.runsDir, '.dry-run-'));
    try {
      return await new Promise((resolve, reject) => {
        let ready: Extract<TrainerToHost, { type: 'ready' }> | null = null;
        const imgPerSec: number[] = [];
        let failure: string | null = null;
        const host = new TrainerHost(
          this.#o.spawnTrainer,
          {
            onMessage: (m) => {
              if (m.type === 'ready') ready = m;
              else if (m.type === 'progress' && m.step > 1) imgPerSec.push(m.imgPerSec);
              else if (m.type === 'done' && m.status !== 'completed') failure = m.reason ?? m.status;
            },
            onCrash: (info) => (failure = info.reason),
            onExit: () => {
              if (failure || !ready || imgPerSec.length === 0) {
                reject(new ApiError('trainer_failed', `the dry run of ${full.family} on ${dataset.name} failed: ${failure ?? 'no step was timed'}`));
                return;
              }
              const sorted = [...imgPerSec].sort((a, b) => a - b);
              const median = sorted[Math.floor(sorted.length / 2)];
              const msPerStep = (1000 * full.schedule.batchSize) / median;
              resolve({ msPerStep, imgPerSec: median, etaSeconds: (msPerStep * full.schedule.steps) / 1000, backend: ready.backend, parameters: ready.parameters });
            },
          },
          this.#o.supervision,
          this.#o.trainerEnv,
        );
        host.send({ type: 'start', runId: `dry-${path.basename(dir)}`, config, runDir: dir, dataset: { id: full.dataset, dir: datasetDir }, resume: false, dryRun: true });
      });
    } finally {
      await fsp.rm(dir, { recursive: true, force: true });
    }
  }

  pause(runId: string): RunSummary {
    const run = this.#requireActive(runId, 'pause');
    if (run.status !== 'running') throw new ApiError('conflict', `run ${runId} is ${run.status}; only a running run can be paused`);
    run.host.send({ type: 'pause' });
    return this.#summary(runId);
  }

  /** Continues a paused run, or restarts a stopped or interrupted one from its last good checkpoint. */
  resume(runId: string): RunSummary {
    const active = this.#active.get(runId);
    if (active) {
      if (active.status !== 'paused') throw new ApiError('conflict', `run ${runId} is ${active.status}; only a paused run can be resumed`);
      active.host.send({ type: 'resume' });
      return this.#summary(runId);
    }
    const detail = runs.getRunDetail(this.#o.db, runId);
    if (!detail) throw new ApiError('not_found', `run ${runId} not found`);
    if (!['stopped', 'interrupted', 'failed'].includes(detail.status)) throw new ApiError('conflict', `run ${runId} is ${detail.status}; only a paused, stopped, interrupted or failed run can be resumed`);
    if (detail.step >= detail.totalSteps) throw new ApiError('conflict', `run ${runId} has already trained all ${detail.totalSteps} steps`);
    const runDir = runs.getRunDir(this.#o.db, runId)!;
    const summary = runs.updateRunStatus(this.#o.db, runId, 'queued', 'resuming from the last checkpoint');
    this.#emitStatus(summary);
    this.#launch(runId, detail.config, runDir, true, detail.durationMs);
    return summary;
  }

  stop(runId: string): RunSummary {
    const run = this.#requireActive(runId, 'stop');
    run.stopRequested = true;
    run.rollback = null;
    run.host.send({ type: 'stop' });
    return this.#summary(runId);
  }

  /** Stops every trainer (each writes a final checkpoint), killing those that miss the deadline. */
  async close(deadlineMs = 15_000): Promise<void> {
    this.#closing = true;
    for (const t of this.#restartTimers) clearTimeout(t);
    this.#restartTimers.clear();
    const waits = [...this.#active.values()].map(async (run) => {
      run.stopRequested = true;
      run.host.send({ type: 'stop' });
      const timer = setTimeout(() => run.host.terminate(), deadlineMs);
      await run.exited;
      clearTimeout(timer);
    });
    await Promise.all(waits);
    this.#flushDb();
    this.#flushEvents();
    if (this.#eventTimer) clearInterval(this.#eventTimer);
    if (this.#dbTimer) clearInterval(this.#dbTimer);
  }

  #requireActive(runId: string, what: string): ActiveRun {
    const run = this.#active.get(runId);
    if (run) return run;
    const summary = runs.getRunSummary(this.#o.db, runId);
    if (!summary) throw new ApiError('not_found', `run ${runId} not found`);
    throw new ApiError('conflict', `cannot ${what} run ${runId}: it is ${summary.status}, not training`);
  }

  #summary(runId: string): RunSummary {
    return runs.getRunSummary(this.#o.db, runId)!;
  }

  #launch(runId: string, config: RunConfig, runDir: string, resume: boolean, durationMs: number, restarts: number[] = []): void {
    const datasetDir = getDatasetDir(this.#o.db, config.dataset);
    if (!datasetDir) throw new ApiError('not_found', `dataset ${config.dataset} of run ${runId} no longer exists`);
    let resolveExit!: () => void;
    const exited = new Promise<void>((r) => (resolveExit = r));
    const run: ActiveRun = {
      runId,
      config,
      runDir,
      status: 'queued',
      step: 0,
      durationMs,
      runningSince: null,
      lastGLoss: null,
      lastDLoss: null,
      imgPerSec: 0,
      pendingRows: [],
      pendingSeries: new Map(),
      pendingProgress: false,
      stopRequested: false,
      restarts,
      exited,
      host: undefined as unknown as TrainerHost,
      diagnostics: this.#diagnosticsOf(runId),
      engine: null,
      pendingAlertUpdates: new Map(),
      alertEmittedAt: new Map(),
      rollback: null,
      rollbackRefused: false,
      evalSeen: new Set(),
      evalPolledAt: 0,
    };
    run.host = new TrainerHost(
      this.#o.spawnTrainer,
      {
        onMessage: (m) => this.#onMessage(run, m),
        onCrash: (info) => this.#onCrash(run, info),
        onExit: () => {
          this.#active.delete(runId);
          resolveExit();
          if (run.rollback) void this.#rollBack(run);
        },
        onInvalidMessage: (problem) => this.#log(run, 'warn', problem),
      },
      this.#o.supervision,
      this.#o.trainerEnv,
    );
    this.#active.set(runId, run);
    this.#ensureTimers();
    const diagnostics = run.diagnostics.enabled ? { overheadBudget: run.diagnostics.overheadBudget, holdout: run.diagnostics.holdout } : undefined;
    run.host.send({ type: 'start', runId, config, runDir, dataset: { id: config.dataset, dir: datasetDir }, resume, ...(diagnostics ? { diagnostics } : {}) });
  }

  /** The run's stored diagnostics config (defaults for runs from before issue 7). */
  #diagnosticsOf(runId: string): DiagnosticsConfig {
    const stored = alertsRepo.getRunDiagnostics(this.#o.db, runId);
    try {
      return resolveDiagnosticsConfig(stored ?? {});
    } catch {
      return resolveDiagnosticsConfig({});
    }
  }

  /**
   * A fresh detector engine for a run starting at `startStep`: the stored scalars up to there are
   * replayed into it, so a resumed run keeps its detector state; the alerts of that replay are
   * written back (same ids: an upsert), not announced.
   */
  #startEngine(run: ActiveRun, startStep: number): void {
    const db = this.#o.db;
    const dataset = getDataset(db, run.config.dataset);
    const engine = new DiagnosticsEngine({ config: run.diagnostics, objective: run.config.objective, runConfig: run.config, layout: dataset?.layout ?? 'images' });
    if (startStep > 0) {
      // the records of earlier rollbacks stay in the history whatever step training returns to
      const rollbackRecords = alertsRepo.listAlerts(db, run.runId).filter((a) => a.evidence.values.rolledBackTo !== undefined);
      alertsRepo.rewindAlerts(db, run.runId, startStep);
      for (const a of rollbackRecords) alertsRepo.upsertAlert(db, { ...a, at: a.updatedAt });
      for (const s of runs.listSampleSteps(db, run.runId)) engine.noteSample(s);
      const series = runs.getScalars(db, run.runId, { maxPoints: Number.MAX_SAFE_INTEGER });
      const rows: runs.ScalarPoint[] = [];
      for (const [tag, s] of Object.entries(series)) for (let i = 0; i < s.steps.length; i++) if (s.steps[i]! <= startStep) rows.push({ step: s.steps[i]!, tag, value: s.values[i]! });
      rows.sort((a, b) => a.step - b.step);
      for (const c of engine.push(rows)) alertsRepo.upsertAlert(db, { ...c.alert, runId: run.runId });
    }
    run.engine = engine;
  }

  /** The run's evaluations during training, oldest step first. */
  #duringTrainingEvaluations(runId: string) {
    return listEvaluations(this.#o.db, { runId, includeDuringTraining: true, limit: 10_000 })
      .filter((e) => e.protocol.duringTraining && e.step !== null)
      .sort((a, b) => a.step! - b.step! || a.createdAt - b.createdAt);
  }

  /** Quality scalars of one evaluation: FID, and KID's mean (lower is better for both). */
  static #qualityRows(e: { step: number | null; scores: { fid?: number; kid?: { mean: number } } }): runs.ScalarPoint[] {
    const rows: runs.ScalarPoint[] = [];
    if (e.scores.fid !== undefined && Number.isFinite(e.scores.fid)) rows.push({ step: e.step!, tag: TAGS.evalFid, value: e.scores.fid });
    if (e.scores.kid && Number.isFinite(e.scores.kid.mean)) rows.push({ step: e.step!, tag: TAGS.evalKid, value: e.scores.kid.mean });
    return rows;
  }

  /**
   * At a (re)start: the evaluations this run's stored scalars already hold are taken; one of the
   * kept trajectory that finished after the previous trainer stopped is taken in now; those of
   * checkpoints past `startStep` scored an abandoned trajectory and are left out.
   */
  #initEvaluationScores(run: ActiveRun, startStep: number): void {
    if (!run.config.evaluation) return;
    const stored = new Set(runs.getScalars(this.#o.db, run.runId, { tags: [TAGS.evalFid, TAGS.evalKid], maxPoints: Number.MAX_SAFE_INTEGER })[TAGS.evalFid]?.steps ?? []);
    const late: runs.ScalarPoint[] = [];
    for (const e of this.#duringTrainingEvaluations(run.runId)) {
      run.evalSeen.add(e.id);
      if (e.step! <= startStep && !stored.has(e.step!)) late.push(...RunManager.#qualityRows(e));
    }
    this.#recordQuality(run, late);
  }

  /**
   * Stagnation on the quality signal (issue 7): newly finished evaluations during training become
   * `eval/fid` and `eval/kid` scalars at the step they scored, and reach the detectors late (the
   * run trained on meanwhile). Read from the evaluations table, so the evaluation service needs no hook.
   */
  #takeEvaluationScores(run: ActiveRun): void {
    run.evalPolledAt = Date.now();
    const rows: runs.ScalarPoint[] = [];
    for (const e of this.#duringTrainingEvaluations(run.runId)) {
      if (run.evalSeen.has(e.id) || e.step! > run.step) continue;
      run.evalSeen.add(e.id);
      rows.push(...RunManager.#qualityRows(e));
    }
    this.#recordQuality(run, rows);
  }

  #recordQuality(run: ActiveRun, rows: runs.ScalarPoint[]): void {
    if (rows.length === 0) return;
    for (const r of rows) {
      run.pendingRows.push(r);
      let s = run.pendingSeries.get(r.tag);
      if (!s) run.pendingSeries.set(r.tag, (s = { steps: [], values: [] }));
      s.steps.push(r.step);
      s.values.push(r.value);
    }
    if (run.engine) this.#applyAlerts(run, run.engine.pushLate(rows));
  }

  /** Persists what the detectors said, logs and announces it; the automatic rollback and stop live here. */
  #applyAlerts(run: ActiveRun, changes: AlertChange[], ending = false): void {
    const now = Date.now();
    for (const c of changes) {
      const alert = alertsRepo.upsertAlert(this.#o.db, { ...c.alert, runId: run.runId, at: now });
      if (c.change === 'updated') {
        run.pendingAlertUpdates.set(alert.id, alert);
        continue;
      }
      run.pendingAlertUpdates.delete(alert.id);
      run.alertEmittedAt.set(alert.id, now);
      if (c.change === 'opened' || c.change === 'escalated') {
        this.#log(run, alert.severity === 'critical' ? 'error' : 'warn', `${c.change === 'opened' ? 'alert' : 'alert escalated'}: ${alert.kind} (${alert.severity}) over steps ${alert.startStep}–${alert.endStep}: ${alert.explanation}`);
      } else {
        this.#log(run, 'info', `alert resolved: ${alert.kind} over steps ${alert.startStep}–${alert.endStep}`);
      }
      this.#o.emit({ type: 'run.alert', runId: run.runId, change: c.change, alert });
      if (alert.severity === 'critical' && c.change !== 'resolved' && this.#requestRollback(run, alert, ending)) continue;
      if (alert.severity === 'critical' && c.change !== 'resolved' && run.diagnostics.stopOnCritical.includes(alert.kind) && !run.stopRequested && (run.status === 'running' || run.status === 'paused')) {
        this.#log(run, 'warn', `stopping automatically: a critical ${alert.kind} alert (diagnostics.stopOnCritical)`);
        run.stopRequested = true;
        run.host.send({ type: 'stop' });
      }
    }
  }

  /**
   * A new run from a parent's config merged with a remedy's patch and/or a patch; with
   * `fromCheckpoint`, it continues from the parent's last checkpoint at or before `fromStep`
   * (default: the step before the parent's first warning or critical alert: the last healthy one).
   */
  async fork(input: Omit<MethodInput<'runs.fork'>, 'patch' | 'fromCheckpoint'> & { patch: Record<string, unknown>; fromCheckpoint: boolean }): Promise<RunDetail> {
    const db = this.#o.db;
    const parent = runs.getRunDetail(db, input.runId);
    if (!parent) throw new ApiError('not_found', `run ${input.runId} not found`);
    const { name: _name, ...parentConfig } = parent.config;
    let config: Record<string, unknown> = parentConfig;
    const notes: string[] = [];
    if (input.remedy) {
      const alert = alertsRepo.getAlert(db, input.runId, input.remedy.alertId);
      if (!alert) throw new ApiError('not_found', `run ${input.runId} has no alert ${input.remedy.alertId}`);
      const stored = alert.remedies.find((r) => r.id === input.remedy!.remedyId);
      const patch = stored?.patch ?? (isRemedyId(input.remedy.remedyId) ? remedyPatch(input.remedy.remedyId, parent.config, getDataset(db, parent.config.dataset)?.layout ?? 'images') : null);
      if (!patch) throw new ApiError('invalid_input', `remedy ${input.remedy.remedyId} does not apply to alert ${input.remedy.alertId} of run ${input.runId}`);
      config = mergePatch(config, patch);
      notes.push(`remedy ${input.remedy.remedyId} for alert ${input.remedy.alertId}`);
    }
    if (Object.keys(input.patch).length > 0) {
      config = mergePatch(config, input.patch);
      notes.push(`patch ${JSON.stringify(input.patch)}`);
    }
    let checkpoint: { runId: string; step: number } | undefined;
    if (input.fromCheckpoint) {
      const resolved = resolveRunConfig(config);
      const a = JSON.stringify;
      // the checkpoint's tensors must fit the new networks and optimizers
      if (resolved.family !== parent.config.family || a(resolved.architecture) !== a(parent.config.architecture) || resolved.optimizer.g.kind !== parent.config.optimizer.g.kind || resolved.optimizer.d.kind !== parent.config.optimizer.d.kind) {
        throw new ApiError('invalid_input', 'fromCheckpoint: this patch changes the family, the architecture or an optimizer kind, so the parent\'s checkpoints do not fit; fork without fromCheckpoint to start from step 0', { issues: [{ path: 'fromCheckpoint', message: 'the patch changes the networks or optimizers' }] });
      }
      const firstBad = alertsRepo.listAlerts(db, input.runId).filter((x) => x.severity !== 'info').map((x) => x.startStep);
      const limit = input.fromStep ?? (firstBad.length ? Math.min(...firstBad) - 1 : parent.step);
      const candidates = parent.checkpoints.filter((c) => c.step <= limit);
      const chosen = candidates[candidates.length - 1];
      if (!chosen) throw new ApiError('conflict', `run ${input.runId} has no checkpoint at or before step ${limit}; fork without fromCheckpoint to start from step 0`);
      checkpoint = { runId: input.runId, step: chosen.step };
      notes.push(`from the checkpoint at step ${chosen.step}`);
    }
    const note = `forked from run ${input.runId}${notes.length ? `: ${notes.join('; ')}` : ''}${input.note ? ` — ${input.note}` : ''}`;
    return this.start(config, alertsRepo.getRunDiagnostics(db, input.runId), { note, checkpoint });
  }

  #onMessage(run: ActiveRun, m: TrainerToHost): void {
    const db = this.#o.db;
    switch (m.type) {
      case 'ready': {
        run.step = m.startStep;
        if (m.startStep > 0 || runs.getRunSummary(db, run.runId)!.step > 0) {
          // Forget what an abandoned trajectory wrote after the checkpoint we resume from.
          const { sampleFiles } = runs.rewindRun(db, run.runId, m.startStep);
          for (const f of sampleFiles) void fsp.rm(path.join(run.runDir, f), { force: true });
        }
        this.#startEngine(run, m.startStep);
        this.#initEvaluationScores(run, m.startStep);
        runs.setRunBackend(db, run.runId, m.backend);
        const skipped = m.backend.skipped.map((s) => `${s.provider}: ${s.reason}`).join('; ');
        runs.appendRunEvent(db, run.runId, 'info', `backend ${m.backend.name} (${m.backend.provider}, ${m.backend.device})${skipped ? `; skipped ${skipped}` : ''}; G ${m.parameters.generator} and D ${m.parameters.discriminator} parameters; starting at step ${m.startStep}`);
        this.#setStatus(run, 'running', null);
        return;
      }
      case 'progress': {
        run.step = m.step;
        run.imgPerSec = m.imgPerSec;
        for (const r of m.rows) {
          run.pendingRows.push(r);
          let s = run.pendingSeries.get(r.tag);
          if (!s) run.pendingSeries.set(r.tag, (s = { steps: [], values: [] }));
          s.steps.push(r.step);
          s.values.push(r.value);
          if (r.tag === 'loss/g') run.lastGLoss = r.value;
          if (r.tag === 'loss/d') run.lastDLoss = r.value;
        }
        run.pendingProgress = true;
        if (run.engine) this.#applyAlerts(run, run.engine.push(m.rows));
        if (run.config.evaluation && Date.now() - run.evalPolledAt >= EVAL_POLL_INTERVAL_MS) this.#takeEvaluationScores(run);
        return;
      }
      case 'heartbeat':
        return;
      case 'sample': {
        this.#flushDb();
        runs.insertSample(db, { runId: run.runId, step: m.step, file: path.relative(run.runDir, m.file) });
        run.engine?.noteSample(m.step);
        this.#flushEvents();
        this.#o.emit({ type: 'run.sample', runId: run.runId, step: m.step });
        return;
      }
      case 'checkpoint': {
        runs.insertCheckpoint(db, { runId: run.runId, step: m.step, dir: path.relative(run.runDir, m.dir), bytes: m.bytes, kind: m.kind, sha256: m.sha256 });
        for (const step of m.pruned) runs.deleteCheckpoint(db, run.runId, step);
        this.#o.onCheckpoint?.({ runId: run.runId, step: m.step, dir: m.dir });
        // the evaluation of an earlier checkpoint has usually finished by the next one
        if (run.config.evaluation) this.#takeEvaluationScores(run);
        return;
      }
      case 'paused':
        if (m.reason) this.#log(run, 'error', m.reason);
        this.#setStatus(run, 'paused', m.reason ?? null);
        return;
      case 'resumed':
        this.#setStatus(run, 'running', null);
        return;
      case 'log':
        this.#log(run, m.level, m.message);
        return;
      case 'done': {
        run.step = m.step;
        const status: RunStatus = m.status;
        if (m.reason) this.#log(run, m.status === 'completed' || m.status === 'stopped' ? 'info' : 'error', m.reason);
        if (run.engine) this.#applyAlerts(run, run.engine.end(m.status, m.step, m.reason), true);
        if (run.rollback) {
          // not the end: #rollBack continues from an earlier checkpoint once the trainer has exited
          this.#setStatus(run, 'queued', `rolling back after a critical ${run.rollback.alert.kind} alert`);
          return;
        }
        this.#setStatus(run, status, m.reason);
        return;
      }
    }
  }

  #rollbackCount(runId: string): number {
    let n = this.#rollbacks.get(runId);
    if (n === undefined) {
      n = runs.listRunEvents(this.#o.db, runId, { limit: 100_000 }).filter((e) => e.message.startsWith(ROLLED_BACK)).length;
      this.#rollbacks.set(runId, n);
    }
    return n;
  }

  /**
   * Automatic rollback (diagnostics.rollback): a critical alert of one of its kinds stops the
   * trainer; #rollBack continues from the newest checkpoint before the alert's step range. False
   * when it does not apply (then stopOnCritical may).
   */
  #requestRollback(run: ActiveRun, alert: Alert, ending: boolean): boolean {
    const rb = run.diagnostics.rollback;
    if (!rb.enabled || !rb.onKinds.includes(alert.kind) || run.rollback || run.stopRequested || !(run.status === 'running' || run.status === 'paused')) return false;
    const done = this.#rollbackCount(run.runId);
    const refuse = (why: string) => {
      if (!run.rollbackRefused) this.#log(run, 'warn', `no automatic rollback for the critical ${alert.kind} alert: ${why}`);
      run.rollbackRefused = true;
      return false;
    };
    if (done >= rb.maxRollbacks) return refuse(`the run has already been rolled back ${done} times (diagnostics.rollback.maxRollbacks)`);
    if (!runs.listCheckpoints(this.#o.db, run.runId).some((c) => c.step < alert.startStep)) return refuse(`there is no checkpoint before step ${alert.startStep} (schedule.checkpointEvery sets how often one is taken)`);
    run.rollback = { alert, n: done + 1 };
    this.#log(run, 'warn', `automatic rollback ${done + 1} of ${rb.maxRollbacks}: a critical ${alert.kind} alert over steps ${alert.startStep}–${alert.endStep}${ending ? '' : '; stopping the trainer'}`);
    if (!ending) run.host.send({ type: 'stop' });
    return true;
  }

  /** The trainer of a run being rolled back has exited: drop the checkpoints from the alert on, lower the learning rates, continue. */
  async #rollBack(run: ActiveRun): Promise<void> {
    const { alert, n } = run.rollback!;
    const db = this.#o.db;
    const rb = run.diagnostics.rollback;
    try {
      if (this.#closing) throw new ApiError('conflict', 'the studio is shutting down');
      const dirs = await listCheckpointDirs(path.join(run.runDir, 'checkpoints'));
      const candidates = dirs.filter((d) => d.step < alert.startStep);
      // the same checkpoint failing again soon after a rollback to it is itself suspect (the trouble
      // may have begun before the detectors could see it): go one checkpoint further back
      const previous = this.#rollbackTargets.get(run.runId);
      const suspect = previous !== undefined && candidates[0]?.step === previous && alert.startStep - previous <= Math.max(run.config.schedule.checkpointEvery, 1) && candidates.length > 1;
      const target = suspect ? candidates[1] : candidates[0];
      if (!target) throw new ApiError('conflict', `no checkpoint before step ${alert.startStep} is left`);
      for (const d of dirs) {
        if (d.step <= target.step) continue;
        await fsp.rm(d.dir, { recursive: true, force: true });
        runs.deleteCheckpoint(db, run.runId, d.step);
      }
      const scale = (o: RunConfig['optimizer']['g']) => ({ ...o, lr: Number((o.lr * rb.lrFactor).toPrecision(6)) });
      const config: RunConfig = rb.lrFactor < 1 ? { ...run.config, optimizer: { g: scale(run.config.optimizer.g), d: scale(run.config.optimizer.d) } } : run.config;
      // the stored config is what trains from here on (a crash-resume reads it)
      db.prepare('UPDATE runs SET config = ? WHERE id = ?').run(JSON.stringify(config), run.runId);
      // the alert itself records the rollback (its evidence; kept through the rewind, see #startEngine)
      const record: Alert = {
        ...alert,
        state: 'resolved',
        evidence: { ...alert.evidence, values: { ...alert.evidence.values, rollback: n, rolledBackTo: target.step, lrFactor: rb.lrFactor } },
        explanation: `${alert.explanation} Rolled back automatically to the checkpoint at step ${target.step} (rollback ${n} of ${rb.maxRollbacks}).`,
      };
      const stored = alertsRepo.upsertAlert(db, { ...record, at: Date.now() });
      this.#o.emit({ type: 'run.alert', runId: run.runId, change: 'resolved', alert: stored });
      this.#rollbacks.set(run.runId, n);
      this.#rollbackTargets.set(run.runId, target.step);
      this.#log(run, 'warn', `${ROLLED_BACK} step ${target.step} (rollback ${n} of ${rb.maxRollbacks}) after a critical ${alert.kind} alert over steps ${alert.startStep}–${alert.endStep}; learning rates ×${rb.lrFactor}: G ${config.optimizer.g.lr}, D ${config.optimizer.d.lr}`);
      this.#launch(run.runId, config, run.runDir, true, run.durationMs);
    } catch (err) {
      const reason = `the automatic rollback after a critical ${alert.kind} alert failed: ${(err as Error).message}`;
      runs.appendRunEvent(db, run.runId, 'error', reason);
      this.#setStatusById(run.runId, alert.kind === 'divergence' ? 'diverged' : 'stopped', reason);
    }
  }

  #onCrash(run: ActiveRun, info: CrashInfo): void {
    // a trainer that dies while stopping for a rollback: the rollback continues from its checkpoint on exit
    if (run.rollback) return;
    if (this.#closing && run.stopRequested) {
      this.#setStatus(run, 'interrupted', `the studio closed before the trainer finished: ${info.reason}`);
      return;
    }
    this.#setStatus(run, 'interrupted', info.reason);
    if (run.stopRequested || this.#closing) return;
    const { maxRestarts, windowMs, backoffMs } = { ...DEFAULT_AUTO_RESUME, ...this.#o.autoResume };
    const now = Date.now();
    const recent = run.restarts.filter((t) => now - t < windowMs);
    if (recent.length >= maxRestarts) {
      const advice = info.oom ? ' It ran out of memory: start it again with a smaller batch size.' : ' Resume it by hand once the cause is fixed.';
      this.#setStatusById(run.runId, 'failed', `the trainer crashed ${recent.length + 1} times within ${Math.round(windowMs / 60_000)} minutes; last: ${info.reason}.${advice}`);
      return;
    }
    const delay = backoffMs * 2 ** recent.length;
    this.#log(run, 'warn', `automatic resume ${recent.length + 1} of ${maxRestarts} from the last good checkpoint in ${(delay / 1000).toFixed(1)} s`);
    const timer = setTimeout(() => {
      this.#restartTimers.delete(timer);
      if (this.#closing) return;
      try {
        const summary = runs.updateRunStatus(this.#o.db, run.runId, 'queued', 'automatic resume after a crash', { from: ['interrupted'] });
        this.#emitStatus(summary);
        this.#launch(run.runId, run.config, run.runDir, true, this.#duration(run), [...recent, Date.now()]);
      } catch (err) {
        // e.g. the user resumed or deleted it meanwhile (conflict): nothing to do
        if (!(err instanceof ApiError)) throw err;
      }
    }, delay);
    this.#restartTimers.add(timer);
  }

  #duration(run: ActiveRun): number {
    return run.durationMs + (run.runningSince !== null ? Date.now() - run.runningSince : 0);
  }

  #setStatus(run: ActiveRun, status: RunStatus, reason: string | null): void {
    if (run.runningSince !== null && status !== 'running') {
      run.durationMs += Date.now() - run.runningSince;
      run.runningSince = null;
    }
    if (status === 'running' && run.runningSince === null) run.runningSince = Date.now();
    run.status = status;
    this.#flushDb();
    this.#flushEvents();
    this.#setStatusById(run.runId, status, reason);
  }

  #setStatusById(runId: string, status: RunStatus, reason: string | null): void {
    const summary = runs.updateRunStatus(this.#o.db, runId, status, reason);
    this.#emitStatus(summary);
  }

  #emitStatus(run: RunSummary): void {
    this.#o.emit({ type: 'run.status', run });
  }

  #log(run: ActiveRun, level: 'info' | 'warn' | 'error', message: string): void {
    runs.appendRunEvent(this.#o.db, run.runId, level, message);
    this.#o.emit({ type: 'run.log', runId: run.runId, level, message });
  }

  #ensureTimers(): void {
    this.#eventTimer ??= setInterval(() => this.#flushEvents(), EVENT_INTERVAL_MS);
    this.#dbTimer ??= setInterval(() => this.#flushDb(), DB_FLUSH_INTERVAL_MS);
  }

  /** One transaction per run per flush (W4: scalar inserts are batched). */
  #flushDb(): void {
    for (const run of this.#active.values()) {
      if (run.pendingRows.length > 0) {
        runs.insertScalars(this.#o.db, run.runId, run.pendingRows);
        run.pendingRows = [];
      }
      if (run.status !== 'queued') {
        runs.updateRunProgress(this.#o.db, run.runId, { step: run.step, durationMs: this.#duration(run), finalGLoss: run.lastGLoss ?? undefined, finalDLoss: run.lastDLoss ?? undefined });
      }
    }
  }

  #flushEvents(): void {
    const now = Date.now();
    for (const run of this.#active.values()) {
      for (const [id, alert] of run.pendingAlertUpdates) {
        if (now - (run.alertEmittedAt.get(id) ?? 0) < ALERT_UPDATE_INTERVAL_MS) continue;
        run.pendingAlertUpdates.delete(id);
        run.alertEmittedAt.set(id, now);
        this.#o.emit({ type: 'run.alert', runId: run.runId, change: 'updated', alert });
      }
      if (run.pendingSeries.size > 0) {
        this.#o.emit({ type: 'run.scalars', runId: run.runId, series: Object.fromEntries(run.pendingSeries) });
        run.pendingSeries = new Map();
      }
      if (run.pendingProgress) {
        run.pendingProgress = false;
        const stepsPerSec = run.imgPerSec / run.config.schedule.batchSize;
        const remaining = run.config.schedule.steps - run.step;
        this.#o.emit({
          type: 'run.progress',
          runId: run.runId,
          step: run.step,
          totalSteps: run.config.schedule.steps,
          imgPerSec: run.imgPerSec,
          etaSeconds: stepsPerSec > 0 ? remaining / stepsPerSec : null,
        });
      }
    }
  }
}

const ROLLED_BACK = 'rolled back to';

export function newRunId(): string {
  const d = new Date();
  const stamp = d.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  return `r_${stamp}_${crypto.randomBytes(3).toString('hex')}`;
}
