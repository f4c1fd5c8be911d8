// Drawing a session's items (balance, blinding, attention checks, seeded order) and scoring them,
// without a core: synthetic image pools and simulated raters.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RatingSession, RatingSource } from '../../electron/common/api-rating.ts';
import { buildItems, checkSources, imagesNeeded, raterOrder } from '../../electron/core/rating/builder.ts';
import type { ImageSet } from '../../electron/core/rating/sample-source.ts';
import { attentionPassed, computeResults } from '../../electron/core/rating/results.ts';
import type { AnswerRow, ItemRow } from '../../electron/core/rating/model.ts';
import { Rng } from '../../electron/core/models/rng.ts';

const pool = (count: number, fill: number): ImageSet => ({ width: 4, height: 4, channels: 1, count, pixels: new Uint8Array(count * 16).map((_, i) => (fill + Math.floor(i / 16)) % 256) });
const src = (id: string, kind: 'checkpoint' | 'real'): RatingSource => ({ id, kind, runId: kind === 'checkpoint' ? `run-${id}` : null, step: kind === 'checkpoint' ? 10 : null, datasetId: 'd', split: kind === 'real' ? 'holdout' : null, label: id });

test('refusals name the problem', () => {
  assert.throws(() => checkSources('real_fake', [src('a', 'checkpoint')]), /needs real images/);
  assert.throws(() => checkSources('timed_real_fake', [src('r', 'real')]), /needs generated images/);
  assert.throws(() => checkSources('preference', [src('a', 'checkpoint')]), /two or more sources; it has 1/);
  assert.throws(() => checkSources('memorisation', [src('a', 'checkpoint'), src('r', 'real')]), /leave the real set out/);
  assert.doesNotThrow(() => checkSources('preference', [src('a', 'checkpoint'), src('r', 'real')]));
});

test('real-or-fake draw: 50/50, generators evenly, attention checks, opaque ids, seeded', () => {
  const sources = [src('s0', 'checkpoint'), src('s1', 'checkpoint'), src('s2', 'real')];
  const spec = { type: 'real_fake' as const, items: 20, attentionShare: 0.1, gridSize: 16, neighbours: 3 };
  const need = imagesNeeded(spec, sources);
  assert.deepEqual([need.perSource.get('s0'), need.perSource.get('s1'), need.reals], [5, 5, 10]);
  const pools = new Map([
    ['s0', pool(5, 10)],
    ['s1', pool(5, 60)],
    ['s2', pool(50, 120)],
  ]);
  const a = buildItems({ spec, sources, pools, seed: 9 });
  const b = buildItems({ spec, sources, pools, seed: 9 });
  const c = buildItems({ spec, sources, pools, seed: 10 });
  assert.deepEqual(a.items.map((i) => i.itemId), b.items.map((i) => i.itemId), 'the same seed draws the same session');
  assert.notDeepEqual(a.items.map((i) => i.itemId), c.items.map((i) => i.itemId));
  const scored = a.items.filter((i) => !i.attention);
  const truths = scored.map((i) => (i.truth.kind === 'real_fake' ? i.truth.truth : ''));
  assert.equal(truths.filter((t) => t === 'real').length, 10);
  assert.equal(truths.filter((t) => t === 'fake').length, 10);
  assert.equal(scored.filter((i) => i.truth.kind === 'real_fake' && i.truth.sourceId === 's0').length, 5);
  assert.equal(a.items.filter((i) => i.attention).length, 2);
  for (const i of a.items) assert.match(i.itemId, /^i[0-9a-f]{24}$/);
  // the real images are distinct draws from the pool (without replacement)
  const realPixels = scored.filter((i) => i.truth.kind === 'real_fake' && i.truth.truth === 'real').map((i) => i.images[0]!.pixels[0]);
  assert.equal(new Set(realPixels).size, 10);
  // attention items are pure noise or flat grey, labelled fake
  for (const i of a.items.filter((x) => x.attention)) assert.equal(i.truth.kind === 'real_fake' && i.truth.truth, 'fake');
  // shuffled: attention items are not all at the end
  assert.ok(a.items.slice(0, 20).some((i) => i.attention) || a.items.at(-1)!.attention === false);
  // too few reals for the request is refused
  assert.throws(() => buildItems({ spec, sources, pools: new Map([...pools, ['s2', pool(3, 0)]]), seed: 1 }), /has only 3 images/);
});

test('per-rater orders are seeded permutations that differ between raters', () => {
  const ids = Array.from({ length: 30 }, (_, i) => `i${i}`);
  const ann = raterOrder(ids, 5, 'ann');
  assert.deepEqual([...ann].sort(), [...ids].sort());
  assert.deepEqual(raterOrder(ids, 5, 'ann'), ann);
  assert.notDeepEqual(raterOrder(ids, 5, 'bob'), ann);
});

test('preference: every pair equally often, sides randomised; attention items have a right side', () => {
  const sources = [src('s0', 'checkpoint'), src('s1', 'checkpoint'), src('s2', 'checkpoint')];
  const spec = { type: 'preference' as const, items: 12, attentionShare: 0.25, gridSize: 16, neighbours: 3 };
  const need = imagesNeeded(spec, sources);
  assert.deepEqual([...need.perSource.values()], [8, 8, 8]);
  const pools = new Map(sources.map((s, i) => [s.id, pool(8, i * 50)]));
  const { items } = buildItems({ spec, sources, pools, seed: 4 });
  const pairs = new Map<string, number>();
  let leftFirst = 0;
  for (const i of items.filter((x) => !x.attention)) {
    if (i.truth.kind !== 'preference') throw new Error('kind');
    const key = [i.truth.left, i.truth.right].sort().join('-');
    pairs.set(key, (pairs.get(key) ?? 0) + 1);
    if (i.truth.left < i.truth.right) leftFirst++;
  }
  assert.deepEqual([...pairs.values()], [4, 4, 4]);
  assert.ok(leftFirst > 0 && leftFirst < 12, 'sides are randomised');
  const att = items.filter((x) => x.attention);
  assert.equal(att.length, 3);
  for (const i of att) {
    assert.ok(i.truth.kind === 'preference' && i.truth.better !== null);
    assert.equal(attentionPassed(i.truth, { kind: 'preference', choice: i.truth.better! }), true);
  }
});

test('duplicates attention grids plant an exact pair the rater must mark', () => {
  const sources = [src('s0', 'checkpoint')];
  const spec = { type: 'duplicates' as const, items: 3, attentionShare: 0.3, gridSize: 4, neighbours: 3 };
  const { items } = buildItems({ spec, sources, pools: new Map([['s0', pool(12, 0)]]), seed: 2 });
  const att = items.find((i) => i.attention)!;
  assert.ok(att.truth.kind === 'duplicates');
  const cells = att.truth.duplicateCells;
  assert.equal(cells.length, 2);
  assert.deepEqual(att.images[cells[0]!]!.pixels, att.images[cells[1]!]!.pixels);
  assert.equal(attentionPassed(att.truth, { kind: 'duplicates', marked: cells }), true);
  assert.equal(attentionPassed(att.truth, { kind: 'duplicates', marked: [cells[0]!] }), false);
});

test('memorisation items show the generated image with its nearest training images', () => {
  const train = pool(40, 0);
  const gen: ImageSet = { ...pool(2, 0), pixels: new Uint8Array(32).map((_, i) => (i < 16 ? 17 : 33)) };
  const sources = [src('s0', 'checkpoint')];
  const { items } = buildItems({ spec: { type: 'memorisation', items: 2, attentionShare: 0, gridSize: 16, neighbours: 2 }, sources, pools: new Map([['s0', gen]]), training: new Map([['s0', train]]), seed: 1 });
  const withFirst = items.find((i) => i.images[0]!.pixels[0] === 17)!;
  assert.deepEqual(
    withFirst.images.slice(1).map((im) => im.pixels[0]),
    [17, 16],
    'nearest first',
  );
});

function session(type: RatingSession['type'], sources: RatingSource[], raters: string[], extra: Partial<RatingSession> = {}): RatingSession {
  return {
    id: 'rs-1', name: 't', type, state: 'finished', question: 'q', seed: 1, items: 0, attentionShare: 0, staircase: null, gridSize: null, neighbours: null, breakEvery: 50,
    sources, raters: raters.map((name) => ({ name, state: 'finished', answered: 0, total: 0, startedAt: 0, finishedAt: 0 })), notes: [], itemsHash: 'x', createdAt: 0, finishedAt: 0,
    ...extra,
  };
}

test('timed sessions: the staircase score per generator and the exposure error come from the stored answers', () => {
  const sources = [src('s0', 'checkpoint'), src('r', 'real')];
  const items: ItemRow[] = Array.from({ length: 20 }, (_, i) => ({ itemId: `i${i}`, ord: i, attention: false, truth: { kind: 'real_fake', truth: i % 2 ? 'real' : 'fake', sourceId: i % 2 ? 'r' : 's0', block: 's0' }, files: ['a.png'] }));
  const answers: AnswerRow[] = items.map((it, i) => ({ rater: 'ann', itemId: it.itemId, position: i, answer: { kind: 'real_fake', choice: 'fake' }, responseMs: 300, requestedMs: 1000 - i * 40, exposureMs: 1000 - i * 40 + (i % 3), origin: 'app', answeredAt: i }));
  const r = computeResults(session('timed_real_fake', sources, ['ann'], { staircase: { startMs: 1000, floorMs: 100, ceilingMs: 2000, down: 0.8 } }), items, answers, { rounds: 100 });
  // second half of 20 requested exposures: 1000 − 40·(10..19) → mean 1000 − 40·14.5 = 420
  assert.equal(r.timed!.perSource[0]!.exposureMs.value, 420);
  assert.equal(r.timed!.exposureErrorMs.max, 2);
  assert.equal(r.realFake!.errorOnFakes.value, 0);
  assert.equal(r.realFake!.errorOnReals.value, 1);
});

test('quality: per-rater z-normalisation ranks sources the same for a harsh and a kind rater; α is ordinal', () => {
  const sources = [src('good', 'checkpoint'), src('bad', 'checkpoint')];
  const items: ItemRow[] = Array.from({ length: 10 }, (_, i) => ({ itemId: `i${i}`, ord: i, attention: false, truth: { kind: 'quality', sourceId: i < 5 ? 'good' : 'bad' }, files: ['a.png'] }));
  const answers: AnswerRow[] = [];
  for (const [rater, offset] of [['harsh', 0], ['kind', 2]] as const) {
    items.forEach((it, i) => answers.push({ rater, itemId: it.itemId, position: i, answer: { kind: 'quality', score: (i < 5 ? 3 : 1) + offset }, responseMs: 1, requestedMs: null, exposureMs: null, origin: 'app', answeredAt: i }));
  }
  const r = computeResults(session('quality', sources, ['harsh', 'kind']), items, answers, { rounds: 100 });
  assert.equal(r.quality![0]!.mean.value, 4);
  assert.ok(Math.abs(r.quality![0]!.meanZ.value! - 0.9486832980505138) < 1e-12, `${r.quality![0]!.meanZ.value}`);
  assert.ok(r.quality![1]!.meanZ.value! < 0);
  assert.deepEqual(r.quality![0]!.counts, [0, 0, 5, 0, 5]);
  assert.deepEqual(r.quality![1]!.counts, [5, 0, 5, 0, 0]);
  assert.equal(r.agreement.alphaLevel, 'ordinal');
  assert.equal(r.raters[0]!.qualityMean, 2);
});

test('human scores beside automatic metrics: Spearman and Kendall across checkpoints, FID oriented lower = better', () => {
  const sources = ['a', 'b', 'c', 'd'].map((id) => src(id, 'checkpoint'));
  const items: ItemRow[] = [];
  const answers: AnswerRow[] = [];
  const rng = new Rng(1);
  // quality improves a → d; FID falls a → d
  sources.forEach((s, si) => {
    for (let k = 0; k < 4; k++) {
      const id = `${s.id}${k}`;
      items.push({ itemId: id, ord: items.length, attention: false, truth: { kind: 'quality', sourceId: s.id }, files: ['x.png'] });
      answers.push({ rater: 'ann', itemId: id, position: items.length, answer: { kind: 'quality', score: Math.min(5, 1 + si + (rng.uniform() < 0.2 ? 1 : 0)) as 1 }, responseMs: 1, requestedMs: null, exposureMs: null, origin: 'app', answeredAt: items.length });
    }
  });
  const metrics = sources.flatMap((s, i) => [
    { sourceId: s.id, metric: 'fid', value: 100 - 20 * i, higherIsBetter: false },
    { sourceId: s.id, metric: 'recall', value: 0.9 - 0.1 * i, higherIsBetter: true },
  ]);
  const r = computeResults(session('quality', sources, ['ann']), items, answers, { rounds: 50, metrics });
  const fid = r.automatic.find((m) => m.metric === 'fid')!;
  assert.equal(fid.pairs.length, 4);
  assert.equal(fid.spearman, 1);
  assert.equal(fid.kendall, 1);
  assert.equal(r.automatic.find((m) => m.metric === 'recall')!.spearman, -1);
});
