// The standard 2-D mode-collapse testbeds (Metz et al. 2017, "Unrolled GANs"; used by VEEGAN,
// PacGAN and GAN Lab): 8 Gaussians on a ring of radius 2 with σ 0.02, and a 5×5 grid of
// Gaussians at {−4, −2, 0, 2, 4}² with σ 0.05. Generated from a fixed seed, no download.
import { Rng } from '../models/rng.ts';

export interface PointMixture {
  id: string;
  name: string;
  description: string;
  modes: [number, number][];
  sigma: number;
}

export const RING_OF_8: PointMixture = {
  id: 'builtin:ring8',
  name: 'Ring of 8 Gaussians (2-D)',
  description: '8 Gaussian modes on a circle (r 2, σ 0.02): the classic mode-collapse testbed',
  modes: Array.from({ length: 8 }, (_, k) => [2 * Math.cos((2 * Math.PI * k) / 8), 2 * Math.sin((2 * Math.PI * k) / 8)] as [number, number]),
  sigma: 0.02,
};

export const GRID_OF_25: PointMixture = {
  id: 'builtin:grid25',
  name: 'Grid of 25 Gaussians (2-D)',
  description: '25 Gaussian modes on a 5×5 grid (spacing 2, σ 0.05): harder mode coverage',
  modes: [-4, -2, 0, 2, 4].flatMap((x) => [-4, -2, 0, 2, 4].map((y) => [x, y] as [number, number])),
  sigma: 0.05,
};

/** n points, equally many per mode (round robin), with labels = mode index. */
export function samplePointMixture(mix: PointMixture, n: number, seed = 8): { points: Float32Array; labels: Uint8Array } {
  const rng = new Rng(seed);
  const points = new Float32Array(2 * n);
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const m = i % mix.modes.length;
    points[2 * i] = mix.modes[m][0] + rng.normal() * mix.sigma;
    points[2 * i + 1] = mix.modes[m][1] + rng.normal() * mix.sigma;
    labels[i] = m;
  }
  return { points, labels };
}

/**
 * Mode coverage of generated points (the VEEGAN/PacGAN protocol): a sample counts for its nearest
 * mode when within 3σ; returns how many modes got at least one sample and the share of such
 * "high-quality" samples.
 */
export function pointModeCoverage(mix: PointMixture, fake: ArrayLike<number>): { modesCovered: number; goodShare: number; perMode: number[] } {
  const perMode = new Array<number>(mix.modes.length).fill(0);
  const n = Math.floor(fake.length / 2);
  let good = 0;
  for (let i = 0; i < n; i++) {
    let best = -1;
    let bestD = Infinity;
    mix.modes.forEach(([mx, my], m) => {
      const d = Math.hypot(fake[2 * i] - mx, fake[2 * i + 1] - my);
      if (d < bestD) {
        bestD = d;
        best = m;
      }
    });
    if (bestD <= 3 * mix.sigma) {
      perMode[best]++;
      good++;
    }
  }
  return { modesCovered: perMode.filter((c) => c > 0).length, goodShare: n ? good / n : 0, perMode };
}
