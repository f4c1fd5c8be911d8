// Datasets page state: the list, the selection and its preview grid.
import type { DatasetSummary, MethodOutput } from '../../../../electron/common/api.ts';
import type { Api } from '../context.ts';

export type DatasetPreview = MethodOutput<'datasets.preview'>;

const PREVIEW_COUNT = 100;

export class DatasetsState {
  #api: Api;
  #list = $state.raw<DatasetSummary[]>([]);
  #loading = $state(false);
  #loaded = $state(false);
  #selectedId = $state<string | null>(null);
  #preview = $state.raw<DatasetPreview | null>(null);
  #previewLoading = $state(false);
  #previews = new Map<string, DatasetPreview>();
  #selected = $derived(this.#list.find((d) => d.id === this.#selectedId) ?? null);

  constructor(api: Api) {
    this.#api = api;
  }

  get list(): readonly DatasetSummary[] {
    return this.#list;
  }
  get loading(): boolean {
    return this.#loading;
  }
  get loaded(): boolean {
    return this.#loaded;
  }
  get selected(): DatasetSummary | null {
    return this.#selected;
  }
  get preview(): DatasetPreview | null {
    return this.#preview;
  }
  get previewLoading(): boolean {
    return this.#previewLoading;
  }

  async load(): Promise<void> {
    this.#loading = true;
    try {
      this.#list = await this.#api.call('datasets.list', {});
      this.#loaded = true;
    } finally {
      this.#loading = false;
    }
  }

  /** Selects a dataset (or the first one when `id` is unknown) and loads its preview once. */
  async select(id: string | null): Promise<void> {
    const target = this.#list.find((d) => d.id === id) ?? this.#list[0];
    if (!target) return;
    this.#selectedId = target.id;
    const cached = this.#previews.get(target.id);
    if (cached) {
      this.#preview = cached;
      return;
    }
    this.#preview = null;
    this.#previewLoading = true;
    try {
      const preview = await this.#api.call('datasets.preview', { datasetId: target.id, count: PREVIEW_COUNT });
      this.#previews.set(target.id, preview);
      if (this.#selectedId === target.id) this.#preview = preview;
    } finally {
      if (this.#selectedId === target.id) this.#previewLoading = false;
    }
  }

  reset(): void {
    this.#list = [];
    this.#loaded = false;
    this.#selectedId = null;
    this.#preview = null;
    this.#previews.clear();
  }
}
