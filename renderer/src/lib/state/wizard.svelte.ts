// New-run wizard state. The config is validated on every edit with the same resolver the core
// uses (electron/common/config.ts), so the wizard shows exactly the errors the core would raise.
import type { DatasetSummary, MethodOutput, RunDetail } from '../../../../electron/common/api.ts';
import { FAMILY_INFO, randomSeed, resolveRunConfig, type BackendChoice, type Family, type RunConfig } from '../../../../electron/common/config.ts';
import type { Issue } from '../../../../electron/common/errors.ts';
import type { Api } from '../context.ts';
import { asApiError, issuesOf } from '../errors.ts';

export type MemoryEstimate = MethodOutput<'runs.estimate'>;

export type FamilyOption = MethodOutput<'system.info'>['families'][number];

export const WIZARD_STEPS = ['dataset', 'family', 'settings', 'review'] as const;
export type WizardStep = (typeof WIZARD_STEPS)[number];

/** Which step owns each config path, to send the user back to the right one. */
const STEP_OF_PATH: [prefix: string, step: WizardStep][] = [
  ['dataset', 'dataset'],
  ['family', 'family'],
];

/** The subset of the config the wizard edits; the core fills the rest from the family preset. */
export interface WizardFields {
  name: string;
  dataset: string;
  family: Family;
  steps: number | null;
  batchSize: number | null;
  gLr: number | null;
  dLr: number | null;
  seed: number | null;
  backend: BackendChoice;
}

function defaultFields(family: Family = 'dcgan'): WizardFields {
  const d = FAMILY_INFO[family].defaults;
  return {
    name: '',
    dataset: '',
    family,
    steps: d.schedule.steps,
    batchSize: d.schedule.batchSize,
    gLr: d.optimizer.g.lr,
    dLr: d.optimizer.d.lr,
    seed: randomSeed(),
    backend: d.backend,
  };
}

/** The partial config sent to runs.start. Empty number fields are sent as null so they fail validation by name. */
export function partialConfig(f: WizardFields): Record<string, unknown> {
  const config: Record<string, unknown> = {
    dataset: f.dataset,
    family: f.family,
    schedule: { steps: f.steps, batchSize: f.batchSize },
    optimizer: { g: { lr: f.gLr }, d: { lr: f.dLr } },
    seed: f.seed,
    backend: f.backend,
  };
  const name = f.name.trim();
  if (name) config.name = name;
  return config;
}

type Validation = { config: RunConfig; issues: Issue[] } | { config: null; issues: Issue[] };

function validate(partial: Record<string, unknown>): Validation {
  try {
    return { config: resolveRunConfig(partial, () => 0), issues: [] };
  } catch (err) {
    const apiErr = asApiError(err);
    const issues = issuesOf(apiErr);
    return { config: null, issues: issues.length ? issues : [{ path: '(root)', message: apiErr.message }] };
  }
}

export class WizardState {
  #api: Api;
  #step = $state<WizardStep>('dataset');
  #fields = $state<WizardFields>(defaultFields());
  #datasets = $state.raw<DatasetSummary[]>([]);
  #families = $state.raw<FamilyOption[]>([]);
  #loading = $state(false);
  #starting = $state(false);
  /** errors the core returned for the last start, shown until the next edit */
  #serverIssues = $state.raw<Issue[]>([]);
  #serverIssuesFor = '';
  #estimate = $state.raw<MemoryEstimate | null>(null);
  #estimateFor = '';

  #partial = $derived(partialConfig(this.#fields));
  #validation = $derived(validate(this.#partial));
  #issues = $derived.by(() => {
    const live = this.#validation.issues;
    const server = JSON.stringify(this.#partial) === this.#serverIssuesFor ? this.#serverIssues : [];
    return [...live, ...server.filter((s) => !live.some((l) => l.path === s.path && l.message === s.message))];
  });

  constructor(api: Api) {
    this.#api = api;
  }

  /** Editable fields; bind form inputs to these. */
  get fields(): WizardFields {
    return this.#fields;
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
    return this.#datasets.find((d) => d.id === this.#fields.dataset) ?? null;
  }
  get selectedFamily(): FamilyOption | null {
    return this.#families.find((f) => f.id === this.#fields.family) ?? null;
  }

  /** the core's memory estimate of the current config (RELIABILITY F4), once asked for */
  get estimate(): MemoryEstimate | null {
    return JSON.stringify(this.#partial) === this.#estimateFor ? this.#estimate : null;
  }

  /** Asks the core for the memory estimate of the current (valid) config. */
  async refreshEstimate(): Promise<void> {
    if (!this.#validation.config) return;
    const key = JSON.stringify(this.#partial);
    try {
      const est = await this.#api.call('runs.estimate', { config: this.#partial }, { quiet: true });
      if (key === JSON.stringify(this.#partial)) {
        this.#estimate = est;
        this.#estimateFor = key;
      }
    } catch {
      // the review shows no estimate; starting reports any real problem
    }
  }

  /** Messages for one config path, e.g. `schedule.batchSize`. */
  issuesAt(path: string): string[] {
    return this.#issues.filter((i) => i.path === path).map((i) => i.message);
  }

  async load(datasetId: string | null): Promise<void> {
    this.#loading = true;
    try {
      const [datasets, info] = await Promise.all([this.#api.call('datasets.list', {}), this.#api.call('system.info', {})]);
      this.#datasets = datasets;
      this.#families = info.families;
      const preset = datasetId && datasets.some((d) => d.id === datasetId) ? datasetId : null;
      if (preset) {
        this.#fields.dataset = preset;
        this.#step = 'family';
      } else if (!this.#fields.dataset && datasets[0]) {
        this.#fields.dataset = datasets[0].id;
      }
    } finally {
      this.#loading = false;
    }
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

  /** Starts the run; returns it, or null when the core refused (its issues are then shown). */
  async start(): Promise<RunDetail | null> {
    if (!this.canStart) return null;
    this.#starting = true;
    const sent = this.#partial;
    try {
      return await this.#api.call('runs.start', { config: sent }, { quiet: true });
    } catch (err) {
      const apiErr = asApiError(err);
      const issues = issuesOf(apiErr);
      if (apiErr.code === 'invalid_input' && issues.length) {
        this.#serverIssues = issues;
        this.#serverIssuesFor = JSON.stringify(sent);
        const owner = STEP_OF_PATH.find(([prefix]) => issues.some((i) => i.path.startsWith(prefix)));
        this.#step = owner ? owner[1] : 'settings';
        return null;
      }
      this.#api.report(apiErr);
      return null;
    } finally {
      this.#starting = false;
    }
  }

  reset(): void {
    this.#step = 'dataset';
    this.#fields = defaultFields();
    this.#serverIssues = [];
    this.#serverIssuesFor = '';
    this.#starting = false;
  }
}
