// Response headers shared by the browser-mode server and the Electron `app://` handler
// (RELIABILITY A3, C5). One definition, so the two ways of serving the UI cannot drift apart.
import path from 'node:path';

/** `connect-src 'self'` also covers ws: to the same host and port (CSP Level 3, Chromium). */
export const CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

/** On every response, errors included. Deliberately no Access-Control-* header: no CORS, ever. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Opener-Policy': 'same-origin',
  // Another local site (same-site for cookies: ports do not count) cannot embed our files.
  'Cross-Origin-Resource-Policy': 'same-origin',
});

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.wasm': 'application/wasm',
};

/** With nosniff the browser trusts this type, so unknown extensions get a type it will not run. */
export function contentTypeFor(file: string): string {
  return CONTENT_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
}

/** index.html must never be cached (it names the hashed assets of the current build). */
export function cacheControlFor(file: string): string {
  return path.extname(file).toLowerCase() === '.html' ? 'no-store' : 'no-cache';
}
