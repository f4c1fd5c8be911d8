// The browser-mode zip upload (issue 5): the one HTTP endpoint that takes a request body. The page
// POSTs the raw zip (no multipart) with the import options in the query string; the server stores
// it in a staging folder of the studio home and starts an ordinary `datasets.import` of it (kind
// zip), whose status it answers with. Shared by the server and the renderer.
import { z } from 'zod';
import { DatasetImportStatusSchema, type DatasetImportRequestSchema } from './api.ts';
import { ApiErrorShape } from './errors.ts';

export const UPLOAD_PATH = '/api/upload/dataset-zip';

/** Default cap on one upload; the server may be given a lower one. */
export const DEFAULT_MAX_UPLOAD_BYTES = 4 * 1024 ** 3;

/** What the query string may carry: the import request without its path and kind. */
export const UPLOAD_OPTION_KEYS = ['name', 'size', 'channels', 'fit', 'holdout', 'flip', 'seed'] as const;
export type UploadOptions = Omit<z.input<typeof DatasetImportRequestSchema>, 'path' | 'kind'>;

/** The uploaded file's own name, kept (sanitised) in the staged file's name so the report shows it. */
export const UPLOAD_FILENAME_KEY = 'filename';

export function safeUploadName(name: string): string {
  return (name.split(/[\\/]/).pop() ?? '')
    .replace(/\.zip$/i, '')
    .replace(/[^A-Za-z0-9_-]+/g, '_')
    .replace(/^[_-]+/, '')
    .slice(0, 60);
}

/** Query string of an upload; only the keys above, numbers and booleans written plainly. */
export function uploadQuery(options: UploadOptions, fileName?: string): string {
  const q = new URLSearchParams();
  if (fileName) q.set(UPLOAD_FILENAME_KEY, fileName.slice(0, 200));
  for (const key of UPLOAD_OPTION_KEYS) {
    const v = options[key];
    if (v !== undefined && v !== null) q.set(key, String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

/**
 * The query string back into import options (strings → numbers/booleans). Unknown or repeated keys
 * are errors; the values themselves are checked by the import's own schema afterwards.
 */
export function parseUploadQuery(query: URLSearchParams): { ok: true; options: Record<string, unknown>; fileName: string } | { ok: false; message: string } {
  const options: Record<string, unknown> = {};
  let fileName = '';
  for (const key of new Set(query.keys())) {
    if (key === UPLOAD_FILENAME_KEY) {
      fileName = safeUploadName(query.get(key) ?? '');
      continue;
    }
    if (!(UPLOAD_OPTION_KEYS as readonly string[]).includes(key)) return { ok: false, message: `unknown upload option ${JSON.stringify(key.slice(0, 40))}` };
    const all = query.getAll(key);
    if (all.length !== 1) return { ok: false, message: `upload option ${key} given ${all.length} times` };
    const raw = all[0];
    if (key === 'name' || key === 'fit') options[key] = raw;
    else if (key === 'flip') {
      if (raw !== 'true' && raw !== 'false') return { ok: false, message: 'flip must be true or false' };
      options[key] = raw === 'true';
    } else {
      const n = raw.trim() === '' ? Number.NaN : Number(raw);
      if (!Number.isFinite(n)) return { ok: false, message: `${key} must be a number, got ${JSON.stringify(raw.slice(0, 40))}` };
      options[key] = n;
    }
  }
  return { ok: true, options, fileName };
}

/** The body of every answer of the upload endpoint. */
export const UploadReplySchema = z.union([z.object({ status: DatasetImportStatusSchema }), z.object({ error: ApiErrorShape })]);
export type UploadReply = z.infer<typeof UploadReplySchema>;
