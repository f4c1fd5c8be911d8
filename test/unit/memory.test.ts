import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { resolveRunConfig } from '../../electron/common/config.ts';
import { ApiError } from '../../electron/common/errors.ts';
import { estimateRunMemory, largestFittingBatch, memoryLimit } from '../../electron/core/models/memory.ts';
import { createStudioCore } from '../../electron/core/services/studio.ts';
import { createInMemoryClient } from '../../electron/core/transport/in-memory.ts';

const image = { height: 28, width: 28, channels: 1 };
const cfg = (over: Record<string, unknown> = {}) => resolveRunConfig({ dataset: 'builtin:mnist', family: 'dcgan', seed: 1, ...over });

test('the estimate counts W1 parameters exactly and grows linearly with the batch', () => {
  const e64 = estimateRunMemory(cfg(), image, 10_000);
  // W1: G 100·6272 + 2·6272 + 16·128·64 + 2·64 + 16·64·1 + 2·1 ... counted as float32
  const gParams = 100 * 6272 + 2 * 6272 + 16 * 128 * 64 + 2 * 64 + 16 * 64 * 1 + 2 * 1;
  const dParams = 16 * 1 * 64 + 64 + 16 * 64 * 128 + 128 + 6272 + 1;
  assert.equal(e64.breakdown.parameters, (gParams + dParams) * 4);
  assert.equal(e64.breakdown.optimizer, 2 * e64.breakdown.parameters, 'Adam keeps two slots per weight');
  assert.equal(e64.breakdown.dataset, 10_000 * 784);
  const e128 = estimateRunMemory(cfg({ schedule: { batchSize: 128 } }), image, 10_000);
  assert.equal(e128.breakdown.activations, 2 * e64.breakdown.activations);
  assert.equal(e128.breakdown.parameters, e64.breakdown.parameters);
});

test('the limit is the wasm heap for wasm and a share of the machine otherwise', () => {
  const eight = 8 * 2 ** 30;
  assert.equal(memoryLimit('wasm', true, 64 * 2 ** 30).bytes, 4 * 2 ** 30);
  assert.equal(memoryLimit('auto', false, 64 * 2 ** 30).bytes, 4 * 2 ** 30);
  assert.equal(memoryLimit('auto', true, eight).bytes, 0.75 * eight);
  assert.equal(memoryLimit('wasm', false, 2 * 2 ** 30).bytes, 1.5 * 2 ** 30, 'a small machine limits wasm too');
});

test('largestFittingBatch is the largest batch whose estimate fits', () => {
  const big = cfg({ architecture: { gChannels: 1024, dChannels: 512 }, schedule: { batchSize: 4096 } });
  const limit = 2 * 2 ** 30;
  const b = largestFittingBatch(big, image, 10_000, limit)!;
  assert.ok(b > 0 && b < 4096);
  const at = (n: number) => estimateRunMemory({ ...big, schedule: { ...big.schedule, batchSize: n } }, image, 10_000).totalBytes;
  assert.ok(at(b) <= limit && at(b + 1) > limit);
});

test('runs.start refuses a run that would not fit, suggests a batch size and writes nothing', async () => {
  const home = mkdtempSync(path.join(os.tmpdir(), 'gs-mem-'));
  const core = await createStudioCore({ home, mode: 'memory' });
  try {
    const client = createInMemoryClient(core.api, core.events);
    const ok = await client.call('runs.estimate', { config: { dataset: 'builtin:mnist', family: 'dcgan' } });
    assert.equal(ok.fits, true);
    assert.ok(ok.totalBytes > 0 && ok.totalBytes < ok.limitBytes);
    const huge = { dataset: 'builtin:mnist', family: 'dcgan', backend: 'wasm', architecture: { gChannels: 1024, dChannels: 1024 }, schedule: { batchSize: 4096 } };
    const est = await client.call('runs.estimate', { config: huge });
    assert.equal(est.fits, false);
    assert.ok(est.suggestedBatchSize && est.suggestedBatchSize < 4096);
    await assert.rejects(client.call('runs.start', { config: huge }), (err: unknown) => {
      assert.ok(err instanceof ApiError);
      assert.equal(err.code, 'invalid_input');
      assert.match(err.message, new RegExp(`schedule\\.batchSize: needs about .* GiB .* at most ${est.suggestedBatchSize}`));
      return true;
    });
    assert.deepEqual(await client.call('runs.list', {}), []);
    assert.deepEqual(readdirSync(path.join(home, 'runs')), []);
  } finally {
    await core.close();
    rmSync(home, { recursive: true, force: true });
  }
});
