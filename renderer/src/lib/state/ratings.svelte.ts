// Human rating sessions (issue 8) in the studio: the session list (kept live from `rating.*`
// events), the "New session" form with its validation, one rater's pass through a session (the
// next item always comes from the core, so a reload or a restart resumes where the rater stopped)
// and a session's results with their exports.
import {
  RATING_TYPE_INFO,
  RatingCreateRequestSchema,
  type RaterProgress,
  type RatingAnswerValue,
  type RatingCreateRequest,
  type RatingItem,
  type RatingResults,
  type RatingSession,
  type RatingSourceSpec,
  type RatingType,
} from '../../../../electron/common/api-rating.ts';
import type { DatasetSummary, RunDetail, RunSummary, StudioEvent } from '../../../../electron/common/api.ts';
import { randomSeed } from '../../../../electron/common/config.ts';
import type { ApiError, Issue } from '../../../../electron/common/errors.ts';
import type { Api } from '../context.ts';
import { asApiError, issuesOf } from '../errors.ts';

export type PrepareProgress = { phase: string; done: number; total: number };

/** Every session, newest first, with the preparation progress of those being created. */
export class SessionsState {
  #api: Api;
  #sessions = $state.raw<RatingSession[]>([]);
  #progress = $state.raw<Record<string, PrepareProgress>>({});
  #loaded = $state(false);
  #loadError = $state<string | null>(null);

  constructor(api: Api) {
    this.#api = api;
  }

  get sessions(): readonly RatingSession[] {
    return this.#sessions;
  }
  get loaded(): boolean {
    return this.#loaded;
  }
  get loadError(): string | null {
    return this.#loadError;
  }
  progressOf(sessionId: string): PrepareProgress | null {
    return this.#progress[sessionId] ?? null;
  }

  async load(): Promise<void> {
    try {
      this.#sessions = await this.#api.call('ratings.list', {}, { quiet: true });
      this.#loadError = null;
    } catch (err) {
      this.#loadError = asApiError(err).message;
    } finally {
      this.#loaded = true;
    }
  }

  follow(): () => void {
    return this.#api.subscribe((e) => this.apply(e));
  }

  apply(e: StudioEvent): void {
    if (e.type === 'rating.session') {
      const i = this.#sessions.findIndex((s) => s.id === e.sessionId);
      if (!e.session) this.#sessions = this.#sessions.filter((s) => s.id !== e.sessionId);
      else this.#sessions = i < 0 ? [e.session, ...this.#sessions] : this.#sessions.with(i, e.session);
    } else if (e.type === 'rating.progress') {
      const { [e.sessionId]: _, ...rest } = this.#progress;
      this.#progress = e.phase === 'done' ? rest : { ...rest, [e.sessionId]: { phase: e.phase, done: e.done, total: e.total } };
    }
  }

  /** The stored copy, or one fetched now (e.g. a link straight to #/ratings/<id>). */
  async get(sessionId: string): Promise<RatingSession> {
    const session = await this.#api.call('ratings.get', { sessionId }, { quiet: true });
    this.apply({ type: 'rating.session', sessionId, session });
    return session;
  }

  async remove(sessionId: string): Promise<void> {
    await this.#api.call('ratings.delete', { sessionId });
    this.apply({ type: 'rating.session', sessionId, session: null });
  }

  reset(): void {
    this.#sessions = [];
    this.#progress = {};
    this.#loaded = false;
  }
}

// ---- the "New session" form ---------------------------------------------------------------------

export type SourceRow = { key: number; kind: 'checkpoint' | 'real'; runId: string; step: number | null; datasetId: string };

export interface SessionFields {
  type: RatingType;
  name: string;
  items: number;
  raters: string;
  seed: number;
  question: string;
  /** percent, 0–30 */
  attentionPercent: number;
  breakEvery: number;
  staircaseStartMs: number;
  staircaseFloorMs: number;
  gridSize: 4 | 9 | 16 | 25;
  neighbours: number;
}

/** Which source kinds a type needs, in words (the core checks the same rules and says so when they fail). */
export const SOURCE_RULES: Record<RatingType, string> = {
  real_fake: 'at least one run checkpoint and one real set',
  timed_real_fake: 'at least one run checkpoint and one real set',
  preference: 'two or more runs, checkpoints or real sets',
  quality: 'one or more run checkpoints (a real set is optional)',
  duplicates: 'one or more run checkpoints',
  memorisation: 'one or more run checkpoints (no real set: their nearest training images are found for you)',
};

/** "Ann, Ben; Cleo" → ["Ann", "Ben", "Cleo"] */
export function parseRaterNames(text: string): string[] {
  return text
    .split(/[,;\n]/)
    .map((s) => s.trim())
    .filter(Boolean);
}

export class NewSessionForm {
  #api: Api;
  #nextKey = 1;
  #fields = $state<SessionFields>({
    type: 'real_fake',
    name: '',
    items: 40,
    raters: '',
    seed: randomSeed(),
    question: '',
    attentionPercent: 10,
    breakEvery: 50,
    staircaseStartMs: 1000,
    staircaseFloorMs: 100,
    gridSize: 16,
    neighbours: 3,
  });
  #sources = $state<SourceRow[]>([]);
  #runs = $state.raw<RunSummary[]>([]);
  #datasets = $state.raw<DatasetSummary[]>([]);
  #runDetails = $state.raw<Record<string, RunDetail>>({});
  #submitting = $state(false);
  #touched = $state(false);
  #serverError = $state.raw<ApiError | null>(null);

  #request = $derived.by((): RatingCreateRequest => {
    const f = this.#fields;
    const req: RatingCreateRequest = {
      type: f.type,
      sources: this.#sources.map((s): RatingSourceSpec => (s.kind === 'real' ? { kind: 'real', datasetId: s.datasetId } : s.step == null ? { kind: 'checkpoint', runId: s.runId } : { kind: 'checkpoint', runId: s.runId, step: s.step })),
      items: f.items,
      raters: parseRaterNames(f.raters),
      seed: f.seed,
      attentionShare: Math.round(f.attentionPercent * 10) / 1000,
      breakEvery: f.breakEvery,
    };
    if (f.name.trim()) req.name = f.name.trim();
    if (f.question.trim()) req.question = f.question.trim();
    if (f.type === 'timed_real_fake') req.staircase = { startMs: f.staircaseStartMs, floorMs: f.staircaseFloorMs };
    if (f.type === 'duplicates') req.gridSize = f.gridSize;
    if (f.type === 'memorisation') req.neighbours = f.neighbours;
    return req;
  });

  #issues = $derived.by((): Issue[] => {
    const issues: Issue[] = [];
    const parsed = RatingCreateRequestSchema.safeParse(this.#request);
    if (!parsed.success) for (const i of parsed.error.issues) issues.push({ path: i.path.map(String).join('.') || '(root)', message: i.message });
    for (const [i, s] of this.#sources.entries()) {
      if (s.kind === 'checkpoint' && !s.runId) issues.push({ path: `sources.${i}`, message: 'choose a run' });
      if (s.kind === 'checkpoint' && s.runId && this.#runDetails[s.runId]?.checkpoints.length === 0) issues.push({ path: `sources.${i}`, message: 'this run has no checkpoint to sample from yet' });
      if (s.kind === 'real' && !s.datasetId) issues.push({ path: `sources.${i}`, message: 'choose a dataset' });
    }
    return issues;
  });

  constructor(api: Api) {
    this.#api = api;
  }

  get fields(): SessionFields {
    return this.#fields;
  }
  get sources(): readonly SourceRow[] {
    return this.#sources;
  }
  get runs(): readonly RunSummary[] {
    return this.#runs;
  }
  get datasets(): readonly DatasetSummary[] {
    return this.#datasets;
  }
  get request(): RatingCreateRequest {
    return this.#request;
  }
  get issues(): readonly Issue[] {
    return this.#issues;
  }
  get valid(): boolean {
    return this.#issues.length === 0;
  }
  get submitting(): boolean {
    return this.#submitting;
  }
  /** errors show once the user tried to create (or edited a field), not on an empty form */
  get touched(): boolean {
    return this.#touched;
  }
  get serverError(): ApiError | null {
    return this.#serverError;
  }
  get questionDefault(): string {
    return RATING_TYPE_INFO[this.#fields.type].question;
  }

  /** Messages for a field: issues whose path starts with `prefix` (e.g. "raters", "sources.1"). */
  errorsFor(prefix: string): string[] {
    if (!this.#touched) return [];
    return this.#issues.filter((i) => i.path === prefix || i.path.startsWith(`${prefix}.`)).map((i) => i.message);
  }

  checkpointsOf(runId: string): RunDetail['checkpoints'] | null {
    return this.#runDetails[runId]?.checkpoints ?? null;
  }

  touch(): void {
    this.#touched = true;
    this.#serverError = null;
  }

  async load(): Promise<void> {
    const [runs, datasets] = await Promise.all([this.#api.call('runs.list', { limit: 10_000 }), this.#api.call('datasets.list', {})]);
    this.#runs = runs;
    this.#datasets = datasets.filter((d) => d.layout === 'images');
    if (this.#sources.length === 0) this.#suggestSources();
  }

  /** The newest finished run with its dataset's real set: a sensible start for real-or-fake. */
  #suggestSources(): void {
    const run = this.#runs.find((r) => r.status === 'completed' || r.status === 'stopped') ?? this.#runs[0];
    if (!run) return;
    this.addSource('checkpoint', run.id);
    if (this.#datasets.some((d) => d.id === run.datasetId)) this.addSource('real', run.datasetId);
  }

  addSource(kind: 'checkpoint' | 'real', id = ''): void {
    const runId = kind === 'checkpoint' ? id || (this.#runs[0]?.id ?? '') : '';
    const datasetId = kind === 'real' ? id || (this.#datasets[0]?.id ?? '') : '';
    this.#sources.push({ key: this.#nextKey++, kind, runId, step: null, datasetId });
    if (runId) void this.#loadRun(runId);
  }

  removeSource(key: number): void {
    this.#sources = this.#sources.filter((s) => s.key !== key);
  }

  setRun(key: number, runId: string): void {
    const row = this.#sources.find((s) => s.key === key);
    if (!row) return;
    row.runId = runId;
    row.step = null;
    if (runId) void this.#loadRun(runId);
  }

  async #loadRun(runId: string): Promise<void> {
    if (this.#runDetails[runId]) return;
    try {
      const detail = await this.#api.call('runs.get', { runId }, { quiet: true });
      this.#runDetails = { ...this.#runDetails, [runId]: detail };
    } catch {
      // the run list may be stale; the core names the problem when the session is created
    }
  }

  /** Creates the session; null when the form is invalid or the core refused it (see serverError). */
  async submit(): Promise<RatingSession | null> {
    this.#touched = true;
    this.#serverError = null;
    if (!this.valid || this.#submitting) return null;
    this.#submitting = true;
    try {
      return await this.#api.call('ratings.create', this.#request, { quiet: true });
    } catch (err) {
      this.#serverError = asApiError(err);
      return null;
    } finally {
      this.#submitting = false;
    }
  }

  /** Issues the core named (details.issues), shown beside the fields as well as in the summary. */
  get serverIssues(): Issue[] {
    return this.#serverError ? issuesOf(this.#serverError) : [];
  }
}

// ---- one rater's pass ---------------------------------------------------------------------------

export type RaterPhase = 'loading' | 'break' | 'item' | 'sending' | 'done' | 'error';

/** A break is suggested after this long without one, whatever the item count. */
export const BREAK_AFTER_MS = 20 * 60_000;

export class RaterPass {
  readonly sessionId: string;
  readonly rater: string;
  #api: Api;
  #phase = $state<RaterPhase>('loading');
  #item = $state.raw<RatingItem | null>(null);
  #progress = $state.raw<RaterProgress | null>(null);
  #error = $state<string | null>(null);
  #finished = $state.raw<RatingSession | null>(null);
  #lastBreakAt = Date.now();
  /** the item on screen since (performance.now()), for the response time */
  #shownAt = 0;
  #answeredHere = $state(0);

  constructor(api: Api, sessionId: string, rater: string) {
    this.#api = api;
    this.sessionId = sessionId;
    this.rater = rater;
  }

  get phase(): RaterPhase {
    return this.#phase;
  }
  get item(): RatingItem | null {
    return this.#item;
  }
  get progress(): RaterProgress | null {
    return this.#progress;
  }
  get error(): string | null {
    return this.#error;
  }
  /** the session after this rater finished (it may now be finished as a whole) */
  get finished(): RatingSession | null {
    return this.#finished;
  }
  /** answers given in this sitting */
  get answeredHere(): number {
    return this.#answeredHere;
  }

  /** Fetches the next unanswered item (or finishes the rater when none is left). */
  async next(): Promise<void> {
    this.#phase = 'loading';
    try {
      const { item, rater } = await this.#api.call('ratings.next', { sessionId: this.sessionId, rater: this.rater }, { quiet: true });
      this.#progress = rater;
      this.#item = item;
      if (!item) {
        this.#finished = rater.state === 'finished' ? await this.#api.call('ratings.get', { sessionId: this.sessionId }, { quiet: true }) : await this.#api.call('ratings.finishRater', { sessionId: this.sessionId, rater: this.rater }, { quiet: true });
        this.#phase = 'done';
        return;
      }
      const due = (item.breakSuggested && this.#answeredHere > 0) || Date.now() - this.#lastBreakAt > BREAK_AFTER_MS;
      this.#phase = due ? 'break' : 'item';
    } catch (err) {
      this.#error = asApiError(err).message;
      this.#phase = 'error';
    }
  }

  /** After a break: back to the item. */
  resume(): void {
    if (this.#phase !== 'break') return;
    this.#lastBreakAt = Date.now();
    this.#phase = 'item';
  }

  /** The item (or, timed, its exposure) is on screen from now: the response time starts. */
  markShown(at = performance.now()): void {
    this.#shownAt = at;
  }

  /** Takes back the last answer (Z / Backspace) and shows its item again. */
  async undo(): Promise<void> {
    if (this.#phase !== 'item' || !this.#progress || this.#progress.answered === 0) return;
    this.#phase = 'sending';
    try {
      await this.#api.call('ratings.undo', { sessionId: this.sessionId, rater: this.rater }, { quiet: true });
      this.#answeredHere = Math.max(0, this.#answeredHere - 1);
      await this.next();
    } catch (err) {
      this.#error = asApiError(err).message;
      this.#phase = 'error';
    }
  }

  async answer(answer: RatingAnswerValue, exposureMs?: number): Promise<void> {
    const item = this.#item;
    if (!item || this.#phase !== 'item') return;
    this.#phase = 'sending';
    const responseMs = Math.max(0, Math.round(performance.now() - this.#shownAt));
    try {
      const { rater } = await this.#api.call('ratings.answer', { sessionId: this.sessionId, rater: this.rater, itemId: item.itemId, answer, responseMs, ...(exposureMs === undefined ? {} : { exposureMs }) }, { quiet: true });
      this.#progress = rater;
      this.#answeredHere++;
      await this.next();
    } catch (err) {
      this.#error = asApiError(err).message;
      this.#phase = 'error';
    }
  }
}

// ---- results ------------------------------------------------------------------------------------

export class ResultsState {
  readonly sessionId: string;
  #api: Api;
  #results = $state.raw<RatingResults | null>(null);
  #error = $state<string | null>(null);
  #loading = $state(false);
  #excludeUnreliable = $state(false);
  #kit = $state.raw<{ rater: string; path: string; files: number; bytes: number } | null>(null);
  #imported = $state.raw<{ rater: string; imported: number } | null>(null);
  #importError = $state<string | null>(null);
  #busy = $state<string | null>(null);

  constructor(api: Api, sessionId: string) {
    this.#api = api;
    this.sessionId = sessionId;
  }

  get results(): RatingResults | null {
    return this.#results;
  }
  get error(): string | null {
    return this.#error;
  }
  get loading(): boolean {
    return this.#loading;
  }
  get excludeUnreliable(): boolean {
    return this.#excludeUnreliable;
  }
  get kit() {
    return this.#kit;
  }
  get imported() {
    return this.#imported;
  }
  get importError(): string | null {
    return this.#importError;
  }
  get busy(): string | null {
    return this.#busy;
  }

  async load(): Promise<void> {
    this.#loading = true;
    try {
      this.#results = await this.#api.call('ratings.results', { sessionId: this.sessionId, excludeUnreliable: this.#excludeUnreliable }, { quiet: true });
      this.#error = null;
    } catch (err) {
      this.#error = asApiError(err).message;
    } finally {
      this.#loading = false;
    }
  }

  setExcludeUnreliable(v: boolean): void {
    this.#excludeUnreliable = v;
    void this.load();
  }

  async exportFile(format: 'csv' | 'json'): Promise<{ fileName: string; mimeType: string; text: string } | null> {
    this.#busy = format;
    try {
      return await this.#api.call('ratings.export', { sessionId: this.sessionId, format });
    } catch {
      return null;
    } finally {
      this.#busy = null;
    }
  }

  async exportKit(rater: string): Promise<void> {
    this.#busy = 'kit';
    try {
      const kit = await this.#api.call('ratings.exportKit', { sessionId: this.sessionId, rater });
      this.#kit = { rater, path: kit.path, files: kit.files, bytes: kit.bytes };
    } catch {
      // reported as a toast
    } finally {
      this.#busy = null;
    }
  }

  /** An answers file from a rater kit, read in the page and sent as text (browser and Electron alike). */
  async importAnswers(text: string): Promise<boolean> {
    this.#busy = 'import';
    this.#importError = null;
    try {
      const r = await this.#api.call('ratings.importAnswers', { text }, { quiet: true });
      if (r.sessionId !== this.sessionId) {
        this.#importError = `these answers belong to session ${r.sessionId}, not this one (they were stored there)`;
        return false;
      }
      this.#imported = { rater: r.rater, imported: r.imported };
      await this.load();
      return true;
    } catch (err) {
      this.#importError = asApiError(err).message;
      return false;
    } finally {
      this.#busy = null;
    }
  }
}
