// IS, KID, improved P&R, PRDC, PRD, SWD, mode coverage and memorisation: every check value of
// design/METRICS.md plus numpy goldens (script: /tmp/gold/gold.py at the time of writing, quoted
// in each test; the inputs come from the seeded generator below, written with encodeNpy).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../electron/core/models/rng.ts';
import { asMatrix, inceptionScore, kernelInceptionDistance, manifoldScores, memorisationShare, mixtureModeCoverage, modeCoverageFromCounts, nearestNeighbours, polynomialMmd2, prdFromFeatures, prdFromHistograms, maxFBetaPair, slicedWassersteinDistance } from '../../electron/core/metrics/index.ts';

const close = (a: number, b: number, tol: number, what = '') => assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${what} ${a} ≉ ${b} (tol ${tol})`);
const gauss = (seed: number, n: number, d: number, scale = 1, shift = 0) => {
  const r = new Rng(seed);
  const a = new Float64Array(n * d);
  for (let i = 0; i < a.length; i++) a[i] = r.normal() * scale + shift;
  return asMatrix(n, d, a);
};
const rows = (n: number, c: number, row: (i: number) => number[]) => asMatrix(n, c, Float64Array.from(Array.from({ length: n }, (_, i) => row(i)).flat()));
const oneHot = (c: number, k: number) => Array.from({ length: c }, (_, j) => (j === k ? 1 : 0));

// ---- Inception Score
test('IS checks: balanced one-hot over 10 → 10; one class → 1; uniform rows → 1; one-hot over 5 of 10 → 5; [0.91, 0.01×9] balanced → 6.06356', () => {
  close(inceptionScore(rows(1000, 10, (i) => oneHot(10, i % 10))).mean, 10, 1e-12);
  close(inceptionScore(rows(1000, 10, () => oneHot(10, 3))).mean, 1, 1e-12);
  close(inceptionScore(rows(1000, 10, () => new Array(10).fill(0.1))).mean, 1, 1e-12);
  close(inceptionScore(rows(1000, 10, (i) => oneHot(10, i % 5))).mean, 5, 1e-12);
  const r = inceptionScore(rows(1000, 10, (i) => Array.from({ length: 10 }, (_, j) => (j === i % 10 ? 0.91 : 0.01))));
  close(r.mean, 6.06356, 1e-6);
  close(r.mean, Math.exp(0.91 * Math.log(9.1) + 0.09 * Math.log(0.1)), 1e-12);
  assert.equal(r.splits, 10);
  close(r.std, 0, 1e-12);
});

test('IS golden: random softmax rows, 5 splits, mean and std (ddof 0) vs numpy', () => {
  // logits = gauss(5, 50, 7, 2); p = softmax(logits); chunks p[i*50//5:(i+1)*50//5];
  // np.exp((c*(np.log(c)-np.log(c.mean(0)))).sum(1).mean()) → np.mean, np.std
  const logits = gauss(5, 50, 7, 2);
  const p = new Float64Array(350);
  for (let r = 0; r < 50; r++) {
    let m = -Infinity;
    for (let j = 0; j < 7; j++) m = Math.max(m, logits.data[r * 7 + j]);
    let s = 0;
    for (let j = 0; j < 7; j++) s += p[r * 7 + j] = Math.exp(logits.data[r * 7 + j] - m);
    for (let j = 0; j < 7; j++) p[r * 7 + j] /= s;
  }
  const r = inceptionScore(asMatrix(50, 7, p), { splits: 5 });
  close(r.mean, 2.085957078717925, 1e-12);
  close(r.std, 0.09849013931494849, 1e-10);
  assert.throws(() => inceptionScore(rows(10, 2, () => [2, -1])), /probabilities must be ≥ 0/);
});

// ---- KID
test('KID check: X={(0,0),(1,0),(0,1)}, Y={(1,1),(2,0),(0,2)}, one subset of all 3 → 0.5 exactly', () => {
  const x = rows(3, 2, (i) => [[0, 0], [1, 0], [0, 1]][i]);
  const y = rows(3, 2, (i) => [[1, 1], [2, 0], [0, 2]][i]);
  assert.equal(polynomialMmd2(x, y), 0.5);
  const k = kernelInceptionDistance(x, y, { subsets: 1, subsetSize: 3 });
  assert.equal(k.mean, 0.5);
  assert.equal(k.std, 0);
});

test('KID golden: unbiased polynomial MMD² vs numpy; subsets are seeded and capped at N', () => {
  // K = (p@q.T/d + 1)**3; (Kxx.sum()-trace + Kyy.sum()-trace)/(m(m-1)) - 2 Kxy.sum()/m²
  const x = gauss(11, 30, 6);
  const y = gauss(12, 30, 6, 1.1, 0.25);
  close(polynomialMmd2(x, y), 0.10560827530763639, 1e-12);
  const a = kernelInceptionDistance(x, y, { subsets: 20, seed: 3 });
  const b = kernelInceptionDistance(x, y, { subsets: 20, seed: 3 });
  assert.equal(a.subsetSize, 30);
  assert.deepEqual(a, b);
  close(a.mean, 0.10560827530763639, 1e-12); // subsets of all 30 are the full sets, reordered
});

// ---- improved precision/recall and PRDC
test('P&R and PRDC checks: identical sets → P=R=1 (k=3), P=R=C=1 and D=1 (k=5)', () => {
  const x = gauss(21, 300, 8);
  const s = manifoldScores(x, x);
  assert.deepEqual([s.improved.precision, s.improved.recall, s.improved.f1], [1, 1, 1]);
  assert.deepEqual([s.prdc.precision, s.prdc.recall, s.prdc.coverage], [1, 1, 1]);
  close(s.prdc.density, 1, 1e-12);
});

test('PRDC check: two independent samples of one distribution → E[density] ≈ 1, coverage ≈ 1 − 2⁻⁵', () => {
  let dens = 0;
  let cov = 0;
  const reps = 4;
  for (let r = 0; r < reps; r++) {
    const s = manifoldScores(gauss(100 + r, 1500, 4), gauss(200 + r, 1500, 4)).prdc;
    dens += s.density / reps;
    cov += s.coverage / reps;
  }
  assert.ok(Math.abs(dens - 1) < 0.05, `density ${dens}`);
  assert.ok(Math.abs(cov - (1 - 2 ** -5)) < 0.015, `coverage ${cov}`);
});

test('P&R / PRDC golden: random sets vs numpy reimplementation of kynkaat (≤, k=3) and clovaai prdc (<, k=5)', () => {
  // d = sqrt(((x[:,None]-y[None])**2).sum(-1)); radii = np.partition(d_self, k, axis=1)[:, k]
  // improved: (rf<=r3[:,None]).any(0).mean(), (rf<=f3[None,:]).any(1).mean()
  // prdc: (rf<r5[:,None]).any(0).mean(), (rf<f5[None,:]).any(1).mean(), (1/5)*(rf<r5[:,None]).sum(0).mean(), (rf.min(1)<r5).mean()
  const s = manifoldScores(gauss(7, 60, 4), gauss(8, 70, 4, 1.2, 0.3));
  close(s.improved.precision, 0.7428571428571429, 1e-12);
  close(s.improved.recall, 1.0, 1e-12);
  close(s.improved.f1, (2 * 0.7428571428571429) / 1.7428571428571429, 1e-12);
  close(s.prdc.precision, 0.8428571428571429, 1e-12);
  close(s.prdc.recall, 1.0, 1e-12);
  close(s.prdc.density, 0.78, 1e-12);
  close(s.prdc.coverage, 0.9833333333333333, 1e-12);
  // argument order matters: swapped, precision and recall swap roles
  const t = manifoldScores(gauss(8, 70, 4, 1.2, 0.3), gauss(7, 60, 4));
  close(t.improved.recall, s.improved.precision, 1e-12);
});

// ---- PRD
test('PRD check: eval [1,0] vs ref [.5,.5] → F₈ ≈ 0.50388, F₁/₈ ≈ 0.98485', () => {
  const m = maxFBetaPair(prdFromHistograms([1, 0], [0.5, 0.5]));
  close(m.fBeta, 0.50388, 1e-4);
  close(m.fInvBeta, 0.98485, 1e-4);
  // numpy on the reference's own grid (linspace(1e-10, π/2−1e-10, 1001), clip, +1e-10 in F):
  close(m.fBeta, 0.503863187265047, 1e-9);
  close(m.fInvBeta, 0.9848288753231104, 1e-9);
});

test('PRD on features: identical sets → F₈ ≈ F₁/₈ ≈ 1; a collapsed fake set loses recall (F₈) more than precision', () => {
  const x = gauss(31, 400, 3);
  const same = prdFromFeatures(x, x, { runs: 2, seed: 1 });
  assert.ok(same.f8 > 0.999 && same.f1_8 > 0.999, JSON.stringify([same.f8, same.f1_8]));
  const collapsed = asMatrix(400, 3, Float64Array.from({ length: 1200 }, (_, i) => x.data[i % 30])); // 10 distinct points
  const c = prdFromFeatures(x, collapsed, { runs: 2, seed: 1 });
  assert.ok(c.f8 < c.f1_8, JSON.stringify([c.f8, c.f1_8]));
  assert.throws(() => prdFromFeatures(x, gauss(1, 10, 3)), /equal numbers/);
});

// ---- SWD
test('SWD checks: identical image sets → 0; shifted → > 0; PGGAN levels down to 16', () => {
  const r = new Rng(4);
  const n = 6;
  const img = new Uint8Array(n * 32 * 32 * 3).map(() => r.int(256));
  const a = { n, height: 32, width: 32, channels: 3, data: img };
  const same = slicedWassersteinDistance(a, { ...a, data: img.slice() }, { seed: 2 });
  assert.deepEqual(same.resolutions, [32, 16]);
  assert.equal(same.average, 0);
  // smooth the fakes: different local statistics, same per-channel normalisation
  const smooth = new Float32Array(img.length);
  for (let i = 0; i < img.length; i++) smooth[i] = (img[i] + img[Math.max(0, i - 3)]) / 2;
  const diff = slicedWassersteinDistance(a, { ...a, data: smooth }, { seed: 2 });
  assert.ok(diff.average > 0 && diff.perLevel.every((v) => v > 0), JSON.stringify(diff));
});

// ---- modes
test('Stacked-MNIST KL to uniform over 1 000 modes: 1 000 hit → 0, 500 → 0.6931, 1 → 6.9078', () => {
  const counts = (hit: number) => Float64Array.from({ length: 1000 }, (_, i) => (i < hit ? 26 : 0));
  const all = modeCoverageFromCounts(counts(1000));
  close(all.kl, 0, 1e-12);
  assert.equal(all.modesHit, 1000);
  close(modeCoverageFromCounts(counts(500)).kl, 0.6931, 1e-4);
  close(modeCoverageFromCounts(counts(500)).kl, Math.LN2, 1e-12);
  const one = modeCoverageFromCounts(counts(1));
  close(one.kl, 6.9078, 1e-4);
  assert.equal(one.coverage, 0.001);
});

test('2-D ring of 8: samples within 3σ count for their nearest mode', () => {
  const modes = rows(8, 2, (i) => [2 * Math.cos((i * Math.PI) / 4), 2 * Math.sin((i * Math.PI) / 4)]);
  const r = new Rng(1);
  const samples = rows(400, 2, (i) => (i < 390 ? [modes.data[(i % 4) * 2] + 0.005 * r.normal(), modes.data[(i % 4) * 2 + 1] + 0.005 * r.normal()] : [0, 0]));
  const m = mixtureModeCoverage(samples, modes, 0.02);
  assert.equal(m.modesCovered, 4);
  close(m.highQualityShare, 390 / 400, 1e-12);
});

// ---- nearest neighbours and memorisation
test('nearest neighbours: k nearest with distances; copies of training images are flagged as memorised', () => {
  const train = gauss(50, 200, 16);
  const nn = nearestNeighbours(asMatrix(1, 16, train.data.slice(16 * 7, 16 * 8)), train, 3);
  assert.equal(nn.indices[0], 7);
  close(nn.distances[0], 0, 1e-6);
  assert.ok(nn.distances[1] <= nn.distances[2]);
  const copies = asMatrix(50, 16, Float64Array.from({ length: 800 }, (_, i) => train.data[i] + 1e-4));
  assert.equal(memorisationShare(copies, train).share, 1);
  const fresh = memorisationShare(gauss(51, 200, 16), train);
  assert.ok(fresh.share > 0.2 && fresh.share < 0.8, `fresh share ${fresh.share}`);
});
