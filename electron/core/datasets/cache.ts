// The preprocessed dataset cache every run reads: images.u8 (N×H×W×C uint8, NHWC), labels.u8
// (N uint8, optional) and manifest.json with shape, classes and a content hash. Decoding happens
// once at import; trainers stream from here. Written into a temp folder and renamed into place,
// so a cancelled or crashed import leaves nothing half-written.
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { z } from 'zod';
import { fsyncDir, writeFileDurable } from '../util/atomic-fs.ts';

export const DatasetManifestSchema = z.object({
  format: z.literal('gan-studio-dataset'),
  version: z.literal(1),
  id: z.string(),
  name: z.string(),
  kind: z.enum(['builtin', 'imported']),
  count: z.number().int().positive(),
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  channels: z.union([z.literal(1), z.literal(3)]),
  classNames: z.array(z.string()).nullable(),
  classCounts: z.array(z.number().int()).nullable(),
  /** sha256 over images.u8 then labels.u8 */
  contentHash: z.string(),
  source: z.string(),
  createdAt: z.number(),
});
export type DatasetManifest = z.infer<typeof DatasetManifestSchema>;

export interface DatasetArrays {
  images: Uint8Array;
  labels: Uint8Array | null;
}

export function contentHash(arrays: DatasetArrays): string {
  const h = crypto.createHash('sha256').update(arrays.images);
  if (arrays.labels) h.update(arrays.labels);
  return h.digest('hex');
}

export async function writeDatasetCache(dir: string, manifest: Omit<DatasetManifest, 'contentHash' | 'format' | 'version'>, arrays: DatasetArrays): Promise<DatasetManifest> {
  const { count, height, width, channels } = manifest;
  if (arrays.images.length !== count * height * width * channels) throw new Error(`images hold ${arrays.images.length} bytes, expected ${count}×${height}×${width}×${channels}`);
  if (arrays.labels && arrays.labels.length !== count) throw new Error(`labels hold ${arrays.labels.length} entries, expected ${count}`);
  const full: DatasetManifest = DatasetManifestSchema.parse({ ...manifest, format: 'gan-studio-dataset', version: 1, contentHash: contentHash(arrays) });
  const parent = path.dirname(dir);
  await fsp.mkdir(parent, { recursive: true });
  const tmp = `${dir}.tmp-${process.pid}-${crypto.randomBytes(4).toString('hex')}`;
  await fsp.mkdir(tmp);
  try {
    await writeFileDurable(path.join(tmp, 'images.u8'), arrays.images);
    if (arrays.labels) await writeFileDurable(path.join(tmp, 'labels.u8'), arrays.labels);
    await writeFileDurable(path.join(tmp, 'manifest.json'), JSON.stringify(full, null, 1));
    await fsyncDir(tmp);
    await fsp.rm(dir, { recursive: true, force: true });
    await fsp.rename(tmp, dir);
    await fsyncDir(parent);
  } catch (err) {
    await fsp.rm(tmp, { recursive: true, force: true });
    throw err;
  }
  return full;
}

export async function readDatasetManifest(dir: string): Promise<DatasetManifest> {
  return DatasetManifestSchema.parse(JSON.parse(await fsp.readFile(path.join(dir, 'manifest.json'), 'utf8')));
}

/** Loads the arrays and checks them against the manifest (size and, when asked, the hash). */
export async function loadDatasetCache(dir: string, opts: { verifyHash?: boolean } = {}): Promise<{ manifest: DatasetManifest } & DatasetArrays> {
  const manifest = await readDatasetManifest(dir);
  const images = new Uint8Array(await fsp.readFile(path.join(dir, 'images.u8')));
  const expected = manifest.count * manifest.height * manifest.width * manifest.channels;
  if (images.length !== expected) throw new Error(`dataset ${manifest.id}: images.u8 has ${images.length} bytes, manifest says ${expected}`);
  let labels: Uint8Array | null = null;
  if (manifest.classNames) {
    labels = new Uint8Array(await fsp.readFile(path.join(dir, 'labels.u8')));
    if (labels.length !== manifest.count) throw new Error(`dataset ${manifest.id}: labels.u8 has ${labels.length} entries, manifest says ${manifest.count}`);
  }
  if (opts.verifyHash && contentHash({ images, labels }) !== manifest.contentHash) throw new Error(`dataset ${manifest.id}: content hash mismatch; the cache is corrupted, re-import it`);
  return { manifest, images, labels };
}
