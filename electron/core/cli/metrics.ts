// `gan-studio metrics`: scores precomputed feature matrices (.npy, float32 (N, d)) or class
// probabilities (N, C) and prints one JSON object. The protocol (N, d, seed, conventions) goes
// with the numbers, because FID and friends are only comparable under the same protocol.
import { readFileSync } from 'node:fs';
import { ApiError } from '../../common/errors.ts';
import {
  asMatrix,
  featureMatchingDistance,
  fidFromFeaturesDetailed,
  inceptionScore,
  manifoldScores,
  parseNpy,
  prdFromFeatures,
  slicedWassersteinDistance,
  type Matrix,
  type NpyArray,
} from '../metrics/index.ts';
import { kidScore } from '../evaluation/scoring.ts';
import { EXIT, intFlag as optionalInt, parseFlags } from './common.ts';

export const METRICS_HELP = `gan-studio metrics — score precomputed features or class probabilities

Usage: gan-studio metrics --real REAL.npy --fake FAKE.npy [--metrics LIST] [--seed S] [--json]
       gan-studio metrics --probs P.npy [--metrics is] [--splits 10] [--json]

  --real, --fake FILE       float32 (N, d) feature matrices (.npy, '<f4'; '<f8' also read);
                            for swd: images (N, H, W, C) as '|u1' or float
  --probs FILE              (N, C) class probabilities (softmax outputs) for the Inception Score
  --metrics LIST            comma-separated: fid,kid,prc,prdc,prd,swd,fm,is
                            (default fid,kid,prc,prdc,fm with --real/--fake; is with --probs)
  --seed S                  seed for KID subsets, PRD k-means and SWD patches (default 0)
  --splits N                IS splits (default 10)
  --kid-subsets N           KID subsets (default 100); --kid-subset-size M (default 1000)
  --json                    one JSON object on stdout (the default output is the same object, indented)

Conventions: FID numpy cov (N−1), Tr(Σ₁Σ₂)^½ via a symmetric matrix (= scipy sqrtm); KID
torch-fidelity (poly kernel (xᵀy/d+1)³, unbiased MMD², std ddof 0); prc improved P&R k=3 (≤);
prdc density/coverage k=5 (<); prd 20 clusters, 1 001 angles, 10 runs; swd PGGAN; fm ‖μ_r − μ_f‖;
is 10 contiguous splits, std ddof 0.
Exit status: 0 ok; 2 bad input (missing or malformed file, wrong dtype, NaN, mismatched d,
N too small). When N ≤ d (rank-deficient covariances) FID is still computed and printed, with a
"warnings" entry, and the exit status is 2 so scripts do not take it for a comparable score.`;

const FEATURE_METRICS = ['fid', 'kid', 'prc', 'prdc', 'prd', 'swd', 'fm'] as const;
const ALL = [...FEATURE_METRICS, 'is'] as const;
type MetricName = (typeof ALL)[number];

function readNpy(file: string, flag: string): NpyArray {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new ApiError('not_found', `${flag} ${file}: ${e.code === 'ENOENT' ? 'no such file' : e.message}`);
  }
  try {
    return parseNpy(bytes, `${flag} ${file}`);
  } catch (err) {
    throw new ApiError('invalid_input', (err as Error).message);
  }
}

function finiteCheck(a: NpyArray, flag: string): void {
  if (a.dtype === '|u1') return;
  const d = a.data;
  for (let i = 0; i < d.length; i++) {
    if (!Number.isFinite(d[i])) throw new ApiError('invalid_input', `${flag}: value ${d[i]} at flat index ${i} (row ${Math.floor(i / (a.shape.slice(1).reduce((x, y) => x * y, 1) || 1))}); features must be finite`);
  }
}

function featureMatrix(a: NpyArray, flag: string): Matrix {
  if (a.shape.length !== 2) throw new ApiError('invalid_input', `${flag}: expected a 2-D (N, d) feature matrix, got shape (${a.shape.join(', ')})`);
  if (a.dtype === '|u1') throw new ApiError('invalid_input', `${flag}: uint8 data is read as images for swd only; features must be float32 ('<f4')`);
  return asMatrix(a.shape[0], a.shape[1], a.data as Float32Array | Float64Array);
}

function parseList(value: string | undefined, dflt: MetricName[]): MetricName[] {
  if (!value) return dflt;
  const names = value.split(',').map((s) => s.trim()).filter(Boolean);
  for (const n of names) if (!(ALL as readonly string[]).includes(n)) throw new ApiError('invalid_input', `--metrics: unknown metric "${n}" (known: ${ALL.join(', ')})`);
  return [...new Set(names)] as MetricName[];
}

const intFlag = (name: string, v: string | undefined, dflt: number, min: number): number => optionalInt(name, v, min) ?? dflt;

export async function metricsCommand(args: string[]): Promise<number> {
  const { values } = parseFlags(args, {
    real: { type: 'string' },
    fake: { type: 'string' },
    probs: { type: 'string' },
    metrics: { type: 'string' },
    seed: { type: 'string' },
    splits: { type: 'string' },
    'kid-subsets': { type: 'string' },
    'kid-subset-size': { type: 'string' },
    json: { type: 'boolean', default: false },
    home: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  });
  if (values.help) {
    process.stdout.write(`${METRICS_HELP}\n`);
    return EXIT.ok;
  }
  const json = values.json;
  try {
    const { result, warnings } = await compute(values);
    if (warnings.length) {
      result.warnings = warnings;
      for (const w of warnings) process.stderr.write(`gan-studio: warning: ${w.message}\n`);
    }
    process.stdout.write(`${JSON.stringify(result, null, json ? undefined : 2)}\n`);
    return warnings.length ? EXIT.usage : EXIT.ok;
  } catch (err) {
    const code = err instanceof ApiError ? err.code : err instanceof RangeError ? 'invalid_input' : null;
    if (code === null) throw err;
    const message = (err as Error).message;
    if (json) process.stdout.write(`${JSON.stringify({ error: { code, message } })}\n`);
    process.stderr.write(`gan-studio: ${message}\n`);
    return EXIT.usage;
  }
}

type Warning = { code: string; metric: string; message: string };

type Flags = Partial<Record<'real' | 'fake' | 'probs' | 'metrics' | 'seed' | 'splits' | 'kid-subsets' | 'kid-subset-size', string>>;

async function compute(v: Flags): Promise<{ result: Record<string, unknown>; warnings: Warning[] }> {
  const seed = intFlag('--seed', v.seed, 0, 0);
  const warnings: Warning[] = [];
  if (v.probs) {
    if (v.real || v.fake) throw new ApiError('invalid_input', '--probs (Inception Score) cannot be combined with --real/--fake');
    const metrics = parseList(v.metrics, ['is']);
    const other = metrics.filter((m) => m !== 'is');
    if (other.length) throw new ApiError('invalid_input', `--probs only supports --metrics is (got ${other.join(', ')}; those need --real and --fake)`);
    const arr = readNpy(v.probs, '--probs');
    finiteCheck(arr, '--probs');
    const probs = featureMatrix(arr, '--probs');
    const splits = intFlag('--splits', v.splits, 10, 1);
    if (probs.rows < splits) throw new ApiError('invalid_input', `--probs: IS with ${splits} splits needs at least ${splits} rows, got ${probs.rows}`);
    const is = inceptionScore(probs, { splits });
    return {
      result: { is: { mean: is.mean, std: is.std, splits }, protocol: { n: probs.rows, classes: probs.cols, splits, convention: 'IS = exp(E KL(p(y|x)||p(y))), contiguous splits (OpenAI improved-gan), std ddof 0, float64' } },
      warnings,
    };
  }
  if (!v.real || !v.fake) throw new ApiError('invalid_input', 'missing --real and/or --fake (two .npy feature files), or --probs for the Inception Score');
  const metrics = parseList(v.metrics, ['fid', 'kid', 'prc', 'prdc', 'fm']);
  if (metrics.includes('is')) throw new ApiError('invalid_input', '--metrics is needs --probs P.npy (class probabilities), not --real/--fake');
  const ra = readNpy(v.real, '--real');
  const fa = readNpy(v.fake, '--fake');
  finiteCheck(ra, '--real');
  finiteCheck(fa, '--fake');
  const result: Record<string, unknown> = {};
  const convention: Record<string, string> = {};
  const featureNames = metrics.filter((m) => m !== 'swd');
  let protocol: Record<string, unknown> = { seed };
  if (metrics.includes('swd')) {
    for (const [a, flag] of [[ra, '--real'], [fa, '--fake']] as const) {
      if (a.shape.length !== 4) throw new ApiError('invalid_input', `${flag}: swd needs images (N, H, W, C), got shape (${a.shape.join(', ')})`);
    }
    if (featureNames.length) throw new ApiError('invalid_input', `swd works on images; compute it separately from the feature metrics (${featureNames.join(', ')})`);
    const img = (a: NpyArray) => ({ n: a.shape[0], height: a.shape[1], width: a.shape[2], channels: a.shape[3], data: a.data });
    const swd = slicedWassersteinDistance(img(ra), img(fa), { seed });
    result.swd = { average: swd.average, perLevel: swd.perLevel, resolutions: swd.resolutions };
    convention.swd = 'PGGAN: Laplacian pyramid to 16x16, 128 7x7 patches/image/level, per-channel normalisation, 4x128 directions, x1e3';
    protocol = { nReal: ra.shape[0], nFake: fa.shape[0], imageShape: ra.shape.slice(1), seed };
    return { result: { ...result, protocol: { ...protocol, convention } }, warnings };
  }
  const real = featureMatrix(ra, '--real');
  const fake = featureMatrix(fa, '--fake');
  if (real.cols !== fake.cols) throw new ApiError('invalid_input', `feature dimensions differ: --real has d = ${real.cols}, --fake has d = ${fake.cols}`);
  const d = real.cols;
  const need = (metric: string, min: number, why: string) => {
    for (const [m, name] of [[real, 'real'], [fake, 'fake']] as const) {
      if (m.rows < min) throw new ApiError('invalid_input', `${metric} needs at least ${min} ${name} samples (${why}), got ${m.rows}`);
    }
  };
  for (const m of metrics) {
    switch (m) {
      case 'fid': {
        need('fid', 2, 'a covariance needs 2');
        const f = fidFromFeaturesDetailed(real, fake);
        result.fid = f.fid;
        convention.fid = `numpy cov (N-1), float64, Tr(S1 S2)^1/2 by the ${f.route} route (symmetric; equals scipy sqrtm)`;
        for (const [mm, name] of [[real, 'real'], [fake, 'fake']] as const) {
          if (mm.rows <= d) warnings.push({ code: 'n_too_small', metric: 'fid', message: `fid: ${name} N = ${mm.rows} ≤ d = ${d}: its covariance is rank-deficient (full rank needs N > d), so the FID is not comparable with published values; use N > ${d}` });
        }
        break;
      }
      case 'kid': {
        need('kid', 2, 'unbiased MMD² needs 2 per subset');
        const k = await kidScore(real, fake, { kidSubsets: intFlag('--kid-subsets', v['kid-subsets'], 100, 1), kidSubsetSize: intFlag('--kid-subset-size', v['kid-subset-size'], 1000, 2) }, seed);
        result.kid = k.score;
        convention.kid = `torch-fidelity: (x.y/d+1)^3, unbiased MMD^2, subsets without replacement, std ddof 0${k.note}`;
        break;
      }
      case 'prc':
      case 'prdc':
        break; // below, one distance pass for both
      case 'prd': {
        if (real.rows !== fake.rows) throw new ApiError('invalid_input', `prd needs equal numbers of real and fake samples (the reference enforces balance), got ${real.rows} and ${fake.rows}`);
        need('prd', 20, '20 k-means clusters');
        const p = prdFromFeatures(real, fake, { seed });
        result.prd = { f8: p.f8, f1_8: p.f1_8 };
        convention.prd = 'Sajjadi et al.: k-means 20 clusters on the union (Lloyd, k-means++), 1001 angles, 10 runs averaged';
        break;
      }
      case 'fm':
        result.fm = featureMatchingDistance(real, fake);
        convention.fm = '||mean_real - mean_fake||_2';
        break;
    }
  }
  if (metrics.includes('prc') || metrics.includes('prdc')) {
    need(metrics.includes('prdc') ? 'prdc' : 'prc', metrics.includes('prdc') ? 6 : 4, `k = ${metrics.includes('prdc') ? 5 : 3} neighbours besides the point itself`);
    const s = manifoldScores(real, fake, { kImproved: 3, kPrdc: metrics.includes('prdc') ? 5 : 3 });
    if (metrics.includes('prc')) {
      Object.assign(result, { precision: s.improved.precision, recall: s.improved.recall, f1: s.improved.f1 });
      convention.prc = 'Kynkaanniemi et al.: k=3, radius to k-th neighbour (self excluded), <=';
    }
    if (metrics.includes('prdc')) {
      Object.assign(result, { density: s.prdc.density, coverage: s.prdc.coverage, prdc: { precision: s.prdc.precision, recall: s.prdc.recall, k: 5 } });
      convention.prdc = 'Naeem et al. (clovaai prdc): k=5, real radii, strict <';
    }
  }
  protocol = { nReal: real.rows, nFake: fake.rows, d, seed, convention };
  return { result: { ...result, protocol }, warnings };
}
