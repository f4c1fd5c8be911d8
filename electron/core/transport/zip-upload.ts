// The browser-mode zip upload (issue 5, RELIABILITY C): the body is streamed straight to a `.part`
// file in a staging folder of the studio home (never held in memory), counted against a byte cap,
// checked for the zip signature on its first bytes, fsynced and renamed into place; then an
// ordinary `datasets.import` of that file (kind zip) starts, and the staged zip is removed as soon
// as that import ends, whatever the outcome. A refused, aborted or failed upload leaves nothing.
// The caller (browser-server.ts) has already checked the Host, the session cookie and the Origin.
import { randomBytes } from 'node:crypto';
import { createWriteStream, promises as fsp } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { DatasetImportStatus, EventSource, StudioEvent } from '../../common/api.ts';
import type { ApiErrorData } from '../../common/errors.ts';
import { DEFAULT_MAX_UPLOAD_BYTES, parseUploadQuery, UPLOAD_FILENAME_KEY } from '../../common/upload.ts';
import { fsyncDir } from '../util/atomic-fs.ts';
import type { HandlerResult } from './api-handler.ts';

export interface ZipUploadOptions {
  /** the staging folder, inside the studio home; created when missing */
  dir: string;
  /** cap on one upload's body */
  maxBytes?: number;
  /** an upload that sends nothing for this long is dropped */
  idleTimeoutMs?: number;
  /** uploads in flight at once; more get 503 */
  maxConcurrent?: number;
}

/** What the endpoint answers: an HTTP status and a JSON body ({status} or {error}). */
export interface UploadOutcome {
  status: number;
  body: { status: DatasetImportStatus } | { error: ApiErrorData };
  /** the request body was not (fully) read: the connection should close */
  close?: boolean;
}

export interface ZipUploads {
  /** Stores the request body and starts its import. Never throws. */
  receive(req: IncomingMessage, query: URLSearchParams): Promise<UploadOutcome>;
  /** Staged zips whose import has not ended yet (for tests and diagnostics). */
  readonly pending: number;
  close(): void;
}

const ZIP_SIGNATURES = [Buffer.from([0x50, 0x4b, 0x03, 0x04]), Buffer.from([0x50, 0x4b, 0x05, 0x06])];
const STAGED = /^upload-[0-9a-f]{16}(-[A-Za-z0-9._-]+)?\.zip(\.part)?$/;
/** staged files older than this at startup belong to a server that is gone */
const STALE_MS = 6 * 3600_000;

class UploadRefused extends Error {
  constructor(
    readonly status: number,
    readonly code: ApiErrorData['code'],
    message: string,
  ) {
    super(message);
  }
}

const fail = (status: number, code: ApiErrorData['code'], message: string, close = false): UploadOutcome => ({ status, body: { error: { code, message } }, close });

export function formatMiB(bytes: number): string {
  return bytes >= 1024 ** 3 ? `${(bytes / 1024 ** 3).toFixed(1)} GiB` : `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
}

/**
 * The uploaded file's name as the user knows it, which the import report and the manifest show as
 * the source (the staged zip has a generated name and is removed after the import): the base name
 * only, control characters dropped, at most 200 characters; null when nothing is left.
 */
export function uploadDisplayName(raw: string | null | undefined): string | null {
  const base = (raw ?? '').split(/[\\/]/).pop() ?? '';
  const clean = Array.from(base)
    .filter((ch) => ch >= ' ' && ch !== '\x7f')
    .slice(0, 200)
    .join('')
    .trim();
  return clean.length > 0 ? clean : null;
}

/** Counts bytes against the cap and checks the zip signature before anything past it is written. */
function guard(maxBytes: number): Transform {
  let seen = 0;
  let head: Buffer | null = Buffer.alloc(0);
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      seen += chunk.length;
      if (seen > maxBytes) return done(new UploadRefused(413, 'payload_too_large', `the upload is larger than the limit of ${formatMiB(maxBytes)}`));
      if (head) {
        head = Buffer.concat([head, chunk]);
        if (head.length < 4) return done();
        if (!ZIP_SIGNATURES.some((sig) => head!.subarray(0, 4).equals(sig))) return done(new UploadRefused(415, 'invalid_input', 'only zip archives can be uploaded: the file does not start with a zip signature'));
        const all = head;
        head = null;
        return done(null, all);
      }
      done(null, chunk);
    },
    flush(done) {
      if (head) return done(new UploadRefused(415, 'invalid_input', seen === 0 ? 'the upload is empty' : 'only zip archives can be uploaded: the file is too short to be one'));
      done();
    },
  });
}

export function createZipUploads(options: ZipUploadOptions, startImport: (input: unknown) => Promise<HandlerResult>, events: EventSource): ZipUploads {
  const dir = path.resolve(options.dir);
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_UPLOAD_BYTES;
  const idleMs = options.idleTimeoutMs ?? 30_000;
  const maxConcurrent = options.maxConcurrent ?? 2;
  /** importId → staged zip, removed when the import ends */
  const staged = new Map<string, string>();
  /** imports that ended before their upload learned its id (kept briefly) */
  const endedEarly = new Set<string>();
  let inFlight = 0;
  let closed = false;

  const remove = (file: string) => fsp.rm(file, { force: true }).catch(() => undefined);
  const unsubscribe = events.subscribe((e: StudioEvent) => {
    if (e.type !== 'dataset.import' || e.status.state === 'running') return;
    const file = staged.get(e.status.importId);
    if (file) {
      staged.delete(e.status.importId);
      void remove(file);
      if (closed && staged.size === 0) unsubscribe();
    } else {
      endedEarly.add(e.status.importId);
      if (endedEarly.size > 64) endedEarly.delete(endedEarly.values().next().value!);
    }
  });

  const ready = (async () => {
    await fsp.mkdir(dir, { recursive: true });
    // leftovers of a server that crashed mid-upload or mid-import
    const now = Date.now();
    for (const name of await fsp.readdir(dir).catch(() => [] as string[])) {
      if (!STAGED.test(name)) continue;
      const st = await fsp.stat(path.join(dir, name)).catch(() => null);
      if (st && now - st.mtimeMs > STALE_MS) await remove(path.join(dir, name));
    }
  })();

  const receive = async (req: IncomingMessage, query: URLSearchParams): Promise<UploadOutcome> => {
    if (closed) return fail(503, 'conflict', 'the server is shutting down', true);
    const parsed = parseUploadQuery(query);
    if (!parsed.ok) return fail(400, 'invalid_input', parsed.message, true);
    const declared = req.headers['content-length'];
    if (declared !== undefined) {
      const n = Number(declared);
      if (!/^\d+$/.test(declared) || !Number.isSafeInteger(n)) return fail(400, 'invalid_input', 'invalid Content-Length', true);
      if (n > maxBytes) return fail(413, 'payload_too_large', `the upload (${formatMiB(n)}) is larger than the limit of ${formatMiB(maxBytes)}`, true);
    } else if (req.headers['transfer-encoding'] === undefined) {
      return fail(411, 'invalid_input', 'the upload needs a body (Content-Length or chunked)', true);
    }
    if (inFlight >= maxConcurrent) return fail(503, 'conflict', `${inFlight} uploads are already in progress; wait for one to finish`, true);
    inFlight++;
    const id = randomBytes(8).toString('hex');
    const file = path.join(dir, `upload-${id}${parsed.fileName ? `-${parsed.fileName}` : ''}.zip`);
    const part = `${file}.part`;
    try {
      await ready;
      req.setTimeout(idleMs, () => req.destroy(new UploadRefused(408, 'invalid_input', `the upload stalled for ${Math.round(idleMs / 1000)} s`)));
      try {
        await pipeline(req, guard(maxBytes), createWriteStream(part, { flags: 'wx', mode: 0o600, flush: true }));
        await fsp.rename(part, file);
        await fsyncDir(dir);
      } catch (err) {
        await remove(part);
        if (err instanceof UploadRefused) return fail(err.status, err.code, err.message, true);
        // the client went away (cancel) or the disk failed
        const aborted = req.destroyed && !req.complete;
        return aborted ? fail(400, 'invalid_input', 'the upload was aborted', true) : fail(500, 'internal', `the upload could not be stored: ${(err as Error).message}`, true);
      }
      const label = uploadDisplayName(query.get(UPLOAD_FILENAME_KEY));
      const result = await startImport({ ...parsed.options, path: file, kind: 'zip', ...(label ? { sourceLabel: label } : {}) });
      if (!result.ok) {
        await remove(file);
        const status = result.error.code === 'invalid_input' ? 400 : result.error.code === 'conflict' ? 409 : 500;
        return { status, body: { error: result.error } };
      }
      const status = result.output as DatasetImportStatus;
      if (status.state !== 'running' || endedEarly.has(status.importId)) {
        endedEarly.delete(status.importId);
        await remove(file);
      } else staged.set(status.importId, file);
      return { status: 202, body: { status } };
    } finally {
      inFlight--;
    }
  };

  return {
    receive,
    get pending() {
      return staged.size;
    },
    close() {
      closed = true;
      // an import still reading its zip keeps it until it ends (the core cancels it on close)
      if (staged.size === 0) unsubscribe();
    },
  };
}
