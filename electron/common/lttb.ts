// Largest-Triangle-Three-Buckets downsampling (Steinarsson 2013, "Downsampling Time Series for
// Visual Representation", ch. 4). Keeps the first and last points; from each bucket in between it
// keeps the point forming the largest triangle with the previously kept point and the average of
// the next bucket, so spikes and dips survive where plain striding or averaging would lose them.
// Pure and dependency-free: it is twenty lines.

/**
 * Indices (ascending) of at most `threshold` points of the series (xs[i], ys[i]) to keep.
 * xs must be ascending. All points are kept when there are no more than `threshold`.
 */
export function lttbIndices(xs: ArrayLike<number>, ys: ArrayLike<number>, threshold: number): number[] {
  const n = xs.length;
  if (ys.length !== n) throw new RangeError(`lttb: xs has ${n} points but ys has ${ys.length}`);
  if (!Number.isInteger(threshold) || threshold < 2) throw new RangeError(`lttb: threshold must be an integer >= 2, got ${threshold}`);
  if (n <= threshold) return Array.from({ length: n }, (_, i) => i);
  if (threshold === 2) return [0, n - 1];

  const kept = new Array<number>(threshold);
  kept[0] = 0;
  // n - 2 inner points shared among threshold - 2 buckets
  const every = (n - 2) / (threshold - 2);
  let a = 0;
  for (let i = 0; i < threshold - 2; i++) {
    // average of the next bucket (for the last inner bucket: the last point)
    const nextStart = Math.floor((i + 1) * every) + 1;
    const nextEnd = Math.min(Math.floor((i + 2) * every) + 1, n);
    let avgX = 0;
    let avgY = 0;
    for (let j = nextStart; j < nextEnd; j++) {
      avgX += xs[j]!;
      avgY += ys[j]!;
    }
    const len = nextEnd - nextStart;
    avgX /= len;
    avgY /= len;

    const start = Math.floor(i * every) + 1;
    const end = Math.floor((i + 1) * every) + 1;
    const ax = xs[a]!;
    const ay = ys[a]!;
    let maxArea = -1;
    let chosen = start;
    for (let j = start; j < end; j++) {
      // twice the triangle's area; the factor does not change which point wins
      const area = Math.abs((ax - avgX) * (ys[j]! - ay) - (ax - xs[j]!) * (avgY - ay));
      if (area > maxArea) {
        maxArea = area;
        chosen = j;
      }
    }
    kept[i + 1] = chosen;
    a = chosen;
  }
  kept[threshold - 1] = n - 1;
  return kept;
}

/** The downsampled series itself. */
export function lttb(xs: ArrayLike<number>, ys: ArrayLike<number>, threshold: number): { xs: number[]; ys: number[] } {
  const idx = lttbIndices(xs, ys, threshold);
  return { xs: idx.map((i) => xs[i]!), ys: idx.map((i) => ys[i]!) };
}
