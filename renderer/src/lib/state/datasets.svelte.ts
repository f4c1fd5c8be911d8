// Datasets page state: the list, the selection, its preview grid and import report, deletion, and
// the import in progress (form → `datasets.import` → `dataset.import` events).
import {
  IMPORT_FITS,
  IMPORT_KINDS,
  type DatasetImportReport,
  type DatasetImportRequest,
  type DatasetImportStatus,
  type DatasetSummary,
  type MethodOutput,
  type StudioEvent,
} from '../../../../electron/common/api.ts';
import { ApiError } from '../../../../electron/common/errors.ts';
import type { UploadOptions } from '../../../../electron/common/upload.ts';
import type { Api } from '../context.ts';
import { asApiError } from '../errors.ts';
import { UploadAborted, xhrZipUploader, type ZipUploader } from '../transport/upload.ts';

export type DatasetPreview = MethodOutput<'datasets.preview'>;
export type DatasetReport = MethodOutput<'datasets.report'>;
export type RejectedFile = DatasetImportReport['rejected'][number];

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
  #report = $state.raw<DatasetReport | null>(null);
  #reportLoading = $state(false);
  #reports = new Map<string, DatasetReport>();
  #deleting = $state(false);
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
  /** the selected dataset's import report (null for built-ins and while loading) */
  get report(): DatasetReport | null {
    return this.#report;
  }
  get reportLoading(): boolean {
    return this.#reportLoading;
  }
  get deleting(): boolean {
    return this.#deleting;
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

  /** Selects a dataset (or the first one when `id` is unknown) and loads its preview and report once. */
  async select(id: string | null): Promise<void> {
    const target = this.#list.find((d) => d.id === id) ?? this.#list[0];
    if (!target) {
      this.#selectedId = null;
      return;
    }
    this.#selectedId = target.id;
    await Promise.all([this.#loadPreview(target.id), target.kind === 'imported' ? this.#loadReport(target.id) : Promise.resolve((this.#report = null))]);
  }

  async #loadPreview(id: string): Promise<void> {
    const cached = this.#previews.get(id);
    if (cached) {
      this.#preview = cached;
      return;
    }
    this.#preview = null;
    this.#previewLoading = true;
    try {
      const preview = await this.#api.call('datasets.preview', { datasetId: id, count: PREVIEW_COUNT });
      this.#previews.set(id, preview);
      if (this.#selectedId === id) this.#preview = preview;
    } finally {
      if (this.#selectedId === id) this.#previewLoading = false;
    }
  }

  async #loadReport(id: string): Promise<void> {
    const cached = this.#reports.get(id);
    if (cached) {
      this.#report = cached;
      return;
    }
    this.#report = null;
    this.#reportLoading = true;
    try {
      const report = await this.#api.call('datasets.report', { datasetId: id });
      this.#reports.set(id, report);
      if (this.#selectedId === id) this.#report = report;
    } finally {
      if (this.#selectedId === id) this.#reportLoading = false;
    }
  }

  /** Deletes an imported dataset and reloads the list; built-ins are refused by the core. */
  async remove(id: string): Promise<void> {
    this.#deleting = true;
    try {
      await this.#api.call('datasets.delete', { datasetId: id });
      this.#previews.delete(id);
      this.#reports.delete(id);
      if (this.#selectedId === id) this.#selectedId = null;
      await this.load();
    } finally {
      this.#deleting = false;
    }
  }

  reset(): void {
    this.#list = [];
    this.#loaded = false;
    this.#selectedId = null;
    this.#preview = null;
    this.#previews.clear();
    this.#report = null;
    this.#reports.clear();
  }
}

// ---- import -------------------------------------------------------------------------------------

export type ImportKind = (typeof IMPORT_KINDS)[number];
export type ImportFit = (typeof IMPORT_FITS)[number];

/** The import form; `null` means "let the core choose". */
export interface ImportForm {
  path: string;
  name: string;
  kind: ImportKind;
  size: number | null;
  channels: 'auto' | 1 | 3;
  fit: ImportFit;
  /** percent, 0–50 */
  holdoutPct: number;
  flip: boolean;
  seed: number;
}

const defaultForm = (): ImportForm => ({ path: '', name: '', kind: 'auto', size: null, channels: 'auto', fit: 'crop', holdoutPct: 10, flip: false, seed: 1 });

/** POSIX, drive-letter or UNC: the core resolves nothing relative to its own working folder. */
export const isAbsolutePath = (p: string): boolean => /^(\/|[A-Za-z]:[\\/]|\\\\)/.test(p.trim());

/** Problems with the form by field, checked before anything is sent (the core validates again). */
export function importFormErrors(f: ImportForm): Partial<Record<keyof ImportForm, string>> {
  const e: Partial<Record<keyof ImportForm, string>> = {};
  if (!f.path.trim()) e.path = 'Enter the absolute path of a folder, zip or data file.';
  else if (!isAbsolutePath(f.path)) e.path = 'The path must be absolute (start with / or a drive letter).';
  if (f.size !== null && (!Number.isInteger(f.size) || f.size < 4 || f.size > 512)) e.size = 'A whole number from 4 to 512.';
  if (!Number.isFinite(f.holdoutPct) || f.holdoutPct < 0 || f.holdoutPct > 50) e.holdoutPct = 'From 0 to 50 %.';
  if (!Number.isInteger(f.seed) || f.seed < 0 || f.seed > 2 ** 31 - 1) e.seed = 'A whole number ≥ 0.';
  if (f.name.length > 200) e.name = 'At most 200 characters.';
  return e;
}

/** The form's problems for an upload: everything but the path, which the server chooses. */
export function uploadFormErrors(f: ImportForm): Partial<Record<keyof ImportForm, string>> {
  const e = importFormErrors(f);
  delete e.path;
  return e;
}

/** A zip by its name or type (the server checks the content's signature). */
export const looksLikeZip = (file: { name: string; type: string }): boolean => /\.zip$/i.test(file.name) || /^application\/(x-)?zip(-compressed)?$/.test(file.type);

/** The import options of an upload; the name defaults to the file's, without `.zip`. */
export function uploadOptions(f: ImportForm, fileName: string): UploadOptions {
  const { path: _path, kind: _kind, ...rest } = importRequest({ ...f, path: '-' });
  const name = f.name.trim() || fileName.replace(/\.zip$/i, '').trim().slice(0, 200);
  return name ? { ...rest, name } : rest;
}

export function importRequest(f: ImportForm): DatasetImportRequest {
  const req: DatasetImportRequest = { path: f.path.trim(), kind: f.kind, fit: f.fit, holdout: f.holdoutPct / 100, flip: f.flip, seed: f.seed };
  if (f.name.trim()) req.name = f.name.trim();
  if (f.size !== null) req.size = f.size;
  if (f.channels !== 'auto') req.channels = f.channels;
  return req;
}

/** Rejected files of a failed import: its report's, else the error's `details.rejected`. */
export function rejectedOf(status: DatasetImportStatus): RejectedFile[] {
  if (status.report) return status.report.rejected;
  const raw = status.error?.details?.rejected;
  if (!Array.isArray(raw)) return [];
  return raw.filter((r): r is RejectedFile => typeof r === 'object' && r !== null && typeof r.path === 'string' && typeof r.reason === 'string');
}

const POLL_MS = 1500;
const ORDER: Record<DatasetImportStatus['state'], number> = { running: 0, done: 1, failed: 1, cancelled: 1 };

export interface UploadState {
  fileName: string;
  loaded: number;
  total: number;
}

/** One import at a time from this page: start (a path, or a zip uploaded in browser mode), follow, cancel. */
export class DatasetImportState {
  #api: Api;
  #uploader: ZipUploader;
  #upload = $state.raw<UploadState | null>(null);
  #uploadAbort: AbortController | null = null;
  #form = $state<ImportForm>(defaultForm());
  #status = $state.raw<DatasetImportStatus | null>(null);
  #starting = $state(false);
  #cancelling = $state(false);
  #startError = $state.raw<ApiError | null>(null);
  /** events that arrive before `datasets.import` answers, by import id */
  #early = new Map<string, DatasetImportStatus>();
  #poll: ReturnType<typeof setInterval> | null = null;
  #onFinished: (status: DatasetImportStatus) => void;

  constructor(api: Api, onFinished: (status: DatasetImportStatus) => void, uploader: ZipUploader = xhrZipUploader) {
    this.#api = api;
    this.#onFinished = onFinished;
    this.#uploader = uploader;
  }

  /** the upload in progress (browser mode), before its import starts */
  get upload(): UploadState | null {
    return this.#upload;
  }

  get form(): ImportForm {
    return this.#form;
  }
  get status(): DatasetImportStatus | null {
    return this.#status;
  }
  get running(): boolean {
    return this.#starting || this.#upload !== null || this.#status?.state === 'running';
  }
  get starting(): boolean {
    return this.#starting;
  }
  get cancelling(): boolean {
    return this.#cancelling;
  }
  get startError(): ApiError | null {
    return this.#startError;
  }

  /** Follows `dataset.import` events; returns the unsubscribe. */
  subscribe(): () => void {
    const off = this.#api.subscribe((e: StudioEvent) => {
      if (e.type === 'dataset.import') this.#apply(e.status);
    });
    return () => {
      off();
      this.#stopPolling();
    };
  }

  /** Picks up an import still running from an earlier visit of the page. */
  async resume(): Promise<void> {
    if (this.#status || this.#starting) return;
    const imports = await this.#api.call('datasets.imports', {}, { quiet: true }).catch(() => []);
    const running = imports.find((s) => s.state === 'running');
    if (running && !this.#status) this.#follow(running);
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.#startError = null;
    this.#status = null;
    this.#early.clear();
    this.#starting = true;
    try {
      const status = await this.#api.call('datasets.import', importRequest(this.#form), { quiet: true });
      const early = this.#early.get(status.importId);
      this.#follow(early && newer(early, status) ? early : status);
    } catch (err) {
      this.#startError = asApiError(err);
    } finally {
      this.#starting = false;
      this.#early.clear();
    }
  }

  /** Uploads a zip to the server (browser mode), then follows the import it starts like any other. */
  async uploadZip(file: File): Promise<void> {
    if (this.running) return;
    this.#startError = null;
    this.#status = null;
    this.#early.clear();
    if (!looksLikeZip(file)) {
      this.#startError = new ApiError('invalid_input', `${file.name} is not a zip archive: only .zip files can be uploaded (folders: zip them first)`);
      return;
    }
    const abort = new AbortController();
    this.#uploadAbort = abort;
    this.#upload = { fileName: file.name, loaded: 0, total: file.size };
    try {
      const status = await this.#uploader(file, uploadOptions(this.#form, file.name), (p) => {
        if (this.#uploadAbort === abort) this.#upload = { fileName: file.name, loaded: p.loaded, total: p.total };
      }, abort.signal);
      this.#upload = null;
      const early = this.#early.get(status.importId);
      this.#follow(early && newer(early, status) ? early : status);
    } catch (err) {
      if (!(err instanceof UploadAborted)) this.#startError = asApiError(err);
    } finally {
      this.#upload = null;
      this.#uploadAbort = null;
      this.#early.clear();
    }
  }

  async cancel(): Promise<void> {
    if (this.#uploadAbort) {
      this.#uploadAbort.abort();
      return;
    }
    const s = this.#status;
    if (!s || s.state !== 'running') return;
    this.#cancelling = true;
    try {
      this.#apply(await this.#api.call('datasets.importCancel', { importId: s.importId }));
    } finally {
      this.#cancelling = false;
    }
  }

  /** Clears a finished import's outcome (the form keeps its values). */
  dismiss(): void {
    if (this.running) return;
    this.#status = null;
    this.#startError = null;
  }

  #follow(status: DatasetImportStatus): void {
    this.#status = status;
    if (status.state !== 'running') return this.#finish(status);
    // events are the main path; a slow poll covers a dropped connection
    this.#stopPolling();
    this.#poll = setInterval(() => {
      const s = this.#status;
      if (!s || s.state !== 'running') return this.#stopPolling();
      this.#api.call('datasets.importStatus', { importId: s.importId }, { quiet: true }).then(
        (x) => this.#apply(x),
        () => {},
      );
    }, POLL_MS);
  }

  #apply(next: DatasetImportStatus): void {
    if (this.#starting || this.#upload) {
      const seen = this.#early.get(next.importId);
      if (!seen || newer(next, seen)) this.#early.set(next.importId, next);
      return;
    }
    const cur = this.#status;
    if (!cur || cur.importId !== next.importId || !newer(next, cur)) return;
    this.#status = next;
    if (next.state !== 'running') this.#finish(next);
  }

  #finish(status: DatasetImportStatus): void {
    this.#stopPolling();
    this.#onFinished(status);
  }

  #stopPolling(): void {
    if (this.#poll) clearInterval(this.#poll);
    this.#poll = null;
  }

  reset(): void {
    this.#stopPolling();
    this.#uploadAbort?.abort();
    this.#form = defaultForm();
    this.#status = null;
    this.#startError = null;
    this.#early.clear();
  }
}

/** Whether `a` is at least as far along as `b` (events are throttled, polls may cross them). */
function newer(a: DatasetImportStatus, b: DatasetImportStatus): boolean {
  if (ORDER[a.state] !== ORDER[b.state]) return ORDER[a.state] > ORDER[b.state];
  if (ORDER[a.state] === 1) return false;
  return a.fraction >= b.fraction;
}
