// "See the data": per-channel mean and std, exact duplicates (identical preprocessed pixels) and
// near-duplicates (64-bit difference hash within a small Hamming distance), and the size
// distribution of the source images. Near-duplicate search uses the pigeonhole trick: two hashes
// within distance 3 agree exactly on one of four 16-bit bands, so only bucket-mates are compared,
// under a comparison budget so a folder of near-identical images cannot stall the import.
import crypto from 'node:crypto';
import { Rng } from '../../models/rng.ts';

export interface ItemRef {
  path: string;
  split: 'train' | 'holdout';
  index: number;
  domain: 'a' | 'b';
}

export interface ImageSet {
  images: Uint8Array;
  count: number;
  refs: ItemRef[];
}

export const NEAR_THRESHOLD = 3;
const MAX_PAIRS = 200;
const COMPARISON_BUDGET = 20_000_000;

export function channelStats(sets: ImageSet[], channels: number): { mean: number[]; std: number[] } {
  const sum = new Float64Array(channels);
  const sq = new Float64Array(channels);
  let pixels = 0;
  for (const s of sets) {
    const data = s.images;
    for (let i = 0; i < data.length; i += channels) {
      for (let c = 0; c < channels; c++) {
        const v = data[i + c];
        sum[c] += v;
        sq[c] += v * v;
      }
    }
    pixels += data.length / channels;
  }
  const mean = Array.from(sum, (s) => (pixels ? s / pixels : 0));
  const std = Array.from(sq, (q, c) => (pixels ? Math.sqrt(Math.max(0, q / pixels - mean[c] ** 2)) : 0));
  return { mean: mean.map(round3), std: std.map(round3) };
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;

/** dHash: the image shrunk to 9×8 grey cells (box average); bit = left cell brighter than right. */
export function differenceHash(img: Uint8Array, size: number, channels: number): [number, number] {
  const cells = new Float64Array(9 * 8);
  const counts = new Uint32Array(9 * 8);
  for (let y = 0; y < size; y++) {
    const cy = Math.min(7, Math.floor((y * 8) / size));
    for (let x = 0; x < size; x++) {
      const cx = Math.min(8, Math.floor((x * 9) / size));
      let v = 0;
      const o = (y * size + x) * channels;
      for (let c = 0; c < channels; c++) v += img[o + c];
      cells[cy * 9 + cx] += v / channels;
      counts[cy * 9 + cx]++;
    }
  }
  let hi = 0;
  let lo = 0;
  for (let y = 0; y < 8; y++) {
    for (let x = 0; x < 8; x++) {
      const a = cells[y * 9 + x] / Math.max(1, counts[y * 9 + x]);
      const b = cells[y * 9 + x + 1] / Math.max(1, counts[y * 9 + x + 1]);
      const bit = y * 8 + x;
      if (a > b) {
        if (bit < 32) lo |= 1 << bit;
        else hi |= 1 << (bit - 32);
      }
    }
  }
  return [hi >>> 0, lo >>> 0];
}

function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (((x + (x >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

export interface DuplicateReport {
  exactDuplicates: { groups: number; extraCopies: number; pairs: { a: ItemRef; b: ItemRef }[] };
  nearDuplicates: { threshold: number; pairs: { a: ItemRef; b: ItemRef; distance: number }[]; truncated: boolean };
}

/** Exact and near duplicates across all items of all sets (one domain at a time is the caller's choice). */
export function findDuplicates(sets: ImageSet[], size: number, channels: number): DuplicateReport {
  const itemBytes = size * size * channels;
  const refs: ItemRef[] = [];
  const views: Uint8Array[] = [];
  for (const s of sets) {
    for (let i = 0; i < s.count; i++) {
      refs.push(s.refs[i]);
      views.push(s.images.subarray(i * itemBytes, (i + 1) * itemBytes));
    }
  }
  const firstOf = new Map<string, number>();
  const groups = new Map<number, number>();
  const exactPairs: { a: ItemRef; b: ItemRef }[] = [];
  let extraCopies = 0;
  const representatives: number[] = [];
  for (let i = 0; i < views.length; i++) {
    const key = crypto.createHash('sha1').update(views[i]).digest('base64');
    const first = firstOf.get(key);
    if (first === undefined) {
      firstOf.set(key, i);
      representatives.push(i);
      continue;
    }
    extraCopies++;
    groups.set(first, (groups.get(first) ?? 0) + 1);
    if (exactPairs.length < MAX_PAIRS) exactPairs.push({ a: refs[first], b: refs[i] });
  }

  const hashes = representatives.map((i) => differenceHash(views[i], size, channels));
  const bands = [0, 1, 2, 3].map(() => new Map<number, number[]>());
  hashes.forEach(([hi, lo], k) => {
    const parts = [hi >>> 16, hi & 0xffff, lo >>> 16, lo & 0xffff];
    parts.forEach((p, b) => {
      const list = bands[b].get(p);
      if (list) list.push(k);
      else bands[b].set(p, [k]);
    });
  });
  const found = new Set<number>();
  const nearPairs: { a: ItemRef; b: ItemRef; distance: number }[] = [];
  let comparisons = 0;
  let truncated = false;
  outer: for (const band of bands) {
    for (const list of band.values()) {
      for (let x = 0; x < list.length; x++) {
        for (let y = x + 1; y < list.length; y++) {
          if (++comparisons > COMPARISON_BUDGET) {
            truncated = true;
            break outer;
          }
          const p = list[x];
          const q = list[y];
          const d = popcount(hashes[p][0] ^ hashes[q][0]) + popcount(hashes[p][1] ^ hashes[q][1]);
          if (d > NEAR_THRESHOLD) continue;
          const key = p * hashes.length + q;
          if (found.has(key)) continue;
          found.add(key);
          if (nearPairs.length < MAX_PAIRS) nearPairs.push({ a: refs[representatives[p]], b: refs[representatives[q]], distance: d });
          else truncated = true;
        }
      }
    }
  }
  nearPairs.sort((a, b) => a.distance - b.distance);
  return {
    exactDuplicates: { groups: groups.size, extraCopies, pairs: exactPairs },
    nearDuplicates: { threshold: NEAR_THRESHOLD, pairs: nearPairs, truncated },
  };
}

const SIDE_BINS = [16, 32, 64, 128, 256, 512, 1024];

export class SizeTally {
  readonly #sizes = new Map<string, number>();
  readonly #bins = new Array<number>(SIDE_BINS.length + 1).fill(0);
  add(width: number, height: number): void {
    const key = `${width}x${height}`;
    this.#sizes.set(key, (this.#sizes.get(key) ?? 0) + 1);
    const side = Math.max(width, height);
    const bin = SIDE_BINS.findIndex((b) => side <= b);
    this.#bins[bin === -1 ? SIDE_BINS.length : bin]++;
  }
  addMany(width: number, height: number, n: number): void {
    for (let i = 0; i < n; i++) this.add(width, height);
  }
  sizes(): { width: number; height: number; count: number }[] {
    return [...this.#sizes.entries()]
      .map(([k, count]) => {
        const [width, height] = k.split('x').map(Number);
        return { width, height, count };
      })
      .sort((a, b) => b.count - a.count || b.width * b.height - a.width * a.height)
      .slice(0, 50);
  }
  histogram(): { upTo: number | null; count: number }[] {
    return this.#bins.map((count, i) => ({ upTo: SIDE_BINS[i] ?? null, count }));
  }
}

/**
 * Seeded held-out split, stratified by class when labelled: each class gives round(fraction × n)
 * items (keeping at least one for training). Both index lists are ascending.
 */
export function splitHoldout(n: number, labels: Uint8Array | null, fraction: number, seed: number): { train: number[]; holdout: number[] } {
  const isHeld = new Uint8Array(n);
  if (fraction > 0 && n > 1) {
    const groups = new Map<number, number[]>();
    for (let i = 0; i < n; i++) {
      const g = labels ? labels[i] : 0;
      const list = groups.get(g);
      if (list) list.push(i);
      else groups.set(g, [i]);
    }
    for (const [g, members] of [...groups.entries()].sort((a, b) => a[0] - b[0])) {
      const k = Math.min(members.length - 1, Math.round(members.length * fraction));
      const perm = Rng.derive(seed, 1000 + g).permutation(members.length);
      for (let j = 0; j < k; j++) isHeld[members[perm[j]]] = 1;
    }
  }
  const train: number[] = [];
  const holdout: number[] = [];
  for (let i = 0; i < n; i++) (isHeld[i] ? holdout : train).push(i);
  return { train, holdout };
}
