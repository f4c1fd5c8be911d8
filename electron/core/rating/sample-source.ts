// The real images of a rating session: a dataset's held-out split (the training images when the
// dataset has none, which the caller notes on the session), and the image-set type the builder
// uses. Generated images come from the studio's one checkpoint sampler, evaluation/generate.ts.
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { ApiError } from '../../common/errors.ts';
import { loadDatasetCache } from '../datasets/cache.ts';

/** Images as NHWC uint8, all the same size. */
export interface ImageSet {
  width: number;
  height: number;
  channels: 1 | 3;
  count: number;
  pixels: Uint8Array;
}

export function imageAt(set: ImageSet, i: number): Uint8Array {
  const size = set.width * set.height * set.channels;
  return set.pixels.subarray(i * size, (i + 1) * size);
}

/** The dataset's held-out images, or its training images (`split: 'train'`) when it has no held-out split. */
export async function loadRealImages(datasetDir: string): Promise<{ split: 'holdout' | 'train'; images: ImageSet }> {
  const data = await loadDatasetCache(datasetDir);
  const m = data.manifest;
  if (m.layout !== 'images' || !data.images) throw new ApiError('invalid_input', `dataset ${m.id} holds ${m.layout} data, not images`);
  const size = m.width * m.height * m.channels;
  const held = m.holdout?.count ?? 0;
  if (held > 0) {
    const buf = await fsp.readFile(path.join(datasetDir, 'holdout_images.u8')).catch(() => null);
    if (buf && buf.byteLength >= held * size) {
      return { split: 'holdout', images: { width: m.width, height: m.height, channels: m.channels, count: held, pixels: new Uint8Array(buf.buffer, buf.byteOffset, held * size) } };
    }
  }
  return { split: 'train', images: { width: m.width, height: m.height, channels: m.channels, count: m.count, pixels: data.images } };
}
