// The answer keys of the rating screens, shared by the studio's rating screen and the offline rater
// kit (renderer/src/rater-kit/kit.ts), so a rater's fingers mean the same thing in both. F and J are
// the home-row keys; the arrows are the same answers for anyone who prefers them.

/** The key name the screens match on: letters lower-cased (Shift or Caps Lock must not matter), named keys as they are. */
export function keyName(key: string): string {
  return key.length === 1 ? key.toLowerCase() : key;
}

/** Real or fake: F / ← fake, J / → real. */
export function realFakeKey(key: string): 'real' | 'fake' | null {
  if (key === 'f' || key === 'ArrowLeft') return 'fake';
  if (key === 'j' || key === 'ArrowRight') return 'real';
  return null;
}

/** Pairwise preference: F / ← left, J / → right, space cannot tell. */
export function preferenceKey(key: string): 'left' | 'right' | 'tie' | null {
  if (key === 'f' || key === 'ArrowLeft') return 'left';
  if (key === 'j' || key === 'ArrowRight') return 'right';
  if (key === ' ') return 'tie';
  return null;
}

/** Quality on a five-point scale: the keys 1 to 5. */
export function qualityKey(key: string): number | null {
  return /^[1-5]$/.test(key) ? Number(key) : null;
}

/** Memorisation: Y / J a copy of a training image, N / F not a copy. */
export function memorisationKey(key: string): boolean | null {
  if (key === 'y' || key === 'j') return true;
  if (key === 'n' || key === 'f') return false;
  return null;
}
