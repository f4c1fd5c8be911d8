// RELIABILITY E2: a writer killed with SIGKILL at random moments never loses a batch it reported
// as committed, and never leaves a database that fails integrity_check.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openDatabase, integrityCheck } from '../../electron/core/db/database.ts';
import { upsertDataset } from '../../electron/core/db/datasets-repo.ts';
import { getRunSummary, getScalars, latestCheckpoint, listRunEvents, markActiveRunsInterrupted } from '../../electron/core/db/runs-repo.ts';

const WRITER = fileURLToPath(new URL('./fixtures/db-crash-writer.ts', import.meta.url));
const TAGS = ['loss/g', 'loss/d', 'd/real'];
const valueFor = (tagIndex: number, step: number) => tagIndex * 1000 + step / 7;
const ROUNDS = 10;

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gan-db-crash-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

interface Batch {
  batch: number;
  first: number;
  last: number;
}

/** Starts the writer, kills it `delayMs` after its first commit, returns the batches it reported. */
function runAndKill(file: string, runId: string, seed: number, delayMs: number): Promise<{ batches: Batch[]; signal: string | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', WRITER, file, runId, String(seed)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let timer: NodeJS.Timeout | undefined;
    const watchdog = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      if (!timer && out.includes('committed ')) timer = setTimeout(() => child.kill('SIGKILL'), delayMs);
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
    child.on('error', reject);
    child.on('close', (_code, signal) => {
      clearTimeout(watchdog);
      if (timer) clearTimeout(timer);
      if (signal !== 'SIGKILL') return reject(new Error(`writer ended without being killed (signal ${signal}): ${err}`));
      // Only complete lines count: a line cut by the kill was being written, not reported.
      const lines = out.split('\n').slice(0, -1);
      const batches = lines.filter((l) => l.startsWith('committed ')).map((l) => {
        const [, batch, first, last] = l.split(' ').map(Number);
        return { batch: batch!, first: first!, last: last! };
      });
      resolve({ batches, signal });
    });
  });
}

test('E2: SIGKILL at random moments loses no reported batch and leaves an intact database', async (t) => {
  const file = path.join(tmp, 'studio.db');
  {
    const { db } = openDatabase(file);
    upsertDataset(db, { id: 'mnist', name: 'MNIST', kind: 'builtin', layout: 'images', description: '', dir: 'd', count: 1, width: 28, height: 28, channels: 1, classNames: null, classCounts: null, contentHash: 'h', createdAt: 0 });
    db.close();
  }
  let rng = 12345;
  const rand = () => (rng = (rng * 16807) % 2147483647) / 2147483647;

  for (let round = 0; round < ROUNDS; round++) {
    const runId = `r_crash_${round}`;
    const delayMs = Math.floor(rand() * 300);
    const { batches } = await runAndKill(file, runId, round + 1, delayMs);
    assert.ok(batches.length > 0, `round ${round}: the writer reported at least one batch`);

    const { db, report } = openDatabase(file);
    try {
      assert.deepEqual(report, { recovered: false }, `round ${round}: not treated as corrupt`);
      assert.deepEqual(integrityCheck(db), ['ok'], `round ${round}: integrity_check`);

      const lastReported = batches.at(-1)!.last;
      const series = getScalars(db, runId, { maxPoints: 100_000 });
      TAGS.forEach((tag, ti) => {
        const s = series[tag]!;
        // every reported step is there with its value; at most the one unreported batch beyond
        const byStep = new Map(s.steps.map((st, i) => [st, s.values[i]!]));
        for (const b of batches) {
          for (let st = b.first; st <= b.last; st++) {
            assert.equal(byStep.get(st), valueFor(ti, st), `round ${round}: ${tag}@${st} of batch ${b.batch}`);
          }
        }
        assert.ok(s.total >= lastReported + 1, `round ${round}: ${tag} has ${s.total} points`);
      });
      const run = getRunSummary(db, runId)!;
      assert.ok(run.step >= lastReported, `round ${round}: progress ${run.step} >= ${lastReported}`);
      const lastBatch = batches.at(-1)!.batch;
      const expectedEvents = Math.floor(lastBatch / 4) + 1;
      assert.ok(listRunEvents(db, runId, { limit: 100_000 }).filter((e) => e.message.startsWith('batch ')).length >= expectedEvents);
      if (lastBatch >= 9) assert.ok(latestCheckpoint(db, runId), `round ${round}: checkpoint row`);

      // what the supervisor does after a crash (B2): the run left 'running' becomes 'interrupted'
      assert.deepEqual(markActiveRunsInterrupted(db, 'trainer killed (SIGKILL)'), [runId]);
      assert.equal(getRunSummary(db, runId)!.status, 'interrupted');
      t.diagnostic(`round ${round}: killed ${delayMs} ms after the first commit, ${batches.length} batches / ${lastReported + 1} steps verified`);
    } finally {
      db.close();
    }
  }
});
