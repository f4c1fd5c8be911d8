// Built-in image-to-image datasets derived from the built-in MNIST digits, so the translation
// families (pix2pix, CycleGAN) train offline out of the box. Pure functions of the MNIST arrays:
// - `builtin:mnist-edges` (paired): A = the digit's Sobel edge map, B = the digit (edges → digit);
// - `builtin:mnist-thick` (unpaired): A = digits, B = digits thickened by a 3×3 grey dilation,
//   drawn from disjoint halves of the data so no A image has its own B counterpart in training.
import type { DatasetLayout } from '../families/types.ts';
import { builtinMnistArrays } from './builtin-mnist.ts';

const SIDE = 28;
const PIXELS = SIDE * SIDE;

export interface PairedImages {
  /** N×28×28×1 uint8, the input side (edge maps) */
  a: Uint8Array;
  /** N×28×28×1 uint8, the target side (digits), pair i ↔ pair i */
  b: Uint8Array;
  count: number;
  height: 28;
  width: 28;
  channels: 1;
}

export interface UnpairedImages {
  /** domain A: original digits, `count` images */
  a: Uint8Array;
  count: number;
  /** domain B: thickened digits of other source images, `countB` images */
  b: Uint8Array;
  countB: number;
  /** digits in neither training domain, with their true thickened versions (for measuring a translation) */
  holdout: { a: Uint8Array; b: Uint8Array; count: number };
  height: 28;
  width: 28;
  channels: 1;
}

export interface BuiltinTranslationDataset {
  id: string;
  name: string;
  description: string;
  layout: Extract<DatasetLayout, 'paired' | 'unpaired'>;
}

export const BUILTIN_TRANSLATION_DATASETS: readonly BuiltinTranslationDataset[] = [
  {
    id: 'builtin:mnist-edges',
    name: 'MNIST edges → digits (built in)',
    description: 'Paired: the Sobel edge map of each built-in MNIST digit (A) and the digit itself (B). For pix2pix.',
    layout: 'paired',
  },
  {
    id: 'builtin:mnist-thick',
    name: 'MNIST thin ↔ thick (built in)',
    description: 'Unpaired: original MNIST digits (A) and digits thickened by a 3×3 dilation (B), from disjoint halves of the data. For CycleGAN.',
    layout: 'unpaired',
  },
];

/**
 * Sobel gradient magnitude of one 28×28 image (zero padding), scaled so a full 0→255 step edge
 * maps to 255; magnitudes under 1/8 of that are cleared so faint anti-aliasing does not show.
 */
export function sobelEdges(src: Uint8Array, offset: number, out: Uint8Array, outOffset: number): void {
  const px = (y: number, x: number) => (y < 0 || y >= SIDE || x < 0 || x >= SIDE ? 0 : src[offset + y * SIDE + x]);
  for (let y = 0; y < SIDE; y++) {
    for (let x = 0; x < SIDE; x++) {
      const gx = px(y - 1, x + 1) + 2 * px(y, x + 1) + px(y + 1, x + 1) - px(y - 1, x - 1) - 2 * px(y, x - 1) - px(y + 1, x - 1);
      const gy = px(y + 1, x - 1) + 2 * px(y + 1, x) + px(y + 1, x + 1) - px(y - 1, x - 1) - 2 * px(y - 1, x) - px(y - 1, x + 1);
      // a step of 255 between two flat regions gives |g| = 4·255
      const m = Math.sqrt(gx * gx + gy * gy) / 4;
      out[outOffset + y * SIDE + x] = m < 32 ? 0 : Math.min(255, Math.round(m));
    }
  }
}

/** 3×3 grey dilation (max over the neighbourhood) of one 28×28 image: strokes grow by a pixel each side. */
export function dilate3x3(src: Uint8Array, offset: number, out: Uint8Array, outOffset: number): void {
  for (let y = 0; y < SIDE; y++) {
    for (let x = 0; x < SIDE; x++) {
      let m = 0;
      for (let dy = -1; dy <= 1; dy++) {
        const yy = y + dy;
        if (yy < 0 || yy >= SIDE) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const xx = x + dx;
          if (xx < 0 || xx >= SIDE) continue;
          const v = src[offset + yy * SIDE + xx];
          if (v > m) m = v;
        }
      }
      out[outOffset + y * SIDE + x] = m;
    }
  }
}

/** Every built-in digit paired with its edge map: A = edges, B = digit. */
export function mnistEdgesPairs(): PairedImages {
  const { arrays, manifest } = builtinMnistArrays();
  const count = manifest.count;
  const a = new Uint8Array(count * PIXELS);
  for (let i = 0; i < count; i++) sobelEdges(arrays.images, i * PIXELS, a, i * PIXELS);
  return { a, b: arrays.images, count, height: SIDE, width: SIDE, channels: 1 };
}

/**
 * Two unpaired domains from the built-in digits (already in a fixed class-mixing shuffle): the first
 * 45 % as domain A, the thickened next 45 % as domain B, and the last 10 % held out as true pairs.
 */
export function mnistThickUnpaired(): UnpairedImages {
  const { arrays, manifest } = builtinMnistArrays();
  const total = manifest.count;
  const holdoutCount = Math.floor(total / 10);
  const count = Math.floor((total - holdoutCount) / 2);
  const countB = total - holdoutCount - count;
  const a = arrays.images.slice(0, count * PIXELS);
  const b = new Uint8Array(countB * PIXELS);
  for (let i = 0; i < countB; i++) dilate3x3(arrays.images, (count + i) * PIXELS, b, i * PIXELS);
  const hoStart = count + countB;
  const ha = arrays.images.slice(hoStart * PIXELS, total * PIXELS);
  const hb = new Uint8Array(holdoutCount * PIXELS);
  for (let i = 0; i < holdoutCount; i++) dilate3x3(arrays.images, (hoStart + i) * PIXELS, hb, i * PIXELS);
  return { a, count, b, countB, holdout: { a: ha, b: hb, count: holdoutCount }, height: SIDE, width: SIDE, channels: 1 };
}
