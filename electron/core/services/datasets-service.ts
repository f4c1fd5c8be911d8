// Datasets known to the studio: the built-in ones are materialised into the cache on first start;
// imported ones (a later issue) land in the same cache format and table.
import path from 'node:path';
import { promises as fsp } from 'node:fs';
import sharp from 'sharp';
import type { DatasetSummary } from '../../common/api.ts';
import { ApiError } from '../../common/errors.ts';
import type { Db } from '../db/database.ts';
import { getDataset, getDatasetDir, upsertDataset } from '../db/datasets-repo.ts';
import { BUILTIN_MNIST_ID, builtinMnistArrays } from '../datasets/builtin-mnist.ts';
import { loadDatasetCache, readDatasetManifest, writeDatasetCache, type DatasetManifest } from '../datasets/cache.ts';
import { tileImages } from '../util/image-grid.ts';

export function datasetFolderName(id: string): string {
  return id.replace(/[^A-Za-z0-9_-]/g, '-');
}

function recordOf(manifest: DatasetManifest, dir: string) {
  return {
    id: manifest.id,
    name: manifest.name,
    kind: manifest.kind,
    count: manifest.count,
    width: manifest.width,
    height: manifest.height,
    channels: manifest.channels,
    classNames: manifest.classNames,
    classCounts: manifest.classCounts,
    contentHash: manifest.contentHash,
    createdAt: manifest.createdAt,
    dir,
  };
}

/** Makes sure the built-in datasets exist in the cache and the database (idempotent, cheap when done). */
export async function ensureBuiltinDatasets(db: Db, datasetsDir: string): Promise<void> {
  const dir = path.join(datasetsDir, datasetFolderName(BUILTIN_MNIST_ID));
  let manifest: DatasetManifest | null = await readDatasetManifest(dir).catch(() => null);
  if (!manifest) {
    const { arrays, manifest: m } = builtinMnistArrays();
    manifest = await writeDatasetCache(dir, m, arrays);
  }
  const existing = getDataset(db, BUILTIN_MNIST_ID);
  if (!existing || existing.contentHash !== manifest.contentHash || getDatasetDir(db, BUILTIN_MNIST_ID) !== dir) upsertDataset(db, recordOf(manifest, dir));
}

export class DatasetsService {
  readonly #previews = new Map<string, { dataUrl: string; width: number; height: number }>();
  constructor(private readonly db: Db) {}

  get(datasetId: string): DatasetSummary {
    const d = getDataset(this.db, datasetId);
    if (!d) throw new ApiError('not_found', `dataset ${datasetId} not found`);
    return d;
  }

  /** A grid of images: one row per class (up to 10 per row) when labelled, else the first ones. */
  async preview(datasetId: string, count: number): Promise<{ dataUrl: string; width: number; height: number }> {
    const summary = this.get(datasetId);
    const key = `${datasetId}:${summary.contentHash}:${count}`;
    const cached = this.#previews.get(key);
    if (cached) return cached;
    const dir = getDatasetDir(this.db, datasetId)!;
    await fsp.access(dir).catch(() => {
      throw new ApiError('not_found', `the cache of dataset ${datasetId} is missing from ${dir}`);
    });
    const { manifest, images, labels } = await loadDatasetCache(dir);
    const size = manifest.height * manifest.width * manifest.channels;
    const picks: number[] = [];
    let cols = Math.min(10, count);
    if (labels && manifest.classNames) {
      const classes = manifest.classNames.length;
      const perClass = Math.max(1, Math.floor(count / classes));
      cols = Math.min(perClass, 20);
      const taken = new Array<number>(classes).fill(0);
      const byClass: number[][] = Array.from({ length: classes }, () => []);
      for (let i = 0; i < manifest.count && taken.some((t) => t < perClass); i++) {
        const c = labels[i];
        if (taken[c] < perClass) {
          byClass[c].push(i);
          taken[c]++;
        }
      }
      for (const list of byClass) for (let k = 0; k < perClass; k++) picks.push(list[k] ?? -1);
    } else {
      for (let i = 0; i < Math.min(count, manifest.count); i++) picks.push(i);
    }
    const grid = tileImages(picks.length, cols, manifest.height, manifest.width, manifest.channels, (k, out) => {
      if (picks[k] >= 0) out.set(images.subarray(picks[k] * size, (picks[k] + 1) * size));
      else out.fill(0);
    });
    const png = await sharp(grid.pixels, { raw: { width: grid.width, height: grid.height, channels: manifest.channels } }).png().toBuffer();
    const result = { dataUrl: `data:image/png;base64,${png.toString('base64')}`, width: grid.width, height: grid.height };
    this.#previews.set(key, result);
    return result;
  }
}
