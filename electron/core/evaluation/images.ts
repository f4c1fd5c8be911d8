// Image plumbing for evaluation: folders of images decoded with sharp (the importer's decoder, so
// the same orientation / alpha / 16-bit handling), resizing and channel conversion to an
// extractor's input, and PNG strips and grids for the UI.
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { ApiError } from '../../common/errors.ts';
import { Rng } from '../models/rng.ts';
import { tileImages } from '../util/image-grid.ts';
import { convertRaw, decodeImage } from '../datasets/import/decode-image.ts';
import type { ImageShape } from './extractors.ts';

const IMAGE_EXT = /\.(png|jpe?g|webp|gif|bmp|tiff?)$/i;
const MAX_PIXELS = 64 * 1024 * 1024;

export interface ImageSet {
  /** N×H×W×C uint8 */
  images: Uint8Array;
  count: number;
  shape: ImageShape;
}

/** Image files of a folder (recursively, sorted), or `invalid_input` naming the problem. */
export async function listImageFiles(dir: string, flag: string): Promise<string[]> {
  if (!path.isAbsolute(dir)) throw new ApiError('invalid_input', `${flag} must be an absolute path, got ${JSON.stringify(dir)}`);
  const stat = await fsp.stat(dir).catch(() => null);
  if (!stat?.isDirectory()) throw new ApiError('invalid_input', `${flag} ${dir} is not a folder`);
  const out: string[] = [];
  const walk = async (d: string) => {
    const entries = await fsp.readdir(d, { withFileTypes: true });
    for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (e.name.startsWith('.')) continue;
      const p = path.join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile() && IMAGE_EXT.test(e.name)) out.push(p);
    }
  };
  await walk(dir);
  if (out.length === 0) throw new ApiError('invalid_input', `${flag} ${dir} holds no images (png, jpg, webp, gif, bmp, tiff)`);
  return out;
}

/** The shape of the first decodable image of a list (square side = its shorter side, capped at 256). */
export async function probeShape(files: string[]): Promise<ImageShape> {
  for (const f of files.slice(0, 20)) {
    const meta = await sharp(f).metadata().catch(() => null);
    if (!meta?.width || !meta.height) continue;
    const side = Math.min(256, meta.width, meta.height);
    const channels = meta.channels === 1 || meta.channels === 2 || meta.space === 'b-w' ? 1 : 3;
    return { height: side, width: side, channels };
  }
  throw new ApiError('invalid_input', `none of the first images of ${path.dirname(files[0] ?? '.')} could be read`);
}

/**
 * Decodes up to `max` images (a seeded subset when there are more) to `shape` (centre crop to
 * square, resize, grey/RGB). Files sharp cannot read are skipped and counted.
 */
export async function readImages(files: string[], shape: ImageShape, opts: { max: number; seed: number; signal?: AbortSignal; onProgress?: (done: number, total: number) => void }): Promise<ImageSet & { skipped: string[] }> {
  let chosen = files;
  if (files.length > opts.max) {
    const perm = new Rng(opts.seed).permutation(files.length);
    chosen = Array.from(perm.subarray(0, opts.max)).sort((a, b) => a - b).map((i) => files[i]!);
  }
  const size = shape.height * shape.width * shape.channels;
  const images = new Uint8Array(chosen.length * size);
  const skipped: string[] = [];
  let count = 0;
  for (let i = 0; i < chosen.length; i++) {
    if (opts.signal?.aborted) throw new DOMException('cancelled', 'AbortError');
    try {
      const buf = await fsp.readFile(chosen[i]!);
      const d = await decodeImage(buf, { size: shape.height, channels: shape.channels as 1 | 3, fit: 'crop' }, MAX_PIXELS);
      images.set(d.pixels, count * size);
      count++;
    } catch (err) {
      skipped.push(`${chosen[i]}: ${(err as Error).message}`);
    }
    if (i % 16 === 15) opts.onProgress?.(i + 1, chosen.length);
  }
  return { images: images.subarray(0, count * size), count, shape, skipped };
}

/** Resizes / converts every image to `to` (a view of the input when nothing changes). */
export async function conformImages(set: ImageSet, to: ImageShape): Promise<ImageSet> {
  const from = set.shape;
  if (from.height === to.height && from.width === to.width && from.channels === to.channels) return set;
  if (to.height !== to.width) throw new ApiError('invalid_input', `only square extractor inputs are supported, got ${to.width}×${to.height}`);
  const inSize = from.height * from.width * from.channels;
  const outSize = to.height * to.width * to.channels;
  const images = new Uint8Array(set.count * outSize);
  for (let k = 0; k < set.count; k++) {
    const px = await convertRaw(set.images.subarray(k * inSize, (k + 1) * inSize), from.width, from.height, from.channels as 1 | 3, { size: to.height, channels: to.channels as 1 | 3, fit: 'stretch' });
    images.set(px, k * outSize);
  }
  return { images, count: set.count, shape: to };
}

export async function pngDataUrl(pixels: Uint8Array, width: number, height: number, channels: number): Promise<{ dataUrl: string; width: number; height: number }> {
  const png = await sharp(Buffer.from(pixels.buffer, pixels.byteOffset, pixels.byteLength), { raw: { width, height, channels: channels as 1 | 3 } }).png().toBuffer();
  return { dataUrl: `data:image/png;base64,${png.toString('base64')}`, width, height };
}

/** A grid of the first `n` images of a set. */
export async function gridDataUrl(set: ImageSet, n: number, cols: number): Promise<{ dataUrl: string; width: number; height: number }> {
  const { height: h, width: w, channels: c } = set.shape;
  const size = h * w * c;
  const count = Math.min(n, set.count);
  const grid = tileImages(count, Math.min(cols, count), h, w, c, (k, px) => px.set(set.images.subarray(k * size, (k + 1) * size)));
  return pngDataUrl(grid.pixels, grid.width, grid.height, grid.channels);
}

/** Rows of [query, neighbour 1, …, neighbour k] tiles. */
export async function neighbourStrip(query: ImageSet, queryRows: number[], reference: ImageSet, neighbours: number[][]): Promise<{ dataUrl: string; width: number; height: number; columns: number }> {
  const { height: h, width: w, channels: c } = query.shape;
  const size = h * w * c;
  const columns = 1 + Math.max(0, ...neighbours.map((r) => r.length));
  const tiles: Uint8Array[] = [];
  queryRows.forEach((q, r) => {
    tiles.push(query.images.subarray(q * size, (q + 1) * size));
    for (let j = 0; j < columns - 1; j++) {
      const idx = neighbours[r]![j];
      tiles.push(idx === undefined ? new Uint8Array(size) : reference.images.subarray(idx * size, (idx + 1) * size));
    }
  });
  const grid = tileImages(tiles.length, columns, h, w, c, (k, px) => px.set(tiles[k]!));
  return { ...(await pngDataUrl(grid.pixels, grid.width, grid.height, grid.channels)), columns };
}
