// An in-memory scalar series with a bounded size: appends are O(1) amortised, and when the series
// grows past `cap` it is downsampled with LTTB to half the cap, so memory and drawing cost stay
// flat however long a run trains.
import { lttb } from '../../../electron/common/lttb.ts';

export const DEFAULT_SERIES_CAP = 5000;

export class SeriesBuffer {
  steps: number[] = [];
  values: number[] = [];
  readonly cap: number;

  constructor(cap = DEFAULT_SERIES_CAP) {
    this.cap = cap;
  }

  get length(): number {
    return this.steps.length;
  }

  get lastStep(): number {
    return this.steps.length ? this.steps[this.steps.length - 1] : -Infinity;
  }

  /** Replaces the content (e.g. with the downsampled history from the core). */
  set(steps: readonly number[], values: readonly number[]): void {
    this.steps = steps.slice();
    this.values = values.slice();
    this.compact();
  }

  /**
   * Appends points sorted by step. A point at or before the last kept step means the run went
   * back (resumed from an earlier checkpoint): the now-orphaned tail is dropped, as TensorBoard does.
   */
  append(steps: readonly number[], values: readonly number[]): void {
    const n = Math.min(steps.length, values.length);
    if (n === 0) return;
    if (steps[0] <= this.lastStep) {
      let keep = this.steps.length;
      while (keep > 0 && this.steps[keep - 1] >= steps[0]) keep--;
      this.steps.length = keep;
      this.values.length = keep;
    }
    for (let i = 0; i < n; i++) {
      this.steps.push(steps[i]);
      this.values.push(values[i]);
    }
    this.compact();
  }

  clear(): void {
    this.steps = [];
    this.values = [];
  }

  private compact(): void {
    if (this.steps.length <= this.cap) return;
    const { xs, ys } = lttb(this.steps, this.values, Math.max(3, Math.floor(this.cap / 2)));
    this.steps = xs;
    this.values = ys;
  }
}
