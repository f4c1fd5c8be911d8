// Metric benchmarks (design/PERFORMANCE.md W2, issue #6 "Speed"):
//   fid   W2: FID on N × d float32 features (default 10 000 × 2 048);
//   kid   KID with 100 subsets of 1 000 (d = 2 048);
//   prdc  improved precision/recall (k = 3) + PRDC (k = 5) with N = 10 000 real and fake (d = 2 048);
//   gram  one 1 000 × 2 048 × 1 000 float32 Gram product: the project's wasm kernel vs the tfjs wasm
//         backend's matMul (why the metrics use the former).
//
//   npm run bench:metrics -- [--only fid,kid,prdc,gram] [--n 10000] [--d 2048] [--runs 3]
//       [--kid-runs 3] [--prdc-runs 3] [--kid-subsets 100] [--kid-size 1000] [--baseline-runs 1]
//       [--no-baseline] [--no-numpy] [--py-runs 1] [--no-sqrtm] [--json]
//
// Each section prints the median of its runs and a ratio against a baseline measured in the same
// run. FID: the plain-JS unblocked kernels, and numpy (np.cov ×2 + np.linalg.eigvals(Σ₁Σ₂),
// torch-fidelity's route) plus scipy.linalg.sqrtm (pytorch-fid's) for the 1e-4 agreement check.
// KID and PRDC: plain numpy matmul versions on the same data (KID on the very same subsets),
// whose results are compared with ours too. Without python3 + numpy only the JS figures print.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Rng } from '../electron/core/models/rng.ts';
import { asMatrix, meanAndCovariance, traceSqrtProduct, type Matrix } from '../electron/core/metrics/linalg.ts';
import { encodeNpy } from '../electron/core/metrics/npy.ts';
import { kernelInceptionDistance, type KidResult } from '../electron/core/metrics/kid.ts';
import { manifoldScores, type ManifoldScores } from '../electron/core/metrics/precision-recall.ts';
import { gemmNT32Blocked } from '../electron/core/metrics/gram32.ts';
import { createJsKernels, createKernels, type Kernels } from '../electron/core/metrics/wasm-kernels.ts';

type Section = 'fid' | 'kid' | 'prdc' | 'gram';
type Options = {
  only: Section[];
  n: number;
  d: number;
  runs: number;
  kidRuns: number;
  prdcRuns: number;
  kidSubsets: number;
  kidSize: number;
  baselineRuns: number;
  numpy: boolean;
  pyRuns: number;
  sqrtm: boolean;
  json: boolean;
};

function parseOptions(argv: string[]): Options {
  const o: Options = { only: ['gram', 'fid', 'kid', 'prdc'], n: 10000, d: 2048, runs: 3, kidRuns: 3, prdcRuns: 3, kidSubsets: 100, kidSize: 1000, baselineRuns: 1, numpy: true, pyRuns: 1, sqrtm: true, json: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const num = () => {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v < 0) throw new Error(`${a} needs a non-negative integer`);
      return v;
    };
    if (a === '--only') {
      const list = (argv[++i] ?? '').split(',').map((s) => s.trim());
      for (const s of list) if (!['fid', 'kid', 'prdc', 'gram'].includes(s)) throw new Error(`--only takes fid,kid,prdc,gram; got ${s}`);
      o.only = list as Section[];
    } else if (a === '--n') o.n = num();
    else if (a === '--d') o.d = num();
    else if (a === '--runs') o.runs = num();
    else if (a === '--kid-runs') o.kidRuns = num();
    else if (a === '--prdc-runs') o.prdcRuns = num();
    else if (a === '--kid-subsets') o.kidSubsets = num();
    else if (a === '--kid-size') o.kidSize = num();
    else if (a === '--baseline-runs') o.baselineRuns = num();
    else if (a === '--no-baseline') o.baselineRuns = 0;
    else if (a === '--no-numpy') o.numpy = false;
    else if (a === '--py-runs') o.pyRuns = num();
    else if (a === '--sqrtm') o.sqrtm = true; // the default; kept for old command lines
    else if (a === '--no-sqrtm') o.sqrtm = false;
    else if (a === '--json') o.json = true;
    else throw new Error(`unknown option ${a}`);
  }
  return o;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const seconds = (t0: number) => (performance.now() - t0) / 1000;

// ---------------------------------------------------------------------------------------------
// python side: one script, three modes; JSON on stdout

const PY = String.raw`
import json, sys, time
import numpy as np
mode, runs = sys.argv[1], int(sys.argv[2])
out = {'numpy': np.__version__, 'runs': []}
if mode == 'fid':
    a = np.load(sys.argv[3]); b = np.load(sys.argv[4]); want_sqrtm = sys.argv[5] == '1'
    for _ in range(runs):
        t = time.perf_counter(); m1, m2 = a.mean(0, dtype=np.float64), b.mean(0, dtype=np.float64)
        s1 = np.cov(a, rowvar=False); s2 = np.cov(b, rowvar=False); tc = time.perf_counter() - t
        t = time.perf_counter(); ev = np.linalg.eigvals(s1 @ s2); te = time.perf_counter() - t
        fid = float(((m1 - m2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.sqrt(ev.astype(complex)).real.sum())
        out['runs'].append({'covSeconds': tc, 'eigvalsSeconds': te, 'totalSeconds': tc + te, 'fid': fid})
    if want_sqrtm:
        import scipy, scipy.linalg
        t = time.perf_counter(); cm = scipy.linalg.sqrtm(s1 @ s2); ts = time.perf_counter() - t
        out['sqrtm'] = {'scipy': scipy.__version__, 'seconds': ts, 'fid': float(((m1 - m2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.trace(cm).real)}
elif mode == 'kid':
    # torch-fidelity's polynomial MMD: float32 features, K = (X Y^T / d + 1)^3 in float32 (numpy
    # sgemm), kernel sums in float64; the subsets are the ones the JS side drew (index files)
    a = np.load(sys.argv[3]); b = np.load(sys.argv[4])
    ix = np.load(sys.argv[5]).astype(np.int64); iy = np.load(sys.argv[6]).astype(np.int64)
    S, m = ix.shape; g = np.float32(1.0 / a.shape[1]); one = np.float32(1)
    for _ in range(runs):
        t = time.perf_counter(); vals = np.empty(S)
        for s in range(S):
            x = a[ix[s]]; y = b[iy[s]]
            kxx = (x @ x.T * g + one) ** 3; kyy = (y @ y.T * g + one) ** 3; kxy = (x @ y.T * g + one) ** 3
            sxx = kxx.sum(dtype=np.float64) - np.trace(kxx, dtype=np.float64)
            syy = kyy.sum(dtype=np.float64) - np.trace(kyy, dtype=np.float64)
            vals[s] = (sxx + syy) / (m * (m - 1)) - 2 * kxy.sum(dtype=np.float64) / (m * m)
        out['runs'].append({'totalSeconds': time.perf_counter() - t, 'mean': float(vals.mean()), 'std': float(vals.std()), 'values': vals.tolist()})
elif mode == 'prdc':
    # plain numpy in blocks of 1 000 rows: d^2 = |a|^2 + |b|^2 - 2 a b^T (float32 sgemm, float64
    # norms and sums), radii by np.partition (self at index 0, as clovaai prdc), then the counts
    a = np.load(sys.argv[3]); b = np.load(sys.argv[4]); B = 1000
    def d2(x, y, nx, ny):
        d = nx[:, None] + ny[None, :] - 2 * (x @ y.T).astype(np.float64)
        return np.maximum(d, 0, out=d)
    for _ in range(runs):
        t = time.perf_counter()
        na = (a.astype(np.float64) ** 2).sum(1); nb = (b.astype(np.float64) ** 2).sum(1)
        def radii(x, nx):
            r = np.empty((len(x), 2))
            for i in range(0, len(x), B):
                p = np.partition(d2(x[i:i+B], x, nx[i:i+B], nx), [3, 5], axis=1); r[i:i+B, 0] = p[:, 3]; r[i:i+B, 1] = p[:, 5]
            return r
        rr = radii(a, na); rf = radii(b, nb)
        n, m = len(a), len(b)
        fi = np.zeros(m, bool); ri = np.zeros(n, bool); fp = np.zeros(m, bool); rp = np.zeros(n, bool); cov = np.zeros(n, bool); dens = 0
        for i in range(0, n, B):
            d = d2(a[i:i+B], b, na[i:i+B], nb)
            fi |= (d <= rr[i:i+B, 0:1]).any(0); ri[i:i+B] = (d <= rf[None, :, 0]).any(1)
            lt = d < rr[i:i+B, 1:2]; fp |= lt.any(0); cov[i:i+B] = lt.any(1); dens += int(lt.sum())
            rp[i:i+B] = (d < rf[None, :, 1]).any(1)
        out['runs'].append({'totalSeconds': time.perf_counter() - t, 'improved': {'precision': float(fi.mean()), 'recall': float(ri.mean())},
            'prdc': {'precision': float(fp.mean()), 'recall': float(rp.mean()), 'density': dens / (5 * m), 'coverage': float(cov.mean())}})
print(json.dumps(out))
`;

type PyOut<R> = { numpy: string; runs: R[]; sqrtm?: { scipy: string; seconds: number; fid: number } } | { skipped: string };

function python<R>(o: Options, mode: string, files: Record<string, Float32Array | Float64Array | { shape: number[]; data: Float32Array | Float64Array }>, extra: string[] = []): PyOut<R> {
  if (!o.numpy) return { skipped: 'disabled (--no-numpy)' };
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gs-bench-metrics-'));
  try {
    const args: string[] = [];
    for (const [name, arr] of Object.entries(files)) {
      const file = path.join(dir, `${name}.npy`);
      writeFileSync(file, encodeNpy('shape' in arr ? arr : { shape: [o.n, o.d], data: arr }));
      args.push(file);
    }
    const py = spawnSync('python3', ['-c', PY, mode, String(Math.max(1, o.pyRuns)), ...args, ...extra], { encoding: 'utf8', maxBuffer: 64 << 20 });
    if (py.error || py.status !== 0) return { skipped: `python3 with numpy not usable: ${py.error?.message ?? py.stderr.trim().split('\n').at(-1)}` };
    return JSON.parse(py.stdout) as PyOut<R>;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// data

/** W2's data: real ~ N(0, I), fake = 1.1·z + 0.05 (float32). */
function fidData(o: Options): { real: Float32Array; fake: Float32Array } {
  const rng = new Rng(2048);
  const real = new Float32Array(o.n * o.d);
  const fake = new Float32Array(o.n * o.d);
  rng.fillNormal(real);
  for (let i = 0; i < fake.length; i++) fake[i] = rng.normal() * 1.1 + 0.05;
  return { real, fake };
}

/**
 * KID/PRDC data with neighbourhood structure (so P, R, D, C are not all 0 or 1): 16-dim latents
 * through a fixed random 16 × d map plus noise; the fake latents are scaled by 1.05 and shifted.
 */
function manifoldData(o: Options): { real: Float32Array; fake: Float32Array } {
  const rng = new Rng(4096);
  const r = 16;
  const map = new Float32Array(r * o.d);
  rng.fillNormal(map, 1 / 4);
  const make = (scale: number, shift: number) => {
    const out = new Float32Array(o.n * o.d);
    const z = new Float64Array(r);
    const row = new Float64Array(o.d);
    for (let i = 0; i < o.n; i++) {
      for (let q = 0; q < r; q++) z[q] = rng.normal() * scale + shift;
      for (let c = 0; c < o.d; c++) row[c] = 0.5 * rng.normal();
      for (let q = 0; q < r; q++) {
        const zq = z[q];
        const m0 = q * o.d;
        for (let c = 0; c < o.d; c++) row[c] += zq * map[m0 + c];
      }
      out.set(row, i * o.d);
    }
    return out;
  };
  return { real: make(1, 0), fake: make(1.05, 0.05) };
}

// ---------------------------------------------------------------------------------------------
// sections

type FidRun = { covSeconds: number; traceSqrtSeconds: number; totalSeconds: number; fid: number; route: string };

function fidRun(real: Matrix, fake: Matrix, kernels: () => Kernels): FidRun {
  const t0 = performance.now();
  const a = meanAndCovariance(real, kernels());
  const b = meanAndCovariance(fake, kernels());
  const covSeconds = seconds(t0);
  const t1 = performance.now();
  const ts = traceSqrtProduct(a.cov, b.cov, real.cols, kernels());
  const traceSqrtSeconds = seconds(t1);
  let mean = 0;
  let tr = 0;
  for (let i = 0; i < real.cols; i++) {
    mean += (a.mean[i] - b.mean[i]) ** 2;
    tr += a.cov[i * real.cols + i] + b.cov[i * real.cols + i];
  }
  return { covSeconds, traceSqrtSeconds, totalSeconds: covSeconds + traceSqrtSeconds, fid: mean + tr - 2 * ts.value, route: ts.route };
}

function benchFid(o: Options, log: (s: string) => void): Record<string, unknown> {
  const { real: realData, fake: fakeData } = fidData(o);
  const real = asMatrix(o.n, o.d, realData);
  const fake = asMatrix(o.n, o.d, fakeData);
  log(`W2: FID on ${o.n} × ${o.d} float32 features (random normal; fake = 1.1·z + 0.05)`);
  const ours: FidRun[] = [];
  for (let r = 0; r < o.runs; r++) {
    const run = fidRun(real, fake, () => createKernels());
    ours.push(run);
    log(`  ours run ${r + 1}: covariances ${run.covSeconds.toFixed(2)} s, trace sqrt ${run.traceSqrtSeconds.toFixed(2)} s, total ${run.totalSeconds.toFixed(2)} s, FID ${run.fid.toFixed(6)} (${run.route})`);
  }
  const baseline: FidRun[] = [];
  for (let r = 0; r < o.baselineRuns; r++) {
    const run = fidRun(real, fake, () => createJsKernels());
    baseline.push(run);
    log(`  baseline (plain-JS unblocked kernels) run ${r + 1}: total ${run.totalSeconds.toFixed(2)} s`);
  }
  const numpy = python<{ covSeconds: number; eigvalsSeconds: number; totalSeconds: number; fid: number }>(o, 'fid', { real: realData, fake: fakeData }, [o.sqrtm ? '1' : '0']);
  const med = (runs: FidRun[], k: 'covSeconds' | 'traceSqrtSeconds' | 'totalSeconds') => (runs.length ? median(runs.map((r) => r[k])) : null);
  const oursTotal = med(ours, 'totalSeconds');
  const baseTotal = med(baseline, 'totalSeconds');
  const result: Record<string, unknown> = {
    workload: { n: o.n, d: o.d, dtype: 'float32', seed: 2048 },
    ours: { runs: ours, median: { covSeconds: med(ours, 'covSeconds'), traceSqrtSeconds: med(ours, 'traceSqrtSeconds'), totalSeconds: oursTotal }, route: 'blocked SIMD covariance + Cholesky L1^T S2 L1 + Householder tridiagonal + implicit QL' },
    baseline: { runs: baseline, median: { totalSeconds: baseTotal }, route: 'same math on plain-JS unblocked kernels (O(d^3) triple loops, no SIMD)' },
    numpy,
  };
  if (oursTotal !== null) log(`  ours median of ${ours.length}: ${oursTotal.toFixed(2)} s (covariances ${med(ours, 'covSeconds')!.toFixed(2)} s + trace sqrt ${med(ours, 'traceSqrtSeconds')!.toFixed(2)} s)`);
  if (oursTotal !== null && baseTotal !== null) {
    result.speedupOverBaseline = baseTotal / oursTotal;
    log(`  plain-JS baseline median of ${baseline.length}: ${baseTotal.toFixed(2)} s → ours ${(baseTotal / oursTotal).toFixed(1)}× faster`);
  }
  if ('runs' in numpy && oursTotal !== null) {
    const npTotal = median(numpy.runs.map((r) => r.totalSeconds));
    const ourFid = ours[0].fid;
    const t = {
      rule: 'issue #6 W2: ours <= 4x numpy (cov + eigvals) measured in the same run; FID within 1e-4 relative of scipy sqrtm',
      numpyTotalSeconds: npTotal,
      ratioToNumpy: oursTotal / npTotal,
      withinTime: oursTotal <= 4 * npTotal,
      relDiffToEigvals: Math.abs(ourFid - numpy.runs[0].fid) / Math.abs(numpy.runs[0].fid),
      relDiffToSqrtm: numpy.sqrtm ? Math.abs(ourFid - numpy.sqrtm.fid) / Math.abs(numpy.sqrtm.fid) : null,
      withinAgreement: numpy.sqrtm ? Math.abs(ourFid - numpy.sqrtm.fid) <= 1e-4 * Math.abs(numpy.sqrtm.fid) : null,
    };
    result.target = t;
    log(`  numpy ${numpy.numpy} median of ${numpy.runs.length}: cov + eigvals ${npTotal.toFixed(2)} s; ours/numpy = ${t.ratioToNumpy.toFixed(2)} (target ≤ 4: ${t.withinTime ? 'met' : 'NOT met'})`);
    log(`  FID agreement: vs numpy eigvals ${t.relDiffToEigvals.toExponential(2)} relative${numpy.sqrtm ? `; vs scipy ${numpy.sqrtm.scipy} sqrtm ${t.relDiffToSqrtm!.toExponential(2)} (target ≤ 1e-4: ${t.withinAgreement ? 'met' : 'NOT met'}; sqrtm took ${numpy.sqrtm.seconds.toFixed(1)} s)` : ' (scipy sqrtm check off)'}`);
  } else if ('skipped' in numpy) log(`  numpy side: ${numpy.skipped}`);
  return result;
}

/** The subsets kernelInceptionDistance draws for a seed (the same Rng sequence), for the numpy side. */
function kidSubsets(o: Options, m: number, seed: number): { ix: Float64Array; iy: Float64Array } {
  const rng = new Rng(seed);
  const ix = new Float64Array(o.kidSubsets * m);
  const iy = new Float64Array(o.kidSubsets * m);
  for (let s = 0; s < o.kidSubsets; s++) {
    ix.set(rng.permutation(o.n).subarray(0, m), s * m);
    iy.set(rng.permutation(o.n).subarray(0, m), s * m);
  }
  return { ix, iy };
}

function benchKid(o: Options, data: { real: Float32Array; fake: Float32Array }, log: (s: string) => void): Record<string, unknown> {
  const real = asMatrix(o.n, o.d, data.real);
  const fake = asMatrix(o.n, o.d, data.fake);
  const m = Math.min(o.kidSize, o.n);
  log(`KID: ${o.kidSubsets} subsets of ${m} from ${o.n} × ${o.d} float32 features (16-dim latent structure + noise; fake latents ×1.05 + 0.05)`);
  const times: number[] = [];
  let res: KidResult | null = null;
  for (let r = 0; r < o.kidRuns; r++) {
    const t0 = performance.now();
    let last = -1;
    res = kernelInceptionDistance(real, fake, { subsets: o.kidSubsets, subsetSize: m, seed: 0 }, {
      onProgress: (p) => {
        if (p.done < last) throw new Error('progress went backwards');
        last = p.done;
      },
    });
    times.push(seconds(t0));
    log(`  ours run ${r + 1}: ${times[r].toFixed(2)} s, KID ${res.mean.toExponential(6)} ± ${res.std.toExponential(3)} (${res.precision} Gram)`);
  }
  const result: Record<string, unknown> = { workload: { n: o.n, d: o.d, subsets: o.kidSubsets, subsetSize: m, seed: 4096 } };
  if (!res) return result;
  const oursMedian = median(times);
  log(`  ours median of ${times.length}: ${oursMedian.toFixed(2)} s (target < 60 s: ${oursMedian < 60 ? 'met' : 'NOT met'})`);
  // precision: the float64 route on the first two subsets (same seed → same subsets)
  const check = Math.min(2, o.kidSubsets);
  const t64 = performance.now();
  const r64 = kernelInceptionDistance(real, fake, { subsets: check, subsetSize: m, seed: 0, precision: 'float64' });
  const sec64 = seconds(t64);
  let maxAbs64 = 0;
  for (let s = 0; s < check; s++) maxAbs64 = Math.max(maxAbs64, Math.abs(res.values[s] - r64.values[s]));
  log(`  float32 Gram vs float64 route on the first ${check} subsets: max |Δ| = ${maxAbs64.toExponential(2)} (KID std ${res.std.toExponential(2)}; float64 took ${(sec64 / check).toFixed(2)} s per subset → ~${((sec64 / check) * o.kidSubsets).toFixed(0)} s for all)`);
  Object.assign(result, { ours: { runs: times, medianSeconds: oursMedian, mean: res.mean, std: res.std, precision: res.precision }, float64Check: { subsets: check, maxAbsDiff: maxAbs64, secondsPerSubset: sec64 / check }, withinTarget: oursMedian < 60 });
  const { ix, iy } = kidSubsets(o, m, 0);
  const np = python<{ totalSeconds: number; mean: number; std: number; values: number[] }>(o, 'kid', {
    real: data.real,
    fake: data.fake,
    ix: { shape: [o.kidSubsets, m], data: ix },
    iy: { shape: [o.kidSubsets, m], data: iy },
  });
  result.numpy = 'runs' in np ? { numpy: np.numpy, runs: np.runs.map((r) => ({ totalSeconds: r.totalSeconds, mean: r.mean, std: r.std })) } : np;
  if ('runs' in np) {
    const npMedian = median(np.runs.map((r) => r.totalSeconds));
    let maxAbs = 0;
    np.runs[0].values.forEach((v, s) => (maxAbs = Math.max(maxAbs, Math.abs(v - res.values[s]))));
    Object.assign(result, { ratioToNumpy: oursMedian / npMedian, maxAbsDiffToNumpy: maxAbs });
    log(`  numpy ${np.numpy} (float32 sgemm, same subsets) median of ${np.runs.length}: ${npMedian.toFixed(2)} s; ours/numpy = ${(oursMedian / npMedian).toFixed(2)}; per-subset max |Δ| = ${maxAbs.toExponential(2)}, KID ${np.runs[0].mean.toExponential(6)} ± ${np.runs[0].std.toExponential(3)}`);
  } else log(`  numpy side: ${np.skipped}`);
  return result;
}

function benchPrdc(o: Options, data: { real: Float32Array; fake: Float32Array }, log: (s: string) => void): Record<string, unknown> {
  const real = asMatrix(o.n, o.d, data.real);
  const fake = asMatrix(o.n, o.d, data.fake);
  log(`PRDC: improved P&R (k = 3) + precision/recall/density/coverage (k = 5), N = ${o.n} real and fake, d = ${o.d} (same data as KID)`);
  const times: number[] = [];
  let res: ManifoldScores | null = null;
  for (let r = 0; r < o.prdcRuns; r++) {
    const t0 = performance.now();
    res = manifoldScores(real, fake);
    times.push(seconds(t0));
    log(`  ours run ${r + 1}: ${times[r].toFixed(2)} s`);
  }
  const result: Record<string, unknown> = { workload: { n: o.n, d: o.d, seed: 4096 } };
  if (!res) return result;
  const oursMedian = median(times);
  const flat = (s: { improved: { precision: number; recall: number }; prdc: { precision: number; recall: number; density: number; coverage: number } }) => ({ P3: s.improved.precision, R3: s.improved.recall, P5: s.prdc.precision, R5: s.prdc.recall, D: s.prdc.density, C: s.prdc.coverage });
  const ours = flat(res);
  log(`  ours median of ${times.length}: ${oursMedian.toFixed(2)} s (target < 60 s: ${oursMedian < 60 ? 'met' : 'NOT met'}); ${Object.entries(ours).map(([k, v]) => `${k} ${v.toFixed(4)}`).join(', ')}`);
  Object.assign(result, { ours: { runs: times, medianSeconds: oursMedian, scores: ours }, withinTarget: oursMedian < 60 });
  const np = python<{ totalSeconds: number; improved: { precision: number; recall: number }; prdc: { precision: number; recall: number; density: number; coverage: number } }>(o, 'prdc', { real: data.real, fake: data.fake });
  result.numpy = np;
  if ('runs' in np) {
    const npMedian = median(np.runs.map((r) => r.totalSeconds));
    const theirs = flat(np.runs[0]);
    const maxAbs = Math.max(...Object.keys(ours).map((k) => Math.abs(ours[k as keyof typeof ours] - theirs[k as keyof typeof theirs])));
    Object.assign(result, { ratioToNumpy: oursMedian / npMedian, maxAbsDiffToNumpy: maxAbs });
    log(`  numpy ${np.numpy} (float32 sgemm blocks) median of ${np.runs.length}: ${npMedian.toFixed(2)} s; ours/numpy = ${(oursMedian / npMedian).toFixed(2)}; max |Δ| over the six scores = ${maxAbs.toExponential(2)}`);
  } else log(`  numpy side: ${np.skipped}`);
  return result;
}

/** One KID-sized Gram product (1 000 × 2 048 × 1 000, float32) on our kernel and on tfjs-wasm's matMul. */
async function benchGram(o: Options, log: (s: string) => void): Promise<Record<string, unknown>> {
  const [m, K] = [1000, o.d];
  const flop = 2 * m * m * K;
  const rng = new Rng(7);
  const a = rng.fillNormal(new Float32Array(m * K));
  const b = rng.fillNormal(new Float32Array(m * K));
  log(`Gram product ${m} × ${K} × ${m} float32 (${(flop / 1e9).toFixed(1)} GFLOP), best of 3:`);
  const k = createKernels();
  const ld = K; // K % 4 = 0 for the default d
  k.reserve(2 * m * ld * 4 + m * m * 8);
  k.f32.set(a, 0);
  k.f32.set(b, m * ld);
  const ours: number[] = [];
  for (let r = 0; r < 3; r++) {
    const t0 = performance.now();
    gemmNT32Blocked(k, 0, m * ld * 4, 2 * m * ld * 4, m, m, K, ld, ld, m);
    ours.push(seconds(t0));
  }
  const best = Math.min(...ours);
  log(`  project wasm f32x4 kernel (${k.simd ? 'SIMD' : 'plain JS fallback'}): ${best.toFixed(3)} s = ${(flop / best / 1e9).toFixed(1)} GFLOP/s`);
  const result: Record<string, unknown> = { ours: { seconds: best, gflops: flop / best / 1e9 } };
  try {
    const tf = await import('@tensorflow/tfjs');
    await import('@tensorflow/tfjs-backend-wasm');
    if (!(await tf.setBackend('wasm'))) throw new Error('setBackend("wasm") returned false');
    await tf.ready();
    const ta = tf.tensor2d(a, [m, K]);
    const tbT = tf.tensor2d(b, [m, K]);
    const tb = tf.transpose(tbT);
    const time = async (f: () => ReturnType<typeof tf.matMul>) => {
      const ts: number[] = [];
      for (let r = 0; r < 3; r++) {
        const t0 = performance.now();
        const c = f();
        await c.data(); // the values have to reach JS: the metrics reduce them there
        ts.push(seconds(t0));
        c.dispose();
      }
      return Math.min(...ts);
    };
    const tN = await time(() => tf.matMul(ta, tb));
    const tT = await time(() => tf.matMul(ta, tbT, false, true));
    log(`  tfjs-backend-wasm matMul (XNNPACK), B pre-transposed: ${tN.toFixed(3)} s = ${(flop / tN / 1e9).toFixed(1)} GFLOP/s; transposeB=true: ${tT.toFixed(3)} s = ${(flop / tT / 1e9).toFixed(1)} GFLOP/s`);
    result.tfjsWasm = { seconds: tN, gflops: flop / tN / 1e9, transposeBSeconds: tT };
    tf.dispose([ta, tb, tbT]);
  } catch (err) {
    log(`  tfjs wasm backend: not measured (${err instanceof Error ? err.message : String(err)})`);
    result.tfjsWasm = { skipped: String(err) };
  }
  return result;
}

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  const log = (s: string) => {
    if (!o.json) process.stdout.write(`${s}\n`);
  };
  const result: Record<string, unknown> = {};
  if (o.only.includes('gram')) result.gram = await benchGram(o, log);
  if (o.only.includes('fid')) result.fid = benchFid(o, log);
  if (o.only.includes('kid') || o.only.includes('prdc')) {
    const t0 = performance.now();
    const data = manifoldData(o);
    log(`(KID/PRDC data generated in ${seconds(t0).toFixed(1)} s)`);
    if (o.only.includes('kid')) result.kid = benchKid(o, data, log);
    if (o.only.includes('prdc')) result.prdc = benchPrdc(o, data, log);
  }
  if (o.json) process.stdout.write(`${JSON.stringify(result)}\n`);
}

await main();
