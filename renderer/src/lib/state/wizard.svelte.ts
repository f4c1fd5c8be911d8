// New-run wizard state. The user edits a whole config, starting from the family preset; what is
// sent is only what differs from that preset plus dataset, family, seed and backend, and the core
// fills in the rest. Every edit is validated with the resolver the core uses
// (electron/common/config.ts) and, a moment later, by the core itself through `runs.estimate`
// (its family checks), so the wizard shows exactly the errors the core would raise, at their fields.
import type { DatasetSummary, MethodOutput, RunDetail } from '../../../../electron/common/api.ts';
import { DuringTrainingEvaluationSchema, FAMILY_INFO, randomSeed, resolveRunConfig, type BackendChoice, type DuringTrainingEvaluation, type Family, type RunConfig } from '../../../../electron/common/config.ts';
import type { Issue } from '../../../../electron/common/errors.ts';
import { DEFAULT_DIAGNOSTICS, DiagnosticsConfigSchema, diagnosticsConfigIssues, type DiagnosticsConfig } from '../../../../electron/common/diagnostics-config.ts';
import { diffConfig, mergeConfig, pickSections } from '../config-diff.ts';
import type { Api } from '../context.ts';
import { asApiError, issuesOf } from '../errors.ts';
import { familyKnobs, familyMismatch, recommend, type FamilyKnobs, type Recommendation } from '../family-guide.ts';

export type MemoryEstimate = MethodOutput<'runs.estimate'>;
export type DryRunResult = MethodOutput<'runs.dryRun'>;
export type DatasetPreview = MethodOutput<'datasets.preview'>;
export type FamilyOption = MethodOutput<'system.info'>['families'][number];

export const WIZARD_STEPS = ['dataset', 'family', 'model', 'training', 'review'] as const;
export type WizardStep = (typeof WIZARD_STEPS)[number];

/** The parts of a config that follow the family preset. */
export const SETTING_SECTIONS = ['architecture', 'objective', 'regularizers', 'tricks', 'extras', 'optimizer', 'schedule'] as const;
export type Settings = Pick<RunConfig, (typeof SETTING_SECTIONS)[number]>;

/** Which step owns each config path, to send the user to the right one. */
const STEP_OF_PATH: [prefix: string, step: WizardStep][] = [
  ['dataset', 'dataset'],
  ['family', 'family'],
  ['architecture', 'model'],
  ['objective', 'model'],
  ['regularizers', 'model'],
  ['extras', 'model'],
  ['tricks', 'training'],
  ['optimizer', 'training'],
  ['schedule', 'training'],
  ['seed', 'training'],
  ['backend', 'training'],
  ['name', 'training'],
  ['diagnostics', 'training'],
  ['evaluation', 'training'],
];

export function stepOfPath(path: string): WizardStep {
  return STEP_OF_PATH.find(([prefix]) => path === prefix || path.startsWith(`${prefix}.`))?.[1] ?? 'review';
}

/** The fields outside the preset; the family is changed through `setFamily`. */
export interface WizardFields {
  name: string;
  dataset: string;
  seed: number | null;
  backend: BackendChoice;
}

export type DryRunState =
  | { status: 'idle' }
  | { status: 'running'; key: string; startedAt: number }
  | { status: 'done'; key: string; result: DryRunResult; steps: number }
  | { status: 'error'; key: string; code: string; message: string };

/**
 * Evaluation during training (issue 6), as the wizard edits it: off by default; `every` null means
 * "at the checkpoint cadence" (schedule.checkpointEvery); the rest are DuringTrainingEvaluationSchema's fields.
 */
export interface EvaluationForm {
  enabled: boolean;
  every: number | null;
  n: number | null;
  extractor: string;
  metrics: DuringTrainingEvaluation['metrics'];
}
const EVALUATION_DEFAULTS = DuringTrainingEvaluationSchema.parse({ every: 1 });
function defaultEvaluation(): EvaluationForm {
  return { enabled: false, every: null, n: EVALUATION_DEFAULTS.n, extractor: EVALUATION_DEFAULTS.extractor, metrics: [...EVALUATION_DEFAULTS.metrics] };
}
/** The config's `evaluation` section for the form, or undefined when it is off. */
function evaluationSection(e: EvaluationForm, checkpointEvery: number): Record<string, unknown> | undefined {
  if (!e.enabled) return undefined;
  // at the checkpoint cadence by default; with no periodic checkpoints the core's rule names the problem
  return { every: e.every ?? Math.max(checkpointEvery, 1), n: e.n, extractor: e.extractor, metrics: e.metrics };
}

const DRY_RUN_STEPS = 3;
const CHECK_DELAY_MS = 300;

function presetSettings(family: Family): Settings {
  const d = FAMILY_INFO[family].defaults;
  return structuredClone({ architecture: d.architecture, objective: d.objective, regularizers: d.regularizers, tricks: d.tricks, extras: d.extras, optimizer: d.optimizer, schedule: d.schedule });
}

type Validation = { config: RunConfig | null; issues: Issue[] };

function validate(partial: Record<string, unknown>, family: FamilyOption | null, dataset: DatasetSummary | null): Validation {
  const issues: Issue[] = [];
  let config: RunConfig | null = null;
  try {
    config = resolveRunConfig(partial, () => 0);
  } catch (err) {
    const apiErr = asApiError(err);
    const found = issuesOf(apiErr);
    issues.push(...(found.length ? found : [{ path: '(root)', message: apiErr.message }]));
  }
  if (family && !family.available) issues.push({ path: 'family', message: `${family.label} is not in this build yet.` });
  else {
    const mismatch = family ? familyMismatch(family.id, dataset) : null;
    if (mismatch) issues.push({ path: 'family', message: mismatch });
  }
  return { config: issues.length ? null : config, issues };
}

/** The diagnostics form checked with the core's schema; paths are prefixed `diagnostics.`. */
function validateDiagnostics(d: DiagnosticsConfig): Issue[] {
  const parsed = DiagnosticsConfigSchema.safeParse(d);
  if (!parsed.success) return parsed.error.issues.map((i) => ({ path: ['diagnostics', ...i.path.map(String)].join('.'), message: i.message }));
  return diagnosticsConfigIssues(parsed.data).map((message) => ({ path: `diagnostics.${message.split(' ')[0]}`, message }));
}

export class WizardState {
  #api: Api;
  #step = $state<WizardStep>('dataset');
  #family = $state<Family>('dcgan');
  /** true once the user picked a family (or a preset), so dataset changes stop re-recommending */
  #familyChosen = false;
  #fields = $state<WizardFields>({ name: '', dataset: '', seed: randomSeed(), backend: 'auto' });
  #settings = $state<Settings>(presetSettings('dcgan'));
  /** detector thresholds and automatic actions (issue 7), bound to the Diagnostics form */
  #diagnostics = $state<DiagnosticsConfig>(structuredClone(DEFAULT_DIAGNOSTICS));
  /** small-N evaluations during training (config.evaluation), bound to the Evaluation form */
  #evaluation = $state<EvaluationForm>(defaultEvaluation());
  #datasets = $state.raw<DatasetSummary[]>([]);
  #families = $state.raw<FamilyOption[]>([]);
  #previews = $state.raw<Record<string, DatasetPreview>>({});
  #loading = $state(false);
  #starting = $state(false);
  /** issues the core returned (estimate or start) for the partial config keyed by `#serverIssuesFor` */
  #serverIssues = $state.raw<Issue[]>([]);
  #serverIssuesFor = $state('');
  #estimate = $state.raw<MemoryEstimate | null>(null);
  #estimateFor = $state('');
  #checkTimer: ReturnType<typeof setTimeout> | undefined;
  #dryRun = $state.raw<DryRunState>({ status: 'idle' });
  #dryRunToken = 0;

  #selectedDataset = $derived(this.#datasets.find((d) => d.id === this.#fields.dataset) ?? null);
  #selectedFamily = $derived(this.#families.find((f) => f.id === this.#family) ?? null);
  #partial = $derived.by(() => {
    const f = this.#fields;
    const config: Record<string, unknown> = { dataset: f.dataset, family: this.#family };
    Object.assign(config, diffConfig(this.#settings, FAMILY_INFO[this.#family].defaults) ?? {});
    config.seed = f.seed;
    config.backend = f.backend;
    const name = f.name.trim();
    if (name) config.name = name;
    const evaluation = evaluationSection(this.#evaluation, this.#settings.schedule.checkpointEvery);
    if (evaluation) config.evaluation = evaluation;
    return config;
  });
  #key = $derived(JSON.stringify(this.#partial));
  #validation = $derived(validate(this.#partial, this.#selectedFamily, this.#selectedDataset));
  /** what runs.start receives as `diagnostics`: only what differs from the defaults */
  #diagnosticsPartial = $derived(diffConfig(this.#diagnostics, DEFAULT_DIAGNOSTICS) ?? null);
  #issues = $derived.by(() => {
    const live = [...this.#validation.issues, ...validateDiagnostics(this.#diagnostics)];
    const server = this.#key === this.#serverIssuesFor ? this.#serverIssues : [];
    return [...live, ...server.filter((s) => !live.some((l) => l.path === s.path && l.message === s.message))];
  });

  constructor(api: Api) {
    this.#api = api;
  }

  /** Name, dataset, seed and backend; bind form inputs to these. */
  get fields(): WizardFields {
    return this.#fields;
  }
  /** Detector thresholds and automatic actions; bind form inputs to these. */
  get diagnostics(): DiagnosticsConfig {
    return this.#diagnostics;
  }
  /** the diagnostics runs.start receives (null: all defaults) */
  get diagnosticsPartial(): Record<string, unknown> | null {
    return this.#diagnosticsPartial;
  }
  /** the default of a diagnostics path, e.g. `modeCollapse.diversityBelow` */
  diagnosticsDefault(path: string): unknown {
    return path.split('.').reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined), DEFAULT_DIAGNOSTICS);
  }
  resetDiagnostics(): void {
    this.#diagnostics = structuredClone(DEFAULT_DIAGNOSTICS);
  }
  /** Evaluation during training; bind the Evaluation form's inputs to these. */
  get evaluation(): EvaluationForm {
    return this.#evaluation;
  }
  /** the K the run evaluates at: the form's, else the checkpoint cadence (0: no periodic checkpoints) */
  get evaluationEvery(): number {
    return this.#evaluation.every ?? this.#settings.schedule.checkpointEvery;
  }
  /** Everything the family preset sets; bind form inputs to these. */
  get settings(): Settings {
    return this.#settings;
  }
  get family(): Family {
    return this.#family;
  }
  get step(): WizardStep {
    return this.#step;
  }
  get stepIndex(): number {
    return WIZARD_STEPS.indexOf(this.#step);
  }
  get datasets(): readonly DatasetSummary[] {
    return this.#datasets;
  }
  get families(): readonly FamilyOption[] {
    return this.#families;
  }
  get loading(): boolean {
    return this.#loading;
  }
  get starting(): boolean {
    return this.#starting;
  }
  /** what runs.start receives */
  get partial(): Record<string, unknown> {
    return this.#partial;
  }
  /** the config with the family preset filled in, or null while invalid */
  get resolved(): RunConfig | null {
    return this.#validation.config;
  }
  get issues(): readonly Issue[] {
    return this.#issues;
  }
  get valid(): boolean {
    return this.#issues.length === 0;
  }
  get canStart(): boolean {
    return this.valid && !this.#starting;
  }
  get selectedDataset(): DatasetSummary | null {
    return this.#selectedDataset;
  }
  get selectedFamily(): FamilyOption | null {
    return this.#selectedFamily;
  }
  get recommendation(): Recommendation | null {
    return recommend(this.#selectedDataset);
  }
  /** the knobs the chosen family has on the chosen data */
  get knobs(): FamilyKnobs {
    return familyKnobs(this.#family, this.#selectedDataset?.layout ?? null);
  }
  get preview(): DatasetPreview | null {
    return this.#previews[this.#fields.dataset] ?? null;
  }
  /** the family preset's value at a config path, e.g. `optimizer.d.lr` */
  presetValue(path: string): unknown {
    return path.split('.').reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined), FAMILY_INFO[this.#family].defaults);
  }
  /** whether the user changed this path from the family preset */
  isChanged(path: string): boolean {
    return path.split('.').reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined), this.#partial) !== undefined;
  }

  /** the core's memory estimate of the current config (RELIABILITY F4), once it answered */
  get estimate(): MemoryEstimate | null {
    return this.#key === this.#estimateFor ? this.#estimate : null;
  }

  get dryRun(): DryRunState {
    return this.#dryRun;
  }
  /** whether the last dry run measured exactly the current config */
  get dryRunCurrent(): boolean {
    const d = this.#dryRun;
    return d.status !== 'idle' && d.key === this.#key;
  }

  /** Messages for one config path, e.g. `schedule.batchSize`. */
  issuesAt(path: string): string[] {
    return this.#issues.filter((i) => i.path === path).map((i) => i.message);
  }
  /** Issues owned by one step (for the stepper's marks). */
  issuesOn(step: WizardStep): Issue[] {
    return this.#issues.filter((i) => stepOfPath(i.path) === step);
  }

  async load(datasetId: string | null): Promise<void> {
    this.#loading = true;
    try {
      const [datasets, info] = await Promise.all([this.#api.call('datasets.list', {}), this.#api.call('system.info', {})]);
      this.#datasets = datasets;
      this.#families = info.families;
      const preset = datasetId && datasets.some((d) => d.id === datasetId) ? datasetId : null;
      if (preset) {
        this.selectDataset(preset);
        this.#step = 'family';
      } else if (!this.#fields.dataset && datasets[0]) {
        this.selectDataset(datasets[0].id);
      }
    } finally {
      this.#loading = false;
    }
  }

  selectDataset(id: string): void {
    this.#fields.dataset = id;
    if (!this.#familyChosen) this.applyRecommendation(false);
    void this.#loadPreview(id);
  }

  async #loadPreview(id: string): Promise<void> {
    if (this.#previews[id]) return;
    try {
      const preview = await this.#api.call('datasets.preview', { datasetId: id, count: 64 }, { quiet: true });
      this.#previews = { ...this.#previews, [id]: preview };
    } catch {
      // the step shows no preview; the dataset is still usable
    }
  }

  /** Switches to the recommended family (and DiffAugment for small datasets). */
  applyRecommendation(chosen = true): void {
    const rec = this.recommendation;
    if (!rec) return;
    const usable = rec.families.find((f) => this.#families.find((o) => o.id === f)?.available ?? this.#families.length === 0);
    if (usable) this.setFamily(usable, chosen);
    if (rec.diffAugment && this.#settings.tricks.diffAugment.length === 0) this.#settings.tricks.diffAugment = ['translation', 'cutout', 'color'];
  }

  /**
   * Switches family: its preset replaces the architecture, objective, regulariser, extra and
   * optimizer settings; the user's trick and schedule changes carry over where the family has them.
   */
  setFamily(family: Family, chosen = true): void {
    if (chosen) this.#familyChosen = true;
    if (family === this.#family) return;
    const changed = diffConfig($state.snapshot(this.#settings), FAMILY_INFO[this.#family].defaults);
    const keep = pickSections(changed, ['tricks', 'schedule']);
    if (!familyKnobs(family, this.#selectedDataset?.layout ?? null).targets && keep.tricks) {
      const { labelSmoothing: _s, labelFlip: _f, ...rest } = keep.tricks as Record<string, unknown>;
      keep.tricks = rest;
    }
    this.#family = family;
    this.#settings = mergeConfig(presetSettings(family), keep);
  }

  /** Back to the family preset for the given sections (all when omitted). */
  resetSettings(sections: readonly (keyof Settings)[] = SETTING_SECTIONS): void {
    const preset = presetSettings(this.#family);
    for (const s of sections) (this.#settings as Record<string, unknown>)[s] = preset[s];
  }

  /** Loads a saved (partial) config into the wizard. */
  applyConfig(config: Record<string, unknown>): void {
    const family = config.family as Family;
    this.#familyChosen = true;
    this.#family = family;
    this.#settings = mergeConfig(presetSettings(family), structuredClone(pickSections(config, SETTING_SECTIONS)));
    if (typeof config.dataset === 'string') {
      this.#fields.dataset = config.dataset;
      void this.#loadPreview(config.dataset);
    }
    this.#fields.seed = typeof config.seed === 'number' ? config.seed : randomSeed();
    this.#fields.backend = (config.backend as BackendChoice | undefined) ?? 'auto';
    this.#fields.name = typeof config.name === 'string' ? config.name : '';
    const ev = DuringTrainingEvaluationSchema.safeParse(config.evaluation);
    this.#evaluation = ev.success ? { enabled: true, every: ev.data.every, n: ev.data.n, extractor: ev.data.extractor, metrics: [...ev.data.metrics] } : defaultEvaluation();
  }

  goTo(step: WizardStep): void {
    this.#step = step;
  }
  next(): void {
    this.#step = WIZARD_STEPS[Math.min(this.stepIndex + 1, WIZARD_STEPS.length - 1)];
  }
  back(): void {
    this.#step = WIZARD_STEPS[Math.max(this.stepIndex - 1, 0)];
  }

  randomiseSeed(): void {
    this.#fields.seed = randomSeed();
  }

  /** Asks the core to check the current config a moment after the last edit (memory + family checks). */
  scheduleCheck(): () => void {
    clearTimeout(this.#checkTimer);
    this.#checkTimer = setTimeout(() => void this.refreshEstimate(), CHECK_DELAY_MS);
    return () => clearTimeout(this.#checkTimer);
  }

  /** Asks the core for the memory estimate of the current config; its refusals become field issues. */
  async refreshEstimate(): Promise<void> {
    if (this.#validation.issues.length) return;
    const key = this.#key;
    const sent = this.#partial;
    try {
      const est = await this.#api.call('runs.estimate', { config: sent }, { quiet: true });
      if (key === this.#key) {
        this.#estimate = est;
        this.#estimateFor = key;
      }
    } catch (err) {
      const apiErr = asApiError(err);
      const issues = issuesOf(apiErr);
      if (apiErr.code === 'invalid_input' && issues.length) {
        this.#serverIssues = issues;
        this.#serverIssuesFor = key;
      }
      // anything else: no estimate shown; starting reports a real problem
    }
  }

  /** Trains a few steps in a throwaway trainer to measure the step time on the chosen backend. */
  async measure(): Promise<void> {
    if (!this.valid || this.#dryRun.status === 'running') return;
    const token = ++this.#dryRunToken;
    const key = this.#key;
    const steps = this.#settings.schedule.steps;
    this.#dryRun = { status: 'running', key, startedAt: Date.now() };
    try {
      const result = await this.#api.call('runs.dryRun', { config: this.#partial, steps: DRY_RUN_STEPS }, { quiet: true });
      if (token === this.#dryRunToken) this.#dryRun = { status: 'done', key, result, steps };
    } catch (err) {
      const apiErr = asApiError(err);
      if (token === this.#dryRunToken) this.#dryRun = { status: 'error', key, code: apiErr.code, message: apiErr.message };
    }
  }

  /** Stops waiting for the dry run (the core finishes its few steps and discards them). */
  cancelMeasure(): void {
    this.#dryRunToken++;
    this.#dryRun = { status: 'idle' };
  }

  /** Starts the run; returns it, or null when the core refused (its issues are then shown). */
  async start(): Promise<RunDetail | null> {
    if (!this.canStart) return null;
    this.#starting = true;
    const sent = this.#partial;
    const diagnostics = this.#diagnosticsPartial;
    const key = this.#key;
    try {
      return await this.#api.call('runs.start', { config: sent, ...(diagnostics ? { diagnostics } : {}) }, { quiet: true });
    } catch (err) {
      const apiErr = asApiError(err);
      const issues = issuesOf(apiErr);
      if (apiErr.code === 'invalid_input' && issues.length) {
        this.#serverIssues = issues;
        this.#serverIssuesFor = key;
        this.#step = stepOfPath(issues[0].path);
        return null;
      }
      this.#api.report(apiErr);
      return null;
    } finally {
      this.#starting = false;
    }
  }

  reset(): void {
    clearTimeout(this.#checkTimer);
    this.#step = 'dataset';
    this.#family = 'dcgan';
    this.#familyChosen = false;
    this.#fields = { name: '', dataset: '', seed: randomSeed(), backend: 'auto' };
    this.#settings = presetSettings('dcgan');
    this.#diagnostics = structuredClone(DEFAULT_DIAGNOSTICS);
    this.#evaluation = defaultEvaluation();
    this.#serverIssues = [];
    this.#serverIssuesFor = '';
    this.#estimate = null;
    this.#estimateFor = '';
    this.#starting = false;
    this.cancelMeasure();
  }
}
