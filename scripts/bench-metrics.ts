// W2 (design/PERFORMANCE.md, issue #6 "Speed"): FID on 10 000 × 2 048 float32 features.
//
//   npm run bench:metrics -- [--n 10000] [--d 2048] [--runs 3] [--baseline-runs 1] [--no-baseline]
//                            [--no-numpy] [--py-runs 1] [--sqrtm] [--json]
//
// Ours: covariances (blocked float64 SIMD SYRK) + Tr(Σ₁Σ₂)^½ by Cholesky, L₁ᵀΣ₂L₁ and Householder
// tridiagonalisation + implicit QL, median of --runs. Baseline measured in the same run: the
// identical pipeline on the plain-JS kernels (unblocked, untiled triple loops, no SIMD), i.e. an
// O(d³) unblocked route. When python3 with numpy is present the numpy pipeline of the issue's
// target runs on the same data: np.cov ×2 + np.linalg.eigvals(Σ₁Σ₂) (torch-fidelity's route);
// --sqrtm adds scipy.linalg.sqrtm(Σ₁Σ₂) (pytorch-fid's route) for the 1e-4 agreement check.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Rng } from '../electron/core/models/rng.ts';
import { asMatrix, meanAndCovariance, traceSqrtProduct, type Matrix } from '../electron/core/metrics/linalg.ts';
import { encodeNpy } from '../electron/core/metrics/npy.ts';
import { createJsKernels, createKernels, type Kernels } from '../electron/core/metrics/wasm-kernels.ts';

type Options = { n: number; d: number; runs: number; baselineRuns: number; numpy: boolean; pyRuns: number; sqrtm: boolean; json: boolean };

function parseOptions(argv: string[]): Options {
  const o: Options = { n: 10000, d: 2048, runs: 3, baselineRuns: 1, numpy: true, pyRuns: 1, sqrtm: false, json: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const num = () => {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v < 0) throw new Error(`${a} needs a non-negative integer`);
      return v;
    };
    if (a === '--n') o.n = num();
    else if (a === '--d') o.d = num();
    else if (a === '--runs') o.runs = num();
    else if (a === '--baseline-runs') o.baselineRuns = num();
    else if (a === '--no-baseline') o.baselineRuns = 0;
    else if (a === '--no-numpy') o.numpy = false;
    else if (a === '--py-runs') o.pyRuns = num();
    else if (a === '--sqrtm') o.sqrtm = true;
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

type Run = { covSeconds: number; traceSqrtSeconds: number; totalSeconds: number; fid: number; route: string };

function fidRun(real: Matrix, fake: Matrix, kernels: () => Kernels): Run {
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

const PY = String.raw`
import json, sys, time
import numpy as np
real, fake, runs, want_sqrtm = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4] == '1'
a = np.load(real); b = np.load(fake)
out = {'numpy': np.__version__, 'runs': []}
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
print(json.dumps(out))
`;

type NumpyResult = { numpy: string; runs: { covSeconds: number; eigvalsSeconds: number; totalSeconds: number; fid: number }[]; sqrtm?: { scipy: string; seconds: number; fid: number } } | { skipped: string };

function main(): void {
  const o = parseOptions(process.argv.slice(2));
  const log = (s: string) => {
    if (!o.json) process.stdout.write(`${s}\n`);
  };
  const rng = new Rng(2048);
  const realData = new Float32Array(o.n * o.d);
  const fakeData = new Float32Array(o.n * o.d);
  rng.fillNormal(realData);
  for (let i = 0; i < fakeData.length; i++) fakeData[i] = rng.normal() * 1.1 + 0.05;
  const real = asMatrix(o.n, o.d, realData);
  const fake = asMatrix(o.n, o.d, fakeData);
  log(`W2: FID on ${o.n} × ${o.d} float32 features (random normal; fake = 1.1·z + 0.05)`);

  const ours: Run[] = [];
  for (let r = 0; r < o.runs; r++) {
    const run = fidRun(real, fake, () => createKernels());
    ours.push(run);
    log(`  ours run ${r + 1}: covariances ${run.covSeconds.toFixed(2)} s, trace sqrt ${run.traceSqrtSeconds.toFixed(2)} s, total ${run.totalSeconds.toFixed(2)} s, FID ${run.fid.toFixed(6)} (${run.route})`);
  }
  const baseline: Run[] = [];
  for (let r = 0; r < o.baselineRuns; r++) {
    const run = fidRun(real, fake, () => createJsKernels());
    baseline.push(run);
    log(`  baseline (plain-JS unblocked kernels) run ${r + 1}: covariances ${run.covSeconds.toFixed(2)} s, trace sqrt ${run.traceSqrtSeconds.toFixed(2)} s, total ${run.totalSeconds.toFixed(2)} s`);
  }
  let numpy = { skipped: 'disabled (--no-numpy)' } as NumpyResult;
  if (o.numpy) {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'gs-bench-metrics-'));
    try {
      writeFileSync(path.join(dir, 'real.npy'), encodeNpy({ shape: [o.n, o.d], data: realData }));
      writeFileSync(path.join(dir, 'fake.npy'), encodeNpy({ shape: [o.n, o.d], data: fakeData }));
      const py = spawnSync('python3', ['-c', PY, path.join(dir, 'real.npy'), path.join(dir, 'fake.npy'), String(Math.max(1, o.pyRuns)), o.sqrtm ? '1' : '0'], { encoding: 'utf8', maxBuffer: 1 << 20 });
      if (py.error || py.status !== 0) numpy = { skipped: `python3 with numpy not usable: ${py.error?.message ?? py.stderr.trim().split('\n').at(-1)}` };
      else numpy = JSON.parse(py.stdout) as NumpyResult;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const med = (runs: Run[], k: keyof Run) => (runs.length ? median(runs.map((r) => r[k] as number)) : null);
  const result: Record<string, unknown> = {
    workload: { n: o.n, d: o.d, dtype: 'float32', seed: 2048 },
    ours: { runs: ours, median: { covSeconds: med(ours, 'covSeconds'), traceSqrtSeconds: med(ours, 'traceSqrtSeconds'), totalSeconds: med(ours, 'totalSeconds') }, route: 'blocked SIMD covariance + Cholesky L1^T S2 L1 + Householder tridiagonal + implicit QL' },
    baseline: { runs: baseline, median: { covSeconds: med(baseline, 'covSeconds'), traceSqrtSeconds: med(baseline, 'traceSqrtSeconds'), totalSeconds: med(baseline, 'totalSeconds') }, route: 'same math on plain-JS unblocked kernels (O(d^3) triple loops, no SIMD)' },
  };
  const oursTotal = med(ours, 'totalSeconds');
  const baseTotal = med(baseline, 'totalSeconds');
  if (oursTotal !== null && baseTotal !== null) result.speedupOverBaseline = baseTotal / oursTotal;
  result.numpy = numpy;
  if ('runs' in numpy && oursTotal !== null) {
    const npTotal = median(numpy.runs.map((r) => r.totalSeconds));
    const ourFid = ours[0].fid;
    result.target = {
      rule: 'issue #6 W2: ours <= 4x numpy (cov + eigvals) measured in the same run; FID within 1e-4 relative of scipy sqrtm',
      numpyTotalSeconds: npTotal,
      ratioToNumpy: oursTotal / npTotal,
      withinTime: oursTotal <= 4 * npTotal,
      relDiffToEigvals: Math.abs(ourFid - numpy.runs[0].fid) / Math.abs(numpy.runs[0].fid),
      relDiffToSqrtm: numpy.sqrtm ? Math.abs(ourFid - numpy.sqrtm.fid) / Math.abs(numpy.sqrtm.fid) : null,
    };
  }
  if (o.json) {
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return;
  }
  const m = result.ours as { median: { covSeconds: number; traceSqrtSeconds: number; totalSeconds: number } };
  log(`ours median of ${ours.length}: covariances ${m.median.covSeconds.toFixed(2)} s + trace sqrt ${m.median.traceSqrtSeconds.toFixed(2)} s = ${m.median.totalSeconds.toFixed(2)} s`);
  if (baseTotal !== null) log(`baseline median of ${baseline.length}: ${baseTotal.toFixed(2)} s → ours is ${(baseTotal / m.median.totalSeconds).toFixed(1)}× faster`);
  if ('runs' in numpy) {
    const t = result.target as { numpyTotalSeconds: number; ratioToNumpy: number; withinTime: boolean; relDiffToEigvals: number; relDiffToSqrtm: number | null };
    log(`numpy ${numpy.numpy}: cov ${numpy.runs[0].covSeconds.toFixed(2)} s + eigvals ${numpy.runs[0].eigvalsSeconds.toFixed(2)} s = ${t.numpyTotalSeconds.toFixed(2)} s; ours/numpy = ${t.ratioToNumpy.toFixed(2)} (target ≤ 4: ${t.withinTime ? 'met' : 'NOT met'})`);
    log(`FID agreement: vs eigvals ${t.relDiffToEigvals.toExponential(2)} relative${t.relDiffToSqrtm !== null ? `, vs scipy sqrtm ${t.relDiffToSqrtm.toExponential(2)} (target ≤ 1e-4)` : ' (run with --sqrtm for the scipy sqrtm check)'}`);
  } else {
    log(`numpy side: ${numpy.skipped}`);
  }
}

main();
