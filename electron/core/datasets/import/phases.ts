// Wall time per import phase, for `npm run bench:import` and for finding the next bottleneck: the
// importer reports where its time went (walk, plan, reads, decodes, statistics, duplicate search,
// content hash, cache write, progress messages) alongside its result.

/** Milliseconds per phase name, plus `count.*` entries for how often a phase ran. */
export type PhaseTimings = Record<string, number>;

export class PhaseClock {
  readonly ms: PhaseTimings = {};

  add(name: string, ms: number, times = 1): void {
    this.ms[name] = (this.ms[name] ?? 0) + ms;
    if (times > 0) this.ms[`count.${name}`] = (this.ms[`count.${name}`] ?? 0) + times;
  }

  time<T>(name: string, fn: () => T): T {
    const t0 = performance.now();
    try {
      return fn();
    } finally {
      this.add(name, performance.now() - t0);
    }
  }

  async timeAsync<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const t0 = performance.now();
    try {
      return await fn();
    } finally {
      this.add(name, performance.now() - t0);
    }
  }

  /** Rounded to 0.1 ms, for a message or a report. */
  snapshot(): PhaseTimings {
    return Object.fromEntries(Object.entries(this.ms).map(([k, v]) => [k, Math.round(v * 10) / 10]));
  }
}
