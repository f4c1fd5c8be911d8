// Measures for the per-family learning tests: a loss value is no proof that a GAN learned, so
// these compare samples with data. A softmax-regression digit classifier (trained in a second on
// the built-in MNIST) scores conditional samples; a diagonal Fréchet distance on 7×7-pooled
// pixels compares image statistics; pointModeCoverage (in the core) scores 2-D runs.
import { builtinMnistArrays } from '../../electron/core/datasets/builtin-mnist.ts';

export interface DigitClassifier {
  /** class probabilities for images in [-1, 1], 28×28×1, flattened row-major per image */
  predict(images: Float32Array, n: number): Float64Array;
  accuracy: number;
}

let cached: DigitClassifier | null = null;

/** Multinomial logistic regression on 784 pixels, full-batch gradient descent; ~90 % on training data. */
export function digitClassifier(): DigitClassifier {
  if (cached) return cached;
  const { arrays, manifest } = builtinMnistArrays();
  const n = manifest.count;
  const d = 784;
  const k = 10;
  const x = new Float64Array(n * d);
  for (let i = 0; i < n * d; i++) x[i] = arrays.images[i] / 127.5 - 1;
  const w = new Float64Array(d * k);
  const b = new Float64Array(k);
  const probs = (img: Float64Array | Float32Array, off: number, out: Float64Array) => {
    let max = -Infinity;
    for (let c = 0; c < k; c++) {
      let s = b[c];
      for (let p = 0; p < d; p++) s += img[off + p] * w[p * k + c];
      out[c] = s;
      max = Math.max(max, s);
    }
    let sum = 0;
    for (let c = 0; c < k; c++) sum += (out[c] = Math.exp(out[c] - max));
    for (let c = 0; c < k; c++) out[c] /= sum;
  };
  const p = new Float64Array(k);
  const shiftedRow = new Float64Array(d);
  // minibatch SGD on inputs shifted to [0, 2], so background pixels (0 after the shift) cost nothing
  const lr = 0.05;
  const mb = 50;
  for (let epoch = 0; epoch < 6; epoch++) {
    for (let start = 0; start < n; start += mb) {
      const gw = new Float64Array(d * k);
      const gb = new Float64Array(k);
      const end = Math.min(n, start + mb);
      for (let i = start; i < end; i++) {
        for (let q = 0; q < d; q++) shiftedRow[q] = x[i * d + q] + 1;
        probs(shiftedRow, 0, p);
        p[arrays.labels![i]] -= 1;
        for (let c = 0; c < k; c++) gb[c] += p[c];
        for (let q = 0; q < d; q++) {
          const v = shiftedRow[q];
          if (v === 0) continue;
          for (let c = 0; c < k; c++) gw[q * k + c] += v * p[c];
        }
      }
      const m = end - start;
      for (let q = 0; q < d * k; q++) w[q] -= (lr * gw[q]) / m;
      for (let c = 0; c < k; c++) b[c] -= (lr * gb[c]) / m;
    }
  }
  // the gradient above uses inputs shifted by +1 (so background pixels cost nothing): predict the same way
  const predict = (images: Float32Array, m: number) => {
    const out = new Float64Array(m * k);
    const shifted = new Float64Array(d);
    for (let i = 0; i < m; i++) {
      for (let q = 0; q < d; q++) shifted[q] = images[i * d + q] + 1;
      probs(shifted, 0, p);
      out.set(p, i * k);
    }
    return out;
  };
  let correct = 0;
  const shiftedAll = new Float32Array(n * d);
  for (let i = 0; i < n * d; i++) shiftedAll[i] = x[i];
  const pr = predict(shiftedAll, n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let c = 1; c < k; c++) if (pr[i * k + c] > pr[i * k + best]) best = c;
    if (best === arrays.labels![i]) correct++;
  }
  cached = { predict, accuracy: correct / n };
  return cached;
}

/** Share of samples the classifier assigns to the requested label. */
export function conditionalAccuracy(clf: DigitClassifier, images: Float32Array, labels: ArrayLike<number>): number {
  const n = labels.length;
  const pr = clf.predict(images, n);
  let ok = 0;
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let c = 1; c < 10; c++) if (pr[i * 10 + c] > pr[i * 10 + best]) best = c;
    if (best === labels[i]) ok++;
  }
  return ok / n;
}

/** Mean of the classifier's top probability: digit-like samples are classified confidently. */
export function meanConfidence(clf: DigitClassifier, images: Float32Array, n: number): number {
  const pr = clf.predict(images, n);
  let s = 0;
  for (let i = 0; i < n; i++) s += Math.max(...pr.subarray(i * 10, i * 10 + 10));
  return s / n;
}

/** 4×4 average pooling of H×W×C images in [-1, 1] into per-image feature vectors. */
export function pooledFeatures(images: Float32Array, n: number, h: number, w: number, c: number, pool = 4): Float64Array[] {
  const ph = Math.floor(h / pool);
  const pw = Math.floor(w / pool);
  const out: Float64Array[] = [];
  for (let i = 0; i < n; i++) {
    const f = new Float64Array(ph * pw * c);
    for (let y = 0; y < ph * pool; y++) for (let x = 0; x < pw * pool; x++) for (let ch = 0; ch < c; ch++) f[(Math.floor(y / pool) * pw + Math.floor(x / pool)) * c + ch] += images[((i * h + y) * w + x) * c + ch] / (pool * pool);
    out.push(f);
  }
  return out;
}

/** Fréchet distance between two feature sets with diagonal covariances: Σ(μ₁−μ₂)² + Σ(σ₁−σ₂)². */
export function diagonalFrechet(a: Float64Array[], b: Float64Array[]): number {
  const d = a[0].length;
  const stats = (s: Float64Array[]) => {
    const mu = new Float64Array(d);
    const sd = new Float64Array(d);
    for (const v of s) for (let j = 0; j < d; j++) mu[j] += v[j] / s.length;
    for (const v of s) for (let j = 0; j < d; j++) sd[j] += (v[j] - mu[j]) ** 2 / Math.max(1, s.length - 1);
    for (let j = 0; j < d; j++) sd[j] = Math.sqrt(sd[j]);
    return { mu, sd };
  };
  const x = stats(a);
  const y = stats(b);
  let f = 0;
  for (let j = 0; j < d; j++) f += (x.mu[j] - y.mu[j]) ** 2 + (x.sd[j] - y.sd[j]) ** 2;
  return f;
}
