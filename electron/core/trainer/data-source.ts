// Streams real batches from a dataset cache, in a seeded per-epoch order whose cursor the
// checkpoint stores (exact resume). One source per layout: images (with labels when present),
// pairs, two unpaired domains, or 2-D points.
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '../models/rng.ts';
import type { DataShape, RealBatch } from '../families/types.ts';

export interface TrainingData {
  shape: DataShape;
  /** N×H×W×C uint8 (domain A / the input side for paired data) */
  images: Uint8Array | null;
  /** domain B (unpaired, countB items) or the target side (paired, N items) */
  imagesB: Uint8Array | null;
  countB: number;
  labels: Uint8Array | null;
  /** N×2 float32 for the `points` layout */
  points: Float32Array | null;
}

/** The trainer's view of a loaded dataset cache. */
export function trainingDataFromCache(c: { manifest: { layout: DataShape['layout']; height: number; width: number; channels: number; count: number; countB: number; classNames: string[] | null }; images: Uint8Array | null; imagesB: Uint8Array | null; labels: Uint8Array | null; points: Float32Array | null }): TrainingData {
  const m = c.manifest;
  return {
    shape: { layout: m.layout, height: m.height, width: m.width, channels: m.channels, count: m.count, classes: m.classNames && m.layout === 'images' ? m.classNames.length : null },
    images: c.images,
    imagesB: c.imagesB,
    countB: m.layout === 'paired' ? m.count : m.countB,
    labels: c.labels,
    points: c.points,
  };
}

export interface DataCursor {
  epoch: number;
  index: number;
}

/** Shuffled traversal of 0..n-1, epoch by epoch; the permutation of epoch e depends only on (seed, stream, e). */
class Order {
  #cursor: DataCursor = { epoch: 0, index: 0 };
  #perm: Uint32Array;
  constructor(
    readonly n: number,
    readonly seed: number,
    readonly stream: number,
  ) {
    this.#perm = this.#permutation(0);
  }
  #permutation(epoch: number): Uint32Array {
    return Rng.derive(this.seed, this.stream + epoch).permutation(this.n);
  }
  next(): number {
    if (this.#cursor.index >= this.n) {
      this.#cursor = { epoch: this.#cursor.epoch + 1, index: 0 };
      this.#perm = this.#permutation(this.#cursor.epoch);
    }
    return this.#perm[this.#cursor.index++];
  }
  get cursor(): DataCursor {
    return { ...this.#cursor };
  }
  set cursor(c: DataCursor) {
    this.#cursor = { ...c };
    this.#perm = this.#permutation(c.epoch);
  }
}

export class DataSource {
  readonly #data: TrainingData;
  readonly #order: Order;
  readonly #orderB: Order | null;
  readonly #buf: Float32Array;
  readonly #bufB: Float32Array;

  constructor(data: TrainingData, seed: number, batchSize: number) {
    this.#data = data;
    const { shape } = data;
    this.#order = new Order(shape.count, seed, 1000);
    this.#orderB = shape.layout === 'unpaired' ? new Order(data.countB, seed, 500_000) : null;
    const per = shape.layout === 'points' ? 2 : shape.height * shape.width * shape.channels;
    this.#buf = new Float32Array(batchSize * per);
    this.#bufB = new Float32Array(shape.layout === 'paired' || shape.layout === 'unpaired' ? batchSize * per : 0);
  }

  get cursor(): { a: DataCursor; b: DataCursor | null } {
    return { a: this.#order.cursor, b: this.#orderB?.cursor ?? null };
  }

  set cursor(c: { a: DataCursor; b: DataCursor | null } | DataCursor) {
    // checkpoints before the zoo stored a single cursor
    if ('epoch' in c) {
      this.#order.cursor = c;
      return;
    }
    this.#order.cursor = c.a;
    if (this.#orderB && c.b) this.#orderB.cursor = c.b;
  }

  #fill(src: Uint8Array, item: number, out: Float32Array, slot: number): void {
    const size = this.#data.shape.height * this.#data.shape.width * this.#data.shape.channels;
    const from = item * size;
    const to = slot * size;
    for (let p = 0; p < size; p++) out[to + p] = src[from + p] / 127.5 - 1;
  }

  next(b: number): RealBatch {
    const { shape, images, imagesB, labels, points } = this.#data;
    const imgShape: [number, number, number, number] = [b, shape.height, shape.width, shape.channels];
    switch (shape.layout) {
      case 'points': {
        for (let i = 0; i < b; i++) {
          const k = this.#order.next();
          this.#buf[2 * i] = points![2 * k];
          this.#buf[2 * i + 1] = points![2 * k + 1];
        }
        return { kind: 'points', x: tf.tensor2d(this.#buf.subarray(0, 2 * b), [b, 2]) };
      }
      case 'images': {
        const lab = labels ? new Int32Array(b) : null;
        for (let i = 0; i < b; i++) {
          const k = this.#order.next();
          this.#fill(images!, k, this.#buf, i);
          if (lab) lab[i] = labels![k];
        }
        return { kind: 'images', x: tf.tensor4d(this.#buf, imgShape), labels: lab };
      }
      case 'paired': {
        for (let i = 0; i < b; i++) {
          const k = this.#order.next();
          this.#fill(images!, k, this.#buf, i);
          this.#fill(imagesB!, k, this.#bufB, i);
        }
        return { kind: 'paired', a: tf.tensor4d(this.#buf, imgShape), b: tf.tensor4d(this.#bufB, imgShape) };
      }
      case 'unpaired': {
        for (let i = 0; i < b; i++) {
          this.#fill(images!, this.#order.next(), this.#buf, i);
          this.#fill(imagesB!, this.#orderB!.next(), this.#bufB, i);
        }
        return { kind: 'unpaired', a: tf.tensor4d(this.#buf, imgShape), b: tf.tensor4d(this.#bufB, imgShape) };
      }
    }
  }

  /** The first n items of domain A and B (or the pairs), as fixed sample inputs. */
  fixedImages(n: number): { a: tf.Tensor4D | null; b: tf.Tensor4D | null } {
    const { shape, images, imagesB, countB } = this.#data;
    if (shape.layout !== 'paired' && shape.layout !== 'unpaired') return { a: null, b: null };
    const size = shape.height * shape.width * shape.channels;
    const take = (src: Uint8Array, count: number) => {
      const m = Math.min(n, count);
      const out = new Float32Array(m * size);
      for (let i = 0; i < m * size; i++) out[i] = src[i] / 127.5 - 1;
      return tf.tensor4d(out, [m, shape.height, shape.width, shape.channels]);
    };
    return { a: take(images!, shape.count), b: take(imagesB!, shape.layout === 'paired' ? shape.count : countB) };
  }

  /** Bounds of the 2-D points with a 10 % margin, for the decision-map view. */
  pointsExtent(): [number, number] {
    return this.#data.points ? pointsExtent(this.#data.points) : [-1, 1];
  }

  /** A fixed subset of real points for plots. */
  realPoints(n: number): Float32Array {
    const p = this.#data.points;
    return p ? p.subarray(0, Math.min(p.length, 2 * n)) : new Float32Array(0);
  }
}

/** The square plot range of 2-D points: their bounds over both axes with a 10 % margin. */
export function pointsExtent(p: Float32Array): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of p) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  const m = (hi - lo) * 0.1;
  return [lo - m, hi + m];
}
