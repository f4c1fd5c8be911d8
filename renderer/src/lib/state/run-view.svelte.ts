// The live (or historical) view of one run: its summary, progress, scalar series and samples.
// Events that arrive while the history loads are buffered and replayed, so nothing is lost or
// drawn twice; series are capped in memory (SeriesBuffer) so long runs stay cheap.
import { ACTIVE_STATUSES, SCALAR_TAGS, type MethodOutput, type RunDetail, type RunStatus, type RunSummary, type StudioEvent } from '../../../../electron/common/api.ts';
import type { Api } from '../context.ts';
import { SeriesBuffer } from '../series-buffer.ts';

export type Sample = MethodOutput<'runs.sample'>;
export type RunAction = 'pause' | 'resume' | 'stop';

export interface Progress {
  step: number;
  totalSteps: number;
  imgPerSec: number;
  etaSeconds: number | null;
}

export interface LogLine {
  at: number;
  level: 'info' | 'warn' | 'error';
  message: string;
}

type SeriesUpdate = Record<string, { steps: number[]; values: number[] }>;

const HISTORY_POINTS = 2000;
const SAMPLE_CACHE = 64;
const LOG_LINES = 200;
const TERMINAL: readonly RunStatus[] = ['completed', 'stopped', 'interrupted', 'failed', 'diverged'];

export class RunViewState {
  readonly runId: string;
  #api: Api;

  #detail = $state.raw<RunDetail | null>(null);
  #loadError = $state<string | null>(null);
  #progress = $state.raw<Progress | null>(null);
  #busy = $state<RunAction | null>(null);
  #logs = $state.raw<LogLine[]>([]);

  // chart data lives outside the reactive graph; `seriesVersion` says when it changed
  #series = new Map<string, SeriesBuffer>(SCALAR_TAGS.map((t) => [t, new SeriesBuffer()]));
  #seriesVersion = $state(0);
  #historyLoaded = false;
  #pending: SeriesUpdate[] = [];

  #sample = $state.raw<Sample | null>(null);
  #sampleSteps = $state.raw<number[]>([]);
  #followLatest = $state(true);
  #sampleCache = new Map<number, Sample>();
  #wantedSample: { step: number | undefined } | null = null;
  #sampleInFlight = false;

  // durationMs comes with each summary; while running, the time since then is added on a 1 s tick
  #summaryAt = $state(0);
  #now = $state(Date.now());

  #status = $derived<RunStatus | null>(this.#detail?.status ?? null);
  #active = $derived(this.#status != null && ACTIVE_STATUSES.includes(this.#status));

  constructor(api: Api, runId: string) {
    this.#api = api;
    this.runId = runId;
  }

  get detail(): RunDetail | null {
    return this.#detail;
  }
  get loadError(): string | null {
    return this.#loadError;
  }
  get status(): RunStatus | null {
    return this.#status;
  }
  get active(): boolean {
    return this.#active;
  }
  get step(): number {
    return this.#progress?.step ?? this.#detail?.step ?? 0;
  }
  get totalSteps(): number {
    return this.#progress?.totalSteps ?? this.#detail?.totalSteps ?? 0;
  }
  get imgPerSec(): number | null {
    return this.#status === 'running' ? (this.#progress?.imgPerSec ?? null) : null;
  }
  get etaSeconds(): number | null {
    return this.#status === 'running' ? (this.#progress?.etaSeconds ?? null) : null;
  }
  /** training time, ticking while the run is running */
  get durationMs(): number {
    const d = this.#detail;
    if (!d) return 0;
    return d.durationMs + (d.status === 'running' ? Math.max(0, this.#now - this.#summaryAt) : 0);
  }
  get busy(): RunAction | null {
    return this.#busy;
  }
  get canPause(): boolean {
    return this.#status === 'running' && !this.#busy;
  }
  /** a paused run continues; a stopped, interrupted or failed one restarts from its last good checkpoint */
  get canResume(): boolean {
    if (this.#busy) return false;
    if (this.#status === 'paused') return true;
    const d = this.#detail;
    return (this.#status === 'stopped' || this.#status === 'interrupted' || this.#status === 'failed') && !!d && d.step < d.totalSteps && d.checkpoints.length > 0;
  }
  get canStop(): boolean {
    return this.#active && !this.#busy;
  }
  get logs(): readonly LogLine[] {
    return this.#logs;
  }
  get seriesVersion(): number {
    return this.#seriesVersion;
  }
  /** the newest value of a series (re-read when `seriesVersion` changes) */
  latest(tag: string): number | null {
    void this.#seriesVersion;
    return this.series(tag).values.at(-1) ?? null;
  }
  /**
   * Every tag with points, beyond the fixed ones, sorted (re-read when `seriesVersion` changes):
   * family signals such as `began/m_global`, `cycle/loss` or `grad/g_norm`.
   */
  get otherTags(): string[] {
    void this.#seriesVersion;
    const core = new Set<string>(SCALAR_TAGS);
    return [...this.#series.entries()].filter(([tag, s]) => !core.has(tag) && s.length > 0).map(([tag]) => tag).sort();
  }
  series(tag: string): SeriesBuffer {
    let s = this.#series.get(tag);
    if (!s) this.#series.set(tag, (s = new SeriesBuffer()));
    return s;
  }
  get sample(): Sample | null {
    return this.#sample;
  }
  get sampleSteps(): readonly number[] {
    return this.#sampleSteps;
  }
  get followLatest(): boolean {
    return this.#followLatest;
  }

  /** Subscribes, then loads the run and its history; returns the cleanup. */
  open(): () => void {
    const unsubscribe = this.#api.subscribe((e) => this.#onEvent(e));
    const clock = setInterval(() => {
      if (this.#status === 'running') this.#now = Date.now();
    }, 1000);
    void this.#load();
    return () => {
      clearInterval(clock);
      unsubscribe();
    };
  }

  async #load(): Promise<void> {
    try {
      const detail = await this.#api.call('runs.get', { runId: this.runId });
      this.#setDetail(detail);
      this.#mergeSampleSteps(detail.sampleSteps);
      const latest = detail.sampleSteps.at(-1);
      if (latest !== undefined) this.#requestSample(latest);
    } catch (err) {
      this.#loadError = err instanceof Error ? err.message : String(err);
      return;
    }
    try {
      const history = await this.#api.call('runs.scalars', { runId: this.runId, maxPoints: HISTORY_POINTS });
      for (const [tag, s] of Object.entries(history)) this.series(tag).set(s.steps, s.values);
    } catch {
      // reported by the toast; live points still arrive
    }
    this.#historyLoaded = true;
    // points that arrived during the load: keep only those after the history's end
    for (const update of this.#pending.splice(0)) this.#appendScalars(update, true);
    this.#seriesVersion++;
  }

  #onEvent(e: StudioEvent): void {
    if (e.type === 'run.status') {
      if (e.run.id !== this.runId) return;
      this.#mergeSummary(e.run);
      if (TERMINAL.includes(e.run.status)) void this.#refreshDetail();
      return;
    }
    if (!('runId' in e) || e.runId !== this.runId) return;
    switch (e.type) {
      case 'run.progress':
        this.#progress = { step: e.step, totalSteps: e.totalSteps, imgPerSec: e.imgPerSec, etaSeconds: e.etaSeconds };
        break;
      case 'run.scalars':
        if (!this.#historyLoaded) this.#pending.push(e.series);
        else {
          this.#appendScalars(e.series, false);
          this.#seriesVersion++;
        }
        break;
      case 'run.sample':
        this.#mergeSampleSteps([e.step]);
        if (this.#followLatest) this.#requestSample(e.step);
        break;
      case 'run.log':
        this.#logs = [...this.#logs.slice(-(LOG_LINES - 1)), { at: Date.now(), level: e.level, message: e.message }];
        break;
    }
  }

  #appendScalars(update: SeriesUpdate, skipSeen: boolean): void {
    for (const [tag, s] of Object.entries(update)) {
      const buf = this.series(tag);
      if (!skipSeen) buf.append(s.steps, s.values);
      else {
        const from = s.steps.findIndex((step) => step > buf.lastStep);
        if (from >= 0) buf.append(s.steps.slice(from), s.values.slice(from));
      }
    }
  }

  #setDetail(detail: RunDetail): void {
    this.#detail = detail;
    this.#summaryAt = this.#now = Date.now();
  }

  #mergeSummary(run: RunSummary): void {
    if (this.#detail) this.#setDetail({ ...this.#detail, ...run });
    if (this.#progress && run.step > this.#progress.step) this.#progress = { ...this.#progress, step: run.step, totalSteps: run.totalSteps };
  }

  async #refreshDetail(): Promise<void> {
    try {
      const detail = await this.#api.call('runs.get', { runId: this.runId }, { quiet: true });
      this.#setDetail(detail);
      this.#mergeSampleSteps(detail.sampleSteps);
      if (this.#followLatest && detail.sampleSteps.length) this.#requestSample(detail.sampleSteps[detail.sampleSteps.length - 1]);
    } catch {
      // the summary from the event is already shown
    }
  }

  #mergeSampleSteps(steps: readonly number[]): void {
    const known = new Set(this.#sampleSteps);
    const fresh = steps.filter((s) => !known.has(s));
    if (fresh.length) this.#sampleSteps = [...this.#sampleSteps, ...fresh].sort((a, b) => a - b);
  }

  /** Shows the sample at `step` and stops following new samples; `null` follows the latest again. */
  showSample(step: number | null): void {
    const latest = this.#sampleSteps.at(-1);
    this.#followLatest = step === null || step === latest;
    this.#requestSample(step ?? latest);
  }

  /** One request in flight at most; while scrubbing, only the last wanted step is fetched next. */
  #requestSample(step: number | undefined): void {
    this.#wantedSample = { step };
    if (!this.#sampleInFlight) void this.#pumpSamples();
  }

  async #pumpSamples(): Promise<void> {
    this.#sampleInFlight = true;
    try {
      while (this.#wantedSample) {
        const { step } = this.#wantedSample;
        this.#wantedSample = null;
        const cached = step === undefined ? undefined : this.#sampleCache.get(step);
        if (cached) {
          this.#sample = cached;
          continue;
        }
        try {
          const img = await this.#api.call('runs.sample', step === undefined ? { runId: this.runId } : { runId: this.runId, step }, { quiet: true });
          this.#sampleCache.set(img.step, img);
          if (this.#sampleCache.size > SAMPLE_CACHE) this.#sampleCache.delete(this.#sampleCache.keys().next().value as number);
          this.#sample = img;
        } catch {
          // a sample that is not written yet is simply not shown; the next event retries
        }
      }
    } finally {
      this.#sampleInFlight = false;
    }
  }

  async control(action: RunAction): Promise<void> {
    if (this.#busy) return;
    this.#busy = action;
    try {
      const method = `runs.${action}` as const;
      this.#mergeSummary(await this.#api.call(method, { runId: this.runId }));
    } catch {
      // shown as a toast by Api
    } finally {
      this.#busy = null;
    }
  }

  reset(): void {
    this.#detail = null;
    this.#loadError = null;
    this.#progress = null;
    this.#logs = [];
    for (const s of this.#series.values()) s.clear();
    this.#seriesVersion++;
    this.#historyLoaded = false;
    this.#pending = [];
    this.#sample = null;
    this.#sampleSteps = [];
    this.#sampleCache.clear();
    this.#followLatest = true;
  }
}
