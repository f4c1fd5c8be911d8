// Largest-Triangle-Three-Buckets downsampling (Steinarsson 2013): keeps the visual shape of a
// line with far fewer points, so charts of 10^5–10^6 scalars stay cheap (PERFORMANCE.md W3).

export interface XY {
  xs: number[];
  ys: number[];
}

/**
 * Returns at most `threshold` points of (xs, ys), always keeping the first and the last.
 * Inputs are parallel arrays sorted by x; they are not modified.
 */
export function lttb(xs: readonly number[], ys: readonly number[], threshold: number): XY {
  const n = Math.min(xs.length, ys.length);
  if (threshold >= n || threshold < 3) {
    if (threshold >= n) return { xs: xs.slice(0, n), ys: ys.slice(0, n) };
    // fewer than 3 buckets cannot hold first, middle and last: keep the ends
    return threshold <= 0 ? { xs: [], ys: [] } : threshold === 1 ? { xs: [xs[n - 1]], ys: [ys[n - 1]] } : { xs: [xs[0], xs[n - 1]], ys: [ys[0], ys[n - 1]] };
  }
  const outX = new Array<number>(threshold);
  const outY = new Array<number>(threshold);
  const every = (n - 2) / (threshold - 2);
  let a = 0;
  outX[0] = xs[0];
  outY[0] = ys[0];
  for (let i = 0; i < threshold - 2; i++) {
    // average of the next bucket: the third corner of the triangle
    const nextStart = Math.floor((i + 1) * every) + 1;
    const nextEnd = Math.min(Math.floor((i + 2) * every) + 1, n);
    let avgX = 0;
    let avgY = 0;
    for (let j = nextStart; j < nextEnd; j++) {
      avgX += xs[j];
      avgY += ys[j];
    }
    const len = nextEnd - nextStart;
    avgX /= len;
    avgY /= len;
    // the point of this bucket that makes the largest triangle with the last kept point
    const start = Math.floor(i * every) + 1;
    const end = Math.floor((i + 1) * every) + 1;
    const ax = xs[a];
    const ay = ys[a];
    let maxArea = -1;
    let pick = start;
    for (let j = start; j < end; j++) {
      const area = Math.abs((ax - avgX) * (ys[j] - ay) - (ax - xs[j]) * (avgY - ay));
      if (area > maxArea) {
        maxArea = area;
        pick = j;
      }
    }
    outX[i + 1] = xs[pick];
    outY[i + 1] = ys[pick];
    a = pick;
  }
  outX[threshold - 1] = xs[n - 1];
  outY[threshold - 1] = ys[n - 1];
  return { xs: outX, ys: outY };
}
