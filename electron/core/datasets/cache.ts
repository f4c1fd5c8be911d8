// The preprocessed dataset cache every run reads: images.u8 (N×H×W×C uint8, NHWC), labels.u8
// (N uint8, optional) and manifest.json with shape, classes and a content hash. Decoding happens
// once at import; trainers stream from here. Written into a temp folder and renamed into place,
// so a cancelled or crashed import leaves nothing half-written.
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { z } from 'zod';
import { fsyncDir, writeFileDurable } from '../util/atomic-fs.ts';
import type { DatasetRecord } from '../db/datasets-repo.ts';

export const DatasetManifestSchema = z.object({
  format: z.literal('gan-studio-dataset'),
  version: z.literal(1),
  id: z.string(),
  name: z.string(),
  kind: z.enum(['builtin', 'imported']),
  /** images.u8 (+ labels.u8); paired and unpaired add images_b.u8; points keep points.f32 (N×2) */
  layout: z.enum(['images', 'paired', 'unpaired', 'points']).default('images'),
  description: z.string().default(''),
  count: z.number().int().positive(),
  /** items in images_b.u8 for unpaired data (paired: same as count) */
  countB: z.number().int().min(0).default(0),
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  channels: z.union([z.literal(1), z.literal(3)]),
  classNames: z.array(z.string()).nullable(),
  classCounts: z.array(z.number().int()).nullable(),
  /** sha256 over every data file in a fixed order (images, labels, images_b, points) */
  contentHash: z.string(),
  source: z.string(),
  createdAt: z.number(),
  // Optional fields added by the importer (issue 5); caches written before them stay readable.
  /** items kept out of training for evaluation, in holdout_images.u8 (+ holdout_labels.u8, holdout_images_b.u8) */
  holdout: z.object({ count: z.number().int().min(0), countB: z.number().int().min(0).default(0), fraction: z.number(), seed: z.number().int() }).optional(),
  /** augmentation baked into images.u8 at import (the mirrored copies are stored, not made by the loader) */
  augment: z.object({ hflip: z.boolean() }).optional(),
  /** file name of the import report (statistics, rejected files) next to the manifest */
  report: z.string().optional(),
});
export type DatasetManifest = z.infer<typeof DatasetManifestSchema>;

export interface DatasetArrays {
  images: Uint8Array | null;
  labels: Uint8Array | null;
  imagesB?: Uint8Array | null;
  points?: Float32Array | null;
}

export function contentHash(arrays: DatasetArrays): string {
  const h = crypto.createHash('sha256');
  if (arrays.images) h.update(arrays.images);
  if (arrays.labels) h.update(arrays.labels);
  if (arrays.imagesB) h.update(arrays.imagesB);
  if (arrays.points) h.update(new Uint8Array(arrays.points.buffer, arrays.points.byteOffset, arrays.points.byteLength));
  return h.digest('hex');
}

function checkArrays(m: Pick<DatasetManifest, 'layout' | 'count' | 'countB' | 'height' | 'width' | 'channels' | 'id'>, arrays: DatasetArrays): void {
  const size = m.height * m.width * m.channels;
  const expect = (what: string, got: number | undefined, want: number) => {
    if (got !== want) throw new Error(`dataset ${m.id}: ${what} holds ${got ?? 'nothing'}, expected ${want}`);
  };
  if (m.layout === 'points') expect('points.f32', arrays.points?.length, 2 * m.count);
  else expect('images.u8', arrays.images?.length, m.count * size);
  if (m.layout === 'paired') expect('images_b.u8', arrays.imagesB?.length, m.count * size);
  if (m.layout === 'unpaired') expect('images_b.u8', arrays.imagesB?.length, m.countB * size);
  if (arrays.labels) expect('labels.u8', arrays.labels.length, m.count);
}

export type NewDatasetManifest = Omit<DatasetManifest, 'contentHash' | 'format' | 'version' | 'layout' | 'description' | 'countB'> & Partial<Pick<DatasetManifest, 'layout' | 'description' | 'countB'>>;

/**
 * `extraFiles` (plain names, no folders) land in the same temp folder and appear with the rest in
 * one rename, e.g. the held-out split and the import report. `timings`, when given, gains the
 * milliseconds spent on `contentHash` and `write` (the importer's phase breakdown).
 */
export async function writeDatasetCache(dir: string, manifest: NewDatasetManifest, arrays: DatasetArrays, extraFiles: Record<string, Uint8Array | string> = {}, timings?: Record<string, number>): Promise<DatasetManifest> {
  for (const name of Object.keys(extraFiles)) {
    if (!/^[A-Za-z0-9_.-]+$/.test(name) || name.startsWith('.') || ['manifest.json', 'images.u8', 'labels.u8', 'images_b.u8', 'points.f32'].includes(name)) throw new Error(`writeDatasetCache: bad extra file name ${JSON.stringify(name)}`);
  }
  const tHash = performance.now();
  const hash = contentHash(arrays);
  const tWrite = performance.now();
  if (timings) timings.contentHash = (timings.contentHash ?? 0) + (tWrite - tHash);
  const full: DatasetManifest = DatasetManifestSchema.parse({ ...manifest, format: 'gan-studio-dataset', version: 1, contentHash: hash });
  checkArrays(full, arrays);
  const parent = path.dirname(dir);
  await fsp.mkdir(parent, { recursive: true });
  const tmp = `${dir}.tmp-${process.pid}-${crypto.randomBytes(4).toString('hex')}`;
  await fsp.mkdir(tmp);
  try {
    if (arrays.images) await writeFileDurable(path.join(tmp, 'images.u8'), arrays.images);
    if (arrays.labels) await writeFileDurable(path.join(tmp, 'labels.u8'), arrays.labels);
    if (arrays.imagesB) await writeFileDurable(path.join(tmp, 'images_b.u8'), arrays.imagesB);
    if (arrays.points) await writeFileDurable(path.join(tmp, 'points.f32'), new Uint8Array(arrays.points.buffer, arrays.points.byteOffset, arrays.points.byteLength));
    for (const [name, data] of Object.entries(extraFiles)) await writeFileDurable(path.join(tmp, name), data);
    await writeFileDurable(path.join(tmp, 'manifest.json'), JSON.stringify(full, null, 1));
    await fsyncDir(tmp);
    await fsp.rm(dir, { recursive: true, force: true });
    await fsp.rename(tmp, dir);
    await fsyncDir(parent);
    if (timings) timings.write = (timings.write ?? 0) + (performance.now() - tWrite);
  } catch (err) {
    await fsp.rm(tmp, { recursive: true, force: true });
    throw err;
  }
  return full;
}

/** The database row of a dataset cache (the API summary plus the cache folder). */
export function datasetRecordOf(manifest: DatasetManifest, dir: string): DatasetRecord {
  const { id, name, kind, layout, description, countB, count, width, height, channels, classNames, classCounts, contentHash, createdAt } = manifest;
  return { id, name, kind, layout, description, countB, count, width, height, channels, classNames, classCounts, contentHash, createdAt, dir };
}

export async function readDatasetManifest(dir: string): Promise<DatasetManifest> {
  return DatasetManifestSchema.parse(JSON.parse(await fsp.readFile(path.join(dir, 'manifest.json'), 'utf8')));
}

async function readOptional(file: string): Promise<Buffer | null> {
  return fsp.readFile(file).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return null;
    throw err;
  });
}

/** Loads the arrays and checks them against the manifest (sizes and, when asked, the hash). */
export async function loadDatasetCache(dir: string, opts: { verifyHash?: boolean } = {}): Promise<{ manifest: DatasetManifest } & Required<DatasetArrays>> {
  const manifest = await readDatasetManifest(dir);
  const u8 = (b: Buffer | null) => (b ? new Uint8Array(b.buffer, b.byteOffset, b.byteLength) : null);
  const images = u8(await readOptional(path.join(dir, 'images.u8')));
  const labels = manifest.classNames && manifest.layout !== 'unpaired' ? u8(await readOptional(path.join(dir, 'labels.u8'))) : null;
  const imagesB = u8(await readOptional(path.join(dir, 'images_b.u8')));
  const rawPoints = await readOptional(path.join(dir, 'points.f32'));
  // copy: a Buffer from the pool need not be 4-byte aligned for a Float32Array view
  const points = rawPoints ? new Float32Array(new Uint8Array(rawPoints).buffer) : null;
  const arrays = { images, labels, imagesB, points };
  checkArrays(manifest, arrays);
  if (manifest.classNames && manifest.layout !== 'unpaired' && !labels) throw new Error(`dataset ${manifest.id}: labels.u8 is missing`);
  if (opts.verifyHash && contentHash(arrays) !== manifest.contentHash) throw new Error(`dataset ${manifest.id}: content hash mismatch; the cache is corrupted, re-import it`);
  return { manifest, ...arrays };
}
