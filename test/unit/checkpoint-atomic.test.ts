// RELIABILITY E4: checkpoints are written atomically (temp folder, fsync, rename) and verified on
// load. A failure at any file operation — thrown as an error, or a crash that stops everything after
// it — leaves the previous or the new checkpoint loadable, and the next prune clears the debris.
// A flipped byte or a truncated file is caught by the sha256 / size check and the loader falls back.
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  checkpointDirName,
  listCheckpointDirs,
  loadLatestGoodCheckpoint,
  nodeCheckpointFs,
  pruneCheckpoints,
  readCheckpoint,
  writeCheckpoint,
  type CheckpointFs,
  type LoadedCheckpoint,
  type TensorEntry,
} from '../../electron/core/trainer/checkpoint.ts';

const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'gan-ckpt-'));
after(() => fs.rmSync(tmpRoot, { recursive: true, force: true }));
let dirCounter = 0;
const freshDir = () => path.join(tmpRoot, `c${++dirCounter}`);

/** Deterministic tensors whose values identify the version (`tag`) they belong to. */
function tensorsFor(tag: number): TensorEntry[] {
  const make = (name: string, shape: number[], salt: number): TensorEntry => {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = Math.sin(tag * 1000 + salt * 97 + i) * (tag + 1);
    return { name, shape, data };
  };
  return [make('G/project/w', [16, 49], 1), make('G/to_image/b', [1], 2), make('D/conv0/w', [4, 4, 1, 8], 3), make('g/project/w/m', [16, 49], 4), make('d/conv0/w/v', [4, 4, 1, 8], 5)];
}

const stateFor = (tag: number, step: number) => ({ step, rng: [tag, tag + 1, tag + 2, tag + 3], cursor: { epoch: 0, index: step * 8 }, gOptIterations: step, dOptIterations: step });

function assertHolds(ckpt: LoadedCheckpoint, tag: number, step: number, label: string): void {
  assert.equal(ckpt.manifest.step, step, `${label}: step`);
  assert.deepEqual(ckpt.manifest.state, stateFor(tag, step), `${label}: state`);
  const want = tensorsFor(tag);
  assert.equal(ckpt.tensors.size, want.length, `${label}: tensor count`);
  for (const t of want) {
    const got = ckpt.tensors.get(t.name);
    assert.ok(got, `${label}: ${t.name} present`);
    assert.deepEqual(got.shape, t.shape, `${label}: ${t.name} shape`);
    assert.deepEqual(Array.from(got.data), Array.from(t.data), `${label}: ${t.name} values`);
  }
}

function tempEntries(dir: string): string[] {
  return fs.readdirSync(dir).filter((n) => !/^step-\d{9}$/.test(n));
}

describe('checkpoint files', () => {
  test('round trip: tensors, shapes, state, step, kind and hash come back exactly', async () => {
    const dir = freshDir();
    const written = await writeCheckpoint(dir, 42, 'periodic', tensorsFor(7), stateFor(7, 42));
    assert.equal(written.dir, path.join(dir, checkpointDirName(42)));
    const ckpt = await readCheckpoint(written.dir);
    assertHolds(ckpt, 7, 42, 'round trip');
    assert.equal(ckpt.manifest.kind, 'periodic');
    assert.equal(ckpt.manifest.sha256, written.sha256);
    assert.equal(ckpt.manifest.bytes, written.bytes);
    assert.equal(fs.statSync(path.join(written.dir, 'tensors.bin')).size, written.bytes);
    assert.deepEqual(tempEntries(dir), [], 'no temp folder left by a successful write');
    // Each tensor must be a view with its own bounds, not the whole blob.
    assert.equal(ckpt.tensors.get('G/to_image/b')!.data.length, 1);
  });

  test('a tensor whose shape does not match its data is refused before anything is written', async () => {
    const dir = freshDir();
    await assert.rejects(writeCheckpoint(dir, 1, 'periodic', [{ name: 'x', shape: [2, 3], data: new Float32Array(5) }], {}), /shape 2x3 does not match 5/);
    assert.deepEqual(await listCheckpointDirs(dir), []);
  });

  test('keep-last-K pruning keeps the newest K and reports the removed steps', async () => {
    const dir = freshDir();
    for (const step of [10, 20, 30, 40, 50]) await writeCheckpoint(dir, step, 'periodic', tensorsFor(step), stateFor(step, step));
    fs.mkdirSync(path.join(dir, '.tmp-step-000000060-123-deadbeef'));
    assert.deepEqual(await pruneCheckpoints(dir, 3), [20, 10]);
    assert.deepEqual((await listCheckpointDirs(dir)).map((d) => d.step), [50, 40, 30]);
    assert.deepEqual(tempEntries(dir), [], 'stale temp folders are cleared');
    assert.deepEqual(await pruneCheckpoints(dir, 3), [], 'pruning again removes nothing');
  });

  test('a flipped byte in tensors.bin fails the sha256 check and the loader falls back to the older checkpoint', async () => {
    const dir = freshDir();
    await writeCheckpoint(dir, 10, 'periodic', tensorsFor(1), stateFor(1, 10));
    const newer = await writeCheckpoint(dir, 20, 'periodic', tensorsFor(2), stateFor(2, 20));
    const file = path.join(newer.dir, 'tensors.bin');
    const bytes = fs.readFileSync(file);
    bytes[Math.floor(bytes.length / 2)] ^= 0x01;
    fs.writeFileSync(file, bytes);
    await assert.rejects(readCheckpoint(newer.dir), /sha256 mismatch/);
    const { checkpoint, skipped } = await loadLatestGoodCheckpoint(dir);
    assert.ok(checkpoint);
    assertHolds(checkpoint, 1, 10, 'fallback');
    assert.equal(skipped.length, 1);
    assert.match(skipped[0]!, /sha256 mismatch/);
  });

  test('a truncated manifest or tensors.bin is skipped; with nothing usable the loader returns null', async () => {
    const dir = freshDir();
    await writeCheckpoint(dir, 10, 'periodic', tensorsFor(1), stateFor(1, 10));
    const mid = await writeCheckpoint(dir, 20, 'periodic', tensorsFor(2), stateFor(2, 20));
    const top = await writeCheckpoint(dir, 30, 'periodic', tensorsFor(3), stateFor(3, 30));
    const manifest = path.join(top.dir, 'manifest.json');
    fs.truncateSync(manifest, Math.floor(fs.statSync(manifest).size / 2));
    fs.truncateSync(path.join(mid.dir, 'tensors.bin'), 100);
    const { checkpoint, skipped } = await loadLatestGoodCheckpoint(dir);
    assert.ok(checkpoint);
    assertHolds(checkpoint, 1, 10, 'fallback past two damaged ones');
    assert.equal(skipped.length, 2);
    assert.match(skipped[0]!, /unreadable manifest/);
    assert.match(skipped[1]!, /tensors\.bin has 100 bytes/);
    // maxStep: resuming "at or before" a step ignores newer checkpoints
    assert.equal((await loadLatestGoodCheckpoint(dir, 15)).checkpoint?.manifest.step, 10);
    fs.rmSync(path.join(dir, checkpointDirName(10), 'tensors.bin'));
    assert.equal((await loadLatestGoodCheckpoint(dir)).checkpoint, null);
    assert.equal((await loadLatestGoodCheckpoint(freshDir())).checkpoint, null, 'a missing folder is no checkpoint, not an error');
  });
});

type Mode = 'error' | 'crash';

/**
 * Real file operations that fail at operation number `failAt`. 'error': that one operation throws
 * (after writing half the data, for a file write) and the writer's own cleanup runs. 'crash': that
 * operation and every later one fail, as if the process died there, so no cleanup happens.
 */
function failingFs(failAt: number, mode: Mode, log: string[] = []): CheckpointFs {
  let n = 0;
  const gate = async <T>(label: string, real: () => Promise<T>, partial?: () => Promise<void>): Promise<T> => {
    const i = n++;
    log.push(label);
    if (i === failAt || (mode === 'crash' && i > failAt)) {
      if (i === failAt && partial) await partial();
      throw Object.assign(new Error(`injected failure at operation ${i} (${label})`), { code: 'EIO' });
    }
    return real();
  };
  const real = nodeCheckpointFs;
  return {
    mkdir: (d, r) => gate(`mkdir ${path.basename(d)}`, () => real.mkdir(d, r)),
    writeFileDurable: (f, data) =>
      gate(`write ${path.basename(f)}`, () => real.writeFileDurable(f, data), async () => {
        const buf = typeof data === 'string' ? Buffer.from(data) : data;
        fs.writeFileSync(f, buf.subarray(0, Math.floor(buf.length / 2)));
      }),
    fsyncDir: (d) => gate(`fsync ${path.basename(d)}`, () => real.fsyncDir(d)),
    exists: (p) => gate(`exists ${path.basename(p)}`, () => real.exists(p)),
    rename: (a, b) => gate(`rename ${path.basename(a)} -> ${path.basename(b)}`, () => real.rename(a, b)),
    rm: (p) => gate(`rm ${path.basename(p)}`, () => real.rm(p)),
  };
}

interface Scenario {
  name: string;
  /** checkpoints present before the write under test: [step, tag] */
  before: [number, number][];
  /** the write under test */
  step: number;
}

const SCENARIOS: Scenario[] = [
  { name: 'a new step next to an older checkpoint', before: [[10, 1]], step: 20 },
  // A stop right after a periodic save at the same step: the old folder is renamed away first.
  { name: 'replacing the only checkpoint, of the same step', before: [[20, 1]], step: 20 },
];

describe('a failure at each file operation leaves a loadable checkpoint', () => {
  const NEW_TAG = 9;
  for (const sc of SCENARIOS) {
    const setup = async () => {
      const dir = freshDir();
      for (const [step, tag] of sc.before) await writeCheckpoint(dir, step, 'periodic', tensorsFor(tag), stateFor(tag, step));
      return dir;
    };
    test(sc.name, async () => {
      // Record the operations of a successful write, to fail at each in turn.
      const ops: string[] = [];
      await writeCheckpoint(await setup(), sc.step, 'stop', tensorsFor(NEW_TAG), stateFor(NEW_TAG, sc.step), failingFs(-1, 'error', ops));
      assert.ok(ops.length >= 7, `a write performs several operations: ${ops.join(', ')}`);
      const [prevStep, prevTag] = sc.before.at(-1)!;
      for (let i = 0; i < ops.length; i++) {
        for (const mode of ['error', 'crash'] as const) {
          const label = `${mode} at operation ${i} (${ops[i]})`;
          const dir = await setup();
          await assert.rejects(writeCheckpoint(dir, sc.step, 'stop', tensorsFor(NEW_TAG), stateFor(NEW_TAG, sc.step), failingFs(i, mode)), /injected failure/, label);
          for (const phase of ['before prune', 'after prune']) {
            if (phase === 'after prune') await pruneCheckpoints(dir, 3);
            const { checkpoint } = await loadLatestGoodCheckpoint(dir);
            assert.ok(checkpoint, `${label}, ${phase}: a checkpoint is loadable (folder holds ${fs.readdirSync(dir).join(', ')})`);
            // Either the previous checkpoint, whole, or the new one, whole: never a mix.
            if (checkpoint.manifest.kind === 'stop') assertHolds(checkpoint, NEW_TAG, sc.step, `${label}, ${phase}, new`);
            else assertHolds(checkpoint, prevTag, prevStep, `${label}, ${phase}, previous`);
          }
          assert.deepEqual(tempEntries(dir), [], `${label}: no temp folders after the next prune`);
        }
      }
      // After a failed write, a retry succeeds and is the one that loads.
      const dir = await setup();
      await assert.rejects(writeCheckpoint(dir, sc.step, 'stop', tensorsFor(NEW_TAG), stateFor(NEW_TAG, sc.step), failingFs(3, 'crash')));
      await writeCheckpoint(dir, sc.step, 'stop', tensorsFor(NEW_TAG), stateFor(NEW_TAG, sc.step));
      assertHolds((await loadLatestGoodCheckpoint(dir)).checkpoint!, NEW_TAG, sc.step, 'retry');
    });
  }
});
