// Maps a URL path onto a file inside a root folder, for the browser-mode server and the Electron
// `app://` handler alike (RELIABILITY A2). A lexical check alone is not enough: a symlink inside the
// root can point anywhere, so the final answer comes from `realpath` containment.
import { realpath, stat } from 'node:fs/promises';
import path from 'node:path';

export type PathCheck = { ok: true; segments: string[] } | { ok: false; status: 400 | 404; reason: string };
export type ResolvedPath = { ok: true; file: string } | { ok: false; status: 400 | 404; reason: string };

const MAX_URL_PATH = 2048;

/**
 * Pure, lexical half: decodes the (still percent-encoded) URL path once and splits it into safe
 * segments. Rejects rather than normalises, so `%2e%2e`, `%5c`, `%00`, drive letters and empty or
 * dot segments never reach the file system.
 */
export function checkUrlPath(urlPath: string): PathCheck {
  if (typeof urlPath !== 'string' || urlPath.length > MAX_URL_PATH) return { ok: false, status: 400, reason: 'path too long' };
  if (!urlPath.startsWith('/')) return { ok: false, status: 400, reason: 'path must start with /' };
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return { ok: false, status: 400, reason: 'malformed percent-encoding' };
  }
  if (decoded.includes('\0')) return { ok: false, status: 400, reason: 'NUL in path' };
  // A backslash is a separator on Windows; nothing in a built renderer has one in its name.
  if (decoded.includes('\\')) return { ok: false, status: 400, reason: 'backslash in path' };
  const segments = decoded.slice(1).split('/');
  if (segments.length === 1 && segments[0] === '') return { ok: true, segments: [] };
  for (const [i, segment] of segments.entries()) {
    // Only a trailing slash may leave an empty segment; `//etc` would be an absolute path.
    if (segment === '' && i !== segments.length - 1) return { ok: false, status: 400, reason: 'empty path segment' };
    if (segment === '.' || segment === '..') return { ok: false, status: 400, reason: 'dot segment in path' };
    if (/^[A-Za-z]:/.test(segment) || path.isAbsolute(segment)) return { ok: false, status: 400, reason: 'absolute path' };
  }
  return { ok: true, segments: segments.filter((s) => s !== '') };
}

/** True when `candidate` (already a real path) is `root` or lies below it. */
export function isInside(root: string, candidate: string): boolean {
  const rel = path.relative(root, candidate);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel));
}

/**
 * Resolves `urlPath` (the raw pathname of a request, without query) to a regular file inside
 * `root`. `/` and paths ending in `/` mean that folder's index.html. Anything that is not a regular
 * file whose real path lies inside the real root is a 404; malformed paths are a 400.
 */
export async function resolveInside(root: string, urlPath: string): Promise<ResolvedPath> {
  const checked = checkUrlPath(urlPath);
  if (!checked.ok) return checked;
  const segments = urlPath.endsWith('/') ? [...checked.segments, 'index.html'] : checked.segments;
  try {
    const realRoot = await realpath(root);
    const real = await realpath(path.join(realRoot, ...segments));
    if (!isInside(realRoot, real)) return { ok: false, status: 404, reason: 'outside the root' };
    if (!(await stat(real)).isFile()) return { ok: false, status: 404, reason: 'not a file' };
    return { ok: true, file: real };
  } catch {
    return { ok: false, status: 404, reason: 'not found' };
  }
}
