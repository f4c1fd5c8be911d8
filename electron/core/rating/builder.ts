// Draws the items of a rating session from its sources: blinded (opaque random ids, random file
// names), shuffled with the session seed, balanced (50/50 real/fake; sources evenly), with attention
// checks mixed in. Pure apart from the RNG it is given: the service supplies the images.
import { ApiError } from '../../common/errors.ts';
import type { RatingSource, RatingType } from '../../common/api-rating.ts';
import { Rng } from '../models/rng.ts';
import { imageAt, type ImageSet } from './sample-source.ts';
import type { ItemTruth } from './model.ts';

export interface RawImage {
  width: number;
  height: number;
  channels: 1 | 3;
  pixels: Uint8Array;
}

export interface BuiltItem {
  itemId: string;
  attention: boolean;
  truth: ItemTruth;
  images: RawImage[];
}

export interface BuildSpec {
  type: RatingType;
  items: number;
  attentionShare: number;
  gridSize: number;
  neighbours: number;
}

export function attentionCount(spec: Pick<BuildSpec, 'items' | 'attentionShare'>): number {
  return spec.attentionShare > 0 ? Math.max(1, Math.round(spec.items * spec.attentionShare)) : 0;
}

/** Splits n into k near-equal counts (the first n mod k get one more). */
export function evenSplit(n: number, k: number): number[] {
  return Array.from({ length: k }, (_, i) => Math.floor(n / k) + (i < n % k ? 1 : 0));
}

/** Refuses source lists that cannot make a session of this type, with the reason. */
export function checkSources(type: RatingType, sources: readonly Pick<RatingSource, 'kind' | 'label'>[]): void {
  const fakes = sources.filter((s) => s.kind === 'checkpoint').length;
  const reals = sources.filter((s) => s.kind === 'real').length;
  const bad = (m: string) => new ApiError('invalid_input', m);
  if (type === 'real_fake' || type === 'timed_real_fake') {
    if (reals === 0) throw bad('a real-or-fake session needs real images: add the real set (a dataset source) beside the checkpoints');
    if (fakes === 0) throw bad('a real-or-fake session needs generated images: add at least one run or checkpoint');
  } else if (type === 'preference') {
    if (sources.length < 2) throw bad(`a preference session compares two or more sources; it has ${sources.length}`);
  } else if (type === 'memorisation' || type === 'duplicates') {
    if (type === 'memorisation' && reals > 0) throw bad('a memorisation check compares generated images with their training images; leave the real set out');
    if (fakes === 0) throw bad(`a ${type} session needs at least one run or checkpoint`);
  } else if (sources.length === 0) throw bad('a session needs at least one source');
}

/** How many generated images each checkpoint source must provide, and how many real images are drawn. */
export function imagesNeeded(spec: BuildSpec, sources: readonly Pick<RatingSource, 'id' | 'kind'>[]): { perSource: Map<string, number>; reals: number } {
  const perSource = new Map<string, number>(sources.map((s) => [s.id, 0]));
  const fakes = sources.filter((s) => s.kind === 'checkpoint');
  const n = spec.items;
  let reals = 0;
  switch (spec.type) {
    case 'real_fake':
    case 'timed_real_fake': {
      reals = Math.floor(n / 2);
      evenSplit(n - reals, fakes.length).forEach((c, i) => perSource.set(fakes[i]!.id, c));
      break;
    }
    case 'preference': {
      for (const [a, b] of pairSchedule(sources.length, n)) {
        perSource.set(sources[a]!.id, perSource.get(sources[a]!.id)! + 1);
        perSource.set(sources[b]!.id, perSource.get(sources[b]!.id)! + 1);
      }
      break;
    }
    case 'quality':
      evenSplit(n, sources.length).forEach((c, i) => perSource.set(sources[i]!.id, c));
      break;
    case 'duplicates':
      evenSplit(n, sources.length).forEach((c, i) => perSource.set(sources[i]!.id, c * spec.gridSize));
      break;
    case 'memorisation':
      evenSplit(n, fakes.length).forEach((c, i) => perSource.set(fakes[i]!.id, c));
      break;
  }
  for (const s of sources) if (s.kind === 'real') reals += perSource.get(s.id)!;
  return { perSource, reals };
}

/** The source pairs of a preference session: every unordered pair in turn, `n` in all (balanced). */
export function pairSchedule(k: number, n: number): [number, number][] {
  const pairs: [number, number][] = [];
  for (let i = 0; i < k; i++) for (let j = i + 1; j < k; j++) pairs.push([i, j]);
  return Array.from({ length: n }, (_, t) => pairs[t % pairs.length]!);
}

export function shuffle<T>(xs: T[], rng: Rng): T[] {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [xs[i], xs[j]] = [xs[j]!, xs[i]!];
  }
  return xs;
}

export function opaqueId(rng: Rng, prefix = 'i'): string {
  let s = prefix;
  for (let i = 0; i < 3; i++) s += rng.nextU32().toString(16).padStart(8, '0');
  return s;
}

/** A per-rater shuffle of the session's items: seeded by the session seed and the rater's name. */
export function raterOrder(itemIds: readonly string[], seed: number, rater: string): string[] {
  let h = 0x811c9dc5;
  for (const ch of rater) h = Math.imul(h ^ ch.codePointAt(0)!, 0x01000193) >>> 0;
  return shuffle([...itemIds], new Rng((seed ^ h) >>> 0));
}

function noiseImage(like: RawImage, rng: Rng): RawImage {
  const pixels = new Uint8Array(like.pixels.length);
  for (let i = 0; i < pixels.length; i++) pixels[i] = rng.int(256);
  return { ...like, pixels };
}

function greyImage(like: RawImage): RawImage {
  return { ...like, pixels: new Uint8Array(like.pixels.length).fill(128) };
}

const raw = (set: ImageSet, i: number): RawImage => ({ width: set.width, height: set.height, channels: set.channels, pixels: imageAt(set, i) });

/** The k training images nearest (squared L2 over pixels) to `query`, from at most `cap` candidates. */
export function nearestImages(query: Uint8Array, train: ImageSet, k: number, candidates: readonly number[]): number[] {
  const best: { d: number; i: number }[] = [];
  for (const i of candidates) {
    const img = imageAt(train, i);
    let d = 0;
    for (let p = 0; p < img.length; p++) {
      const t = img[p]! - query[p]!;
      d += t * t;
    }
    if (best.length < k || d < best[best.length - 1]!.d) {
      best.push({ d, i });
      best.sort((a, b) => a.d - b.d);
      if (best.length > k) best.pop();
    }
  }
  return best.map((b) => b.i);
}

export interface BuildInputs {
  spec: BuildSpec;
  sources: readonly RatingSource[];
  /** generated images per checkpoint source (exactly `imagesNeeded`), and the real pool per real source */
  pools: Map<string, ImageSet>;
  /** memorisation: the training images each checkpoint source's run learnt from */
  training?: Map<string, ImageSet>;
  seed: number;
  /** nearest-neighbour candidates per query (memorisation), default 20 000 */
  neighbourCap?: number;
}

/** Builds the items in their canonical (shuffled) order. */
export function buildItems(input: BuildInputs): { items: BuiltItem[]; notes: string[] } {
  const { spec, sources, pools } = input;
  const rng = new Rng(input.seed);
  const notes: string[] = [];
  const items: BuiltItem[] = [];
  const cursor = new Map<string, number>();
  const realSources = sources.filter((s) => s.kind === 'real');
  // reals are drawn without replacement, from a seeded shuffle of each pool
  const realOrder = new Map(realSources.map((s) => [s.id, shuffle(Array.from({ length: pools.get(s.id)!.count }, (_, i) => i), rng)]));
  const take = (sourceId: string): RawImage => {
    const set = pools.get(sourceId);
    if (!set) throw new ApiError('internal', `no images for source ${sourceId}`);
    const at = cursor.get(sourceId) ?? 0;
    cursor.set(sourceId, at + 1);
    const order = realOrder.get(sourceId);
    if (order) {
      if (at >= order.length) throw new ApiError('invalid_input', `the real set ${sources.find((s) => s.id === sourceId)!.label} has only ${order.length} images; the session needs more — ask for fewer items`);
      return raw(set, order[at]!);
    }
    if (at >= set.count) throw new ApiError('internal', `source ${sourceId} ran out of generated images`);
    return raw(set, at);
  };
  const fakes = sources.filter((s) => s.kind === 'checkpoint');
  const n = spec.items;
  const id = () => opaqueId(rng);

  switch (spec.type) {
    case 'real_fake':
    case 'timed_real_fake': {
      const timed = spec.type === 'timed_real_fake';
      const nReal = Math.floor(n / 2);
      const realPool = realSources.flatMap((s) => Array.from({ length: pools.get(s.id)!.count }, () => s.id));
      const totalReal = realPool.length;
      if (totalReal < nReal) throw new ApiError('invalid_input', `the real set has only ${totalReal} images; a real-or-fake session of ${n} items needs ${nReal} — ask for fewer items`);
      // reals from the real sources in proportion, each assigned to a generator's staircase in turn
      const realCounts = evenSplit(nReal, realSources.length);
      let r = 0;
      realSources.forEach((s, si) => {
        for (let c = 0; c < realCounts[si]!; c++, r++) {
          items.push({ itemId: id(), attention: false, truth: { kind: 'real_fake', truth: 'real', sourceId: s.id, block: timed ? fakes[r % fakes.length]!.id : null }, images: [take(s.id)] });
        }
      });
      evenSplit(n - nReal, fakes.length).forEach((c, fi) => {
        for (let k = 0; k < c; k++) items.push({ itemId: id(), attention: false, truth: { kind: 'real_fake', truth: 'fake', sourceId: fakes[fi]!.id, block: timed ? fakes[fi]!.id : null }, images: [take(fakes[fi]!.id)] });
      });
      if (n % 2 === 1) notes.push(`${n} items: ${nReal} real and ${n - nReal} generated (an odd count cannot split 50/50)`);
      const like = items[0]!.images[0]!;
      for (let a = 0; a < attentionCount(spec); a++) {
        items.push({ itemId: id(), attention: true, truth: { kind: 'real_fake', truth: 'fake', sourceId: 'attention', block: null }, images: [a % 2 === 0 ? noiseImage(like, rng) : greyImage(like)] });
      }
      break;
    }
    case 'preference': {
      for (const [a, b] of pairSchedule(sources.length, n)) {
        const flip = rng.uniform() < 0.5;
        const [l, rr] = flip ? [b, a] : [a, b];
        items.push({ itemId: id(), attention: false, truth: { kind: 'preference', left: sources[l]!.id, right: sources[rr]!.id, better: null }, images: [take(sources[l]!.id), take(sources[rr]!.id)] });
      }
      const scored = items.length;
      for (let a = 0; a < attentionCount(spec); a++) {
        const donor = items[rng.int(scored)]!;
        const side = rng.int(2);
        const good = donor.images[side]!;
        const noise = noiseImage(good, rng);
        const goodLeft = rng.uniform() < 0.5;
        const src = side === 0 ? (donor.truth as { left: string }).left : (donor.truth as { right: string }).right;
        items.push({
          itemId: id(),
          attention: true,
          truth: { kind: 'preference', left: goodLeft ? src : 'attention', right: goodLeft ? 'attention' : src, better: goodLeft ? 'left' : 'right' },
          images: goodLeft ? [good, noise] : [noise, good],
        });
      }
      break;
    }
    case 'quality': {
      evenSplit(n, sources.length).forEach((c, si) => {
        for (let k = 0; k < c; k++) items.push({ itemId: id(), attention: false, truth: { kind: 'quality', sourceId: sources[si]!.id }, images: [take(sources[si]!.id)] });
      });
      const like = items[0]!.images[0]!;
      for (let a = 0; a < attentionCount(spec); a++) items.push({ itemId: id(), attention: true, truth: { kind: 'quality', sourceId: 'attention' }, images: [noiseImage(like, rng)] });
      break;
    }
    case 'duplicates': {
      evenSplit(n, sources.length).forEach((c, si) => {
        for (let k = 0; k < c; k++) {
          const grid = Array.from({ length: spec.gridSize }, () => take(sources[si]!.id));
          items.push({ itemId: id(), attention: false, truth: { kind: 'duplicates', sourceId: sources[si]!.id, duplicateCells: [] }, images: grid });
        }
      });
      const scored = items.length;
      for (let a = 0; a < attentionCount(spec); a++) {
        const donor = items[rng.int(scored)]!;
        const grid = donor.images.slice(0, spec.gridSize - 1);
        grid.push(grid[rng.int(grid.length)]!);
        const order = shuffle(Array.from({ length: grid.length }, (_, i) => i), rng);
        const shuffled = order.map((i) => grid[i]!);
        const dupCells = shuffled.map((img, i) => ({ img, i })).filter(({ img }) => shuffled.filter((o) => o === img).length > 1).map(({ i }) => i);
        items.push({ itemId: id(), attention: true, truth: { kind: 'duplicates', sourceId: 'attention', duplicateCells: dupCells }, images: shuffled });
      }
      break;
    }
    case 'memorisation': {
      const cap = input.neighbourCap ?? 20_000;
      evenSplit(n, fakes.length).forEach((c, fi) => {
        const src = fakes[fi]!;
        const train = input.training?.get(src.id);
        if (!train) throw new ApiError('internal', `no training images for source ${src.id}`);
        let candidates = Array.from({ length: train.count }, (_, i) => i);
        if (candidates.length > cap) {
          candidates = shuffle(candidates, rng).slice(0, cap).sort((x, y) => x - y);
          notes.push(`${src.label}: nearest training images searched among ${cap} of ${train.count} (a seeded subset)`);
        }
        for (let k = 0; k < c; k++) {
          const g = take(src.id);
          const nn = nearestImages(g.pixels, train, spec.neighbours, candidates);
          items.push({ itemId: id(), attention: false, truth: { kind: 'memorisation', sourceId: src.id, copy: null }, images: [g, ...nn.map((i) => raw(train, i))] });
        }
      });
      const scored = items.length;
      for (let a = 0; a < attentionCount(spec); a++) {
        const donor = items[rng.int(scored)]!;
        items.push({ itemId: id(), attention: true, truth: { kind: 'memorisation', sourceId: 'attention', copy: true }, images: [donor.images[1]!, ...donor.images.slice(1)] });
      }
      break;
    }
  }
  return { items: shuffle(items, rng), notes };
}
