// Browser mode: sends a zip to the server's upload endpoint with XMLHttpRequest (fetch has no
// upload progress without streaming bodies), reports bytes sent, and can be aborted. The browser
// adds the session cookie and the Origin; the server answers with the import it started.
import type { DatasetImportStatus } from '../../../../electron/common/api.ts';
import { ApiError } from '../../../../electron/common/errors.ts';
import { UPLOAD_PATH, UploadReplySchema, uploadQuery, type UploadOptions } from '../../../../electron/common/upload.ts';

export interface UploadProgress {
  loaded: number;
  total: number;
}

/** Uploads one zip and resolves with the status of the import it started. */
export type ZipUploader = (file: Blob, options: UploadOptions, onProgress: (p: UploadProgress) => void, signal: AbortSignal) => Promise<DatasetImportStatus>;

export class UploadAborted extends Error {
  constructor() {
    super('the upload was cancelled');
  }
}

export const xhrZipUploader: ZipUploader = (file, options, onProgress, signal) =>
  new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new UploadAborted());
    const xhr = new XMLHttpRequest();
    xhr.open('POST', `${UPLOAD_PATH}${uploadQuery(options, (file as { name?: string }).name)}`);
    xhr.setRequestHeader('Content-Type', 'application/zip');
    xhr.responseType = 'text';
    xhr.upload.onprogress = (e) => onProgress({ loaded: e.loaded, total: e.lengthComputable ? e.total : file.size });
    const onAbort = () => xhr.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    const done = () => signal.removeEventListener('abort', onAbort);
    xhr.onabort = () => {
      done();
      reject(new UploadAborted());
    };
    xhr.onerror = () => {
      done();
      reject(new ApiError('internal', 'the upload failed: the connection to the studio was lost'));
    };
    xhr.onload = () => {
      done();
      let parsed: ReturnType<typeof UploadReplySchema.safeParse> | null = null;
      try {
        parsed = UploadReplySchema.safeParse(JSON.parse(xhr.responseText));
      } catch {
        parsed = null;
      }
      if (!parsed?.success) return reject(new ApiError('internal', `the server answered the upload with HTTP ${xhr.status}`));
      const body = parsed.data;
      if ('error' in body) return reject(ApiError.from(body.error));
      resolve(body.status);
    };
    xhr.send(file);
  });
