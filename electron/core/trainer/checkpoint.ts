// Checkpoint folders: tensors.bin (every named tensor, float32, concatenated) and manifest.json
// (step, state, tensor table, sha256 of tensors.bin). Written into a temp folder, fsynced, renamed
// into place, then reported to the host, which writes the database row (RELIABILITY E4). Readers
// verify the hash and fall back to an older checkpoint when one is torn or corrupted.
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { fsyncDir, sha256, writeFileDurable } from '../util/atomic-fs.ts';

export const CHECKPOINT_FORMAT = 'gan-studio-checkpoint';
export const CHECKPOINT_VERSION = 1;
const DIR_RE = /^step-(\d{9})$/;
/** the previous folder of a step being replaced, while the new one is renamed into place */
const TRASH_SUFFIX = '-old';
const TRASH_RE = /^\.tmp-(step-\d{9})-.*-old$/;

export interface TensorEntry {
  name: string;
  shape: number[];
  data: Float32Array;
}

export interface CheckpointManifest {
  format: typeof CHECKPOINT_FORMAT;
  version: number;
  step: number;
  kind: 'periodic' | 'final' | 'stop';
  createdAt: number;
  /** trainer state beyond tensors: RNG, data cursor, optimizer counters, elapsed time */
  state: Record<string, unknown>;
  tensors: { name: string; shape: number[]; offset: number; length: number }[];
  sha256: string;
  bytes: number;
}

/**
 * The file operations `writeCheckpoint` performs, in this order. Production uses the real ones;
 * tests swap in failing ones to show that a failure at any operation leaves a loadable checkpoint
 * (RELIABILITY E4) and that a full disk surfaces as ENOSPC (E5).
 */
export interface CheckpointFs {
  mkdir(dir: string, recursive: boolean): Promise<void>;
  /** write one file and fsync it */
  writeFileDurable(file: string, data: Uint8Array | string): Promise<void>;
  fsyncDir(dir: string): Promise<void>;
  exists(p: string): Promise<boolean>;
  rename(from: string, to: string): Promise<void>;
  /** recursive, and no error when it is already gone */
  rm(p: string): Promise<void>;
}

export const nodeCheckpointFs: CheckpointFs = {
  mkdir: async (dir, recursive) => {
    await fsp.mkdir(dir, { recursive });
  },
  writeFileDurable,
  fsyncDir,
  exists: (p) => fsp.stat(p).then(
    () => true,
    () => false,
  ),
  rename: (from, to) => fsp.rename(from, to),
  rm: (p) => fsp.rm(p, { recursive: true, force: true }),
};

export function checkpointDirName(step: number): string {
  return `step-${String(step).padStart(9, '0')}`;
}

export async function writeCheckpoint(
  checkpointsDir: string,
  step: number,
  kind: CheckpointManifest['kind'],
  tensors: TensorEntry[],
  state: Record<string, unknown>,
  fs: CheckpointFs = nodeCheckpointFs,
): Promise<{ dir: string; bytes: number; sha256: string }> {
  await fs.mkdir(checkpointsDir, true);
  let total = 0;
  for (const t of tensors) total += t.data.length;
  const blob = new Float32Array(total);
  const table: CheckpointManifest['tensors'] = [];
  let offset = 0;
  for (const t of tensors) {
    const expected = t.shape.reduce((a, b) => a * b, 1);
    if (expected !== t.data.length) throw new Error(`tensor ${t.name}: shape ${t.shape.join('x')} does not match ${t.data.length} values`);
    blob.set(t.data, offset);
    table.push({ name: t.name, shape: t.shape, offset, length: t.data.length });
    offset += t.data.length;
  }
  const bytes = new Uint8Array(blob.buffer, blob.byteOffset, blob.byteLength);
  const hash = sha256(bytes);
  const manifest: CheckpointManifest = { format: CHECKPOINT_FORMAT, version: CHECKPOINT_VERSION, step, kind, createdAt: Date.now(), state, tensors: table, sha256: hash, bytes: bytes.byteLength };

  const finalDir = path.join(checkpointsDir, checkpointDirName(step));
  const tmpDir = path.join(checkpointsDir, `.tmp-${checkpointDirName(step)}-${process.pid}-${crypto.randomBytes(4).toString('hex')}`);
  await fs.mkdir(tmpDir, false);
  try {
    await fs.writeFileDurable(path.join(tmpDir, 'tensors.bin'), bytes);
    await fs.writeFileDurable(path.join(tmpDir, 'manifest.json'), JSON.stringify(manifest));
    await fs.fsyncDir(tmpDir);
    // A checkpoint of the same step (e.g. a stop right after a periodic save) is replaced whole.
    await replaceDir(tmpDir, finalDir, `${tmpDir}${TRASH_SUFFIX}`, fs);
  } catch (err) {
    await fs.rm(tmpDir);
    throw err;
  }
  return { dir: finalDir, bytes: bytes.byteLength, sha256: hash };
}

/**
 * Puts the complete folder `from` at `to`, replacing whatever folder is there (a rename cannot
 * replace a non-empty folder): the old one is renamed to `trash`, `from` renamed into place, the
 * trash removed, the parent fsynced. A failure between the two renames puts the old folder back;
 * a crash there leaves it as `trash` (the caller's recovery renames it back when `to` is missing).
 * All three paths must be in the same folder.
 */
export async function replaceDir(from: string, to: string, trash: string, fs: CheckpointFs = nodeCheckpointFs): Promise<void> {
  let movedAside = false;
  try {
    if (await fs.exists(to)) {
      await fs.rename(to, trash);
      movedAside = true;
      await fs.rename(from, to);
      await fs.rm(trash);
    } else {
      await fs.rename(from, to);
    }
    await fs.fsyncDir(path.dirname(to));
  } catch (err) {
    if (movedAside && !(await fs.exists(to))) await fs.rename(trash, to).catch(() => undefined);
    throw err;
  }
}

export interface LoadedCheckpoint {
  dir: string;
  manifest: CheckpointManifest;
  tensors: Map<string, TensorEntry>;
}

/** Reads and verifies one checkpoint folder; throws with the reason when it is unusable. */
export async function readCheckpoint(dir: string): Promise<LoadedCheckpoint> {
  let manifest: CheckpointManifest;
  try {
    manifest = JSON.parse(await fsp.readFile(path.join(dir, 'manifest.json'), 'utf8')) as CheckpointManifest;
  } catch (err) {
    throw new Error(`unreadable manifest in ${dir}: ${(err as Error).message}`);
  }
  if (manifest.format !== CHECKPOINT_FORMAT) throw new Error(`${dir} is not a GAN Studio checkpoint`);
  if (manifest.version > CHECKPOINT_VERSION) throw new Error(`${dir} has checkpoint version ${manifest.version}; this build reads up to ${CHECKPOINT_VERSION}`);
  const buf = await fsp.readFile(path.join(dir, 'tensors.bin'));
  if (buf.byteLength !== manifest.bytes) throw new Error(`${dir}: tensors.bin has ${buf.byteLength} bytes, manifest says ${manifest.bytes}`);
  const hash = sha256(buf);
  if (hash !== manifest.sha256) throw new Error(`${dir}: sha256 mismatch (file ${hash.slice(0, 12)}…, manifest ${manifest.sha256.slice(0, 12)}…)`);
  // Copy into an aligned buffer: Buffer slices from the pool need not be 4-byte aligned.
  const all = new Float32Array(buf.byteLength / 4);
  new Uint8Array(all.buffer).set(buf);
  const tensors = new Map<string, TensorEntry>();
  for (const t of manifest.tensors) {
    if (t.offset + t.length > all.length) throw new Error(`${dir}: tensor ${t.name} lies outside tensors.bin`);
    tensors.set(t.name, { name: t.name, shape: t.shape, data: all.subarray(t.offset, t.offset + t.length) });
  }
  return { dir, manifest, tensors };
}

/** Checkpoint folders of a run, newest first. Temp folders of interrupted writes are ignored. */
export async function listCheckpointDirs(checkpointsDir: string): Promise<{ step: number; dir: string }[]> {
  const names = await fsp.readdir(checkpointsDir).catch(() => [] as string[]);
  return names
    .map((n) => ({ m: DIR_RE.exec(n), n }))
    .filter((x): x is { m: RegExpExecArray; n: string } => x.m !== null)
    .map(({ m, n }) => ({ step: Number(m[1]), dir: path.join(checkpointsDir, n) }))
    .sort((a, b) => b.step - a.step);
}

/**
 * A process that died between the two renames of a replace left the old folder of that step as
 * `.tmp-step-N-…-old` and no `step-N`: rename it back, so neither the loader nor the next prune
 * loses that step's checkpoint.
 */
export async function recoverInterruptedReplace(checkpointsDir: string): Promise<void> {
  for (const n of await fsp.readdir(checkpointsDir).catch(() => [] as string[])) {
    const m = TRASH_RE.exec(n);
    if (!m) continue;
    const finalDir = path.join(checkpointsDir, m[1]!);
    if (await nodeCheckpointFs.exists(finalDir)) continue;
    await fsp.rename(path.join(checkpointsDir, n), finalDir).catch(() => undefined);
  }
}

/** The newest checkpoint that verifies, with the reasons older ones were skipped. */
export async function loadLatestGoodCheckpoint(checkpointsDir: string, maxStep = Infinity): Promise<{ checkpoint: LoadedCheckpoint | null; skipped: string[] }> {
  const skipped: string[] = [];
  await recoverInterruptedReplace(checkpointsDir);
  for (const { step, dir } of await listCheckpointDirs(checkpointsDir)) {
    if (step > maxStep) continue;
    try {
      return { checkpoint: await readCheckpoint(dir), skipped };
    } catch (err) {
      skipped.push((err as Error).message);
    }
  }
  return { checkpoint: null, skipped };
}

/** Keeps the newest `keep` checkpoints; returns the steps removed. Also clears stale temp folders. */
export async function pruneCheckpoints(checkpointsDir: string, keep: number): Promise<number[]> {
  await recoverInterruptedReplace(checkpointsDir);
  const dirs = await listCheckpointDirs(checkpointsDir);
  const removed: number[] = [];
  for (const { step, dir } of dirs.slice(keep)) {
    await fsp.rm(dir, { recursive: true, force: true });
    removed.push(step);
  }
  for (const n of await fsp.readdir(checkpointsDir).catch(() => [] as string[])) {
    if (n.startsWith('.tmp-')) await fsp.rm(path.join(checkpointsDir, n), { recursive: true, force: true });
  }
  return removed;
}
