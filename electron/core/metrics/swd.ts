// Sliced Wasserstein distance on Laplacian-pyramid patches (Karras et al. 2018, PGGAN
// `metrics/sliced_wasserstein.py`): pyramid levels from the full resolution down to 16×16 (5×5
// binomial filter, mirror borders, as cv2.pyrDown/pyrUp), 128 random 7×7 neighbourhoods per image
// per level, descriptors normalised per channel by the set's own mean/std (np.std, ddof 0), then
// 4 repeats × 128 random unit directions: mean |sort(A·u) − sort(B·u)|; ×10³ per level, averaged.
// Patch positions come from the same seeded stream for both sets (PGGAN draws them from the global
// numpy RNG), so identical image sets give exactly 0. Images are NHWC, uint8 or float.
import { Rng } from '../models/rng.ts';

export type Images = { n: number; height: number; width: number; channels: number; data: Uint8Array | Float32Array | Float64Array };
export type SwdResult = { perLevel: number[]; resolutions: number[]; average: number };

const NHOOD = 7;
const PER_IMAGE = 128;
const REPEATS = 4;
const DIRECTIONS = 128;
const G5 = [1, 4, 6, 4, 1];

/** scipy.ndimage 'mirror' / cv2 BORDER_REFLECT_101: … c b | a b c … */
const mirror = (i: number, n: number): number => {
  if (n === 1) return 0;
  const period = 2 * (n - 1);
  let m = ((i % period) + period) % period;
  if (m >= n) m = period - m;
  return m;
};

/** Separable 5×5 binomial filter (/256 total, times `gain`) of one channel plane. */
function blur(src: Float64Array, h: number, w: number, gain: number): Float64Array {
  const tmp = new Float64Array(h * w);
  const out = new Float64Array(h * w);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    let s = 0;
    for (let t = -2; t <= 2; t++) s += G5[t + 2] * src[y * w + mirror(x + t, w)];
    tmp[y * w + x] = s / 16;
  }
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    let s = 0;
    for (let t = -2; t <= 2; t++) s += G5[t + 2] * tmp[mirror(y + t, h) * w + x];
    out[y * w + x] = (s / 16) * gain;
  }
  return out;
}

function pyrDown(src: Float64Array, h: number, w: number): { p: Float64Array; h: number; w: number } {
  const b = blur(src, h, w, 1);
  const h2 = Math.ceil(h / 2);
  const w2 = Math.ceil(w / 2);
  const p = new Float64Array(h2 * w2);
  for (let y = 0; y < h2; y++) for (let x = 0; x < w2; x++) p[y * w2 + x] = b[2 * y * w + 2 * x];
  return { p, h: h2, w: w2 };
}

function pyrUp(src: Float64Array, h: number, w: number, H: number, W: number): Float64Array {
  const z = new Float64Array(H * W);
  for (let y = 0; y < h && 2 * y < H; y++) for (let x = 0; x < w && 2 * x < W; x++) z[2 * y * W + 2 * x] = src[y * w + x];
  return blur(z, H, W, 4);
}

/** Pyramid resolutions as PGGAN: res, res/2, … while ≥ 16 (res = the image height). */
export function swdResolutions(height: number): number[] {
  const out: number[] = [];
  for (let r = height; r >= 16; r = Math.floor(r / 2)) out.push(r);
  return out;
}

/** Descriptors of every level for a set: level → Float64Array (n·128) × (C·49), normalised. */
function descriptors(img: Images, levels: number, seed: number): Float64Array[] {
  const { n, height: H, width: W, channels: C, data } = img;
  const rng = new Rng(seed);
  const dim = C * NHOOD * NHOOD;
  const out = Array.from({ length: levels }, () => new Float64Array(n * PER_IMAGE * dim));
  const half = NHOOD >> 1;
  for (let im = 0; im < n; im++) {
    // Laplacian pyramid per channel
    const planes: { p: Float64Array; h: number; w: number }[][] = [];
    for (let c = 0; c < C; c++) {
      let cur: Float64Array = new Float64Array(H * W);
      for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) cur[y * W + x] = data[((im * H + y) * W + x) * C + c];
      const gauss: { p: Float64Array; h: number; w: number }[] = [{ p: cur, h: H, w: W }];
      for (let l = 1; l < levels; l++) {
        const g = gauss[l - 1];
        gauss.push(pyrDown(g.p, g.h, g.w));
      }
      for (let l = 0; l < levels - 1; l++) {
        const up = pyrUp(gauss[l + 1].p, gauss[l + 1].h, gauss[l + 1].w, gauss[l].h, gauss[l].w);
        cur = gauss[l].p;
        for (let i = 0; i < cur.length; i++) cur[i] -= up[i];
      }
      planes.push(gauss);
    }
    for (let l = 0; l < levels; l++) {
      const { h, w } = planes[0][l];
      const dst = out[l];
      for (let t = 0; t < PER_IMAGE; t++) {
        // centre in [half, size − half), as np.random.randint(H, S − H)
        const cx = half + rng.int(w - 2 * half);
        const cy = half + rng.int(h - 2 * half);
        let o = (im * PER_IMAGE + t) * dim;
        for (let c = 0; c < C; c++) {
          const p = planes[c][l].p;
          for (let dy = -half; dy <= half; dy++) for (let dx = -half; dx <= half; dx++) dst[o++] = p[(cy + dy) * w + cx + dx];
        }
      }
    }
  }
  // per-channel normalisation over (descriptors, y, x)
  const area = NHOOD * NHOOD;
  for (const desc of out) {
    const rows = desc.length / dim;
    for (let c = 0; c < C; c++) {
      let mean = 0;
      for (let r = 0; r < rows; r++) for (let a = 0; a < area; a++) mean += desc[r * dim + c * area + a];
      mean /= rows * area;
      let v = 0;
      for (let r = 0; r < rows; r++) for (let a = 0; a < area; a++) v += (desc[r * dim + c * area + a] - mean) ** 2;
      const std = Math.sqrt(v / (rows * area)) || 1; // a constant channel stays 0 instead of NaN
      for (let r = 0; r < rows; r++) for (let a = 0; a < area; a++) desc[r * dim + c * area + a] = (desc[r * dim + c * area + a] - mean) / std;
    }
  }
  return out;
}

function slicedWasserstein(a: Float64Array, b: Float64Array, dim: number, rng: Rng): number {
  const rows = a.length / dim;
  const pa = new Float64Array(rows);
  const pb = new Float64Array(rows);
  const u = new Float64Array(dim);
  let total = 0;
  for (let rep = 0; rep < REPEATS; rep++) {
    let sum = 0;
    for (let dir = 0; dir < DIRECTIONS; dir++) {
      let norm = 0;
      for (let i = 0; i < dim; i++) {
        u[i] = rng.normal();
        norm += u[i] * u[i];
      }
      norm = Math.sqrt(norm);
      for (let i = 0; i < dim; i++) u[i] /= norm;
      for (let r = 0; r < rows; r++) {
        let sa = 0;
        let sb = 0;
        for (let i = 0, o = r * dim; i < dim; i++, o++) {
          sa += a[o] * u[i];
          sb += b[o] * u[i];
        }
        pa[r] = sa;
        pb[r] = sb;
      }
      pa.sort();
      pb.sort();
      for (let r = 0; r < rows; r++) sum += Math.abs(pa[r] - pb[r]);
    }
    total += sum / (rows * DIRECTIONS);
  }
  return total / REPEATS;
}

export function slicedWassersteinDistance(real: Images, fake: Images, opts: { seed?: number } = {}): SwdResult {
  for (const k of ['height', 'width', 'channels'] as const) {
    if (real[k] !== fake[k]) throw new RangeError(`image ${k} differs: real ${real[k]}, fake ${fake[k]}`);
  }
  if (real.n !== fake.n) throw new RangeError(`SWD compares equal numbers of images (as PGGAN), got ${real.n} real and ${fake.n} fake`);
  if (real.height < 16 || real.width < 16) throw new RangeError(`SWD needs images of at least 16×16, got ${real.height}×${real.width}`);
  if (real.n < 1) throw new RangeError('SWD needs at least one image per set');
  const resolutions = swdResolutions(Math.min(real.height, real.width));
  const seed = opts.seed ?? 0;
  const dr = descriptors(real, resolutions.length, seed);
  const df = descriptors(fake, resolutions.length, seed);
  const dim = real.channels * NHOOD * NHOOD;
  const perLevel = resolutions.map((_, l) => slicedWasserstein(dr[l], df[l], dim, new Rng(seed + 1 + l)) * 1e3);
  return { perLevel, resolutions, average: perLevel.reduce((s, v) => s + v, 0) / perLevel.length };
}
