// The `app://studio/…` scheme that serves the built renderer (RELIABILITY A2, A3): no file://,
// GET only, realpath containment shared with browser mode, the same CSP and headers. Electron is
// injected (types only here), so `serveAppRequest` is tested in plain Node.
import { readFile } from 'node:fs/promises';
import type { Protocol } from 'electron';
import { resolveInside } from '../core/transport/safe-path.ts';
import { cacheControlFor, contentTypeFor, SECURITY_HEADERS } from '../core/transport/security-headers.ts';
import { APP_HOST, APP_SCHEME } from './policy.ts';

export interface AppResponse {
  status: number;
  headers: Record<string, string>;
  body: Uint8Array | string | null;
}

function text(status: number, message: string): AppResponse {
  return { status, headers: { ...SECURITY_HEADERS, 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' }, body: message };
}

/** Must run before `app.whenReady()`: a standard, secure scheme gets an origin, fetch and a CSP. */
export function registerAppScheme(protocol: Pick<Protocol, 'registerSchemesAsPrivileged'>): void {
  protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } }]);
}

/** Answers one request for the renderer folder `root`. */
export async function serveAppRequest(root: string, request: { method: string; url: string }): Promise<AppResponse> {
  if (request.method !== 'GET') return { ...text(405, 'Method not allowed\n'), headers: { ...text(405, '').headers, Allow: 'GET' } };
  let url: URL;
  try {
    url = new URL(request.url);
  } catch {
    return text(400, 'Bad request\n');
  }
  if (url.protocol !== `${APP_SCHEME}:` || url.hostname !== APP_HOST) return text(404, 'Not found\n');
  const resolved = await resolveInside(root, url.pathname === '/' ? '/index.html' : url.pathname);
  if (!resolved.ok) return text(resolved.status, resolved.status === 400 ? 'Bad request\n' : 'Not found\n');
  const body = await readFile(resolved.file);
  return {
    status: 200,
    headers: { ...SECURITY_HEADERS, 'Content-Type': contentTypeFor(resolved.file), 'Cache-Control': cacheControlFor(resolved.file) },
    body,
  };
}

/** After `app.whenReady()`. */
export function registerAppProtocol(protocol: Pick<Protocol, 'handle'>, root: string): void {
  protocol.handle(APP_SCHEME, async (request) => {
    try {
      const answer = await serveAppRequest(root, { method: request.method, url: request.url });
      return new Response(answer.body, { status: answer.status, headers: answer.headers });
    } catch {
      const answer = text(500, 'Internal error\n');
      return new Response(answer.body, { status: answer.status, headers: answer.headers });
    }
  });
}
