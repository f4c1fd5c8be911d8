import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lttb, lttbIndices } from '../../electron/common/lttb.ts';

function series(n: number, f: (i: number) => number): { xs: number[]; ys: number[] } {
  const xs = Array.from({ length: n }, (_, i) => i);
  return { xs, ys: xs.map(f) };
}

test('keeps every point when there are no more than the threshold', () => {
  const { xs, ys } = series(10, (i) => i * i);
  assert.deepEqual(lttbIndices(xs, ys, 10), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.deepEqual(lttb(xs, ys, 50), { xs, ys });
  assert.deepEqual(lttbIndices([], [], 5), []);
});

test('returns exactly threshold ascending indices with first and last kept', () => {
  const { xs, ys } = series(1000, (i) => Math.sin(i / 20));
  for (const threshold of [2, 3, 7, 100, 999]) {
    const idx = lttbIndices(xs, ys, threshold);
    assert.equal(idx.length, threshold);
    assert.equal(idx[0], 0);
    assert.equal(idx[idx.length - 1], 999);
    for (let i = 1; i < idx.length; i++) assert.ok(idx[i]! > idx[i - 1]!, `ascending at ${i}`);
  }
});

test('a single spike and a single dip survive heavy downsampling', () => {
  // deterministic small noise around 1, one spike up, one dip down
  let seed = 1;
  const rand = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
  const { xs, ys } = series(100_000, () => 1 + (rand() - 0.5) * 0.01);
  ys[54_321] = 50;
  ys[77_777] = -30;
  const out = lttb(xs, ys, 500);
  assert.equal(out.xs.length, 500);
  assert.equal(Math.max(...out.ys), 50);
  assert.equal(Math.min(...out.ys), -30);
  assert.ok(out.xs.includes(54_321) && out.xs.includes(77_777));
});

test('follows the shape of a trend (a straight line stays on the line)', () => {
  const { xs, ys } = series(10_000, (i) => 3 * i + 2);
  const out = lttb(xs, ys, 64);
  out.xs.forEach((x, i) => assert.equal(out.ys[i], 3 * x + 2));
});

test('works with uneven steps', () => {
  const xs = [0, 1, 2, 10, 11, 50, 51, 52, 100];
  const ys = [0, 1, 0, 5, 0, 1, 9, 1, 0];
  const idx = lttbIndices(xs, ys, 5);
  assert.equal(idx.length, 5);
  assert.equal(idx[0], 0);
  assert.equal(idx[4], 8);
});

test('rejects a bad threshold or mismatched arrays', () => {
  assert.throws(() => lttbIndices([1, 2, 3], [1, 2, 3], 1), RangeError);
  assert.throws(() => lttbIndices([1, 2, 3], [1, 2, 3], 2.5), RangeError);
  assert.throws(() => lttbIndices([1, 2, 3], [1, 2], 2), RangeError);
});
