// Trains the diagnostics scenarios (scenarios.ts) for real: a studio core in a temporary home
// (real SQLite, forked trainers on the chosen backend), the scenario's run and, for a fault
// scenario, its fork from the healthy prefix's checkpoint; what comes back is every alert the
// detectors stored for those runs. Used by the integration tests and `npm run bench:diagnostics`.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Alert, ApiClient, RunDetail, StudioEvent } from '../../common/api.ts';
import { createStudioCore, DATABASE_FILE, type StudioCore, type StudioCoreOptions } from '../services/studio.ts';
import { createInMemoryClient } from '../transport/in-memory.ts';
import { openDatabase } from '../db/database.ts';
import { upsertDataset } from '../db/datasets-repo.ts';
import { builtinMnistArrays } from '../datasets/builtin-mnist.ts';
import { datasetRecordOf, writeDatasetCache } from '../datasets/cache.ts';
import { mergePatch } from './remedies.ts';
import { SMALL_MNIST, type Scenario, type ScenarioOutcome } from './scenarios.ts';

const TERMINAL = new Set(['completed', 'stopped', 'failed', 'diverged', 'interrupted']);

/**
 * The first SMALL_MNIST.train built-in digits as a dataset, with the next SMALL_MNIST.holdout as
 * its held-out split (never trained on): the D-overfitting scenario's data.
 */
export async function writeSmallMnist(home: string): Promise<void> {
  const { arrays } = builtinMnistArrays();
  const px = 28 * 28;
  const n = SMALL_MNIST.train;
  const h = SMALL_MNIST.holdout;
  const images = arrays.images.slice(0, n * px);
  const labels = arrays.labels.slice(0, n);
  const counts = Array.from({ length: 10 }, (_, d) => labels.filter((l) => l === d).length);
  const dir = path.join(home, 'datasets', 'scenario-mnist-small');
  const manifest = await writeDatasetCache(
    dir,
    {
      id: SMALL_MNIST.id,
      name: `MNIST ${n} (diagnostics scenario)`,
      kind: 'imported',
      layout: 'images',
      description: `the first ${n} built-in digits; the next ${h} are its held-out split`,
      count: n,
      width: 28,
      height: 28,
      channels: 1,
      classNames: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
      classCounts: counts,
      source: 'built-in MNIST subset',
      createdAt: Date.now(),
      holdout: { count: h, countB: 0, fraction: h / (n + h), seed: 0 },
    },
    { images, labels },
    { 'holdout_images.u8': arrays.images.slice(n * px, (n + h) * px), 'holdout_labels.u8': arrays.labels.slice(n, n + h) },
  );
  const { db } = openDatabase(path.join(home, DATABASE_FILE));
  try {
    upsertDataset(db, datasetRecordOf(manifest, dir));
  } finally {
    db.close();
  }
}

export interface LabOptions {
  backend?: 'wasm' | 'cpu' | 'auto';
  supervision?: StudioCoreOptions['supervision'];
  /** per-run timeout */
  timeoutMs?: number;
}

/** A studio core in a temporary home that trains scenarios one after another. */
export class ScenarioLab {
  readonly events: StudioEvent[] = [];
  readonly #waiters = new Set<() => void>();
  private constructor(
    readonly home: string,
    readonly core: StudioCore,
    readonly client: ApiClient,
    readonly options: Required<Pick<LabOptions, 'backend' | 'timeoutMs'>>,
  ) {
    client.subscribe((e) => {
      this.events.push(e);
      for (const w of [...this.#waiters]) w();
    });
  }

  static async create(options: LabOptions = {}): Promise<ScenarioLab> {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'gan-scenarios-'));
    try {
      // the core creates the schema; the small dataset is registered with the core closed
      await (await createStudioCore({ home, mode: 'memory' })).close();
      await writeSmallMnist(home);
      const core = await createStudioCore({ home, mode: 'memory', supervision: options.supervision ?? { heartbeatTimeoutMs: 30_000, killGraceMs: 500 } });
      return new ScenarioLab(home, core, createInMemoryClient(core.api, core.events), { backend: options.backend ?? 'wasm', timeoutMs: options.timeoutMs ?? 600_000 });
    } catch (err) {
      fs.rmSync(home, { recursive: true, force: true });
      throw err;
    }
  }

  /** Resolves with the run once it reaches a terminal status. */
  waitForEnd(runId: string): Promise<RunDetail> {
    return new Promise((resolve, reject) => {
      let settled = false;
      const check = () => {
        if (settled) return;
        const ended = this.events.some((e) => e.type === 'run.status' && e.run.id === runId && TERMINAL.has(e.run.status));
        if (!ended) return;
        settled = true;
        cleanup();
        // the core records the end before it announces it
        this.client.call('runs.get', { runId }).then(resolve, reject);
      };
      const timer = setTimeout(() => {
        settled = true;
        cleanup();
        reject(new Error(`run ${runId} did not end within ${this.options.timeoutMs} ms`));
      }, this.options.timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.#waiters.delete(check);
      };
      this.#waiters.add(check);
      check();
    });
  }

  /** Trains one scenario with one seed: its prefix and fault phases, or its single run. */
  async run(s: Scenario, seed: number): Promise<ScenarioOutcome> {
    const t0 = performance.now();
    const base = mergePatch(s.config, { seed, backend: this.options.backend }) as Record<string, unknown>;
    const runIds: string[] = [];
    let last: RunDetail;
    if (s.prefix !== undefined && s.fault) {
      const schedule = base.schedule as Record<string, unknown>;
      const prefix = await this.client.call('runs.start', { config: mergePatch(base, { schedule: { ...schedule, steps: s.prefix, checkpointEvery: s.prefix } }), ...(s.diagnostics ? { diagnostics: s.diagnostics as Record<string, unknown> } : {}) });
      runIds.push(prefix.id);
      const p = await this.waitForEnd(prefix.id);
      if (p.status !== 'completed') throw new Error(`scenario ${s.id}: the healthy prefix ended ${p.status}: ${p.statusReason ?? ''}`);
      const child = await this.client.call('runs.fork', { runId: prefix.id, patch: mergePatch(s.fault, { schedule: { steps: schedule.steps } }), fromCheckpoint: true, fromStep: s.prefix, note: `scenario ${s.id}: fault from step ${s.prefix}` });
      runIds.push(child.id);
      last = await this.waitForEnd(child.id);
    } else {
      const run = await this.client.call('runs.start', { config: base, ...(s.diagnostics ? { diagnostics: s.diagnostics as Record<string, unknown> } : {}) });
      runIds.push(run.id);
      last = await this.waitForEnd(run.id);
    }
    const alerts: Alert[] = [];
    for (const runId of runIds) alerts.push(...(await this.client.call('runs.alerts', { runId })));
    const sc = await this.client.call('runs.scalars', { runId: last.id, tags: ['diag/overhead'], maxPoints: 100_000 });
    const overhead = sc['diag/overhead'];
    return {
      scenario: s.id,
      seed,
      runIds,
      status: last.status,
      steps: last.step,
      wallMs: performance.now() - t0,
      overhead: overhead && overhead.values.length ? overhead.values.at(-1)! : null,
      probes: overhead?.total ?? 0,
      alerts,
    };
  }

  async close(): Promise<void> {
    try {
      await this.core.close();
    } finally {
      fs.rmSync(this.home, { recursive: true, force: true });
    }
  }
}
