// "See the data": per-channel mean and std, exact duplicates (identical preprocessed pixels) and
// near-duplicates (64-bit difference hash within a small Hamming distance), and the size
// distribution of the source images. Near-duplicate search uses the pigeonhole trick: two hashes
// within distance 3 agree exactly on one of four 16-bit bands, so only bucket-mates are compared,
// after identical hashes are grouped, under a comparison budget so a folder of near-identical
// images cannot stall the import.
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
/** first copies with one dHash compared byte by byte; more are indexed by content hash */
const SMALL_GROUP = 8;

export function channelStats(sets: ImageSet[], channels: number): { mean: number[]; std: number[] } {
  const sum = new Float64Array(channels);
  const sq = new Float64Array(channels);
  let pixels = 0;
  for (const s of sets) {
    const data = s.images;
    // sums of integers, exact in doubles (below 2^53) in any order; channels 1 and 3 unrolled
    if (channels === 1) {
      let s0 = 0;
      let q0 = 0;
      for (let i = 0; i < data.length; i++) {
        const v = data[i];
        s0 += v;
        q0 += v * v;
      }
      sum[0] += s0;
      sq[0] += q0;
    } else if (channels === 3) {
      let [s0, s1, s2, q0, q1, q2] = [0, 0, 0, 0, 0, 0];
      for (let i = 0; i + 2 < data.length; i += 3) {
        const r = data[i];
        const g = data[i + 1];
        const b = data[i + 2];
        s0 += r;
        s1 += g;
        s2 += b;
        q0 += r * r;
        q1 += g * g;
        q2 += b * b;
      }
      sum[0] += s0;
      sum[1] += s1;
      sum[2] += s2;
      sq[0] += q0;
      sq[1] += q1;
      sq[2] += q2;
    } else {
      for (let i = 0; i < data.length; i += channels) {
        for (let c = 0; c < channels; c++) {
          const v = data[i + c];
          sum[c] += v;
          sq[c] += v * v;
        }
      }
    }
    pixels += data.length / channels;
  }
  const mean = Array.from(sum, (s) => (pixels ? s / pixels : 0));
  const std = Array.from(sq, (q, c) => (pixels ? Math.sqrt(Math.max(0, q / pixels - mean[c] ** 2)) : 0));
  return { mean: mean.map(round3), std: std.map(round3) };
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;

/** Which of the 9×8 dHash cells each pixel row and column falls in, per image side. */
const cellTables = new Map<number, { rowCell: Uint8Array; colCell: Uint8Array; counts: Uint32Array }>();
function cellTable(size: number) {
  let t = cellTables.get(size);
  if (!t) {
    const rowCell = Uint8Array.from({ length: size }, (_, y) => Math.min(7, Math.floor((y * 8) / size)));
    const colCell = Uint8Array.from({ length: size }, (_, x) => Math.min(8, Math.floor((x * 9) / size)));
    const counts = new Uint32Array(9 * 8);
    for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) counts[rowCell[y] * 9 + colCell[x]]++;
    t = { rowCell, colCell, counts };
    cellTables.set(size, t);
  }
  return t;
}

/**
 * dHash: the image shrunk to 9×8 grey cells (box average); bit = left cell brighter than right.
 * `scratch` (72 doubles) may be passed to hash many images without allocating.
 */
export function differenceHash(img: Uint8Array, size: number, channels: number, scratch: Float64Array = new Float64Array(9 * 8)): [number, number] {
  const { rowCell, colCell, counts } = cellTable(size);
  const cells = scratch;
  cells.fill(0);
  if (channels === 1) {
    // integer sums: the same values the per-pixel float sum gives (exact below 2^53)
    for (let y = 0, o = 0; y < size; y++) {
      const row = rowCell[y] * 9;
      for (let x = 0; x < size; x++, o++) cells[row + colCell[x]] += img[o];
    }
  } else {
    for (let y = 0, o = 0; y < size; y++) {
      const row = rowCell[y] * 9;
      for (let x = 0; x < size; x++, o += channels) {
        let v = 0;
        for (let c = 0; c < channels; c++) v += img[o + c];
        cells[row + colCell[x]] += v / channels;
      }
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

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export interface DuplicateReport {
  exactDuplicates: { groups: number; extraCopies: number; pairs: { a: ItemRef; b: ItemRef }[] };
  nearDuplicates: { threshold: number; pairs: { a: ItemRef; b: ItemRef; distance: number }[]; truncated: boolean };
}

interface PhaseSink {
  add(name: string, ms: number): void;
}

/** Where the banded scan (band, bucket, then item order) meets a near pair first; and its distance. */
type NearKey = [band: number, bucketFirst: number, p: number, q: number, distance: number];

function compareKeys(x: NearKey, y: NearKey): number {
  for (let i = 0; i < 4; i++) if (x[i] !== y[i]) return x[i] - y[i];
  return 0;
}

/**
 * Exact and near duplicates across all items of all sets (one domain at a time is the caller's
 * choice).
 *
 * Exact: items with the same bytes (which have the same dHash, so only items of one hash group are
 * compared); pairs list the first copy with each later one, in item order.
 *
 * Near: among the first copies, dHashes within NEAR_THRESHOLD bits. Items with the same hash are
 * grouped first (distance 0 among themselves), so only distinct hashes are compared; by the
 * pigeonhole principle two hashes within 3 bits agree on one of four 16-bit bands, so only hashes
 * sharing a band value are compared (multi-index hashing), under a comparison budget.
 * The pairs listed are the MAX_PAIRS first that a scan of the band buckets (band by band, buckets
 * in order of their first item, item pairs in order) meets, closest first: the same list a plain
 * scan gives, but the scan stops once the list is settled and more pairs are known to exist.
 * `truncated` says more pairs exist (or the comparison budget ran out).
 */
export function findDuplicates(sets: ImageSet[], size: number, channels: number, clock?: PhaseSink): DuplicateReport {
  const itemBytes = size * size * channels;
  const refs: ItemRef[] = [];
  const views: Uint8Array[] = [];
  for (const s of sets) {
    for (let i = 0; i < s.count; i++) {
      refs.push(s.refs[i]);
      views.push(s.images.subarray(i * itemBytes, (i + 1) * itemBytes));
    }
  }
  // dHash of every item first: exact copies share it, so bytes are compared only within a hash group
  const t0 = performance.now();
  const count = views.length;
  const allHi = new Uint32Array(count);
  const allLo = new Uint32Array(count);
  const scratch = new Float64Array(9 * 8);
  for (let i = 0; i < count; i++) [allHi[i], allLo[i]] = differenceHash(views[i], size, channels, scratch);
  const t1 = performance.now();
  clock?.add('dHash', t1 - t0);

  // exact: the first copy of each content, found among the first copies with the same dHash
  // (compared byte by byte; a group with many distinct contents is indexed by sha1 instead)
  const groups = new Map<number, number>();
  const exactPairs: { a: ItemRef; b: ItemRef }[] = [];
  let extraCopies = 0;
  const representatives: number[] = [];
  /** per distinct dHash: its index among the unique hashes */
  const uniqueOf = new Map<string, number>();
  const uHi: number[] = [];
  const uLo: number[] = [];
  /** per unique hash: its first copies (indices into `representatives`, ascending) */
  const members: number[][] = [];
  const byContent: (Map<string, number> | null)[] = [];
  const contentKey = (v: Uint8Array) => crypto.createHash('sha1').update(v).digest('base64');
  for (let i = 0; i < count; i++) {
    const key = `${allHi[i]}:${allLo[i]}`;
    let u = uniqueOf.get(key);
    if (u === undefined) {
      u = members.length;
      uniqueOf.set(key, u);
      uHi.push(allHi[i]);
      uLo.push(allLo[i]);
      members.push([]);
      byContent.push(null);
    }
    const firsts = members[u];
    let index = byContent[u];
    if (!index && firsts.length >= SMALL_GROUP) {
      index = new Map(firsts.map((k) => [contentKey(views[representatives[k]]), representatives[k]]));
      byContent[u] = index;
    }
    let first: number | undefined;
    if (index) {
      const ck = contentKey(views[i]);
      first = index.get(ck);
      if (first === undefined) index.set(ck, i);
    } else {
      for (const k of firsts) {
        if (sameBytes(views[representatives[k]], views[i])) {
          first = representatives[k];
          break;
        }
      }
    }
    if (first === undefined) {
      firsts.push(representatives.length);
      representatives.push(i);
      continue;
    }
    extraCopies++;
    groups.set(first, (groups.get(first) ?? 0) + 1);
    if (exactPairs.length < MAX_PAIRS) exactPairs.push({ a: refs[first], b: refs[i] });
  }
  const t2 = performance.now();
  clock?.add('exactDuplicates', t2 - t1);

  // near: among the first copies, grouped by hash (members above)
  const bandOf = (u: number, b: number) => (b === 0 ? uHi[u] >>> 16 : b === 1 ? uHi[u] & 0xffff : b === 2 ? uLo[u] >>> 16 : uLo[u] & 0xffff);
  const bands = [0, 1, 2, 3].map(() => new Map<number, number[]>());
  for (let u = 0; u < members.length; u++) {
    for (let b = 0; b < 4; b++) {
      const v = bandOf(u, b);
      const list = bands[b].get(v);
      if (list) list.push(u);
      else bands[b].set(v, [u]);
    }
  }

  // the MAX_PAIRS first pairs in scan order, kept in a buffer pruned now and then
  const kept: NearKey[] = [];
  let bound: NearKey | null = null;
  const prune = () => {
    kept.sort(compareKeys);
    kept.length = Math.min(kept.length, MAX_PAIRS);
    if (kept.length === MAX_PAIRS) bound = kept[MAX_PAIRS - 1];
  };
  let total = 0;
  // the member pairs of two hash groups (or of one group with itself), all met in the same bucket:
  // only the MAX_PAIRS first members of each side can give one of the MAX_PAIRS first (p, q)
  const offer = (band: number, bucketFirst: number, d: number, us: number[], vs: number[] | null) => {
    total += vs ? us.length * vs.length : (us.length * (us.length - 1)) / 2;
    if (bound && (band > bound[0] || (band === bound[0] && bucketFirst > bound[1]))) return;
    // (with itself, the pair of the first member with the 201st can still be among the first 200)
    const a = us.length > MAX_PAIRS ? us.slice(0, vs ? MAX_PAIRS : MAX_PAIRS + 1) : us;
    if (vs) {
      const b = vs.length > MAX_PAIRS ? vs.slice(0, MAX_PAIRS) : vs;
      for (const p of a) for (const q of b) kept.push(p < q ? [band, bucketFirst, p, q, d] : [band, bucketFirst, q, p, d]);
    } else {
      for (let x = 0; x < a.length; x++) for (let y = x + 1; y < a.length; y++) kept.push([band, bucketFirst, a[x], a[y], d]);
    }
    if (kept.length > 4 * MAX_PAIRS) prune();
  };

  let comparisons = 0;
  let truncated = false;
  outer: for (let b = 0; b < 4; b++) {
    for (const list of bands[b].values()) {
      const bucketFirst = members[list[0]][0];
      if (total > MAX_PAIRS) {
        // the list is full and more pairs exist: buckets met later cannot change it
        prune();
        if (bound && (b > bound[0] || (b === bound[0] && bucketFirst > bound[1]))) break outer;
      }
      // identical hashes agree on every band: their pairs are met in band 0
      if (b === 0) for (const u of list) if (members[u].length > 1) offer(0, bucketFirst, 0, members[u], null);
      for (let x = 0; x < list.length; x++) {
        const u = list[x];
        const uh = uHi[u];
        const ul = uLo[u];
        for (let y = x + 1; y < list.length; y++) {
          if (++comparisons > COMPARISON_BUDGET) {
            truncated = true;
            break outer;
          }
          const v = list[y];
          const xh = uh ^ uHi[v];
          const xl = ul ^ uLo[v];
          const d = popcount(xh) + popcount(xl);
          if (d > NEAR_THRESHOLD) continue;
          // met first in the earliest band the two agree on: counted there only
          const first = xh >>> 16 === 0 ? 0 : (xh & 0xffff) === 0 ? 1 : xl >>> 16 === 0 ? 2 : 3;
          if (first !== b) continue;
          offer(b, bucketFirst, d, members[u], members[v]);
        }
      }
    }
  }
  prune();
  if (total > MAX_PAIRS) truncated = true;
  // closest first; the scan order among equal distances (a stable sort)
  kept.sort((x, y) => x[4] - y[4]);
  const nearPairs = kept.map(([, , p, q, d]) => ({ a: refs[representatives[p]], b: refs[representatives[q]], distance: d }));
  clock?.add('nearDuplicates', performance.now() - t2);
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
