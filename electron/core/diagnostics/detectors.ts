// Streaming detectors over a run's scalar stream (METRICS.md "Training-time diagnostics"). Pure:
// the engine sees only (step, tag, value) rows, in step order, plus sample steps and the run's end;
// the same rows replayed give the same alerts (the diagnose command and a resume rely on it).
//
// Each detector looks at its tags when they arrive and says whether its condition holds at the
// firing threshold (`raise`, with a severity) and at the relaxed one (`hold`). A shared controller
// adds the sustain rule (held for N evaluations and S steps before it opens) and the hysteresis (an
// open alert lasts while `hold` is true and resolves after `clearPoints` evaluations without it).
import type { Alert, AlertKind, AlertSeverity } from '../../common/api.ts';
import type { Objective, RunConfig } from '../../common/config.ts';
import type { DiagnosticsConfig } from './config.ts';
import { remediesFor } from './remedies.ts';

export interface ScalarRowLike {
  step: number;
  tag: string;
  value: number;
}

export const SEVERITY_RANK: Record<AlertSeverity, number> = { info: 0, warning: 1, critical: 2 };

/** What the detectors read of the objective: its equilibrium losses and whether scores are probabilities. */
interface ObjectiveTraits {
  /** D's loss at D = ½ everywhere (the minimax equilibrium); null when the objective has none */
  dLossEquilibrium: number | null;
  /** a G loss at least this means D rejects G's samples; null: read D(G(z)) instead */
  gLossLosing: number | null;
  /** D's scores are probability-like (sigmoid of a logit, or LSGAN's 0/1 targets) */
  probabilityScores: boolean;
  /** typical loss scale for the instability threshold; null: the run's own median |loss| */
  lossScale: number | null;
}

export const OBJECTIVE_TRAITS: Record<Objective, ObjectiveTraits> = {
  // each BCE term ln 2 at equilibrium; −log D(G(z)) ≥ 2.5 means D(G(z)) ≤ 0.08
  'non-saturating': { dLossEquilibrium: 2 * Math.LN2, gLossLosing: 2.5, probabilityScores: true, lossScale: 1 },
  // log(1 − D(G(z))) saturates near 0 exactly when G loses: read D(G(z))
  minimax: { dLossEquilibrium: 2 * Math.LN2, gLossLosing: null, probabilityScores: true, lossScale: 1 },
  // ½(E(D−1)² + E D²) = ¼ at D = ½; ½E(D(G)−1)² ≥ 0.4 means D(G(z)) ≲ 0.1
  'least-squares': { dLossEquilibrium: 0.25, gLossLosing: 0.4, probabilityScores: true, lossScale: 0.25 },
  // both margins violated by 1 at D = 0; −E D(G(z)) ≥ 1 means fakes sit beyond the margin
  hinge: { dLossEquilibrium: 2, gLossLosing: 1, probabilityScores: false, lossScale: 1 },
  // an unbounded critic: it cannot "win" by saturating, so no convergence-failure rule
  wasserstein: { dLossEquilibrium: null, gLossLosing: null, probabilityScores: false, lossScale: null },
  energy: { dLossEquilibrium: null, gLossLosing: null, probabilityScores: false, lossScale: null },
  'boundary-equilibrium': { dLossEquilibrium: null, gLossLosing: null, probabilityScores: false, lossScale: null },
};

/** The tags detectors read; the trainer writes them (diversity and D probes on a schedule). */
export const TAGS = {
  gLoss: 'loss/g',
  dLoss: 'loss/d',
  dReal: 'd/real',
  dFake: 'd/fake',
  accReal: 'd/acc_real',
  accFake: 'd/acc_fake',
  gGrad: 'grad/g_norm',
  dGrad: 'grad/d_norm',
  diversity: 'div/ratio',
  nearDuplicates: 'div/near_dup',
  coverage: 'div/coverage',
  drift: 'div/drift',
  gDelta: 'weights/g_delta',
  overfitGap: 'd/overfit_gap',
  nonFinite: 'diag/non_finite',
  /** FID and KID (mean) of the small-N evaluations during training (config.evaluation), at the checkpoint's step */
  evalFid: 'eval/fid',
  evalKid: 'eval/kid',
} as const;

/** The quality signals stagnation reads when `stagnation.qualityTag` is null, in order of preference (lower is better). */
export const QUALITY_TAGS = [TAGS.evalFid, 'metrics/fid', TAGS.evalKid, 'metrics/kid'] as const;

interface Verdict {
  /** the firing condition holds, at this severity */
  raise: AlertSeverity | null;
  /** the relaxed condition holds (keeps an open alert open) */
  hold: boolean;
  values: Record<string, number>;
  tags: string[];
  explain: () => string;
}

interface DetectorSpec {
  kind: AlertKind;
  /** tags whose arrival triggers an evaluation */
  triggers: readonly string[];
  /** evaluations and steps the raise condition must hold before the alert opens */
  sustainPoints: number;
  sustainSteps: number;
  /** evaluations without `hold` that resolve it */
  clearPoints: number;
  /** steps before which it is not evaluated */
  warmup: number;
  /** held this long (steps since the start) escalates a warning to critical; null: never */
  criticalAfterSteps: number | null;
  evaluate(h: History, step: number): Verdict | null;
}

/** The recent values of every tag (ring of the last MAX points). */
class History {
  static readonly MAX = 400;
  readonly #series = new Map<string, { steps: number[]; values: number[] }>();
  /** all-time medians of |loss| for objectives without a fixed scale, over a bounded reservoir */
  push(step: number, tag: string, value: number): void {
    let s = this.#series.get(tag);
    if (!s) this.#series.set(tag, (s = { steps: [], values: [] }));
    if (s.steps.length > 0 && s.steps[s.steps.length - 1] === step) {
      s.values[s.values.length - 1] = value;
      return;
    }
    s.steps.push(step);
    s.values.push(value);
    if (s.steps.length > History.MAX) {
      s.steps.splice(0, s.steps.length - History.MAX);
      s.values.splice(0, s.values.length - History.MAX);
    }
  }
  /** a value for an earlier step than the series' last (a late measurement), kept in step order */
  insert(step: number, tag: string, value: number): void {
    const s = this.#series.get(tag);
    if (!s || s.steps.length === 0 || s.steps[s.steps.length - 1] <= step) {
      this.push(step, tag, value);
      return;
    }
    let i = s.steps.length;
    while (i > 0 && s.steps[i - 1] > step) i--;
    if (i > 0 && s.steps[i - 1] === step) {
      s.values[i - 1] = value;
      return;
    }
    s.steps.splice(i, 0, step);
    s.values.splice(i, 0, value);
    if (s.steps.length > History.MAX) {
      s.steps.splice(0, s.steps.length - History.MAX);
      s.values.splice(0, s.values.length - History.MAX);
    }
  }
  last(tag: string): number | undefined {
    const s = this.#series.get(tag);
    return s && s.values.length ? s.values[s.values.length - 1] : undefined;
  }
  /** the last n values (fewer when the series is shorter) */
  tail(tag: string, n: number): number[] {
    const s = this.#series.get(tag);
    return s ? s.values.slice(-n) : [];
  }
  /** values with step > sinceStep */
  since(tag: string, sinceStep: number): { steps: number[]; values: number[] } {
    const s = this.#series.get(tag);
    if (!s) return { steps: [], values: [] };
    let i = s.steps.length;
    while (i > 0 && s.steps[i - 1] > sinceStep) i--;
    return { steps: s.steps.slice(i), values: s.values.slice(i) };
  }
  all(tag: string): { steps: number[]; values: number[] } {
    return this.#series.get(tag) ?? { steps: [], values: [] };
  }
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(xs.length, 1);
function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  return s[lo] + (s[Math.min(lo + 1, s.length - 1)] - s[lo]) * (pos - lo);
}
/** least-squares slope per point and the residual std around the line */
function trend(ys: number[]): { slope: number; residualStd: number } {
  const n = ys.length;
  if (n < 3) return { slope: 0, residualStd: 0 };
  const xm = (n - 1) / 2;
  const ym = mean(ys);
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += (i - xm) * (ys[i] - ym);
    sxx += (i - xm) ** 2;
  }
  const slope = sxy / sxx;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (ys[i] - (ym + slope * (i - xm))) ** 2;
  return { slope, residualStd: Math.sqrt(ss / (n - 2)) };
}
/**
 * Typical point-to-point change (median |Δ| / √2, the noise std for independent points): large for
 * an oscillation, unmoved by a trend or a single jump.
 */
function swing(ys: number[]): number {
  if (ys.length < 3) return 0;
  const diffs = ys.slice(1).map((y, i) => Math.abs(y - ys[i]));
  return quantile(diffs, 0.5) / Math.SQRT2;
}
const f = (x: number | undefined, d = 3) => (x === undefined || !Number.isFinite(x) ? String(x) : Math.abs(x) >= 1000 || (Math.abs(x) < 1e-3 && x !== 0) ? x.toExponential(2) : x.toFixed(d));
const worst = (a: AlertSeverity | null, b: AlertSeverity | null): AlertSeverity | null => (a === null ? b : b === null ? a : SEVERITY_RANK[a] >= SEVERITY_RANK[b] ? a : b);

/**
 * Spectral normalisation divides each D weight by its largest singular value, so the gradient with
 * respect to the raw weights is scaled up by 1/σ while the update of the normalised weights stays
 * bounded: |∇D| around 100 on a healthy hinge + SN run (measured, SAGAN on MNIST). Its explode
 * threshold is this many times the configured one.
 */
export const SPECTRAL_D_GRADIENT_FACTOR = 10;

function buildDetectors(cfg: DiagnosticsConfig, objective: Objective, arch: { dSpectral: boolean } = { dSpectral: false }): DetectorSpec[] {
  const traits = OBJECTIVE_TRAITS[objective];
  const out: DetectorSpec[] = [];

  if (cfg.divergence.enabled) {
    const lim = cfg.divergence.lossAbove;
    out.push({
      kind: 'divergence',
      triggers: [TAGS.gLoss, TAGS.dLoss, TAGS.nonFinite],
      sustainPoints: 1,
      sustainSteps: 0,
      clearPoints: Infinity,
      warmup: 0,
      criticalAfterSteps: null,
      evaluate(h) {
        const g = h.last(TAGS.gLoss);
        const d = h.last(TAGS.dLoss);
        const nonFinite = h.last(TAGS.nonFinite) === 1;
        const huge = [g, d].some((v) => v !== undefined && Math.abs(v) > lim);
        const raise = nonFinite || huge;
        return {
          raise: raise ? 'critical' : null,
          hold: raise,
          values: { gLoss: g ?? NaN, dLoss: d ?? NaN, lossLimit: lim },
          tags: [TAGS.gLoss, TAGS.dLoss],
          explain: () =>
            nonFinite
              ? 'The losses became NaN or infinite: the weights left the range where the networks compute anything, so training cannot continue from this state. The last checkpoint before it is intact.'
              : `A loss passed ${f(lim)} (G ${f(g)}, D ${f(d)}): training is blowing up and will turn NaN.`,
        };
      },
    });
  }

  if (cfg.gradient.enabled) {
    const g = cfg.gradient;
    out.push({
      kind: 'gradient',
      triggers: [TAGS.gGrad, TAGS.dGrad],
      sustainPoints: g.sustainPoints,
      sustainSteps: 0,
      clearPoints: 3,
      warmup: 0,
      criticalAfterSteps: null,
      evaluate(h, step) {
        const gn = h.last(TAGS.gGrad);
        const dn = h.last(TAGS.dGrad);
        // D's norm in units of G's scale (see SPECTRAL_D_GRADIENT_FACTOR)
        const dScaled = dn === undefined ? 0 : arch.dSpectral ? dn / SPECTRAL_D_GRADIENT_FACTOR : dn;
        const top = Math.max(gn ?? 0, dScaled);
        const exploding = top > g.explodeAbove;
        // vanishing G gradients only count once training is under way (they start small)
        const vanishing = step > cfg.warmupSteps && gn !== undefined && gn < g.vanishBelow;
        const raise: AlertSeverity | null = top > g.criticalAbove ? 'critical' : exploding || vanishing ? 'warning' : null;
        return {
          raise,
          hold: top > g.explodeAbove * 0.5 || (gn !== undefined && gn < g.vanishBelow * 2 && step > cfg.warmupSteps),
          values: { gGradNorm: gn ?? NaN, dGradNorm: dn ?? NaN, explodeAbove: g.explodeAbove, ...(arch.dSpectral ? { dExplodeAbove: g.explodeAbove * SPECTRAL_D_GRADIENT_FACTOR } : {}), vanishBelow: g.vanishBelow },
          tags: [TAGS.gGrad, TAGS.dGrad],
          explain: () =>
            exploding
              ? `Gradient norms are exploding (|∇G| ${f(gn)}, |∇D| ${f(dn)}, above ${f(g.explodeAbove)}${arch.dSpectral ? ` for G, ${f(g.explodeAbove * SPECTRAL_D_GRADIENT_FACTOR)} for the spectrally normalised D` : ''}): updates this large throw the weights far from where the gradient was measured, which ends in oscillation or NaN.`
              : `G's gradient has vanished (|∇G| ${f(gn)}, below ${f(g.vanishBelow)}): D's verdict no longer tells G how to improve, so G stops learning.`,
        };
      },
    });
  }

  if (cfg.convergenceFailure.enabled && traits.dLossEquilibrium !== null) {
    const c = cfg.convergenceFailure;
    const dLossBelow = traits.dLossEquilibrium * c.dLossBelowFraction;
    const window = 10;
    out.push({
      kind: 'convergence_failure',
      triggers: [TAGS.dLoss],
      sustainPoints: 3,
      sustainSteps: c.sustainSteps,
      clearPoints: 3,
      warmup: cfg.warmupSteps,
      criticalAfterSteps: c.criticalSteps,
      evaluate(h) {
        const dLoss = mean(h.tail(TAGS.dLoss, 3));
        const gLosses = h.tail(TAGS.gLoss, window);
        const gLoss = mean(gLosses.slice(-3));
        const real = h.tail(TAGS.dReal, 3);
        const fake = h.tail(TAGS.dFake, 3);
        const gap = real.length && fake.length ? mean(real) - mean(fake) : NaN;
        const accR = h.last(TAGS.accReal);
        const accF = h.last(TAGS.accFake);
        // D's accuracy alone is not enough: a healthy D classifies most single samples right
        // (measured: ≥ 95 % on a healthy MNIST run); with a near-zero loss or a saturated score gap it is
        const accurate = accR !== undefined && accF !== undefined && accR >= c.accuracyAbove && accF >= c.accuracyAbove;
        const dWins = (x: number) => dLoss < dLossBelow * x || (traits.probabilityScores && gap >= c.scoreGapAbove / x) || (accurate && dLoss < dLossBelow * 2 * x);
        // G losing: its loss stays at the "rejected" level, or rises over the window; for the
        // minimax loss (which saturates) D(G(z)) near 0 says the same
        const rising = gLosses.length >= 5 && trend(gLosses).slope * gLosses.length > 0.1 * Math.max(Math.abs(mean(gLosses)), 0.1);
        const gLoses = traits.gLossLosing !== null ? gLoss >= traits.gLossLosing || rising : mean(fake) <= 0.05 || rising;
        const raise = dWins(1) && gLoses;
        return {
          raise: raise ? (dLoss < dLossBelow / 10 ? 'critical' : 'warning') : null,
          hold: dWins(2) && gLoses,
          values: { dLoss, gLoss, dReal: real.length ? mean(real) : NaN, dFake: fake.length ? mean(fake) : NaN, ...(accR !== undefined ? { accReal: accR } : {}), ...(accF !== undefined ? { accFake: accF } : {}), dLossBelow },
          tags: [TAGS.dLoss, TAGS.gLoss, TAGS.dReal, TAGS.dFake],
          explain: () =>
            `D has won: its loss is ${f(dLoss)} (below ${f(dLossBelow)}${Number.isFinite(gap) ? `; D(x) ${f(mean(real), 2)} vs D(G(z)) ${f(mean(fake), 2)}` : ''}) while G's loss ${rising ? 'keeps rising' : 'stays high'} at ${f(gLoss)}. A discriminator that rejects every sample with certainty gives G almost no gradient, so G stops improving.`,
        };
      },
    });
  }

  if (cfg.modeCollapse.enabled) {
    const m = cfg.modeCollapse;
    out.push({
      kind: 'mode_collapse',
      triggers: [TAGS.diversity],
      sustainPoints: m.sustainProbes,
      sustainSteps: 0,
      clearPoints: 2,
      warmup: cfg.warmupSteps,
      criticalAfterSteps: null,
      evaluate(h, step) {
        const ratio = h.last(TAGS.diversity)!;
        // Early samples are blurry averages and look collapsed: only a diversity that fell from a
        // healthy level, or one that never developed by persistAfterSteps, counts
        // …and a healthy level is one reached while the samples also covered the data: freshly
        // initialised G's spread-out noise is "diverse" but covers nothing (a hinge + SN run raised a
        // warning at step 155 from that peak, measured on the scenario suite)
        const divs = h.all(TAGS.diversity);
        const covs = h.all(TAGS.coverage);
        const covAt = new Map(covs.steps.map((st, i) => [st, covs.values[i]]));
        const healthyLevels = divs.values.filter((_, i) => !covAt.has(divs.steps[i]) || covAt.get(divs.steps[i])! >= m.coverageBelow);
        const peak = healthyLevels.length ? Math.max(...healthyLevels) : 0;
        const gated = peak >= m.clearAbove || step >= m.persistAfterSteps;
        const dup = h.last(TAGS.nearDuplicates) ?? 0;
        // stored runs from before coverage was measured: the ratio alone decides
        const cov = h.last(TAGS.coverage) ?? NaN;
        const uncovered = !(cov >= m.coverageBelow);
        const gl = h.tail(TAGS.gLoss, 20);
        const gOsc = gl.length >= 5 ? trend(gl).residualStd : NaN;
        const raise: AlertSeverity | null = !gated ? null : ratio < m.criticalBelow || (ratio < m.diversityBelow && dup >= m.nearDuplicatesAbove) ? 'critical' : (ratio < m.diversityBelow && uncovered) || dup >= m.nearDuplicatesAbove ? 'warning' : null;
        return {
          raise,
          hold: ratio < m.clearAbove || dup >= m.nearDuplicatesAbove * 0.8,
          values: { diversityRatio: ratio, peakDiversityRatio: peak, nearDuplicateShare: dup, coverage: cov, gLossOscillation: gOsc, diversityBelow: m.diversityBelow },
          tags: [TAGS.diversity, TAGS.nearDuplicates, TAGS.coverage, TAGS.gLoss],
          explain: () =>
            `The fixed-latent samples are ${f(ratio, 2)}× as spread out as real data (warning below ${f(m.diversityBelow, 2)})${Number.isFinite(cov) ? `, they come near only ${Math.round(cov * 100)} % of the real samples` : ''}${dup > 0 ? ` and ${Math.round(dup * 100)} % of them have a near-duplicate from a different z` : ''}: G maps many latents to a few outputs (mode collapse), so most of the data is never generated.`,
        };
      },
    });
  }

  if (cfg.instability.enabled) {
    const s = cfg.instability;
    out.push({
      kind: 'instability',
      triggers: [TAGS.dLoss],
      sustainPoints: 3,
      sustainSteps: s.sustainSteps,
      clearPoints: 3,
      warmup: cfg.warmupSteps,
      criticalAfterSteps: null,
      evaluate(h) {
        const w = s.windowPoints;
        const d = h.tail(TAGS.dLoss, w);
        const g = h.tail(TAGS.gLoss, w);
        if (d.length < Math.min(w, 8)) return null;
        const scale =
          traits.lossScale ??
          Math.max(quantile(h.all(TAGS.dLoss).values.map(Math.abs), 0.5), quantile(h.all(TAGS.gLoss).values.map(Math.abs), 0.5), 1e-3);
        // a loss far from equilibrium (G losing badly) is noisier in absolute terms: that is the
        // convergence-failure detector's business, so the scale grows with the loss's level
        const dStd = swing(d) / Math.max(scale, 0.25 * Math.abs(mean(d)));
        const gStd = swing(g) / Math.max(scale, 0.25 * Math.abs(mean(g)));
        const real = h.tail(TAGS.dReal, w);
        const fake = h.tail(TAGS.dFake, w);
        const gaps = real.length === fake.length && real.length >= 5 ? real.map((r, i) => r - fake[i]) : [];
        // interquartile range: a balance that keeps swinging, not one jump
        const balance = traits.probabilityScores && gaps.length ? quantile(gaps, 0.75) - quantile(gaps, 0.25) : 0;
        const osc = Math.max(dStd, gStd) > s.lossStdAbove;
        const swinging = balance > s.balanceSwingAbove;
        return {
          raise: osc && swinging ? 'critical' : osc || swinging ? 'warning' : null,
          hold: Math.max(dStd, gStd) > s.lossStdAbove * 0.7 || balance > s.balanceSwingAbove * 0.8,
          values: { dLossSwing: dStd, gLossSwing: gStd, balanceSwing: balance, lossScale: scale, lossStdAbove: s.lossStdAbove },
          tags: [TAGS.dLoss, TAGS.gLoss, TAGS.dReal, TAGS.dFake],
          explain: () =>
            `The losses oscillate (typical point-to-point swing: D ${f(dStd, 2)}, G ${f(gStd, 2)} × the objective's loss scale, limit ${f(s.lossStdAbove, 2)})${balance > 0 ? ` and the D/G balance D(x) − D(G(z)) swings over ${f(balance, 2)}` : ''}: the players overshoot each other instead of settling, and sample quality jumps around.`,
        };
      },
    });
  }

  if (cfg.stagnation.enabled) {
    const s = cfg.stagnation;
    out.push({
      kind: 'stagnation',
      triggers: [TAGS.drift, TAGS.gDelta, ...(s.qualityTag ? [s.qualityTag] : QUALITY_TAGS)],
      sustainPoints: 3,
      sustainSteps: 0,
      clearPoints: 2,
      warmup: cfg.warmupSteps,
      criticalAfterSteps: null,
      evaluate(h, step) {
        const qTag = s.qualityTag ?? (QUALITY_TAGS.find((t) => h.last(t) !== undefined) ?? null);
        let flatQuality = false;
        const values: Record<string, number> = {};
        if (qTag) {
          const all = h.all(qTag);
          const before = all.values.filter((_, i) => all.steps[i] <= step - s.windowSteps);
          const recent = h.since(qTag, step - s.windowSteps).values;
          if (before.length && recent.length) {
            const bestBefore = Math.min(...before);
            const bestRecent = Math.min(...recent);
            flatQuality = bestRecent > bestBefore * (1 - s.minImprovement);
            values.qualityBestBefore = bestBefore;
            values.qualityBestRecent = bestRecent;
          }
        }
        // G has stopped changing: its fixed-latent samples stay put, or its weights do. The samples
        // alone cannot tell: batch-norm running statistics keep a frozen G's samples moving by
        // 0.02–0.035 of the data's spread per probe (measured), as much as a slow healthy G's.
        const spans = (x: { steps: number[] }) => x.steps.length >= 3 && x.steps[x.steps.length - 1] - x.steps[0] >= s.windowSteps * 0.5;
        const drift = h.since(TAGS.drift, step - s.windowSteps);
        const delta = h.since(TAGS.gDelta, step - s.windowSteps);
        const still = spans(drift) && Math.max(...drift.values) < s.driftBelow;
        const unmoved = spans(delta) && Math.max(...delta.values) < s.updateBelow;
        const frozen = still || unmoved;
        if (drift.values.length) values.maxDrift = Math.max(...drift.values);
        if (delta.values.length) values.maxWeightUpdate = Math.max(...delta.values);
        values.windowSteps = s.windowSteps;
        const raise = flatQuality || frozen;
        return {
          raise: raise ? (flatQuality || unmoved ? 'warning' : 'info') : null,
          hold: raise,
          values,
          tags: [qTag ?? TAGS.drift],
          explain: () =>
            flatQuality
              ? `No improvement in ${qTag} over the last ${s.windowSteps} steps (best ${f(values.qualityBestRecent)} vs ${f(values.qualityBestBefore)} before): training has stalled.`
              : unmoved
                ? `G's weights have stopped changing (at most ${f(values.maxWeightUpdate)} of their norm per measurement over ${s.windowSteps} steps, limit ${f(s.updateBelow)}): G has stopped learning — its learning rate is too small or its gradient vanishes.`
                : `G's samples for the fixed latents have stopped changing (drift below ${f(s.driftBelow)} of the data's spread over ${s.windowSteps} steps): G has stopped learning.`,
        };
      },
    });
  }

  if (cfg.dOverfitting.enabled) {
    const o = cfg.dOverfitting;
    out.push({
      kind: 'd_overfitting',
      triggers: [TAGS.overfitGap],
      sustainPoints: o.sustainProbes,
      sustainSteps: 0,
      clearPoints: 2,
      warmup: cfg.warmupSteps,
      criticalAfterSteps: null,
      evaluate(h) {
        const gap = h.last(TAGS.overfitGap)!;
        return {
          raise: gap >= o.criticalAbove ? 'critical' : gap >= o.gapAbove ? 'warning' : null,
          hold: gap > o.clearBelow,
          values: { overfitGap: gap, dTrain: h.last('d/train') ?? NaN, dHoldout: h.last('d/holdout') ?? NaN, gapAbove: o.gapAbove },
          tags: [TAGS.overfitGap, 'd/train', 'd/holdout'],
          explain: () =>
            `D scores held-out real images ${Math.round(gap * 100)} % of the way from training images towards fakes (warning at ${Math.round(o.gapAbove * 100)} %): it is memorising the training set rather than learning what real images look like, and its feedback to G degrades.`,
        };
      },
    });
  }
  return out;
}

/** An alert as the engine tracks it (the API's Alert without run id and timestamps). */
export type EngineAlert = Omit<Alert, 'runId' | 'createdAt' | 'updatedAt'>;
export interface AlertChange {
  change: 'opened' | 'escalated' | 'updated' | 'resolved';
  alert: EngineAlert;
}

interface ControllerState {
  pendingStart: number | null;
  pendingPoints: number;
  pendingSeverity: AlertSeverity | null;
  open: EngineAlert | null;
  missPoints: number;
  lastVerdict: Verdict | null;
}

export interface EngineOptions {
  config: DiagnosticsConfig;
  objective: Objective;
  /** for remedy patches; null: remedies without patches */
  runConfig?: RunConfig | null;
  layout?: 'images' | 'points' | 'paired' | 'unpaired';
}

/**
 * The detector engine of one run. `push` rows in step order (a resume that replays earlier steps
 * must start a new engine); every call returns what changed.
 */
export class DiagnosticsEngine {
  readonly #o: EngineOptions;
  readonly #detectors: DetectorSpec[];
  readonly #state = new Map<AlertKind, ControllerState>();
  readonly #history = new History();
  readonly #alerts: EngineAlert[] = [];
  readonly #sampleSteps: number[] = [];
  #step = 0;

  constructor(options: EngineOptions) {
    this.#o = options;
    this.#detectors = options.config.enabled ? buildDetectors(options.config, options.objective, { dSpectral: options.runConfig?.architecture.dNorm === 'spectral' }) : [];
    for (const d of this.#detectors) this.#state.set(d.kind, { pendingStart: null, pendingPoints: 0, pendingSeverity: null, open: null, missPoints: 0, lastVerdict: null });
  }

  get step(): number {
    return this.#step;
  }

  /** Every alert so far, oldest first. */
  alerts(): EngineAlert[] {
    return this.#alerts.map((a) => structuredClone(a));
  }

  noteSample(step: number): void {
    this.#sampleSteps.push(step);
  }

  push(rows: readonly ScalarRowLike[]): AlertChange[] {
    const byStep = new Map<number, ScalarRowLike[]>();
    for (const r of rows) {
      if (r.step < this.#step) continue; // older than what we have seen: ignored, never reordered
      let list = byStep.get(r.step);
      if (!list) byStep.set(r.step, (list = []));
      list.push(r);
    }
    const changes: AlertChange[] = [];
    for (const step of [...byStep.keys()].sort((a, b) => a - b)) {
      this.#step = step;
      const tags = new Set<string>();
      for (const r of byStep.get(step)!) {
        if (!Number.isFinite(r.value)) {
          this.#history.push(step, TAGS.nonFinite, 1);
          tags.add(TAGS.nonFinite);
          continue;
        }
        this.#history.push(step, r.tag, r.value);
        tags.add(r.tag);
      }
      for (const d of this.#detectors) {
        if (step < d.warmup || !d.triggers.some((t) => tags.has(t))) continue;
        this.#evaluate(d, step, changes);
      }
    }
    return changes;
  }

  /**
   * Values measured for an earlier step that arrive after training moved on: the evaluations during
   * training score a checkpoint while the run keeps training. They are stored at their own step and
   * the detectors they trigger are evaluated at the current step (a replay of the stored scalars
   * evaluates them at their own step instead: the same alerts, detected a little earlier).
   */
  pushLate(rows: readonly ScalarRowLike[]): AlertChange[] {
    const tags = new Set<string>();
    for (const r of rows) {
      if (!Number.isFinite(r.value)) continue;
      this.#history.insert(r.step, r.tag, r.value);
      tags.add(r.tag);
    }
    const changes: AlertChange[] = [];
    const step = this.#step;
    for (const d of this.#detectors) {
      if (step < d.warmup || !d.triggers.some((t) => tags.has(t))) continue;
      this.#evaluate(d, step, changes);
    }
    return changes;
  }

  /** The run ended; a `diverged` end raises the divergence alert the trainer's NaN check implies. */
  end(status: string, step: number, reason: string | null): AlertChange[] {
    if (status !== 'diverged') return [];
    return this.push([{ step: Math.max(step, this.#step), tag: TAGS.nonFinite, value: NaN }]).map((c) => {
      if (reason) c.alert.evidence.values = { ...c.alert.evidence.values };
      return c;
    });
  }

  #nearestSample(step: number): number | null {
    let best: number | null = null;
    for (const s of this.#sampleSteps) if (best === null || Math.abs(s - step) < Math.abs(best - step)) best = s;
    return best;
  }

  #evaluate(d: DetectorSpec, step: number, changes: AlertChange[]): void {
    const st = this.#state.get(d.kind)!;
    const v = d.evaluate(this.#history, step);
    if (!v) return;
    st.lastVerdict = v;
    if (!st.open) {
      if (!v.raise) {
        st.pendingStart = null;
        st.pendingPoints = 0;
        st.pendingSeverity = null;
        return;
      }
      st.pendingStart ??= step;
      st.pendingPoints++;
      st.pendingSeverity = worst(st.pendingSeverity, v.raise);
      if (st.pendingPoints < d.sustainPoints || step - st.pendingStart < d.sustainSteps) return;
      const alert: EngineAlert = {
        id: `${d.kind}:${st.pendingStart}`,
        kind: d.kind,
        severity: v.raise,
        state: 'active',
        startStep: st.pendingStart,
        endStep: step,
        detectedStep: step,
        sampleStep: this.#nearestSample(step),
        evidence: { values: clean(v.values), tags: v.tags },
        explanation: v.explain(),
        remedies: remediesFor(d.kind, this.#o.runConfig ?? null, this.#o.layout ?? 'images'),
      };
      st.open = alert;
      st.missPoints = 0;
      st.pendingStart = null;
      st.pendingPoints = 0;
      st.pendingSeverity = null;
      this.#alerts.push(alert);
      changes.push({ change: 'opened', alert: structuredClone(alert) });
      return;
    }
    const a = st.open;
    if (v.hold || v.raise) {
      st.missPoints = 0;
      a.endStep = step;
      let severity = worst(a.severity, v.raise) ?? a.severity;
      if (d.criticalAfterSteps !== null && step - a.startStep >= d.criticalAfterSteps) severity = 'critical';
      const escalated = SEVERITY_RANK[severity] > SEVERITY_RANK[a.severity];
      a.severity = severity;
      if (v.raise || escalated) {
        // the evidence shows the numbers while the firing condition holds, not the relaxed ones
        a.evidence = { values: clean(v.values), tags: v.tags };
        a.explanation = v.explain();
        a.sampleStep = this.#nearestSample(step);
      }
      changes.push({ change: escalated ? 'escalated' : 'updated', alert: structuredClone(a) });
      return;
    }
    st.missPoints++;
    if (st.missPoints >= d.clearPoints) {
      a.state = 'resolved';
      st.open = null;
      changes.push({ change: 'resolved', alert: structuredClone(a) });
    }
  }
}

function clean(values: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(values)) if (Number.isFinite(v)) out[k] = v;
  return out;
}

/** Replays stored scalars (tag → series) through a fresh engine: the `diagnose` command and tests. */
export function replayScalars(options: EngineOptions, series: Record<string, { steps: number[]; values: number[] }>, opts: { sampleSteps?: number[]; end?: { status: string; step: number; reason: string | null } } = {}): { alerts: EngineAlert[]; changes: AlertChange[] } {
  const engine = new DiagnosticsEngine(options);
  for (const s of opts.sampleSteps ?? []) engine.noteSample(s);
  const rows: ScalarRowLike[] = [];
  for (const [tag, s] of Object.entries(series)) for (let i = 0; i < s.steps.length; i++) rows.push({ step: s.steps[i], tag, value: s.values[i] });
  rows.sort((a, b) => a.step - b.step);
  const changes = engine.push(rows);
  if (opts.end) changes.push(...engine.end(opts.end.status, opts.end.step, opts.end.reason));
  return { alerts: engine.alerts(), changes };
}
