// The diagnostics thresholds and automatic actions (issue 7): defaults a user can change per run
// (runs.start's `diagnostics`). Shared by the core (which validates at the boundary) and the
// wizard's Diagnostics form, so both read the same limits and defaults. Every number is explained
// in electron/core/diagnostics/detectors.ts.
import { z } from 'zod';
import { ALERT_KINDS } from './api.ts';

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
      /**
       * a ratio below diversityBelow warns only while coverage (the share of real samples with a fake
       * nearby) is below this too: on healthy hinge + SN MNIST runs the ratio dipped to 0.45 after
       * the blurry early samples while coverage climbed past 0.75 (measured); a collapse loses both
       */
      coverageBelow: share().default(0.6),
      /** share of fixed-latent samples with a near-duplicate among the others: warning at or above */
      nearDuplicatesAbove: share().default(0.5),
      /** consecutive diversity measurements needed to open */
      sustainProbes: int().min(1).default(3),
      /** a low diversity counts once it has fallen from a healthy level (above clearAbove, with coverage at least coverageBelow) or, if it never got there, from this step on */
      persistAfterSteps: int().min(0).default(1000),
    }),
    instability: section({
      /** scalar points per window (each a window mean of scalarEvery steps) */
      windowPoints: int().min(5).max(1000).default(20),
      /**
       * typical point-to-point swing of a loss (median |Δ| / √2) in units of the objective's loss
       * scale. Measured on the scenario suite (window means of 5 steps): healthy runs ≤ 0.16 (hinge +
       * SN; DCGAN and LSGAN ≤ 0.05), both learning rates ×25 with β1 0.9 ≈ 0.3–0.6; 0.5 missed that.
       */
      lossStdAbove: z.number().positive().default(0.25),
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
      /** or G's weights moving less than this (relative to their norm) per measurement: G's optimizer has stopped changing it */
      updateBelow: z.number().min(0).default(1e-5),
      /** quality tag, lower is better (e.g. eval/fid); null: the first of eval/fid (the evaluations during training, config.evaluation), metrics/fid, eval/kid, metrics/kid present */
      qualityTag: z.string().max(100).nullable().default(null),
    }),
    dOverfitting: section({
      /** (D(train) − D(held-out)) / (D(train) − D(fake)): 0 = held-out scored like training data, 1 = like fakes */
      gapAbove: share().default(0.5),
      criticalAbove: share().default(0.8),
      clearBelow: share().default(0.35),
      sustainProbes: int().min(1).default(3),
    }),
    /**
     * automatic action: roll back to the last healthy checkpoint. When a critical alert of one of
     * `onKinds` opens, the trainer stops, the checkpoints from the alert's step range on are
     * dropped and training continues from the newest one before it, with both learning rates
     * multiplied by `lrFactor` (the network shapes stay, so the checkpoint fits). Needs periodic
     * checkpoints (schedule.checkpointEvery). At most `maxRollbacks` per run; then the alert takes
     * its normal course (and stopOnCritical, if set).
     */
    rollback: z
      .object({
        enabled: z.boolean().default(false),
        onKinds: z.array(z.enum(ALERT_KINDS)).min(1).default(['divergence']),
        maxRollbacks: int().min(1).max(20).default(3),
        lrFactor: z.number().gt(0).max(1).default(0.5),
      })
      .strict()
      .prefault({} as never),
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

/** Rules between fields the schema cannot express; each message starts with the field's path. */
export function diagnosticsConfigIssues(c: DiagnosticsConfig): string[] {
  const issues: string[] = [];
  if (c.modeCollapse.criticalBelow > c.modeCollapse.diversityBelow) issues.push('modeCollapse.criticalBelow must not exceed diversityBelow');
  if (c.modeCollapse.clearAbove < c.modeCollapse.diversityBelow) issues.push('modeCollapse.clearAbove must be at least diversityBelow (hysteresis)');
  if (c.gradient.criticalAbove < c.gradient.explodeAbove) issues.push('gradient.criticalAbove must be at least explodeAbove');
  if (c.dOverfitting.criticalAbove < c.dOverfitting.gapAbove) issues.push('dOverfitting.criticalAbove must be at least gapAbove');
  if (c.dOverfitting.clearBelow > c.dOverfitting.gapAbove) issues.push('dOverfitting.clearBelow must not exceed gapAbove (hysteresis)');
  return issues;
}

/** One threshold of the wizard's Diagnostics form: its path in the config, a label and what it does. */
export interface DiagnosticsField {
  path: string;
  label: string;
  help: string;
  step?: number | 'any';
}

/** The detectors as the wizard shows them: what each catches and the thresholds a user may change. */
export const DIAGNOSTICS_FORM: { section: 'convergenceFailure' | 'modeCollapse' | 'instability' | 'gradient' | 'divergence' | 'stagnation' | 'dOverfitting'; title: string; explain: string; fields: DiagnosticsField[] }[] = [
  {
    section: 'convergenceFailure',
    title: 'Convergence failure',
    explain: "D's loss near 0 (or its accuracy near 100 %) while G's loss rises or stays high: D has won and G gets no useful gradient.",
    fields: [
      { path: 'convergenceFailure.dLossBelowFraction', label: "D loss below (× equilibrium)", help: "Fraction of D's loss at equilibrium (1.386 for the log loss) below which D is winning." },
      { path: 'convergenceFailure.sustainSteps', label: 'Sustained for (steps)', help: 'The condition must hold this long before the alert opens.', step: 1 },
      { path: 'convergenceFailure.criticalSteps', label: 'Critical after (steps)', help: 'A warning that has held this long becomes critical.', step: 1 },
    ],
  },
  {
    section: 'modeCollapse',
    title: 'Mode collapse',
    explain: "The fixed-latent samples are far less spread out than real data, cover little of it, or many are near-duplicates: G maps many latents to few outputs.",
    fields: [
      { path: 'modeCollapse.diversityBelow', label: 'Diversity ratio below (warning)', help: 'Mean pairwise distance of the samples ÷ that of real data.' },
      { path: 'modeCollapse.criticalBelow', label: 'Diversity ratio below (critical)', help: 'At most the warning threshold.' },
      { path: 'modeCollapse.clearAbove', label: 'Clears above', help: 'Hysteresis: the alert resolves once the ratio is back above this.' },
      { path: 'modeCollapse.coverageBelow', label: 'Coverage below', help: 'A low ratio warns only while this share of real samples or fewer has a sample nearby.' },
      { path: 'modeCollapse.nearDuplicatesAbove', label: 'Near-duplicates at or above', help: 'Share of samples with a near-copy from a different latent.' },
    ],
  },
  {
    section: 'instability',
    title: 'Instability',
    explain: 'The losses oscillate or the D/G balance keeps swinging: the players overshoot each other instead of settling.',
    fields: [
      { path: 'instability.lossStdAbove', label: 'Loss swing above', help: "Typical point-to-point swing of a loss, in units of the objective's loss scale." },
      { path: 'instability.balanceSwingAbove', label: 'Balance swing above', help: 'Interquartile range of D(x) − D(G(z)) over the window.' },
      { path: 'instability.windowPoints', label: 'Window (points)', help: 'Scalar points per window.', step: 1 },
    ],
  },
  {
    section: 'gradient',
    title: 'Vanishing or exploding gradients',
    explain: 'Gradient norms far too large (updates overshoot) or G’s far too small (G stops learning).',
    fields: [
      { path: 'gradient.explodeAbove', label: 'Exploding above (warning)', help: 'Global gradient norm of G or D.' },
      { path: 'gradient.criticalAbove', label: 'Exploding above (critical)', help: 'At least the warning threshold.' },
      { path: 'gradient.vanishBelow', label: "G's gradient below", help: 'Vanishing once training is under way.' },
    ],
  },
  {
    section: 'divergence',
    title: 'Divergence',
    explain: 'A loss turns NaN or infinite, or passes a huge value on its way there.',
    fields: [{ path: 'divergence.lossAbove', label: 'Loss magnitude above', help: 'Treated as diverging before it turns NaN.' }],
  },
  {
    section: 'stagnation',
    title: 'Stagnation',
    explain: "No improvement in the quality signal (the FID of the evaluations during training, when they are on) over a window, or G's samples and weights have stopped changing.",
    fields: [
      { path: 'stagnation.windowSteps', label: 'Window (steps)', help: 'Improvement is looked for over this many steps.', step: 1 },
      { path: 'stagnation.minImprovement', label: 'Minimum improvement', help: 'Relative improvement of the quality signal that counts.' },
      { path: 'stagnation.updateBelow', label: "G's weight update below", help: "Per measurement, relative to the weights' norm." },
    ],
  },
  {
    section: 'dOverfitting',
    title: 'Discriminator overfitting',
    explain: "D scores held-out real images more and more like fakes: it memorises the training set (small datasets). Needs held-out images.",
    fields: [
      { path: 'dOverfitting.gapAbove', label: 'Gap above (warning)', help: '0: held-out scored like training images, 1: like fakes.' },
      { path: 'dOverfitting.criticalAbove', label: 'Gap above (critical)', help: 'At least the warning threshold.' },
      { path: 'dOverfitting.clearBelow', label: 'Clears below', help: 'Hysteresis: at most the warning threshold.' },
    ],
  },
];
