// Messages between the core (TrainerHost) and a trainer process, schema-checked in both
// directions (RELIABILITY B1). A discriminated union with a `type` tag, as Signal-Desktop does for
// its SQL worker; errors travel as data.
import { z } from 'zod';
import { RunConfigSchema } from './config.ts';
import { BackendReportSchema } from './api.ts';
import { ApiErrorShape } from './errors.ts';

export const DatasetRefSchema = z.object({
  id: z.string(),
  /** folder holding manifest.json, images.u8 and labels.u8 */
  dir: z.string(),
});

export const HostToTrainerSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('start'),
    runId: z.string(),
    config: RunConfigSchema,
    /** the run folder: checkpoints/ and samples/ live here */
    runDir: z.string(),
    dataset: DatasetRefSchema,
    /** resume from the newest checkpoint in runDir/checkpoints that verifies (exact resume:
     *  weights, optimizer state, step, RNG, data cursor); older ones are the fallback */
    resume: z.boolean(),
    /** a timing run for the wizard: train, report progress, write no sample or checkpoint */
    dryRun: z.boolean().optional(),
    /** diagnostics probes (issue 7): off when absent */
    diagnostics: z
      .object({
        /** the largest share of training time the probes may take */
        overheadBudget: z.number().min(0.001).max(0.5),
        /** held-out images: the dataset's split (`auto`), else the last 10 % of items kept out of training (`reserve`), or none */
        holdout: z.enum(['auto', 'reserve', 'off']),
      })
      .strict()
      .optional(),
  }),
  z.object({ type: z.literal('pause') }),
  z.object({ type: z.literal('resume') }),
  /** finish the current step, write a final checkpoint, exit */
  z.object({ type: z.literal('stop') }),
]);
export type HostToTrainer = z.infer<typeof HostToTrainerSchema>;

export const ScalarRowSchema = z.object({ step: z.number().int(), tag: z.string().max(100), value: z.number() });
export type ScalarRow = z.infer<typeof ScalarRowSchema>;

export const TrainerToHostSchema = z.discriminatedUnion('type', [
  /** the backend is loaded and the models are built */
  z.object({ type: z.literal('ready'), backend: BackendReportSchema, startStep: z.number().int(), parameters: z.object({ generator: z.number().int(), discriminator: z.number().int() }) }),
  z.object({ type: z.literal('heartbeat'), step: z.number().int() }),
  z.object({
    type: z.literal('progress'),
    step: z.number().int(),
    totalSteps: z.number().int(),
    imgPerSec: z.number(),
    /** non-finite values are sent as null by JSON; losses are always finite here (divergence is its own message) */
    rows: z.array(ScalarRowSchema),
  }),
  /** a sample grid of the fixed latent batch, already written (atomically) to `file` */
  z.object({ type: z.literal('sample'), step: z.number().int(), file: z.string() }),
  z.object({
    type: z.literal('checkpoint'),
    step: z.number().int(),
    dir: z.string(),
    bytes: z.number().int(),
    sha256: z.string(),
    kind: z.enum(['periodic', 'final', 'stop']),
    /** steps of older checkpoints the trainer deleted (keep-last-K) */
    pruned: z.array(z.number().int()),
  }),
  /** `reason` is set when the trainer paused itself (e.g. the disk is full) */
  z.object({ type: z.literal('paused'), step: z.number().int(), reason: z.string().optional() }),
  z.object({ type: z.literal('resumed'), step: z.number().int() }),
  z.object({ type: z.literal('log'), level: z.enum(['info', 'warn', 'error']), message: z.string() }),
  /** training ended; the process exits right after */
  z.object({
    type: z.literal('done'),
    status: z.enum(['completed', 'stopped', 'diverged', 'failed']),
    step: z.number().int(),
    reason: z.string().nullable(),
    error: ApiErrorShape.optional(),
  }),
]);
export type TrainerToHost = z.infer<typeof TrainerToHostSchema>;
