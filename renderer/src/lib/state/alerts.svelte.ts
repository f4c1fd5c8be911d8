// The diagnostics alerts of one run (issue 7): loaded with `runs.alerts`, kept live from
// `run.alert` events (those arriving during the load are replayed after it, newest `updatedAt`
// wins), the sample grid of each alert's moment on demand, and "fork with this remedy".
import type { Alert, AlertSeverity, RunDetail, StudioEvent } from '../../../../electron/common/api.ts';
import type { Api } from '../context.ts';
import type { Sample } from './run-view.svelte.ts';

/** Canvas colours per severity (kept in step with --accent, --warn and --err in app.css). */
export const SEVERITY_COLORS: Record<AlertSeverity, { line: string; fill: string }> = {
  info: { line: '#5b9cf5', fill: 'rgba(91, 156, 245, 0.12)' },
  warning: { line: '#e0b050', fill: 'rgba(224, 176, 80, 0.16)' },
  critical: { line: '#ef6b6b', fill: 'rgba(239, 107, 107, 0.18)' },
};

export const ALERT_TITLES: Record<Alert['kind'], string> = {
  mode_collapse: 'Mode collapse',
  convergence_failure: 'Convergence failure',
  instability: 'Instability',
  gradient: 'Gradient problem',
  divergence: 'Divergence',
  stagnation: 'Stagnation',
  d_overfitting: 'D overfitting',
};

/** The timeline marker of an automatic rollback's target step. */
export const ROLLBACK_COLOR = { line: '#b48cf0', fill: 'rgba(180, 140, 240, 0.14)' };

/**
 * An alert that triggered an automatic rollback (diagnostics.rollback) records it in its evidence:
 * `rolledBackTo` (the checkpoint's step), `rollback` (its number) and `lrFactor`. Null otherwise.
 */
export function rollbackOf(a: Alert): { step: number; n: number | null; lrFactor: number | null } | null {
  const v = a.evidence.values;
  if (v.rolledBackTo === undefined) return null;
  return { step: v.rolledBackTo, n: v.rollback ?? null, lrFactor: v.lrFactor ?? null };
}

/** Evidence keys that record a rollback rather than measure something. */
export const ROLLBACK_KEYS = new Set(['rolledBackTo', 'rollback', 'lrFactor']);

/** A step range to shade on a chart, or (start === end, `marker`) a line on its timeline. */
export interface ChartRegion {
  id: string;
  start: number;
  end: number;
  line: string;
  fill: string;
}

type SampleSlot = { state: 'loading' } | { state: 'ready'; sample: Sample } | { state: 'missing' };

const SEVERITY_RANK: Record<AlertSeverity, number> = { info: 0, warning: 1, critical: 2 };

export class AlertsState {
  readonly runId: string;
  #api: Api;

  #alerts = $state.raw<Alert[]>([]);
  #loaded = $state(false);
  #expanded = $state<string | null>(null);
  #forking = $state<string | null>(null);
  #samples = $state.raw<Record<number, SampleSlot>>({});
  #pending: Alert[] = [];

  #active = $derived(this.#alerts.filter((a) => a.state === 'active'));

  constructor(api: Api, runId: string) {
    this.#api = api;
    this.runId = runId;
  }

  /** oldest first, as `runs.alerts` returns them */
  get alerts(): readonly Alert[] {
    return this.#alerts;
  }
  get loaded(): boolean {
    return this.#loaded;
  }
  get activeCount(): number {
    return this.#active.length;
  }
  /** the highest severity among active alerts, or null */
  get worstActive(): AlertSeverity | null {
    let worst: AlertSeverity | null = null;
    for (const a of this.#active) if (!worst || SEVERITY_RANK[a.severity] > SEVERITY_RANK[worst]) worst = a.severity;
    return worst;
  }
  get expanded(): string | null {
    return this.#expanded;
  }
  /** `${alertId}/${remedyId}` while a fork is in flight */
  get forking(): string | null {
    return this.#forking;
  }

  /** Regions of the alerts whose evidence comes from any of `tags`. */
  regionsFor(tags: readonly string[]): ChartRegion[] {
    const wanted = new Set(tags);
    return this.#alerts
      .filter((a) => a.evidence.tags.some((t) => wanted.has(t)))
      .map((a) => ({ id: a.id, start: a.startStep, end: a.endStep, ...SEVERITY_COLORS[a.severity] }));
  }
  /** One marker per alert at the step it was raised, and one at the step each automatic rollback returned to. */
  get markers(): ChartRegion[] {
    const out: ChartRegion[] = this.#alerts.map((a) => ({ id: a.id, start: a.detectedStep, end: a.detectedStep, ...SEVERITY_COLORS[a.severity] }));
    for (const a of this.#alerts) {
      const to = rollbackOf(a)?.step;
      if (to !== undefined) out.push({ id: `rollback:${a.id}`, start: to, end: to, ...ROLLBACK_COLOR });
    }
    return out;
  }

  sampleFor(step: number): SampleSlot | undefined {
    return this.#samples[step];
  }

  /** Subscribes, then loads the stored alerts; returns the cleanup. */
  open(): () => void {
    const unsubscribe = this.#api.subscribe((e) => this.#onEvent(e));
    void this.#load();
    return unsubscribe;
  }

  async #load(): Promise<void> {
    try {
      const stored = await this.#api.call('runs.alerts', { runId: this.runId }, { quiet: true });
      this.#alerts = stored;
    } catch {
      // an older core without diagnostics: no alerts, live ones still arrive
    }
    this.#loaded = true;
    for (const a of this.#pending.splice(0)) this.#merge(a);
  }

  #onEvent(e: StudioEvent): void {
    if (e.type !== 'run.alert' || e.runId !== this.runId) return;
    if (!this.#loaded) this.#pending.push(e.alert);
    else this.#merge(e.alert);
  }

  #merge(alert: Alert): void {
    const i = this.#alerts.findIndex((a) => a.id === alert.id);
    if (i < 0) {
      this.#alerts = [...this.#alerts, alert];
      return;
    }
    if (this.#alerts[i].updatedAt > alert.updatedAt) return;
    const next = this.#alerts.slice();
    next[i] = alert;
    this.#alerts = next;
  }

  toggle(alertId: string): void {
    this.#expanded = this.#expanded === alertId ? null : alertId;
    const alert = this.#alerts.find((a) => a.id === this.#expanded);
    if (alert?.sampleStep != null) void this.#loadSample(alert.sampleStep);
  }

  async #loadSample(step: number): Promise<void> {
    if (this.#samples[step]) return;
    this.#samples = { ...this.#samples, [step]: { state: 'loading' } };
    let slot: SampleSlot;
    try {
      slot = { state: 'ready', sample: await this.#api.call('runs.sample', { runId: this.runId, step }, { quiet: true }) };
    } catch {
      slot = { state: 'missing' };
    }
    this.#samples = { ...this.#samples, [step]: slot };
  }

  /** Starts a new run with the remedy applied; errors are shown as toasts. Resolves with it, or null. */
  async fork(alertId: string, remedyId: string, fromCheckpoint: boolean): Promise<RunDetail | null> {
    if (this.#forking) return null;
    this.#forking = `${alertId}/${remedyId}`;
    try {
      return await this.#api.call('runs.fork', { runId: this.runId, remedy: { alertId, remedyId }, fromCheckpoint });
    } catch {
      return null; // the toast is shown by Api
    } finally {
      this.#forking = null;
    }
  }

  reset(): void {
    this.#alerts = [];
    this.#loaded = false;
    this.#expanded = null;
    this.#forking = null;
    this.#samples = {};
    this.#pending = [];
  }
}
