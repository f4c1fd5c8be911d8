// The float32 batched paths of KID and precision/recall/PRDC (gram32.ts, knn.ts) against direct
// float64 definitions written out here: exactly on small-integer features (every product and sum
// is exact in float32, so any difference is a bug — and ties exercise ≤ versus <), within measured
// margins on random float32 features; odd sizes that cross the register tiles (4×2), the cache
// blocks (128 rows, 512-wide K slices) and the distance blocks (256 × 512); progress and cancel.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../electron/core/models/rng.ts';
import { asMatrix, type Matrix } from '../../electron/core/metrics/linalg.ts';
import { kernelInceptionDistance, kernelInceptionDistanceAsync, polynomialMmd2 } from '../../electron/core/metrics/kid.ts';
import { manifoldScores, manifoldScoresAsync } from '../../electron/core/metrics/precision-recall.ts';
import { nearestSquared } from '../../electron/core/metrics/knn.ts';
import { createJsKernels, createWasmKernels } from '../../electron/core/metrics/wasm-kernels.ts';
import type { Progress } from '../../electron/core/metrics/gram32.ts';

const ints = (seed: number, n: number, d: number, lo: number, hi: number): Matrix => {
  const r = new Rng(seed);
  return asMatrix(n, d, Float32Array.from({ length: n * d }, () => lo + r.int(hi - lo + 1)));
};
const normal = (seed: number, n: number, d: number, scale = 1, shift = 0): Matrix => {
  const r = new Rng(seed);
  return asMatrix(n, d, Float32Array.from({ length: n * d }, () => r.normal() * scale + shift));
};
const as64 = (x: Matrix): Matrix => asMatrix(x.rows, x.cols, Float64Array.from(x.data));

/** MMD² by the definition: K = (x·y/d + 1)³, off-diagonal means within, full cross mean. */
function mmd2Direct(x: Matrix, y: Matrix): number {
  const d = x.cols;
  const k = (a: Matrix, i: number, b: Matrix, j: number) => {
    let s = 0;
    for (let c = 0; c < d; c++) s += a.data[i * d + c] * b.data[j * d + c];
    return (s / d + 1) ** 3;
  };
  const m = x.rows;
  let xx = 0;
  let yy = 0;
  let xy = 0;
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < m; j++) {
      if (i !== j) {
        xx += k(x, i, x, j);
        yy += k(y, i, y, j);
      }
      xy += k(x, i, y, j);
    }
  }
  return (xx + yy) / (m * (m - 1)) - (2 * xy) / (m * m);
}

/** Precision/recall (k=3, ≤) and PRDC (k=5, <) by the definition: direct Σ(x−y)², sorted rows. */
function manifoldDirect(real: Matrix, fake: Matrix) {
  const d = real.cols;
  const dist = (a: Matrix, i: number, b: Matrix, j: number) => {
    let s = 0;
    for (let c = 0; c < d; c++) s += (a.data[i * d + c] - b.data[j * d + c]) ** 2;
    return s;
  };
  const radii = (x: Matrix, k: number) =>
    Array.from({ length: x.rows }, (_, i) => {
      const row = Array.from({ length: x.rows }, (_, j) => dist(x, i, x, j));
      row.splice(i, 1);
      return row.sort((a, b) => a - b)[k - 1];
    });
  const [r3, r5, f3, f5] = [radii(real, 3), radii(real, 5), radii(fake, 3), radii(fake, 5)];
  const D = Array.from({ length: real.rows }, (_, i) => Array.from({ length: fake.rows }, (_, j) => dist(real, i, fake, j)));
  const n = real.rows;
  const m = fake.rows;
  const share = (c: number, of: number) => c / of;
  let p3 = 0;
  let p5 = 0;
  let dens = 0;
  for (let j = 0; j < m; j++) {
    if (D.some((row, i) => row[j] <= r3[i])) p3++;
    if (D.some((row, i) => row[j] < r5[i])) p5++;
    for (let i = 0; i < n; i++) if (D[i][j] < r5[i]) dens++;
  }
  let rc3 = 0;
  let rc5 = 0;
  let cov = 0;
  for (let i = 0; i < n; i++) {
    if (D[i].some((v, j) => v <= f3[j])) rc3++;
    if (D[i].some((v, j) => v < f5[j])) rc5++;
    if (Math.min(...D[i]) < r5[i]) cov++;
  }
  return { P3: share(p3, m), R3: share(rc3, n), P5: share(p5, m), R5: share(rc5, n), D: dens / (5 * m), C: share(cov, n) };
}

const flat = (s: ReturnType<typeof manifoldScores>) => ({ P3: s.improved.precision, R3: s.improved.recall, P5: s.prdc.precision, R5: s.prdc.recall, D: s.prdc.density, C: s.prdc.coverage });

test('float32 Gram kernel: wasm agrees with the JS reference (odd strides, accumulate) and is symmetric bit for bit', () => {
  const w = createWasmKernels(1 << 20);
  assert.ok(w, 'WebAssembly SIMD is available in Node ≥ 20');
  const j = createJsKernels(1 << 20);
  const r = new Rng(3);
  const vals = Float32Array.from({ length: 40000 }, () => r.normal());
  for (const k of [w!, j]) k.f32.set(vals);
  // P: 8 rows (2 tiles of 4), stride 23 floats; Q: 6 rows (3 tiles of 2), stride 29; K = 20; C stride 7 doubles
  const [P, Q, C, C2] = [0, 4 * 3001, 8 * 12000, 8 * 13000];
  for (const k of [w!, j]) {
    k.gemmNT32(P, Q, C, 8, 6, 20, 23, 29, 7, false);
    k.gemmNT32(P + 4 * 20, Q + 4 * 20, C, 8, 6, 8, 23, 29, 7, true); // a second K slice accumulates
  }
  for (let i = 0; i < 8; i++) {
    for (let c = 0; c < 6; c++) {
      const a = w!.f64[12000 + i * 7 + c];
      const b = j.f64[12000 + i * 7 + c];
      assert.ok(Math.abs(a - b) <= 1e-5 * 28, `C[${i},${c}] ${a} vs ${b}`);
      assert.notEqual(a, 0);
    }
  }
  // swapping the operands gives the transpose bit for bit (what makes identical sets score exactly 1)
  const C1 = 8 * 14000;
  w!.gemmNT32(P, Q, C1, 8, 6, 20, 23, 29, 7, false);
  w!.gemmNT32(Q, P, C2, 6, 8, 20, 29, 23, 9, false);
  for (let i = 0; i < 8; i++) for (let c = 0; c < 6; c++) assert.equal(w!.f64[13000 + c * 9 + i], w!.f64[14000 + i * 7 + c]);
});

test('KID float32 route equals the float64 definition exactly on integer features (m = 131, d = 517: tile, block and K-slice edges)', () => {
  const x = ints(1, 131, 517, -3, 3);
  const y = ints(2, 131, 517, -2, 4);
  const direct = mmd2Direct(x, y);
  const k32 = kernelInceptionDistance(x, y, { subsets: 3, subsetSize: 131 });
  assert.equal(k32.precision, 'float32');
  for (const v of k32.values) assert.ok(Math.abs(v - direct) <= 1e-12 * Math.abs(direct) + 1e-15, `${v} vs ${direct}`);
  assert.ok(Math.abs(polynomialMmd2(as64(x), as64(y)) - direct) <= 1e-12 * Math.abs(direct));
  // real subsets of a larger set (the per-subset load path): the same subsets as the float64 route
  const big = ints(3, 301, 517, -3, 3);
  const a = kernelInceptionDistance(big, y, { subsets: 4, subsetSize: 130, seed: 9 });
  const b = kernelInceptionDistance(big, y, { subsets: 4, subsetSize: 130, seed: 9, precision: 'float64' });
  assert.equal(b.precision, 'float64');
  for (let s = 0; s < 4; s++) assert.ok(Math.abs(a.values[s] - b.values[s]) <= 1e-12 * Math.abs(b.values[s]), `subset ${s}: ${a.values[s]} vs ${b.values[s]}`);
});

test('KID float32 route on random float32 features agrees with the float64 route to 1e-8 (KID ≈ 7e-3)', () => {
  const x = normal(4, 260, 1031);
  const y = normal(5, 300, 1031, 1.05, 0.05);
  const a = kernelInceptionDistance(x, y, { subsets: 3, subsetSize: 257, seed: 1 });
  const b = kernelInceptionDistance(x, y, { subsets: 3, subsetSize: 257, seed: 1, precision: 'float64' });
  // kernel values ≈ 1, KID ≈ 7e-3; measured |Δ| ≤ 1.7e-10, margin 1e-8
  for (let s = 0; s < 3; s++) assert.ok(Math.abs(a.values[s] - b.values[s]) <= 1e-8, `subset ${s}: ${a.values[s]} vs ${b.values[s]}`);
  assert.ok(a.mean > 1e-3, `a real difference is measured: ${a.mean}`);
});

test('P&R / PRDC float32 route equals the direct float64 definition on integer features with ties (530 × 270, across 256/512 blocks)', () => {
  const real = ints(6, 530, 7, -2, 2);
  const fake = ints(7, 270, 7, -2, 3);
  const want = manifoldDirect(real, fake);
  assert.deepEqual(flat(manifoldScores(real, fake)), want);
  assert.deepEqual(flat(manifoldScores(as64(real), as64(fake))), want);
  // and the other way round (fewer real than fake: the blocks of the cross pass swap shape)
  assert.deepEqual(flat(manifoldScores(fake, real)), manifoldDirect(fake, real));
});

test('P&R / PRDC float32 route on random float32 features (d = 515) agrees with the float64 route; identical sets stay exactly 1', () => {
  const real = normal(8, 300, 515);
  const fake = normal(9, 280, 515, 1.02, 0.02);
  const a = flat(manifoldScores(real, fake));
  const b = flat(manifoldScores(real, fake, { precision: 'float64' }));
  // a membership flips only for a distance within ~1e-6 relative of a radius (measured: none here);
  // the margin allows one flip
  for (const key of Object.keys(a) as (keyof typeof a)[]) assert.ok(Math.abs(a[key] - b[key]) <= 1 / 280, `${key}: ${a[key]} vs ${b[key]}`);
  assert.ok(a.P3 > 0.1 && a.P3 < 0.9, `non-trivial scores: ${JSON.stringify(a)}`);
  const same = flat(manifoldScores(real, real));
  assert.deepEqual(same, { P3: 1, R3: 1, P5: 1, R5: 1, D: 1, C: 1 });
  // nearest neighbours: float32 and float64 routes pick the same rows
  const n32 = nearestSquared(fake, real, 3);
  const n64 = nearestSquared(fake, real, 3, { precision: 'float64' });
  assert.deepEqual(Array.from(n32.indices), Array.from(n64.indices));
  for (let i = 0; i < n32.values.length; i++) assert.ok(Math.abs(n32.values[i] - n64.values[i]) <= 1e-5 * n64.values[i]);
});

const monotonic = (ps: Progress[]) => {
  assert.ok(ps.length > 2, `${ps.length} progress reports`);
  for (let i = 1; i < ps.length; i++) {
    assert.ok(ps[i].done >= ps[i - 1].done, `progress went back at ${i}: ${ps[i - 1].done} → ${ps[i].done}`);
    assert.equal(ps[i].total, ps[0].total);
  }
  assert.equal(ps.at(-1)!.done, ps[0].total);
};

test('progress is monotonic and ends at its total (KID, PRDC)', () => {
  const x = normal(10, 600, 40);
  const y = normal(11, 700, 40);
  const kp: Progress[] = [];
  kernelInceptionDistance(x, y, { subsets: 5, subsetSize: 100 }, { onProgress: (p) => kp.push(p) });
  monotonic(kp);
  assert.equal(kp[0].total, 15);
  const mp: Progress[] = [];
  manifoldScores(x, y, {}, { onProgress: (p) => mp.push({ ...p }) });
  monotonic(mp);
  assert.deepEqual([...new Set(mp.map((p) => p.stage))], ['real radii', 'fake radii', 'real × fake']);
  const m64: Progress[] = [];
  kernelInceptionDistance(x, y, { subsets: 4, subsetSize: 50, precision: 'float64' }, { onProgress: (p) => m64.push(p) });
  monotonic(m64);
});

test('cancel: an aborted signal stops KID and PRDC (sync from a progress callback, async from a timer)', async () => {
  const x = normal(12, 1200, 64);
  const y = normal(13, 1200, 64);
  const pre = AbortSignal.abort();
  assert.throws(() => kernelInceptionDistance(x, y, {}, { signal: pre }), { name: 'AbortError' });
  assert.throws(() => manifoldScores(x, y, {}, { signal: pre }), { name: 'AbortError' });
  for (const run of [
    (ctl: { signal: AbortSignal; onProgress: (p: Progress) => void }) => kernelInceptionDistance(x, y, { subsets: 50, subsetSize: 500 }, ctl),
    (ctl: { signal: AbortSignal; onProgress: (p: Progress) => void }) => manifoldScores(x, y, {}, ctl),
  ]) {
    const ac = new AbortController();
    let calls = 0;
    assert.throws(() => run({ signal: ac.signal, onProgress: () => ++calls === 2 && ac.abort() }), { name: 'AbortError' });
    assert.equal(calls, 2, 'nothing ran after the abort');
  }
  // async: the event loop runs between slices, so a timer can abort; the job stops well before its end
  for (const run of [
    (signal: AbortSignal, onProgress: (p: Progress) => void) => kernelInceptionDistanceAsync(x, y, { subsets: 400, subsetSize: 1000 }, { signal, onProgress }),
    (signal: AbortSignal, onProgress: (p: Progress) => void) => manifoldScoresAsync(normal(14, 4000, 256), normal(15, 4000, 256), {}, { signal, onProgress }),
  ]) {
    const ac = new AbortController();
    let last: Progress | null = null;
    setTimeout(() => ac.abort(), 150);
    await assert.rejects(run(ac.signal, (p) => (last = p)), { name: 'AbortError' });
    assert.ok(last !== null && (last as Progress).done < (last as Progress).total, 'aborted part-way');
  }
  // and the async versions give the sync results when left alone
  const s = await kernelInceptionDistanceAsync(x, y, { subsets: 3, subsetSize: 200, seed: 4 });
  assert.deepEqual(s, kernelInceptionDistance(x, y, { subsets: 3, subsetSize: 200, seed: 4 }));
});
