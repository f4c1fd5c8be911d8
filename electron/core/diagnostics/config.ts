// Detector thresholds and diagnostics options: defaults a user can change per run (runs.start's
// `diagnostics`), validated at the boundary. Every number here is explained in detectors.ts.
import { z } from 'zod';
import { ALERT_KINDS } from '../../common/api.ts';
import { invalidInput } from '../../common/errors.ts';

const int = () => z.number().int();
const share = () => z.number().min(0).max(1);
/** `.prefault({})`: a missing section is parsed from `{}`, so its own defaults apply (zod 4). */
const section = <T extends z.ZodRawShape>(shape: T) => z.object({ enabled: z.boolean().default(true), ...shape }).strict().prefault({} as never);

export const DiagnosticsConfigSchema = z
  .object({
    enabled: z.boolean().default(true),
    /** detectors of the training dynamics stay quiet before this step (every GAN looks collapsed and lopsided at first); divergence and exploding gradients do not wait */
    warmupSteps: int().min(0).max(10_000_000).default(100),
    convergenceFailure: section({
      /** D's loss below this fraction of its equilibrium value (non-saturating: 1.386 → 0.097) */
      dLossBelowFraction: z.number().min(0).max(1).default(0.07),
      /** or D(x) − D(G(z)) at least this (probability-like scores) */
      scoreGapAbove: share().default(0.9),
      /** or D's accuracy on real and on fake batches both at least this */
      accuracyAbove: share().default(0.98),
      /** the condition must hold this many steps (and 3 evaluations) before the alert opens */
      sustainSteps: int().min(0).default(100),
      /** warning → critical when it has held this long */
      criticalSteps: int().min(0).default(400),
    }),
    modeCollapse: section({
      /** diversity ratio (fake / real mean pairwise distance) below this: warning */
      diversityBelow: z.number().min(0).max(2).default(0.5),
      /** below this: critical */
      criticalBelow: z.number().min(0).max(2).default(0.25),
      /** the alert clears once the ratio is back above this (hysteresis) */
      clearAbove: z.number().min(0).max(2).default(0.6),
      /** share of fixed-latent samples with a near-duplicate among the others: warning at or above */
      nearDuplicatesAbove: share().default(0.5),
      /** consecutive diversity measurements needed to open */
      sustainProbes: int().min(1).default(3),
      /** a low diversity counts once it has fallen from a healthy level (above clearAbove) or, if it never got there, from this step on */
      persistAfterSteps: int().min(0).default(1000),
    }),
    instability: section({
      /** scalar points per window (each a window mean of scalarEvery steps) */
      windowPoints: int().min(5).max(1000).default(20),
      /** typical point-to-point swing of a loss (median |Δ| / √2) in units of the objective's loss scale */
      lossStdAbove: z.number().positive().default(0.5),
      /** D(x) − D(G(z)) swinging over at least this interquartile range in a window */
      balanceSwingAbove: share().default(0.6),
      sustainSteps: int().min(0).default(100),
    }),
    gradient: section({
      /** a global gradient norm above this: exploding (METRICS.md: ~100 signals trouble) */
      explodeAbove: z.number().positive().default(100),
      criticalAbove: z.number().positive().default(1000),
      /** G's gradient norm below this: vanishing */
      vanishBelow: z.number().min(0).default(1e-4),
      /** consecutive gradient measurements needed to open */
      sustainPoints: int().min(1).default(3),
    }),
    divergence: section({
      /** a loss whose magnitude passes this is treated as diverging before it turns NaN */
      lossAbove: z.number().positive().default(1e6),
    }),
    stagnation: section({
      /** no improvement over this many steps */
      windowSteps: int().min(10).default(2000),
      /** relative improvement of the quality signal that counts */
      minImprovement: share().default(0.02),
      /** fixed-latent samples moving less than this (relative to the real spread) per measurement: G has stopped changing */
      driftBelow: z.number().min(0).default(0.002),
      /** quality tag, lower is better (e.g. metrics/fid); null: the first of metrics/fid, metrics/kid present */
      qualityTag: z.string().max(100).nullable().default(null),
    }),
    dOverfitting: section({
      /** (D(train) − D(held-out)) / (D(train) − D(fake)): 0 = held-out scored like training data, 1 = like fakes */
      gapAbove: share().default(0.5),
      criticalAbove: share().default(0.8),
      clearBelow: share().default(0.35),
      sustainProbes: int().min(1).default(3),
    }),
    /** automatic action: stop the run (final checkpoint) when a critical alert of one of these kinds opens */
    stopOnCritical: z.array(z.enum(ALERT_KINDS)).default([]),
    /** held-out images for the D-overfitting signal: the dataset's held-out split (`auto`), also the last 10 % of the items kept out of training when there is none (`reserve`), or none */
    holdout: z.enum(['auto', 'reserve', 'off']).default('auto'),
    /** diversity and D probes may take at most this share of training time */
    overheadBudget: z.number().min(0.005).max(0.5).default(0.05),
  })
  .strict();

export type DiagnosticsConfig = z.output<typeof DiagnosticsConfigSchema>;
export type DiagnosticsConfigInput = z.input<typeof DiagnosticsConfigSchema>;

export const DEFAULT_DIAGNOSTICS: DiagnosticsConfig = DiagnosticsConfigSchema.parse({});

/** Validates a (partial) diagnostics config and fills in the defaults; `invalid_input` names each bad field. */
export function resolveDiagnosticsConfig(input: unknown): DiagnosticsConfig {
  const parsed = DiagnosticsConfigSchema.safeParse(input ?? {});
  if (!parsed.success) throw invalidInput(parsed.error, 'invalid diagnostics config');
  const c = parsed.data;
  const issues: string[] = [];
  if (c.modeCollapse.criticalBelow > c.modeCollapse.diversityBelow) issues.push('modeCollapse.criticalBelow must not exceed diversityBelow');
  if (c.modeCollapse.clearAbove < c.modeCollapse.diversityBelow) issues.push('modeCollapse.clearAbove must be at least diversityBelow (hysteresis)');
  if (c.gradient.criticalAbove < c.gradient.explodeAbove) issues.push('gradient.criticalAbove must be at least explodeAbove');
  if (c.dOverfitting.criticalAbove < c.dOverfitting.gapAbove) issues.push('dOverfitting.criticalAbove must be at least gapAbove');
  if (c.dOverfitting.clearBelow > c.dOverfitting.gapAbove) issues.push('dOverfitting.clearBelow must not exceed gapAbove (hysteresis)');
  if (issues.length > 0) {
    throw invalidInput(new z.ZodError(issues.map((message) => ({ code: 'custom' as const, path: [message.split(' ')[0]!], message, input: undefined }))), 'invalid diagnostics config');
  }
  return c;
}
