// Evaluate page state (issue 6): the runs and checkpoints to score, the feature extractor (and
// training a classifier), N, metrics and seed; the evaluation jobs (one per run/checkpoint, run
// one after another) with progress and cancel; the stored results grouped by protocol; one
// result's detail (nearest neighbours, class coverage) and a run's metric-over-steps series.
import type { DatasetSummary, RunDetail, RunSummary, StudioEvent } from '../../../../electron/common/api.ts';
import { EVAL_METRICS, type EvalMetric, type EvaluationDetail, type EvaluationJob, type EvaluationSummary, type Extractor, type ExtractorRegisterRequest } from '../../../../electron/common/api-evaluation.ts';
import type { ApiError } from '../../../../electron/common/errors.ts';
import type { Api } from '../context.ts';
import { asApiError } from '../errors.ts';
import { groupByProtocol, sampleSizeProblem, supportedMetrics, type ProtocolGroup } from '../evaluate.ts';

export type Checkpoint = 'latest' | 'best' | number;
/** one thing to score: a run at a checkpoint */
export interface Target {
  runId: string;
  checkpoint: Checkpoint;
}

const POLL_MS = 1500;
const LIST_LIMIT = 500;

const keyOf = (t: Target) => `${t.runId}@${t.checkpoint}`;
const isTerminal = (j: EvaluationJob) => j.state !== 'running';
/** an event or poll answer only replaces what is shown when it is not older */
const newer = (a: EvaluationJob, b: EvaluationJob) => (isTerminal(a) ? !isTerminal(b) || a === b : !isTerminal(b) && a.fraction >= b.fraction);

/**
 * Follows one job at a time: `evaluation.job` events first, a slow poll as the fallback when
 * the connection drops an event. Events that arrive before the start call answers are kept.
 */
class JobFollower {
  #api: Api;
  #job = $state.raw<EvaluationJob | null>(null);
  #early = new Map<string, EvaluationJob>();
  #starting = $state(false);
  #poll: ReturnType<typeof setInterval> | null = null;
  #onEnd: (job: EvaluationJob) => void;

  constructor(api: Api, onEnd: (job: EvaluationJob) => void) {
    this.#api = api;
    this.#onEnd = onEnd;
  }

  get job(): EvaluationJob | null {
    return this.#job;
  }
  get running(): boolean {
    return this.#starting || this.#job?.state === 'running';
  }

  async start(begin: () => Promise<EvaluationJob>): Promise<void> {
    this.#starting = true;
    this.#early.clear();
    try {
      const job = await begin();
      const early = this.#early.get(job.jobId);
      this.#starting = false;
      this.follow(early && newer(early, job) ? early : job);
    } finally {
      this.#starting = false;
      this.#early.clear();
    }
  }

  follow(job: EvaluationJob): void {
    this.#job = job;
    if (isTerminal(job)) return this.#end(job);
    this.#stopPolling();
    this.#poll = setInterval(() => {
      const j = this.#job;
      if (!j || isTerminal(j)) return this.#stopPolling();
      this.#api.call('evaluations.job', { jobId: j.jobId }, { quiet: true }).then(
        (x) => this.apply(x),
        () => {},
      );
    }, POLL_MS);
  }

  apply(next: EvaluationJob): void {
    if (this.#starting) {
      const seen = this.#early.get(next.jobId);
      if (!seen || newer(next, seen)) this.#early.set(next.jobId, next);
      return;
    }
    const cur = this.#job;
    if (!cur || cur.jobId !== next.jobId || !newer(next, cur) || isTerminal(cur)) return;
    this.#job = next;
    if (isTerminal(next)) this.#end(next);
  }

  async cancel(): Promise<void> {
    const j = this.#job;
    if (!j || isTerminal(j)) return;
    this.apply(await this.#api.call('evaluations.cancel', { jobId: j.jobId }));
  }

  clear(): void {
    if (this.running) return;
    this.#job = null;
  }

  #end(job: EvaluationJob): void {
    this.#stopPolling();
    this.#onEnd(job);
  }

  #stopPolling(): void {
    if (this.#poll) clearInterval(this.#poll);
    this.#poll = null;
  }

  dispose(): void {
    this.#stopPolling();
  }
}

export class EvaluateState {
  #api: Api;

  // what there is to choose from
  #runs = $state.raw<RunSummary[]>([]);
  #runDetails = $state.raw<Record<string, RunDetail>>({});
  #datasets = $state.raw<DatasetSummary[]>([]);
  #extractors = $state.raw<Extractor[]>([]);
  #loaded = $state(false);

  // the form
  #targets = $state.raw<Target[]>([]);
  #extractorId = $state<string>('');
  #n = $state(1000);
  #metrics = $state.raw<EvalMetric[]>([...EVAL_METRICS]);
  #seed = $state(0);
  #trainDatasetId = $state<string>('');
  #trainEpochs = $state(2);
  #trainMax = $state<number | null>(null);

  // jobs
  #evalJob: JobFollower;
  #trainJob: JobFollower;
  #queue = $state.raw<Target[]>([]);
  #batch = $state.raw<{ index: number; total: number; current: Target | null }>({ index: 0, total: 0, current: null });
  #cancelling = $state(false);
  #outcome = $state.raw<{ kind: 'done' | 'cancelled' | 'failed'; message: string } | null>(null);
  #trainOutcome = $state.raw<{ kind: 'done' | 'cancelled' | 'failed'; message: string; extractor?: Extractor } | null>(null);
  #startError = $state.raw<ApiError | null>(null);

  // stored results
  #evaluations = $state.raw<EvaluationSummary[]>([]);
  #groups = $derived(groupByProtocol(this.#evaluations));
  #detail = $state.raw<EvaluationDetail | null>(null);
  #detailLoading = $state(false);
  #chartRunId = $state<string | null>(null);
  #chartRows = $state.raw<EvaluationSummary[]>([]);

  #extractor = $derived(this.#extractors.find((e) => e.id === this.#extractorId) ?? null);
  #available = $derived(supportedMetrics(this.#extractor, EVAL_METRICS));
  #chosenMetrics = $derived(this.#metrics.filter((m) => this.#available.includes(m)));
  /** d of the features: the extractor's, or for pixel space H·W·C at its resolution of the selected runs' data */
  #featureDim = $derived.by(() => {
    const x = this.#extractor;
    if (!x || x.featureDim > 0 || x.kind !== 'pixel') return x?.featureDim ?? 0;
    const dims = this.#targets.map((t) => {
      const ds = this.#datasets.find((d) => d.id === this.#runs.find((r) => r.id === t.runId)?.datasetId);
      return ds ? (x.inputWidth || ds.width) * (x.inputHeight || ds.height) * ds.channels : 0;
    });
    return Math.max(0, ...dims);
  });
  #nProblem = $derived(sampleSizeProblem(this.#n, this.#featureDim, this.#chosenMetrics));

  constructor(api: Api, initialRunId: string | null = null) {
    this.#api = api;
    this.#evalJob = new JobFollower(api, (j) => void this.#onEvalEnd(j));
    this.#trainJob = new JobFollower(api, (j) => void this.#onTrainEnd(j));
    if (initialRunId) this.#targets = [{ runId: initialRunId, checkpoint: 'latest' }];
    this.#chartRunId = initialRunId;
  }

  // ---- getters -------------------------------------------------------------------------------
  get loaded(): boolean {
    return this.#loaded;
  }
  /** runs that have a checkpoint to score */
  get runs(): readonly RunSummary[] {
    return this.#runs;
  }
  runDetail(runId: string): RunDetail | null {
    return this.#runDetails[runId] ?? null;
  }
  get datasets(): readonly DatasetSummary[] {
    return this.#datasets;
  }
  /** labelled image datasets a classifier can be trained on */
  get labelledDatasets(): DatasetSummary[] {
    return this.#datasets.filter((d) => d.layout === 'images' && d.classNames != null && d.classNames.length > 1);
  }
  get extractors(): readonly Extractor[] {
    return this.#extractors;
  }
  get extractor(): Extractor | null {
    return this.#extractor;
  }
  get targets(): readonly Target[] {
    return this.#targets;
  }
  get extractorId(): string {
    return this.#extractorId;
  }
  set extractorId(v: string) {
    this.#extractorId = v;
  }
  get n(): number {
    return this.#n;
  }
  set n(v: number) {
    this.#n = v;
  }
  get seed(): number {
    return this.#seed;
  }
  set seed(v: number) {
    this.#seed = v;
  }
  get availableMetrics(): readonly EvalMetric[] {
    return this.#available;
  }
  get metrics(): readonly EvalMetric[] {
    return this.#chosenMetrics;
  }
  get trainDatasetId(): string {
    return this.#trainDatasetId;
  }
  set trainDatasetId(v: string) {
    this.#trainDatasetId = v;
  }
  get trainEpochs(): number {
    return this.#trainEpochs;
  }
  set trainEpochs(v: number) {
    this.#trainEpochs = v;
  }
  get trainMax(): number | null {
    return this.#trainMax;
  }
  set trainMax(v: number | null) {
    this.#trainMax = v;
  }
  /** why the form cannot start, or null */
  get formProblem(): string | null {
    if (!this.#targets.length) return 'Pick at least one run and checkpoint.';
    if (!this.#extractorId) return 'Pick a feature extractor.';
    if (!this.#chosenMetrics.length) return 'Pick at least one metric.';
    if (!Number.isInteger(this.#seed) || this.#seed < 0) return 'The seed is a whole number ≥ 0.';
    return this.#nProblem;
  }
  get evalJob(): EvaluationJob | null {
    return this.#evalJob.job;
  }
  get trainJob(): EvaluationJob | null {
    return this.#trainJob.job;
  }
  get evaluating(): boolean {
    return this.#evalJob.running || this.#queue.length > 0;
  }
  get training(): boolean {
    return this.#trainJob.running;
  }
  get batch(): { index: number; total: number; current: Target | null } {
    return this.#batch;
  }
  get cancelling(): boolean {
    return this.#cancelling;
  }
  get outcome(): { kind: 'done' | 'cancelled' | 'failed'; message: string } | null {
    return this.#outcome;
  }
  get trainOutcome(): { kind: 'done' | 'cancelled' | 'failed'; message: string; extractor?: Extractor } | null {
    return this.#trainOutcome;
  }
  get startError(): ApiError | null {
    return this.#startError;
  }
  get evaluations(): readonly EvaluationSummary[] {
    return this.#evaluations;
  }
  get groups(): readonly ProtocolGroup[] {
    return this.#groups;
  }
  get detail(): EvaluationDetail | null {
    return this.#detail;
  }
  get detailLoading(): boolean {
    return this.#detailLoading;
  }
  get chartRunId(): string | null {
    return this.#chartRunId;
  }
  get chartRows(): readonly EvaluationSummary[] {
    return this.#chartRows;
  }

  // ---- the form ------------------------------------------------------------------------------
  isTargeted(runId: string, checkpoint: Checkpoint): boolean {
    return this.#targets.some((t) => t.runId === runId && t.checkpoint === checkpoint);
  }
  isRunSelected(runId: string): boolean {
    return this.#targets.some((t) => t.runId === runId);
  }

  /** Selects a run (at its latest checkpoint) or drops it with all its checkpoints. */
  toggleRun(runId: string, on: boolean): void {
    if (!on) this.#targets = this.#targets.filter((t) => t.runId !== runId);
    else if (!this.isRunSelected(runId)) {
      this.#targets = [...this.#targets, { runId, checkpoint: 'latest' }];
      void this.#loadRunDetail(runId);
      this.#pickTrainDataset();
      if (!this.#chartRunId) void this.showChartFor(runId);
    }
  }

  toggleCheckpoint(runId: string, checkpoint: Checkpoint, on: boolean): void {
    const rest = this.#targets.filter((t) => !(t.runId === runId && t.checkpoint === checkpoint));
    this.#targets = on ? [...rest, { runId, checkpoint }] : rest;
  }

  /** Every checkpoint of a run (for a metric-over-steps curve). */
  selectAllCheckpoints(runId: string): void {
    const d = this.#runDetails[runId];
    if (!d) return;
    const others = this.#targets.filter((t) => t.runId !== runId);
    this.#targets = [...others, ...d.checkpoints.map((c) => ({ runId, checkpoint: c.step }))];
  }

  toggleMetric(metric: EvalMetric, on: boolean): void {
    const rest = this.#metrics.filter((m) => m !== metric);
    this.#metrics = on ? EVAL_METRICS.filter((m) => rest.includes(m) || m === metric) : rest;
  }

  // ---- loading -------------------------------------------------------------------------------
  /** Subscribes to job events, loads everything and picks up running jobs; returns the cleanup. */
  open(): () => void {
    const off = this.#api.subscribe((e: StudioEvent) => {
      if (e.type !== 'evaluation.job') return;
      if (e.job.duringTraining) {
        // scheduled by the core while a run trains: not the page's job; its score joins the steps chart
        if (e.job.state === 'done' && e.job.runId && e.job.runId === this.#chartRunId) void this.showChartFor(e.job.runId);
        return;
      }
      if (e.job.kind === 'evaluate') this.#evalJob.apply(e.job);
      else this.#trainJob.apply(e.job);
    });
    void this.load();
    return () => {
      off();
      this.#evalJob.dispose();
      this.#trainJob.dispose();
    };
  }

  async load(): Promise<void> {
    const [runs, datasets, extractors, evaluations, jobs] = await Promise.all([
      this.#api.call('runs.list', { limit: 10_000 }).catch(() => [] as RunSummary[]),
      this.#api.call('datasets.list', {}).catch(() => [] as DatasetSummary[]),
      this.#api.call('extractors.list', {}).catch(() => [] as Extractor[]),
      this.#api.call('evaluations.list', { limit: LIST_LIMIT }).catch(() => [] as EvaluationSummary[]),
      this.#api.call('evaluations.jobs', {}, { quiet: true }).catch(() => [] as EvaluationJob[]),
    ]);
    this.#runs = runs;
    this.#datasets = datasets;
    this.#extractors = extractors;
    this.#evaluations = evaluations;
    for (const t of this.#targets) void this.#loadRunDetail(t.runId);
    this.#pickExtractor();
    this.#pickTrainDataset();
    // a job still running from an earlier visit of the page
    const evalRunning = jobs.find((j) => j.kind === 'evaluate' && j.state === 'running' && !j.duringTraining);
    if (evalRunning && !this.#evalJob.job) {
      this.#batch = { index: 1, total: 1, current: null };
      this.#evalJob.follow(evalRunning);
    }
    const trainRunning = jobs.find((j) => j.kind === 'extractor-train' && j.state === 'running');
    if (trainRunning && !this.#trainJob.job) this.#trainJob.follow(trainRunning);
    this.#loaded = true;
    const first = evaluations[0];
    if (first && !this.#detail) void this.openDetail(first.id);
    if (this.#chartRunId) void this.showChartFor(this.#chartRunId);
    else if (first?.runId) void this.showChartFor(first.runId);
    else {
      // no evaluation of the user's yet: the newest run evaluated during training, if any
      const during = await this.#api.call('evaluations.list', { includeDuringTraining: true, limit: 1 }, { quiet: true }).catch(() => [] as EvaluationSummary[]);
      if (!this.#chartRunId && during[0]?.runId) void this.showChartFor(during[0].runId);
    }
  }

  async #loadRunDetail(runId: string): Promise<void> {
    if (this.#runDetails[runId]) return;
    try {
      const d = await this.#api.call('runs.get', { runId }, { quiet: true });
      this.#runDetails = { ...this.#runDetails, [runId]: d };
      this.#pickTrainDataset();
      this.#pickExtractor();
    } catch {
      // a deleted run: its row says it has no checkpoint
    }
  }

  /** The dataset of the first selected run when it is labelled, else the first labelled one. */
  #pickTrainDataset(): void {
    const labelled = this.labelledDatasets;
    if (labelled.some((d) => d.id === this.#trainDatasetId)) return;
    const runDataset = this.#targets.map((t) => this.#runs.find((r) => r.id === t.runId)?.datasetId).find((id) => labelled.some((d) => d.id === id));
    this.#trainDatasetId = runDataset ?? labelled[0]?.id ?? '';
  }

  /** Newest classifier trained on the selected runs' dataset, else the first extractor (a pixel one). */
  #pickExtractor(): void {
    if (this.#extractors.some((e) => e.id === this.#extractorId)) return;
    const datasetIds = new Set(this.#targets.map((t) => this.#runs.find((r) => r.id === t.runId)?.datasetId));
    const classifier = this.#extractors.find((e) => e.kind === 'classifier' && datasetIds.has(e.datasetId ?? undefined));
    this.#extractorId = classifier?.id ?? this.#extractors.find((e) => e.kind === 'pixel')?.id ?? this.#extractors[0]?.id ?? '';
  }

  async reloadEvaluations(): Promise<void> {
    this.#evaluations = await this.#api.call('evaluations.list', { limit: LIST_LIMIT });
    if (this.#chartRunId) await this.showChartFor(this.#chartRunId);
  }

  async openDetail(evaluationId: string): Promise<void> {
    this.#detailLoading = true;
    try {
      this.#detail = await this.#api.call('evaluations.get', { evaluationId });
      if (this.#detail.runId && this.#detail.runId !== this.#chartRunId) void this.showChartFor(this.#detail.runId);
    } catch {
      // reported by the toast
    } finally {
      this.#detailLoading = false;
    }
  }

  /** The run whose evaluations (with the during-training ones) the metric-over-steps chart shows. */
  async showChartFor(runId: string): Promise<void> {
    this.#chartRunId = runId;
    try {
      const rows = await this.#api.call('evaluations.list', { runId, includeDuringTraining: true, limit: 10_000 }, { quiet: true });
      if (this.#chartRunId === runId) this.#chartRows = rows;
    } catch {
      if (this.#chartRunId === runId) this.#chartRows = [];
    }
  }

  async deleteEvaluation(evaluationId: string): Promise<void> {
    await this.#api.call('evaluations.delete', { evaluationId });
    if (this.#detail?.id === evaluationId) this.#detail = null;
    await this.reloadEvaluations();
  }

  // ---- evaluation jobs -----------------------------------------------------------------------
  /** Queues one evaluation per selected run/checkpoint and starts the first. */
  async start(): Promise<void> {
    if (this.evaluating || this.formProblem) return;
    const seen = new Set<string>();
    this.#queue = this.#targets.filter((t) => (seen.has(keyOf(t)) ? false : (seen.add(keyOf(t)), true)));
    this.#batch = { index: 0, total: this.#queue.length, current: null };
    this.#outcome = null;
    this.#startError = null;
    await this.#next();
  }

  async #next(): Promise<void> {
    const [target, ...rest] = this.#queue;
    if (!target) return;
    this.#queue = rest;
    this.#batch = { ...this.#batch, index: this.#batch.index + 1, current: target };
    try {
      await this.#evalJob.start(() =>
        this.#api.call(
          'evaluations.start',
          {
            source: { kind: 'run', runId: target.runId, checkpoint: target.checkpoint },
            extractorId: this.#extractorId,
            metrics: [...this.#chosenMetrics],
            n: this.#n,
            seed: this.#seed,
          },
          { quiet: true },
        ),
      );
    } catch (err) {
      // refused before it started (bad N, missing checkpoint…): nothing stored, the rest is dropped
      this.#queue = [];
      this.#startError = asApiError(err);
      this.#outcome = { kind: 'failed', message: `${this.#startError.code}: ${this.#startError.message}` };
    }
  }

  async #onEvalEnd(job: EvaluationJob): Promise<void> {
    if (job.state === 'done') {
      await this.reloadEvaluations().catch(() => {});
      if (job.resultId) await this.openDetail(job.resultId);
      if (this.#queue.length) return void this.#next();
      this.#outcome = { kind: 'done', message: this.#batch.total > 1 ? `${this.#batch.total} evaluations stored.` : 'Evaluation stored.' };
    } else {
      this.#queue = [];
      this.#outcome =
        job.state === 'cancelled'
          ? { kind: 'cancelled', message: 'Cancelled: nothing was stored for this evaluation.' }
          : { kind: 'failed', message: job.error ? `${job.error.code}: ${job.error.message}` : 'The evaluation failed.' };
      await this.reloadEvaluations().catch(() => {});
    }
  }

  /** Cancels the running evaluation and drops the ones still queued. */
  async cancel(): Promise<void> {
    this.#queue = [];
    this.#cancelling = true;
    try {
      await this.#evalJob.cancel();
    } finally {
      this.#cancelling = false;
    }
  }

  // ---- classifier training -------------------------------------------------------------------
  async trainClassifier(): Promise<void> {
    if (this.training || !this.#trainDatasetId) return;
    this.#trainOutcome = null;
    try {
      await this.#trainJob.start(() =>
        this.#api.call('extractors.train', {
          datasetId: this.#trainDatasetId,
          epochs: this.#trainEpochs,
          ...(this.#trainMax ? { maxTrain: this.#trainMax } : {}),
        }),
      );
    } catch (err) {
      const e = asApiError(err);
      this.#trainOutcome = { kind: 'failed', message: `${e.code}: ${e.message}` };
    }
  }

  /**
   * Registers a user TF.js model folder as an extractor and selects it; resolves with the error
   * (missing files, unknown layer…) as data for the form, or null.
   */
  async registerModel(request: ExtractorRegisterRequest): Promise<ApiError | null> {
    try {
      const x = await this.#api.call('extractors.register', request, { quiet: true });
      this.#extractors = await this.#api.call('extractors.list', {}).catch(() => [x, ...this.#extractors]);
      this.#extractorId = x.id;
      return null;
    } catch (err) {
      return asApiError(err);
    }
  }

  async cancelTraining(): Promise<void> {
    await this.#trainJob.cancel();
  }

  async #onTrainEnd(job: EvaluationJob): Promise<void> {
    if (job.state !== 'done') {
      this.#trainOutcome =
        job.state === 'cancelled'
          ? { kind: 'cancelled', message: 'Training cancelled: no classifier was stored.' }
          : { kind: 'failed', message: job.error ? `${job.error.code}: ${job.error.message}` : 'Training failed.' };
      return;
    }
    this.#extractors = await this.#api.call('extractors.list', {}).catch(() => this.#extractors);
    const trained = this.#extractors.find((e) => e.id === job.resultId);
    if (trained) this.#extractorId = trained.id;
    this.#trainOutcome = { kind: 'done', message: 'Classifier trained.', extractor: trained };
  }

  reset(): void {
    this.#targets = [];
    this.#queue = [];
    this.#batch = { index: 0, total: 0, current: null };
    this.#outcome = null;
    this.#trainOutcome = null;
    this.#startError = null;
    this.#detail = null;
    this.#chartRunId = null;
    this.#chartRows = [];
    this.#evalJob.clear();
    this.#trainJob.clear();
  }
}
