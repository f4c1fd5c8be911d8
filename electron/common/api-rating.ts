// The human rating sessions part of the API contract (issue 8). Spread into `API` in api.ts; the
// events are spread into StudioEventSchema there. Imports nothing from api.ts (it imports this file).
//
// A rater only ever sees `RatingItem`s: an opaque item id and image data URLs, never the source.
// Sources are revealed in results only.
import { z } from 'zod';

const Id = z.string().min(1).max(100).regex(/^[A-Za-z0-9:_-]+$/, 'ids hold letters, digits, ":", "_" and "-" only');
/** A rater's display name: what a person types on the rater screen. */
const RaterName = z
  .string()
  .trim()
  .min(1, 'a rater needs a name')
  .max(60)
  .refine((v) => ![...v].some((ch) => ch.charCodeAt(0) < 32 || '<>"\'&/\\'.includes(ch)), 'a rater name cannot hold control characters, quotes, slashes or <>&');
const RatingImageSchema = z.object({ dataUrl: z.string(), width: z.number().int(), height: z.number().int() });

/**
 * - real_fake: HYPE∞, a blinded 50/50 stream of real held-out and generated images, unlimited time
 * - timed_real_fake: HYPE_time, the exposure adapts by a staircase per rater and generator
 * - preference: two images from two different sources, "which looks more real?" (or the session's question)
 * - quality: 1–5 per image, normalised per rater
 * - duplicates: a grid of samples of one source; the rater marks near-duplicates
 * - memorisation: a generated image beside its nearest training images, "is this a copy?"
 */
export const RATING_TYPES = ['real_fake', 'timed_real_fake', 'preference', 'quality', 'duplicates', 'memorisation'] as const;
export type RatingType = (typeof RATING_TYPES)[number];

export const RATING_TYPE_INFO: Record<RatingType, { label: string; question: string; keys: string }> = {
  real_fake: { label: 'Real or fake', question: 'Is this image real or generated?', keys: 'F = fake, J = real (or ← / →)' },
  timed_real_fake: { label: 'Timed real or fake', question: 'Real or generated? The image is shown only briefly.', keys: 'F = fake, J = real (or ← / →); space starts the next image' },
  preference: { label: 'Pairwise preference', question: 'Which image looks more real?', keys: 'F / ← = left, J / → = right, space = cannot tell' },
  quality: { label: 'Quality rating', question: 'How good is this image? 1 = very poor, 5 = excellent', keys: '1–5' },
  duplicates: { label: 'Duplicates and mode dropping', question: 'Mark every image that is a near-duplicate of another image in the grid.', keys: 'click or arrows + space to mark, Enter to submit' },
  memorisation: { label: 'Memorisation check', question: 'Is the generated image (left) a copy of one of the training images beside it?', keys: 'Y / J = copy, N / F = not a copy' },
};

/** Where the items of a session come from. A checkpoint source without `step` uses the run's newest checkpoint. */
export const RatingSourceSpecSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('checkpoint'), runId: Id, step: z.number().int().min(0).optional(), label: z.string().trim().min(1).max(100).optional() }).strict(),
  /** the dataset's held-out split (its training images when it has none, with a note on the session) */
  z.object({ kind: z.literal('real'), datasetId: Id, label: z.string().trim().min(1).max(100).optional() }).strict(),
]);
export type RatingSourceSpec = z.infer<typeof RatingSourceSpecSchema>;

/** Staircase of HYPE_time: exposure × down after a right answer, ÷ down after a wrong one, within [floor, ceiling]. */
export const StaircaseOptionsSchema = z
  .object({
    startMs: z.number().min(50).max(10_000).default(1000),
    floorMs: z.number().min(16).max(5000).default(100),
    ceilingMs: z.number().min(50).max(20_000).default(2000),
    /** multiplier after a right answer (0 < down < 1); a wrong answer divides by it */
    down: z.number().gt(0).lt(1).default(0.8),
  })
  .strict();
export type StaircaseOptions = z.output<typeof StaircaseOptionsSchema>;

export const RatingCreateRequestSchema = z
  .object({
    type: z.enum(RATING_TYPES),
    name: z.string().trim().min(1).max(200).optional(),
    /** real_fake / timed: ≥ 1 checkpoint + 1 real; preference: ≥ 2 checkpoints or real sets; quality / duplicates / memorisation: ≥ 1 checkpoint (a real source is optional) */
    sources: z.array(RatingSourceSpecSchema).min(1).max(12),
    /** scored items per rater (attention checks come on top) */
    items: z.number().int().min(2).max(1000).default(40),
    /** names of the raters, who rate one after another; more can be added later with ratings.addRater */
    raters: z.array(RaterName).min(1).max(50),
    seed: z.number().int().min(0).max(2 ** 31 - 1).default(1),
    /** shown above every item; defaults to the type's question */
    question: z.string().trim().min(1).max(300).optional(),
    /** share of extra, obvious items (noise labelled fake, a flat grey, an exact duplicate pair) that score each rater's reliability */
    attentionShare: z.number().min(0).max(0.3).default(0.1),
    /** timed_real_fake only */
    staircase: StaircaseOptionsSchema.optional(),
    /** duplicates only: images per grid (a square number) */
    gridSize: z.union([z.literal(4), z.literal(9), z.literal(16), z.literal(25)]).default(16),
    /** memorisation only: nearest training images shown beside each generated one */
    neighbours: z.number().int().min(1).max(8).default(3),
    /** suggest a break after this many items in a row */
    breakEvery: z.number().int().min(10).max(1000).default(50),
  })
  .strict();
export type RatingCreateRequest = z.input<typeof RatingCreateRequestSchema>;

export const RATING_SESSION_STATES = ['preparing', 'open', 'finished', 'failed'] as const;
export const RATER_STATES = ['pending', 'in_progress', 'finished'] as const;

export const RatingSourceSchema = z.object({
  /** s0, s1, … in request order */
  id: z.string(),
  kind: z.enum(['checkpoint', 'real']),
  runId: z.string().nullable(),
  step: z.number().int().nullable(),
  datasetId: z.string(),
  /** 'holdout' normally; 'train' when the dataset has no held-out split (noted in `notes`) */
  split: z.enum(['holdout', 'train']).nullable(),
  label: z.string(),
});
export type RatingSource = z.infer<typeof RatingSourceSchema>;

export const RaterProgressSchema = z.object({
  name: z.string(),
  state: z.enum(RATER_STATES),
  answered: z.number().int(),
  /** scored items + attention checks */
  total: z.number().int(),
  startedAt: z.number().nullable(),
  finishedAt: z.number().nullable(),
});
export type RaterProgress = z.infer<typeof RaterProgressSchema>;

export const RatingSessionSchema = z.object({
  id: Id,
  name: z.string(),
  type: z.enum(RATING_TYPES),
  /** finished only once every rater has finished; a half-finished session is never counted */
  state: z.enum(RATING_SESSION_STATES),
  question: z.string(),
  seed: z.number().int(),
  items: z.number().int(),
  attentionShare: z.number(),
  staircase: StaircaseOptionsSchema.nullable(),
  gridSize: z.number().int().nullable(),
  neighbours: z.number().int().nullable(),
  breakEvery: z.number().int(),
  sources: z.array(RatingSourceSchema),
  raters: z.array(RaterProgressSchema),
  /** things the user should know, e.g. "no held-out split: training images used as the real set" */
  notes: z.array(z.string()),
  /** sha256 over the ordered item list; rater kits carry it and imports must match it */
  itemsHash: z.string(),
  createdAt: z.number(),
  finishedAt: z.number().nullable(),
});
export type RatingSession = z.infer<typeof RatingSessionSchema>;

/** What a rater is shown: nothing that names a source. */
export const RatingItemSchema = z.object({
  sessionId: Id,
  type: z.enum(RATING_TYPES),
  /** opaque and random; the same for every rater */
  itemId: z.string(),
  /** 0-based position in this rater's (own, shuffled) order */
  position: z.number().int(),
  total: z.number().int(),
  question: z.string(),
  /**
   * real_fake / timed / quality: one image; preference: [left, right]; duplicates: the grid cells in
   * reading order; memorisation: [generated, nearest training images…]
   */
  images: z.array(RatingImageSchema),
  /** timed_real_fake: how long to show the image, from the rater's staircase */
  exposureMs: z.number().nullable(),
  /** the UI suggests a break before this item */
  breakSuggested: z.boolean(),
});
export type RatingItem = z.infer<typeof RatingItemSchema>;

export const RatingAnswerValueSchema = z.discriminatedUnion('kind', [
  /** real_fake and timed_real_fake */
  z.object({ kind: z.literal('real_fake'), choice: z.enum(['real', 'fake']) }).strict(),
  z.object({ kind: z.literal('preference'), choice: z.enum(['left', 'right', 'tie']) }).strict(),
  z.object({ kind: z.literal('quality'), score: z.number().int().min(1).max(5) }).strict(),
  /** indices into `images` of every cell marked as a near-duplicate of another cell */
  z.object({ kind: z.literal('duplicates'), marked: z.array(z.number().int().min(0).max(99)).max(100) }).strict(),
  z.object({ kind: z.literal('memorisation'), copy: z.boolean() }).strict(),
]);
export type RatingAnswerValue = z.infer<typeof RatingAnswerValueSchema>;

export const RatingAnswerRequestSchema = z
  .object({
    sessionId: Id,
    rater: RaterName,
    itemId: z.string().min(1).max(100),
    answer: RatingAnswerValueSchema,
    /** from the item appearing to the answer, measured by the UI */
    responseMs: z.number().min(0).max(24 * 3600_000),
    /** timed_real_fake: the exposure the browser measured (requestAnimationFrame timestamps), required there */
    exposureMs: z.number().min(0).max(60_000).optional(),
  })
  .strict();
export type RatingAnswerRequest = z.input<typeof RatingAnswerRequestSchema>;

/** A score with its bootstrap 95 % percentile interval; null bounds when there is too little data. */
export const EstimateSchema = z.object({ value: z.number().nullable(), low: z.number().nullable(), high: z.number().nullable(), n: z.number().int() });
export type Estimate = z.infer<typeof EstimateSchema>;

export const RaterResultSchema = z.object({
  name: z.string(),
  state: z.enum(RATER_STATES),
  answered: z.number().int(),
  /** real_fake / timed: share of scored items judged correctly */
  accuracy: z.number().nullable(),
  /** attention checks passed / shown; a rater below 0.75 is flagged unreliable */
  attentionPassed: z.number().int(),
  attentionTotal: z.number().int(),
  reliable: z.boolean(),
  meanResponseMs: z.number().nullable(),
  /** quality: the rater's mean and standard deviation used for z-normalisation */
  qualityMean: z.number().nullable(),
  qualityStd: z.number().nullable(),
});
export type RaterResult = z.infer<typeof RaterResultSchema>;

export const RatingResultsSchema = z.object({
  sessionId: Id,
  type: z.enum(RATING_TYPES),
  /** false while raters are still at work: the numbers then cover only finished raters and are provisional */
  complete: z.boolean(),
  ratersFinished: z.number().int(),
  ratersTotal: z.number().int(),
  /** whether unreliable raters (attention checks) were left out of the scores */
  excludedRaters: z.array(z.string()),
  sources: z.array(RatingSourceSchema),
  raters: z.array(RaterResultSchema),
  /** real_fake and timed_real_fake: error rates (fakes judged real; all mistakes), bootstrap over raters and items */
  realFake: z
    .object({
      errorOnFakes: EstimateSchema,
      errorOnReals: EstimateSchema,
      errorOverall: EstimateSchema,
      perSource: z.array(z.object({ sourceId: z.string(), label: z.string(), errorOnFakes: EstimateSchema })),
    })
    .nullable(),
  /** timed_real_fake: mean exposure over the second half of each staircase (HYPE_time), per generator */
  timed: z
    .object({
      perSource: z.array(z.object({ sourceId: z.string(), label: z.string(), exposureMs: EstimateSchema })),
      /** |measured − requested| over all answers */
      exposureErrorMs: z.object({ mean: z.number().nullable(), max: z.number().nullable() }),
    })
    .nullable(),
  /** preference: Bradley–Terry on the 400·β + 1000 scale with bootstrap intervals, Elo (K = 4), win rates */
  preference: z
    .object({
      ranking: z.array(z.object({ sourceId: z.string(), label: z.string(), rank: z.number().int(), rating: z.number(), low: z.number().nullable(), high: z.number().nullable(), elo: z.number() })),
      /** winRate[i][j]: share of comparisons between sources[i] and sources[j] won by i (ties half); null without comparisons */
      winRate: z.array(z.array(z.number().nullable())),
      comparisons: z.array(z.array(z.number().int())),
      ties: z.number().int(),
    })
    .nullable(),
  /** quality: raw 1–5 means and per-rater z-normalised means */
  quality: z
    .array(
      z.object({
        sourceId: z.string(),
        label: z.string(),
        mean: EstimateSchema,
        meanZ: EstimateSchema,
        /** how many answers gave 1, 2, 3, 4, 5 (the distribution chart) */
        counts: z.array(z.number().int()).length(5),
      }),
    )
    .nullable(),
  /** duplicates: share of grid cells marked as near-duplicates, per source */
  duplicates: z.array(z.object({ sourceId: z.string(), label: z.string(), duplicateRate: EstimateSchema })).nullable(),
  /** memorisation: share of generated images judged copies, per source */
  memorisation: z.array(z.object({ sourceId: z.string(), label: z.string(), copyRate: EstimateSchema })).nullable(),
  /** between raters over the items every counted rater answered (at least 2 raters) */
  agreement: z.object({
    fleissKappa: z.number().nullable(),
    krippendorffAlpha: z.number().nullable(),
    alphaLevel: z.enum(['nominal', 'ordinal', 'interval']),
    items: z.number().int(),
    raters: z.number().int(),
  }),
  /** human score per run beside the automatic metrics stored for the same checkpoints, with rank correlations */
  automatic: z.array(
    z.object({
      metric: z.string(),
      /** one row per checkpoint source that has both numbers */
      pairs: z.array(z.object({ sourceId: z.string(), human: z.number(), metric: z.number() })),
      spearman: z.number().nullable(),
      kendall: z.number().nullable(),
    }),
  ),
  /** what the human score is (e.g. "error on fakes") for the columns above */
  humanScore: z.string(),
  computedAt: z.number(),
});
export type RatingResults = z.infer<typeof RatingResultsSchema>;

const sessionRef = z.object({ sessionId: Id }).strict();
const raterRef = z.object({ sessionId: Id, rater: RaterName }).strict();
const method = <I extends z.ZodType, O extends z.ZodType>(input: I, output: O) => ({ input, output });

export const RATING_API = {
  /** Creates a session: draws, blinds and shuffles its items, writes their images; `rating.progress` events while it prepares. */
  'ratings.create': method(RatingCreateRequestSchema, RatingSessionSchema),
  /** Every session, newest first; with runId only those that draw from that run. */
  'ratings.list': method(z.object({ runId: Id.optional() }).strict(), z.array(RatingSessionSchema)),
  /** One session with its raters' progress. */
  'ratings.get': method(sessionRef, RatingSessionSchema),
  /** Adds a rater to an open session (own shuffled order). */
  'ratings.addRater': method(raterRef, RatingSessionSchema),
  /** The rater's next unanswered item (resumable: answers are stored as they come), or null when every item is answered. */
  'ratings.next': method(raterRef, z.object({ item: RatingItemSchema.nullable(), rater: RaterProgressSchema })),
  /** Stores one answer; refuses answers that do not fit the item (wrong kind, unknown item, answered twice, missing exposure). */
  'ratings.answer': method(RatingAnswerRequestSchema, z.object({ rater: RaterProgressSchema })),
  /** Takes back the rater's last answer given in the app (not kit answers); `conflict` once they finished or when there is none. */
  'ratings.undo': method(raterRef, z.object({ itemId: z.string(), rater: RaterProgressSchema })),
  /** Marks the rater finished once every item is answered (`conflict` before); the session finishes with its last rater. */
  'ratings.finishRater': method(raterRef, RatingSessionSchema),
  /** Scores with intervals, per-rater reliability, agreement and ranking; provisional until the session is finished. */
  'ratings.results': method(z.object({ sessionId: Id, excludeUnreliable: z.boolean().default(false), bootstrap: z.number().int().min(100).max(10_000).default(1000) }).strict(), RatingResultsSchema),
  /** The answers (one row per rater and item, sources revealed) as CSV or the results as JSON text, for download. */
  'ratings.export': method(z.object({ sessionId: Id, format: z.enum(['csv', 'json']) }).strict(), z.object({ fileName: z.string(), mimeType: z.string(), text: z.string() })),
  /** Writes a self-contained offline rater kit (static HTML + JS + CSS + images + signed manifest) into the session folder, or `dir` (CLI). */
  'ratings.exportKit': method(z.object({ sessionId: Id, rater: RaterName, dir: z.string().min(1).max(4096).optional() }).strict(), z.object({ path: z.string(), files: z.number().int(), bytes: z.number().int(), itemsHash: z.string() })),
  /** Imports a kit's answers file (its JSON text); checks session id, item ids and hash, stores everything in one transaction. */
  'ratings.importAnswers': method(z.object({ text: z.string().min(2).max(4_000_000) }).strict(), z.object({ sessionId: z.string(), rater: z.string(), imported: z.number().int(), session: RatingSessionSchema })),
  /** Deletes a session, its answers and its images. */
  'ratings.delete': method(sessionRef, z.object({ deleted: z.literal(true), sessionId: z.string() })),
  /** Finished sessions that include the run, with the run's human score in each (for the run page). */
  'ratings.forRun': method(
    z.object({ runId: Id }).strict(),
    z.array(
      z.object({
        session: RatingSessionSchema,
        /** one per checkpoint of this run in the session */
        scores: z.array(z.object({ sourceId: z.string(), step: z.number().int().nullable(), score: z.string(), estimate: EstimateSchema, rank: z.number().int().nullable() })),
      }),
    ),
  ),
} as const;

export const RATING_PHASES = ['sampling', 'real', 'attention', 'writing', 'done'] as const;

/** Spread into StudioEventSchema's union in api.ts. */
export const RATING_EVENT_SCHEMAS = [
  /** a session is being prepared: images generated / copied so far */
  z.object({ type: z.literal('rating.progress'), sessionId: Id, phase: z.enum(RATING_PHASES), done: z.number().int(), total: z.number().int() }),
  /** a session changed: created, a rater answered / finished, finished, deleted (session null) */
  z.object({ type: z.literal('rating.session'), sessionId: Id, session: RatingSessionSchema.nullable() }),
] as const;
