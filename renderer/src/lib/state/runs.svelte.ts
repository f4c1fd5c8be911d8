// Runs page state: every run, sorted and filtered on the client, kept live from events.
import type { RunStatus, RunSummary, StudioEvent } from '../../../../electron/common/api.ts';
import type { Api } from '../context.ts';

export type RunSortKey = 'name' | 'family' | 'datasetId' | 'status' | 'step' | 'durationMs' | 'finalGLoss' | 'finalDLoss' | 'createdAt';

function compare(a: RunSummary, b: RunSummary, key: RunSortKey): number {
  if (key === 'step') return a.step / Math.max(1, a.totalSteps) - b.step / Math.max(1, b.totalSteps) || a.step - b.step;
  const x = a[key];
  const y = b[key];
  // nulls (no final loss yet) sort last in either direction, handled by the caller
  if (typeof x === 'number' && typeof y === 'number') return x - y;
  return String(x).localeCompare(String(y));
}

export class RunsState {
  #api: Api;
  #runs = $state.raw<RunSummary[]>([]);
  #loading = $state(false);
  #loaded = $state(false);
  #sortKey = $state<RunSortKey>('createdAt');
  #sortDesc = $state(true);
  #statusFilter = $state<RunStatus | 'all'>('all');

  #visible = $derived.by(() => {
    const key = this.#sortKey;
    const dir = this.#sortDesc ? -1 : 1;
    const rows = this.#statusFilter === 'all' ? this.#runs.slice() : this.#runs.filter((r) => r.status === this.#statusFilter);
    return rows.sort((a, b) => {
      const an = a[key] == null;
      const bn = b[key] == null;
      if (an || bn) return an === bn ? 0 : an ? 1 : -1;
      return dir * compare(a, b, key);
    });
  });

  #counts = $derived.by(() => {
    const counts: Partial<Record<RunStatus, number>> = {};
    for (const r of this.#runs) counts[r.status] = (counts[r.status] ?? 0) + 1;
    return counts;
  });

  constructor(api: Api) {
    this.#api = api;
  }

  get runs(): readonly RunSummary[] {
    return this.#runs;
  }
  get visible(): readonly RunSummary[] {
    return this.#visible;
  }
  get counts(): Partial<Record<RunStatus, number>> {
    return this.#counts;
  }
  get loading(): boolean {
    return this.#loading;
  }
  get loaded(): boolean {
    return this.#loaded;
  }
  get sortKey(): RunSortKey {
    return this.#sortKey;
  }
  get sortDesc(): boolean {
    return this.#sortDesc;
  }
  get statusFilter(): RunStatus | 'all' {
    return this.#statusFilter;
  }
  set statusFilter(v: RunStatus | 'all') {
    this.#statusFilter = v;
  }

  sortBy(key: RunSortKey): void {
    if (this.#sortKey === key) this.#sortDesc = !this.#sortDesc;
    else {
      this.#sortKey = key;
      this.#sortDesc = key === 'createdAt' || key === 'durationMs' || key === 'step';
    }
  }

  async load(): Promise<void> {
    this.#loading = true;
    try {
      this.#runs = await this.#api.call('runs.list', { limit: 10_000 });
      this.#loaded = true;
    } finally {
      this.#loading = false;
    }
  }

  /** Subscribes to run events; returns the unsubscribe. */
  follow(): () => void {
    return this.#api.subscribe((e) => this.apply(e));
  }

  apply(e: StudioEvent): void {
    if (e.type === 'run.status') {
      const i = this.#runs.findIndex((r) => r.id === e.run.id);
      this.#runs = i < 0 ? [e.run, ...this.#runs] : this.#runs.with(i, e.run);
    } else if (e.type === 'run.progress') {
      const i = this.#runs.findIndex((r) => r.id === e.runId);
      if (i >= 0 && this.#runs[i].step !== e.step) this.#runs = this.#runs.with(i, { ...this.#runs[i], step: e.step, totalSteps: e.totalSteps });
    }
  }

  reset(): void {
    this.#runs = [];
    this.#loaded = false;
    this.#sortKey = 'createdAt';
    this.#sortDesc = true;
    this.#statusFilter = 'all';
  }
}
