import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { METHOD_NAMES } from '../../electron/common/api.ts';
import { ApiError, ERROR_CODES } from '../../electron/common/errors.ts';
import { createApiHandler, inspectInput } from '../../electron/core/transport/api-handler.ts';
import type { HandlerResult } from '../../electron/core/transport/api-handler.ts';
import { createInMemoryClient } from '../../electron/core/transport/in-memory.ts';
import { createFakeCore, DATASETS, RUN } from './transport-fakes.ts';

const quiet = { onInternalError: () => {} };

function assertErrorData(result: HandlerResult, code?: string): asserts result is Extract<HandlerResult, { ok: false }> {
  assert.equal(result.ok, false, `expected an error, got ${JSON.stringify(result).slice(0, 200)}`);
  if (result.ok) return;
  assert.ok((ERROR_CODES as readonly string[]).includes(result.error.code), `unknown code ${result.error.code}`);
  assert.equal(typeof result.error.message, 'string');
  if (code) assert.equal(result.error.code, code, result.error.message);
  const wire = JSON.stringify(result.error);
  assert.ok(!/\n\s+at /.test(wire), 'no stack trace on the wire');
  assert.deepEqual(Object.keys(result.error).filter((k) => !['code', 'message', 'details'].includes(k)), []);
  structuredClone(result.error);
}

describe('api-handler', () => {
  it('calls the implementation with the parsed, defaulted input', async () => {
    const core = createFakeCore();
    const handle = createApiHandler(core.api, quiet);
    assert.deepEqual(await handle('datasets.list', {}), { ok: true, output: DATASETS });
    assert.deepEqual(await handle('datasets.preview', { datasetId: 'mnist' }), { ok: true, output: { dataUrl: 'data:image/png;base64,', width: 100, height: 1 } });
    assert.deepEqual(core.calls.at(-1), { method: 'datasets.preview', input: { datasetId: 'mnist', count: 100 } });
    // all-optional inputs may be omitted
    assert.equal((await handle('runs.list', undefined)).ok, true);
    assert.deepEqual(core.calls.at(-1), { method: 'runs.list', input: { limit: 500 } });
  });

  it('rejects unknown methods, including prototype names', async () => {
    const core = createFakeCore();
    const handle = createApiHandler(core.api, quiet);
    for (const method of ['nope', 'datasets', '__proto__', 'constructor', 'toString', 'hasOwnProperty', '', 42, null, undefined, {}, ['datasets.list']]) {
      assertErrorData(await handle(method, {}), 'unknown_method');
    }
    assert.equal(core.calls.length, 0);
  });

  it('names every offending field in invalid_input', async () => {
    const core = createFakeCore();
    const handle = createApiHandler(core.api, quiet);
    const r = await handle('runs.scalars', { runId: 'bad id!', maxPoints: 5, extra: true });
    assertErrorData(r, 'invalid_input');
    assert.match(r.error.message, /runId/);
    assert.match(r.error.message, /maxPoints/);
    assert.match(r.error.message, /extra/);
    const issues = r.error.details?.issues as Array<{ path: string }>;
    assert.ok(issues.some((i) => i.path === 'runId'));
    assert.ok(issues.some((i) => i.path === 'maxPoints'));
    assert.equal(core.calls.length, 0, 'invalid input never reaches the core');
  });

  it('turns a thrown ApiError into data, details included', async () => {
    const handle = createApiHandler(createFakeCore().api, quiet);
    const r = await handle('datasets.get', { datasetId: 'missing' });
    assertErrorData(r, 'not_found');
    assert.deepEqual(r.error, { code: 'not_found', message: 'no dataset missing', details: { datasetId: 'missing' } });
  });

  it('turns a thrown plain Error (and a thrown string) into internal, without the stack', async () => {
    const seen: unknown[] = [];
    const handle = createApiHandler(createFakeCore().api, { onInternalError: (_m, err) => seen.push(err) });
    const r = await handle('runs.get', { runId: 'run-1' });
    assertErrorData(r, 'internal');
    assert.equal(r.error.message, 'database is locked while reading run-1');
    assert.equal(r.error.details, undefined);
    const s = await handle('runs.stop', { runId: 'run-1' });
    assertErrorData(s, 'internal');
    assert.equal(s.error.message, 'boom');
    assert.equal(seen.length, 2, 'unexpected errors are reported on the core side');
  });

  it('survives errors that are hostile to serialise', async () => {
    const core = createFakeCore();
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    core.api['runs.pause'] = async () => {
      throw new ApiError('conflict', 'not running', circular);
    };
    core.api['runs.resume'] = async () => {
      throw Object.create(Error.prototype, { message: { get: () => { throw new Error('getter'); } } });
    };
    const handle = createApiHandler(core.api, quiet);
    const p = await handle('runs.pause', { runId: 'a' });
    assertErrorData(p, 'conflict');
    assert.equal(p.error.details, undefined);
    assertErrorData(await handle('runs.resume', { runId: 'a' }), 'internal');
  });

  it('validates output only when asked', async () => {
    const core = createFakeCore();
    assert.deepEqual(await createApiHandler(core.api, quiet)('runs.sample', { runId: 'run-1' }), { ok: true, output: { dataUrl: 42 } });
    const r = await createApiHandler(core.api, { ...quiet, validateOutput: true })('runs.sample', { runId: 'run-1' });
    assertErrorData(r, 'internal');
    assert.match(r.error.message, /runs\.sample output.*dataUrl/);
  });

  it('rejects prototype-pollution keys, deep nesting and oversized inputs before zod', async () => {
    const core = createFakeCore();
    const handle = createApiHandler(core.api, quiet);
    const polluted = JSON.parse('{"config": {"version": 1, "__proto__": {"polluted": true}}}');
    const r = await handle('runs.start', polluted);
    assertErrorData(r, 'invalid_input');
    assert.match(r.error.message, /config\.__proto__/);
    assertErrorData(await handle('runs.start', { config: { nested: { constructor: { prototype: {} } } } }), 'invalid_input');
    let deep: unknown = {};
    for (let i = 0; i < 100_000; i++) deep = [deep];
    assertErrorData(await handle('runs.start', { config: { deep } }), 'invalid_input');
    assertErrorData(await handle('runs.start', { config: { big: 'x'.repeat(300_000) } }), 'payload_too_large');
    assertErrorData(await handle('runs.start', { config: { many: new Array(300_000).fill(0) } }), 'payload_too_large');
    assert.equal(core.calls.length, 0);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.equal(inspectInput({ runId: 'ok' }, 1000), null);
  });

  it('fuzz: every method, random junk, always typed data and never a throw', async () => {
    const core = createFakeCore();
    const handle = createApiHandler(core.api, quiet);
    let seed = 0x2545f491;
    const rand = (): number => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) / 2 ** 32;
    };
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
    const keys = ['datasetId', 'runId', 'count', 'limit', 'status', 'tags', 'maxPoints', 'step', 'config', '__proto__', 'constructor', 'prototype', 'toString', '', '\u0000', 'a'.repeat(500)];
    const junk = (depth: number): unknown => {
      switch (Math.floor(rand() * 12)) {
        case 0: return pick(['', 'x', 'run-1', 'mnist', '../../etc/passwd', '\u0000', '<script>', 'a'.repeat(10_000), '🙂'.repeat(100)]);
        case 1: return pick([0, -1, 1.5, NaN, Infinity, -Infinity, 2 ** 53, -0, 1e308]);
        case 2: return pick([null, undefined, true, false]);
        case 3: return depth > 4 ? [] : Array.from({ length: Math.floor(rand() * 5) }, () => junk(depth + 1));
        case 4: return new Array(pick([1000, 100_000])).fill(pick([0, 'x', null]));
        case 5: return JSON.parse(`{"__proto__": ${JSON.stringify({ polluted: true })}}`);
        case 6: return { constructor: { prototype: { polluted: true } } };
        case 7: return new Date(0);
        case 8: return new Map([['a', 1]]);
        case 9: return new Uint8Array(pick([4, 1_000_000]));
        default: {
          if (depth > 4) return {};
          const o: Record<string, unknown> = {};
          for (let i = Math.floor(rand() * 4); i > 0; i--) o[pick(keys)] = junk(depth + 1);
          return o;
        }
      }
    };
    for (const method of METHOD_NAMES) {
      for (let i = 0; i < 150; i++) {
        const input = junk(0);
        let result: HandlerResult;
        try {
          result = await handle(method, input);
        } catch (err) {
          assert.fail(`${method} threw for ${String(input).slice(0, 50)}: ${String(err)}`);
        }
        assert.equal(typeof result.ok, 'boolean');
        if (!result.ok) assertErrorData(result);
      }
    }
    assert.equal(({} as Record<string, unknown>).polluted, undefined, 'Object.prototype untouched');
  });
});

describe('in-memory client', () => {
  it('round-trips through the handler and never shares object identity', async () => {
    const core = createFakeCore();
    const client = createInMemoryClient(core.api, core.events, quiet);
    const list = await client.call('datasets.list', {});
    assert.deepEqual(list, DATASETS);
    assert.notEqual(list, DATASETS);
    assert.notEqual(list[0], DATASETS[0]);
    const input = { runId: 'run-1' };
    await client.call('runs.pause', input);
    assert.notEqual(core.calls.at(-1)?.input, input);
  });

  it('rejects with an ApiError carrying code and details', async () => {
    const client = createInMemoryClient(createFakeCore().api, createFakeCore().events, quiet);
    await assert.rejects(client.call('datasets.get', { datasetId: 'nope' }), (err: unknown) => err instanceof ApiError && err.code === 'not_found' && err.details?.datasetId === 'nope');
    await assert.rejects(client.call('runs.list', { limit: 0 }), (err: unknown) => err instanceof ApiError && err.code === 'invalid_input' && /limit/.test(err.message));
    await assert.rejects(client.call('runs.sample', { runId: 'run-1' }), (err: unknown) => err instanceof ApiError && err.code === 'internal', 'outputs are validated in tests');
    await assert.rejects(client.call('runs.start', { config: { f: () => 1 } }), (err: unknown) => err instanceof ApiError && err.code === 'invalid_input');
    await assert.rejects(client.call('nope' as never, {} as never), (err: unknown) => err instanceof ApiError && err.code === 'unknown_method');
  });

  it('delivers cloned events asynchronously and stops after unsubscribe', async () => {
    const core = createFakeCore();
    const client = createInMemoryClient(core.api, core.events, quiet);
    const got: unknown[] = [];
    const unsubscribe = client.subscribe((e) => got.push(e));
    const event = { type: 'run.status' as const, run: RUN };
    core.events.emit(event);
    assert.equal(got.length, 0, 'not synchronous');
    await Promise.resolve();
    assert.deepEqual(got, [event]);
    assert.notEqual(got[0], event);
    unsubscribe();
    assert.equal(core.events.listenerCount, 0);
    core.events.emit(event);
    await Promise.resolve();
    assert.equal(got.length, 1);
  });
});
