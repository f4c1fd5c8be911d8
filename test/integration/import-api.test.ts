// Dataset import through the core API, as the UI drives it: the import runs in a worker thread,
// progress arrives as `dataset.import` events, a finished import is a dataset the trainer can
// read, a cancelled or failed one leaves nothing, and imported datasets can be deleted.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { DatasetImportStatus, StudioEvent } from '../../electron/common/api.ts';
import { createStudioCore, type StudioCore } from '../../electron/core/services/studio.ts';
import { createInMemoryClient } from '../../electron/core/transport/in-memory.ts';
import type { ApiError } from '../../electron/common/errors.ts';
import { png, tempDir, writeFiles } from '../unit/import-fixtures.ts';

let home: string;
let core: StudioCore;
let client: ReturnType<typeof createInMemoryClient>;
const events: StudioEvent[] = [];

before(async () => {
  home = tempDir('gs-import-api-');
  core = await createStudioCore({ home, mode: 'memory' });
  client = createInMemoryClient(core.api, core.events);
  client.subscribe((e) => events.push(e));
});
after(async () => {
  await core.close();
  rmSync(home, { recursive: true, force: true });
});

async function waitEnd(importId: string): Promise<DatasetImportStatus> {
  for (let i = 0; i < 600; i++) {
    const s = await client.call('datasets.importStatus', { importId });
    if (s.state !== 'running') return s;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('import did not end');
}

const importedFolders = () => readdirSync(path.join(home, 'datasets')).filter((n) => n.startsWith('imported'));

test('datasets.import runs off the main thread with progress events and ends in a listed dataset with its report', async () => {
  const src = tempDir('gs-src-');
  const files: Record<string, Buffer | string> = {};
  for (const [c, name] of ['zero', 'one'].entries()) for (let i = 0; i < 20; i++) files[`${name}/${i}.png`] = await png(12, 12, 1, (x, y) => (c ? x : y) * 20 + i);
  files['one/bad.png'] = 'not an image';
  writeFiles(src, files);
  const started = await client.call('datasets.import', { path: src, name: 'Two classes', size: 12 });
  assert.equal(started.state, 'running');
  const end = await waitEnd(started.importId);
  assert.equal(end.state, 'done', JSON.stringify(end.error));
  assert.match(end.datasetId!, /^imported:two-classes-[0-9a-f]{6}$/);
  assert.equal(end.report!.counts.rejected, 1);
  await new Promise((r) => setTimeout(r, 20));
  const mine = events.filter((e): e is Extract<StudioEvent, { type: 'dataset.import' }> => e.type === 'dataset.import' && e.status.importId === started.importId);
  assert.ok(mine.some((e) => e.status.phase === 'decoding' || e.status.phase === 'writing'), 'progress events were sent');
  assert.equal(mine.at(-1)!.status.state, 'done');
  assert.ok(mine.every((e, i) => i === 0 || e.status.fraction >= mine[i - 1].status.fraction), 'the fraction never goes back');

  const list = await client.call('datasets.list', {});
  const d = list.find((x) => x.id === end.datasetId)!;
  assert.equal(d.kind, 'imported');
  assert.deepEqual(d.classNames, ['one', 'zero'].sort());
  assert.equal(d.count, 36);
  const { report, duplicatesPreview } = await client.call('datasets.report', { datasetId: d.id });
  assert.equal(report!.counts.imported, 40);
  assert.match(report!.rejected[0].reason, /not an image/);
  assert.ok(duplicatesPreview === null || duplicatesPreview.dataUrl.startsWith('data:image/png;base64,'));
  const preview = await client.call('datasets.preview', { datasetId: d.id, count: 20 });
  assert.ok(preview.width > 0);
  // a run can be planned on it
  const est = await client.call('runs.estimate', { config: { dataset: d.id, family: 'dcgan' } });
  assert.equal(typeof est.totalBytes, 'number');

  await client.call('datasets.delete', { datasetId: d.id });
  assert.ok(!(await client.call('datasets.list', {})).some((x) => x.id === d.id));
  assert.deepEqual(importedFolders(), []);
  await assert.rejects(client.call('datasets.delete', { datasetId: 'builtin:mnist' }), (e: ApiError) => e.code === 'conflict');
  await assert.rejects(client.call('datasets.delete', { datasetId: d.id }), (e: ApiError) => e.code === 'not_found');
});

test('nothing importable: the import fails with one error, its rejected files, and no dataset', async () => {
  const src = tempDir('gs-src-');
  writeFiles(src, { 'a.png': Buffer.alloc(0), 'b.png': 'text' });
  const before = (await client.call('datasets.list', {})).length;
  const started = await client.call('datasets.import', { path: src });
  const end = await waitEnd(started.importId);
  assert.equal(end.state, 'failed');
  assert.equal(end.error!.code, 'invalid_input');
  assert.match(end.error!.message, /nothing importable/);
  assert.equal((end.error!.details!.rejected as unknown[]).length, 2);
  assert.equal((await client.call('datasets.list', {})).length, before);
  assert.deepEqual(importedFolders(), []);
  await assert.rejects(client.call('datasets.import', { path: 'relative/path' }), (e: ApiError) => e.code === 'invalid_input');
  await assert.rejects(client.call('datasets.import', { path: src, kind: 'tarball' as never }), (e: ApiError) => e.code === 'invalid_input');
});

test('a cancelled import stops, leaves no folder and no dataset', async () => {
  const src = tempDir('gs-src-');
  const files: Record<string, Buffer> = {};
  const img = await png(64, 64, 3, (x, y, c) => x * y + c);
  for (let i = 0; i < 1500; i++) files[`${i}.png`] = img;
  writeFiles(src, files);
  const before = (await client.call('datasets.list', {})).length;
  // resized (through sharp, ~1 ms a file), so the import outlasts the wait below; at their own size
  // these PNGs take the fast path and all 1 500 decode in a fraction of a second
  const started = await client.call('datasets.import', { path: src, size: 48 });
  // wait for decoding to be under way
  for (let i = 0; i < 400; i++) {
    const s = await client.call('datasets.importStatus', { importId: started.importId });
    if (s.filesDone > 10 || s.state !== 'running') break;
    await new Promise((r) => setTimeout(r, 10));
  }
  const cancelled = await client.call('datasets.importCancel', { importId: started.importId });
  assert.equal(cancelled.state, 'cancelled');
  assert.equal(cancelled.datasetId, null);
  assert.deepEqual(importedFolders(), []);
  assert.equal((await client.call('datasets.list', {})).length, before);
  const all = await client.call('datasets.imports', {});
  assert.equal(all.find((s) => s.importId === started.importId)!.state, 'cancelled');
});
