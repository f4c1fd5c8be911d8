// The offline rater kit's file formats (issue 8), shared by the core that writes a kit and reads its
// answers back (electron/core/rating/kit.ts) and by the page that runs it (renderer/src/rater-kit/
// kit.ts, bundled into the kit's kit.js). Types and small pure functions only: the page bundle must
// not pull zod or anything else in, so the answers schema itself stays in the core.
import type { RatingAnswerValue, RatingType } from './api-rating.ts';
import type { StaircaseRules } from './rating-staircase.ts';

export const KIT_FORMAT = 'gan-studio-rater-kit';
export const KIT_VERSION = 1;
export const ANSWERS_FORMAT = 'gan-studio-rater-answers';
export const ANSWERS_VERSION = 1;

export interface KitItem {
  itemId: string;
  /** image file names in the kit's img/ folder, in display order */
  files: string[];
  /** timed_real_fake: the staircase (an opaque name per generator) the item belongs to; null for attention items */
  block?: string | null;
  /** timed_real_fake: the truth bit, obscured with the kit's salt (see `obscureTruth`) */
  t?: number;
}

/** manifest.json, and manifest.js as `window.RATER_KIT = …` (a file:// page may not fetch). */
export interface KitManifest {
  format: typeof KIT_FORMAT;
  version: number;
  sessionId: string;
  type: RatingType;
  title: string;
  question: string;
  keys: string;
  rater: string;
  itemsHash: string;
  signature: string;
  breakEvery: number;
  /** timed_real_fake only, else null */
  staircase: StaircaseRules | null;
  /** timed_real_fake only, else '' */
  salt: string;
  items: KitItem[];
}

export interface KitAnswer {
  itemId: string;
  answer: RatingAnswerValue;
  responseMs: number;
  /** timed_real_fake: the measured exposure */
  exposureMs?: number;
  answeredAt?: number;
}

/** The answers file the page downloads; the core checks it with KitAnswersSchema. */
export interface KitAnswersFile {
  format: typeof ANSWERS_FORMAT;
  version: number;
  sessionId: string;
  type: RatingType;
  rater: string;
  itemsHash: string;
  signature: string;
  finished: boolean;
  answers: KitAnswer[];
}

/** 32-bit FNV-1a over UTF-16 code units. */
export function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/**
 * The truth of a timed item as one bit xor-ed with a bit of the item id and the kit's salt, so the
 * staircase can run offline. Obscured, not secret: a determined rater can undo it.
 */
export function obscureTruth(itemId: string, salt: string, truth: 'real' | 'fake'): number {
  return (truth === 'real' ? 1 : 0) ^ (fnv1a(itemId + salt) & 1);
}

/** The inverse of `obscureTruth`. */
export function revealTruth(itemId: string, salt: string, t: number): 'real' | 'fake' {
  return (t ^ (fnv1a(itemId + salt) & 1)) === 1 ? 'real' : 'fake';
}
