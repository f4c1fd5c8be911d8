// The stored shape of a rating session's items and answers (what the rater must not see lives in
// `truth`). Shared by the repository, the session builder and the results.
import type { RatingAnswerValue } from '../../common/api-rating.ts';

export type ItemTruth =
  /** `block`: the staircase this item belongs to in a timed session (a generator's source id), null otherwise or for attention items */
  | { kind: 'real_fake'; truth: 'real' | 'fake'; sourceId: string; block: string | null }
  /** `better`: the side an attentive rater must prefer (attention items only) */
  | { kind: 'preference'; left: string; right: string; better: 'left' | 'right' | null }
  | { kind: 'quality'; sourceId: string }
  /** `duplicateCells`: the planted exact duplicates (attention items only) */
  | { kind: 'duplicates'; sourceId: string; duplicateCells: number[] }
  /** `copy`: the planted answer (attention items only: the generated slot is an exact training image) */
  | { kind: 'memorisation'; sourceId: string; copy: boolean | null };

export interface ItemRow {
  itemId: string;
  ord: number;
  attention: boolean;
  truth: ItemTruth;
  /** PNG file names in the session folder's img/ directory, in display order */
  files: string[];
}

export interface AnswerRow {
  rater: string;
  itemId: string;
  position: number;
  answer: RatingAnswerValue;
  responseMs: number;
  requestedMs: number | null;
  exposureMs: number | null;
  origin: 'app' | 'kit';
  answeredAt: number;
}

/** The answer kind each session type takes. */
export function answerKindOf(type: string): RatingAnswerValue['kind'] {
  return type === 'timed_real_fake' ? 'real_fake' : (type as RatingAnswerValue['kind']);
}
