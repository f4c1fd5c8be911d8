// A source as a flat list of files, whether it is a folder, a zip or a single file, so detection
// and decoding never care where bytes come from. Reading is capped everywhere (RELIABILITY D1, D2):
// folder walks stay inside the real root, zip entries are vetted by name and type and inflated
// under byte and ratio caps counted on the bytes actually produced.
import fs, { promises as fsp, constants as fsc, type Dirent } from 'node:fs';
import path from 'node:path';
import yauzl from 'yauzl';
import type { Entry, ZipFile } from 'yauzl';
import { isInside } from '../../transport/safe-path.ts';
import type { ImportLimits } from './limits.ts';

export interface Rejection {
  path: string;
  reason: string;
}

export interface SourceFile {
  /** '/'-separated path below the source root (the zip entry name for zips) */
  rel: string;
  /** size on disk, or the size a zip entry declares */
  size: number;
  /** the whole file; throws a FileRejected when it breaks a cap or cannot be read */
  read(maxBytes: number): Promise<Buffer>;
  /** the first bytes, when that is cheap (files on disk; not zip entries) */
  head?(): Promise<Buffer>;
  /** `read` without a promise, for files on disk (not zip entries) */
  readSync?(maxBytes: number): Buffer;
}

export interface SourceTree {
  container: 'folder' | 'zip' | 'file';
  root: string;
  files: SourceFile[];
  rejected: Rejection[];
  /** hidden and metadata files (.DS_Store, __MACOSX/…) passed over without a rejection each */
  skippedHidden: number;
  close(): Promise<void>;
}

/** One file cannot be imported; the import goes on. */
export class FileRejected extends Error {}

/** A cap on the whole source was reached: this file and every later one are rejected. */
export class SourceCapReached extends FileRejected {}

/** Counts bytes read or inflated across a whole import. */
export class ByteBudget {
  used = 0;
  constructor(readonly max: number) {}
  take(n: number): void {
    this.used += n;
    if (this.used > this.max) throw new SourceCapReached(`the import read more than ${formatBytes(this.max)} in total (cap)`);
  }
}

export function formatBytes(n: number): string {
  if (n >= 1024 ** 3) return `${+(n / 1024 ** 3).toFixed(1)} GiB`;
  if (n >= 1024 ** 2) return `${+(n / 1024 ** 2).toFixed(1)} MiB`;
  if (n >= 1024) return `${+(n / 1024).toFixed(1)} KiB`;
  return `${n} B`;
}

const collator = new Intl.Collator('en', { numeric: true, sensitivity: 'variant' });
/** Same order as `a.localeCompare(b, 'en', { numeric: true, sensitivity: 'variant' })`, without building a collator per call. */
export const naturalCompare = (a: string, b: string) => collator.compare(a, b);

/** Hidden files and OS metadata that are never data. */
export function isHiddenName(rel: string): boolean {
  return rel.split('/').some((s) => s.startsWith('.') || s === '__MACOSX' || s === 'Thumbs.db' || s === 'desktop.ini');
}

/** non-blocking open: a FIFO swapped in after the walk must not hang the thread (fstat rejects it) */
const OPEN_FLAGS = fsc.O_RDONLY | (fsc.O_NONBLOCK ?? 0);

/**
 * Reads a whole regular file with blocking calls: the importer runs in its own thread, and for the
 * small files it mostly reads (a 28×28 PNG is a few hundred bytes) four promise round trips through
 * the libuv pool per file (open, stat, read, close) cost more than the reads themselves. The pool
 * in pipeline.ts yields to the event loop regularly, so a cancel is still seen between files.
 */
export function readRegularFileSync(file: string, maxBytes: number, budget: ByteBudget): Buffer {
  let fd: number;
  try {
    fd = fs.openSync(file, OPEN_FLAGS);
  } catch (err) {
    throw new FileRejected(`cannot be opened (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) throw new FileRejected('not a regular file');
    if (st.size > maxBytes) throw new FileRejected(`too large: ${formatBytes(st.size)} (cap ${formatBytes(maxBytes)})`);
    budget.take(st.size);
    const buf = Buffer.allocUnsafe(st.size);
    let off = 0;
    while (off < st.size) {
      const bytesRead = fs.readSync(fd, buf, off, st.size - off, off);
      if (bytesRead === 0) break;
      off += bytesRead;
    }
    return off === st.size ? buf : buf.subarray(0, off);
  } finally {
    fs.closeSync(fd);
  }
}

async function readRegularFile(file: string, maxBytes: number, budget: ByteBudget): Promise<Buffer> {
  return readRegularFileSync(file, maxBytes, budget);
}

async function readHead(file: string): Promise<Buffer> {
  const fd = fs.openSync(file, OPEN_FLAGS);
  try {
    const buf = Buffer.alloc(16);
    const bytesRead = fs.readSync(fd, buf, 0, 16, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    fs.closeSync(fd);
  }
}

/** A file found by the walk; its size is looked up only when asked (only CIFAR detection needs it). */
class DiskFile implements SourceFile {
  #size: number | undefined;
  constructor(
    readonly rel: string,
    readonly abs: string,
    readonly budget: ByteBudget,
    size?: number,
  ) {
    this.#size = size;
  }
  get size(): number {
    if (this.#size === undefined) {
      try {
        this.#size = fs.statSync(this.abs).size;
      } catch {
        this.#size = 0;
      }
    }
    return this.#size;
  }
  read(maxBytes: number): Promise<Buffer> {
    return readRegularFile(this.abs, maxBytes, this.budget);
  }
  readSync(maxBytes: number): Buffer {
    return readRegularFileSync(this.abs, maxBytes, this.budget);
  }
  head(): Promise<Buffer> {
    return readHead(this.abs);
  }
}

/**
 * Walks a folder without following links out of it: every symlink is resolved and kept only when
 * its real target lies inside the real root; folders are visited once (by device and inode), so
 * link loops end. Caps on depth and file count; bytes are capped as files are read.
 */
export async function walkFolder(root: string, limits: ImportLimits, budget: ByteBudget): Promise<SourceTree> {
  const realRoot = await fsp.realpath(root);
  const files: SourceFile[] = [];
  const rejected: Rejection[] = [];
  let skippedHidden = 0;
  const visited = new Set<string>();
  const rootStat = await fsp.stat(realRoot);
  visited.add(`${rootStat.dev}:${rootStat.ino}`);
  let overFileCap = 0;

  const walk = async (dirAbs: string, dirRel: string, depth: number): Promise<void> => {
    let entries: Dirent[];
    try {
      entries = await fsp.readdir(dirAbs, { withFileTypes: true });
    } catch (err) {
      rejected.push({ path: dirRel || '.', reason: `folder cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})` });
      return;
    }
    // one shared collator: localeCompare with options sets one up per comparison (~15× slower)
    const byName = new Map(entries.map((e) => [e.name, e]));
    const names = [...byName.keys()].sort(collator.compare);
    for (const name of names) {
      const rel = dirRel ? `${dirRel}/${name}` : name;
      if (isHiddenName(name)) {
        skippedHidden++;
        continue;
      }
      const abs = path.join(dirAbs, name);
      if (byName.get(name)!.isFile()) {
        // a plain file (the directory entry says so: no lstat needed); its size is looked up lazily
        if (files.length >= limits.maxFiles) {
          overFileCap++;
          if (overFileCap <= 100) rejected.push({ path: rel, reason: `more than ${limits.maxFiles} files (cap): not read` });
          continue;
        }
        files.push(new DiskFile(rel, abs, budget));
        continue;
      }
      // folders, links and entries of unknown type (file systems without d_type) are looked at closely
      let st = await fsp.lstat(abs).catch(() => null);
      if (!st) {
        rejected.push({ path: rel, reason: 'vanished while the folder was read' });
        continue;
      }
      let real = abs;
      if (st.isSymbolicLink()) {
        try {
          real = await fsp.realpath(abs);
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          rejected.push({ path: rel, reason: code === 'ELOOP' ? 'symlink loop' : `broken symlink (${code ?? 'unresolvable'})` });
          continue;
        }
        if (!isInside(realRoot, real)) {
          rejected.push({ path: rel, reason: 'symlink leaves the imported folder' });
          continue;
        }
        st = await fsp.stat(real);
      }
      if (st.isDirectory()) {
        const key = `${st.dev}:${st.ino}`;
        if (visited.has(key)) {
          rejected.push({ path: rel, reason: 'symlink loop (folder already visited)' });
          continue;
        }
        if (depth + 1 > limits.maxDepth) {
          rejected.push({ path: rel, reason: `folder deeper than ${limits.maxDepth} levels (cap)` });
          continue;
        }
        visited.add(key);
        await walk(real, rel, depth + 1);
        continue;
      }
      if (!st.isFile()) {
        rejected.push({ path: rel, reason: 'not a regular file' });
        continue;
      }
      if (files.length >= limits.maxFiles) {
        overFileCap++;
        if (overFileCap <= 100) rejected.push({ path: rel, reason: `more than ${limits.maxFiles} files (cap): not read` });
        continue;
      }
      files.push(new DiskFile(rel, real, budget, st.size));
    }
  };
  await walk(realRoot, '', 0);
  if (overFileCap > 100) rejected.push({ path: '…', reason: `${overFileCap - 100} more files over the cap of ${limits.maxFiles} not listed` });
  return { container: 'folder', root, files, rejected, skippedHidden, close: async () => undefined };
}

/** One file on its own (an IDX, CIFAR or .npy file), plus named companions found beside it. */
export function singleFileTree(file: string, companions: string[], budget: ByteBudget, sizes: Map<string, number>): SourceTree {
  const files = [file, ...companions].map((f) => new DiskFile(path.basename(f), f, budget, sizes.get(f) ?? 0));
  return { container: 'file', root: path.dirname(file), files, rejected: [], skippedHidden: 0, close: async () => undefined };
}

// ---- zip -----------------------------------------------------------------------------------------

const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;
const HOST_UNIX = 3;

/** Why a zip entry's name is refused, or null when it is a safe relative path. */
export function checkZipEntryName(name: string): string | null {
  if (name.length === 0) return 'empty entry name';
  if (name.includes('\0')) return 'NUL in the entry name';
  if (name.includes('\\')) return 'backslash in the entry name';
  if (name.startsWith('/') || /^[A-Za-z]:/.test(name)) return 'absolute path in the entry name';
  const segments = name.replace(/\/$/, '').split('/');
  if (segments.includes('..')) return '".." in the entry name';
  if (segments.some((s) => s === '' || s === '.')) return 'empty or "." segment in the entry name';
  return null;
}

function inflateEntry(zip: ZipFile, entry: Entry, maxBytes: number, limits: ImportLimits, budget: ByteBudget): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    zip.openReadStream(entry, (err, stream) => {
      if (err) return reject(new FileRejected(`entry cannot be read (${err.message})`));
      const chunks: Buffer[] = [];
      let total = 0;
      let failed = false;
      const fail = (e: Error) => {
        if (failed) return;
        failed = true;
        stream.destroy();
        reject(e);
      };
      stream.on('data', (chunk: Buffer) => {
        if (failed) return;
        total += chunk.length;
        try {
          budget.take(chunk.length);
        } catch (e) {
          return fail(e as Error);
        }
        if (total > maxBytes) return fail(new FileRejected(`inflates to more than ${formatBytes(maxBytes)} (cap)`));
        if (total > limits.ratioGraceBytes && total > Math.max(1, entry.compressedSize) * limits.maxCompressionRatio) {
          return fail(new FileRejected(`compression ratio above ${limits.maxCompressionRatio}:1 on the bytes inflated (zip bomb?)`));
        }
        chunks.push(chunk);
      });
      stream.on('error', (e: Error) => fail(new FileRejected(`entry is corrupt (${e.message})`)));
      stream.on('end', () => {
        if (!failed) resolve(Buffer.concat(chunks, total));
      });
    });
  });
}

/**
 * Opens a zip and vets its central directory: absolute paths, "..", backslashes, symlink and other
 * non-regular entries, encrypted or unsupported entries and duplicates are rejected one by one;
 * too many entries rejects the archive.
 */
export async function openZipTree(zipPath: string, limits: ImportLimits, budget: ByteBudget): Promise<SourceTree> {
  const label = path.basename(zipPath);
  let zip: ZipFile;
  try {
    zip = await yauzl.openPromise(zipPath, { lazyEntries: true, autoClose: false, decodeStrings: false, validateEntrySizes: true });
  } catch (err) {
    throw new FileRejected(`not a readable zip archive (${(err as Error).message})`);
  }
  const close = async () => zip.close();
  if (zip.entryCount > limits.maxZipEntries) {
    await close();
    throw new FileRejected(`the archive declares ${zip.entryCount} entries, more than the cap of ${limits.maxZipEntries}`);
  }
  const files: SourceFile[] = [];
  const rejected: Rejection[] = [];
  const seen = new Set<string>();
  let skippedHidden = 0;
  try {
    for await (const entry of zip.eachEntry()) {
      const raw = (entry as unknown as { fileNameRaw: Buffer }).fileNameRaw;
      const name = yauzl.getFileNameLowLevel(entry.generalPurposeBitFlag, raw, entry.extraFields, true);
      // control characters would garble the report and terminals
      const shown = [...name].map((ch) => (ch.charCodeAt(0) < 0x20 ? '?' : ch)).join('');
      const bad = checkZipEntryName(name);
      if (bad) {
        rejected.push({ path: shown, reason: bad });
        continue;
      }
      const mode = (entry.externalFileAttributes >>> 16) & S_IFMT;
      const unixHost = entry.versionMadeBy >> 8 === HOST_UNIX;
      if (unixHost && mode === S_IFLNK) {
        rejected.push({ path: shown, reason: 'symlink entry' });
        continue;
      }
      if (name.endsWith('/') || (unixHost && mode === S_IFDIR)) continue;
      if (unixHost && mode !== 0 && mode !== S_IFREG) {
        rejected.push({ path: shown, reason: 'not a regular file entry' });
        continue;
      }
      if (isHiddenName(name)) {
        skippedHidden++;
        continue;
      }
      if (name.split('/').length - 1 > limits.maxDepth) {
        rejected.push({ path: shown, reason: `deeper than ${limits.maxDepth} levels (cap)` });
        continue;
      }
      if (seen.has(name)) {
        rejected.push({ path: shown, reason: 'duplicate entry name' });
        continue;
      }
      seen.add(name);
      if (entry.isEncrypted()) {
        rejected.push({ path: shown, reason: 'encrypted entry' });
        continue;
      }
      if (!entry.canDecodeFileData()) {
        rejected.push({ path: shown, reason: `unsupported compression method ${entry.compressionMethod}` });
        continue;
      }
      if (entry.uncompressedSize > limits.ratioGraceBytes && entry.uncompressedSize > Math.max(1, entry.compressedSize) * limits.maxCompressionRatio) {
        rejected.push({ path: shown, reason: `declares a compression ratio above ${limits.maxCompressionRatio}:1 (zip bomb?)` });
        continue;
      }
      if (files.length >= limits.maxFiles) {
        rejected.push({ path: shown, reason: `more than ${limits.maxFiles} files (cap): not read` });
        continue;
      }
      files.push({
        rel: name,
        size: entry.uncompressedSize,
        read: async (max) => {
          if (entry.uncompressedSize > max) throw new FileRejected(`declares ${formatBytes(entry.uncompressedSize)}, more than the cap of ${formatBytes(max)}`);
          return inflateEntry(zip, entry, max, limits, budget);
        },
      });
    }
  } catch (err) {
    if (files.length === 0) {
      await close();
      throw new FileRejected(`the archive's directory is corrupt (${(err as Error).message})`);
    }
    rejected.push({ path: label, reason: `the archive's directory is corrupt after ${files.length} entries (${(err as Error).message})` });
  }
  return { container: 'zip', root: zipPath, files, rejected, skippedHidden, close };
}
