// The GAN Lab view of a 2-D run as one RGB image: D's decision map as the background (green where
// D says real, purple where it says fake), real points in white, generated points in orange.
// Rendered in the trainer so it travels and is stored like any sample grid.
import type { GridImage } from '../util/image-grid.ts';

const SIZE = 256;
const REAL: [number, number, number] = [235, 235, 235];
const FAKE: [number, number, number] = [255, 150, 40];
const HIGH: [number, number, number] = [46, 120, 70];
const LOW: [number, number, number] = [95, 60, 130];

export function renderPointsPlot(input: { real: Float32Array; fake: Float32Array; decision: Float32Array; gridSize: number; extent: [number, number] }): GridImage {
  const { real, fake, decision, gridSize, extent } = input;
  const pixels = new Uint8Array(SIZE * SIZE * 3);
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of decision) {
    if (Number.isFinite(v)) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
  }
  // probabilities keep their absolute meaning; raw critic scores are shown relative to their range
  const isProb = lo >= 0 && hi <= 1;
  const norm = (v: number) => (isProb ? v : hi > lo ? (v - lo) / (hi - lo) : 0.5);
  for (let y = 0; y < SIZE; y++) {
    for (let x = 0; x < SIZE; x++) {
      const gi = Math.min(gridSize - 1, Math.floor((y / SIZE) * gridSize));
      const gj = Math.min(gridSize - 1, Math.floor((x / SIZE) * gridSize));
      const t = Math.min(1, Math.max(0, norm(decision[gi * gridSize + gj]) || 0));
      const o = (y * SIZE + x) * 3;
      for (let c = 0; c < 3; c++) pixels[o + c] = Math.round(LOW[c] + (HIGH[c] - LOW[c]) * t);
    }
  }
  const [a, b] = extent;
  const dot = (px: number, py: number, color: [number, number, number], r: number) => {
    const cx = Math.round(((px - a) / (b - a)) * (SIZE - 1));
    const cy = Math.round(((b - py) / (b - a)) * (SIZE - 1));
    for (let dy = -r; dy <= r; dy++) {
      for (let dx = -r; dx <= r; dx++) {
        const x = cx + dx;
        const y = cy + dy;
        if (x < 0 || y < 0 || x >= SIZE || y >= SIZE || dx * dx + dy * dy > r * r) continue;
        const o = (y * SIZE + x) * 3;
        pixels.set(color, o);
      }
    }
  };
  for (let i = 0; i + 1 < real.length; i += 2) dot(real[i], real[i + 1], REAL, 1);
  for (let i = 0; i + 1 < fake.length; i += 2) if (Number.isFinite(fake[i]) && Number.isFinite(fake[i + 1])) dot(fake[i], fake[i + 1], FAKE, 2);
  return { width: SIZE, height: SIZE, channels: 3, pixels };
}
