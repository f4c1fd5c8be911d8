// Timed real-or-fake: shows the image for a requested time, then the mask, and measures what the
// screen really showed from requestAnimationFrame timestamps. A DOM change made in the callback of
// frame N is painted in frame N; the next callback (N+1) is the first moment we know it was. The
// exposure is the time between "image painted" and "mask painted", both read the same way, so it
// is a whole number of frames: the mask goes up on the frame boundary nearest the requested time.
// Shared by the studio's rating screen and the offline rater kit (renderer/src/rater-kit/kit.ts),
// so both time exposures the same way; keep it free of Svelte and of anything else a page lacks.

export interface Exposure {
  requestedMs: number;
  /** first frame with the image painted → first frame with the mask painted */
  measuredMs: number;
  frames: number;
  /** the frame interval measured just before showing */
  frameMs: number;
}

/** Times an item is shown again when the display skipped frames, before its exposure is accepted as measured. */
export const MAX_REPEATS = 3;

/**
 * More than one frame off the request: the display skipped frames (a busy machine), so the trial
 * did not test the staircase's exposure. The screen then shows the image again.
 */
export function missedByFrames(e: Exposure): boolean {
  return Math.abs(e.measuredMs - e.requestedMs) > e.frameMs;
}

type Raf = (cb: (t: number) => void) => number;
type CancelRaf = (id: number) => void;

const WARMUP_FRAMES = 4;

/**
 * Calls `show(true)` in one frame and `show(false)` in the frame nearest `requestedMs` later; the
 * image must already be decoded (img.decode()) so the first frame really shows it. Rejects with an
 * AbortError when `signal` aborts (the mask is put up first). `raf` / `cancel` are the page's
 * requestAnimationFrame / cancelAnimationFrame (a simulated frame clock in the unit test).
 */
export function presentFor(requestedMs: number, show: (visible: boolean) => void, signal: AbortSignal | undefined, raf: Raf, cancel: CancelRaf): Promise<Exposure> {
  return new Promise((resolve, reject) => {
    const stamps: number[] = [];
    let shownAt = -1; // timestamp of the callback that made the image visible
    let shownPaintedAt = -1;
    let maskedAt = -1;
    let frameMs = 1000 / 60;
    let id = 0;

    const abort = () => {
      cancel(id);
      show(false);
      reject(new DOMException('the exposure was cancelled', 'AbortError'));
    };
    if (signal?.aborted) return abort();
    signal?.addEventListener('abort', abort, { once: true });

    const tick = (t: number) => {
      if (shownAt < 0) {
        // warm up: a steady frame clock and its interval (median of the deltas)
        stamps.push(t);
        if (stamps.length <= WARMUP_FRAMES) {
          id = raf(tick);
          return;
        }
        const deltas = stamps
          .slice(1)
          .map((s, i) => s - stamps[i])
          .sort((a, b) => a - b);
        frameMs = deltas[deltas.length >> 1] || frameMs;
        show(true);
        shownAt = t;
      } else if (shownPaintedAt < 0) {
        shownPaintedAt = t;
        // a very short request could already be due
        if (maskDue(t)) {
          show(false);
          maskedAt = t;
        }
      } else if (maskedAt < 0) {
        if (maskDue(t)) {
          show(false);
          maskedAt = t;
        }
      } else {
        signal?.removeEventListener('abort', abort);
        const measuredMs = t - shownPaintedAt;
        resolve({ requestedMs, measuredMs, frames: Math.round(measuredMs / frameMs), frameMs });
        return;
      }
      id = raf(tick);
    };

    // the mask set in this callback is painted in this frame and seen from the next callback on,
    // so the exposure would be about t − shownAt; put it up when that is nearest the request
    const maskDue = (t: number) => t - shownAt + frameMs / 2 >= requestedMs;

    id = raf(tick);
  });
}
