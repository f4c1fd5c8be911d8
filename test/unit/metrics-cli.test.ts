// The .npy reader and `gan-studio metrics` as a user runs it: a real process on .npy files the
// test writes. Golden numbers were cross-checked once with numpy/scipy on the same files.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Rng } from '../../electron/core/models/rng.ts';
import { encodeNpy, parseNpy } from '../../electron/core/metrics/npy.ts';
import { asMatrix, kernelInceptionDistance } from '../../electron/core/metrics/index.ts';
import { PROJECT_ROOT } from '../../electron/core/paths.ts';

const BIN = path.join(PROJECT_ROOT, 'bin', 'gan-studio.js');
let dir: string;
const file = (name: string) => path.join(dir, name);
const cli = (args: string[]) => {
  const r = spawnSync(process.execPath, [BIN, 'metrics', ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};
const gauss32 = (seed: number, n: number, d: number, scale = 1, shift = 0) => {
  const r = new Rng(seed);
  return Float32Array.from({ length: n * d }, () => r.normal() * scale + shift);
};

before(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'gs-metrics-'));
  writeFileSync(file('real.npy'), encodeNpy({ shape: [300, 8], data: gauss32(1, 300, 8) }));
  writeFileSync(file('fake.npy'), encodeNpy({ shape: [300, 8], data: gauss32(2, 300, 8, 1.2, 0.1) }));
  writeFileSync(file('d9.npy'), encodeNpy({ shape: [300, 9], data: gauss32(3, 300, 9) }));
  writeFileSync(file('small.npy'), encodeNpy({ shape: [5, 8], data: gauss32(4, 5, 8) }));
  const nan = gauss32(5, 300, 8);
  nan[17] = NaN;
  writeFileSync(file('nan.npy'), encodeNpy({ shape: [300, 8], data: nan }));
  const probs = new Float32Array(100 * 10);
  for (let i = 0; i < 100; i++) probs[i * 10 + (i % 10)] = 1;
  writeFileSync(file('probs.npy'), encodeNpy({ shape: [100, 10], data: probs }));
  const r = new Rng(6);
  writeFileSync(file('img.npy'), encodeNpy({ shape: [4, 16, 16, 1], data: Uint8Array.from({ length: 4 * 256 }, () => r.int(256)) }));
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('npy: reads v1/v2/v3 headers; rejects bad magic, versions, dtypes, fortran order and wrong lengths by name', () => {
  const ok = encodeNpy({ shape: [2, 3], data: Float32Array.of(1, 2, 3, 4, 5, 6) });
  const a = parseNpy(ok);
  assert.deepEqual([a.dtype, a.shape, [...a.data]], ['<f4', [2, 3], [1, 2, 3, 4, 5, 6]]);
  // version 2.0: u32 header length
  const hdr = ok.subarray(10, 10 + new DataView(ok.buffer).getUint16(8, true));
  const v2 = new Uint8Array(12 + hdr.length + 24);
  v2.set(ok.subarray(0, 6));
  v2[6] = 2;
  new DataView(v2.buffer).setUint32(8, hdr.length, true);
  v2.set(hdr, 12);
  v2.set(ok.subarray(10 + hdr.length), 12 + hdr.length);
  assert.deepEqual(parseNpy(v2).shape, [2, 3]);
  v2[6] = 3;
  assert.deepEqual(parseNpy(v2).shape, [2, 3]);
  const bad = (mutate: (b: Uint8Array) => Uint8Array, re: RegExp) => assert.throws(() => parseNpy(mutate(ok.slice())), re);
  bad((b) => ((b[1] = 0), b), /not a \.npy file/);
  bad((b) => ((b[6] = 4), b), /unsupported \.npy version 4\.0/);
  bad((b) => b.subarray(0, b.length - 1), /needs 24 data bytes, the file has 23/);
  const withHeader = (h: string) => {
    const s = `{${h}}`.padEnd(117) + '\n';
    return new Uint8Array([...ok.subarray(0, 8), s.length & 255, s.length >> 8, ...[...s].map((c) => c.charCodeAt(0)), ...new Uint8Array(24)]);
  };
  assert.throws(() => parseNpy(withHeader("'descr': '>f4', 'fortran_order': False, 'shape': (2, 3), ")), /big-endian/);
  assert.throws(() => parseNpy(withHeader("'descr': '<i8', 'fortran_order': False, 'shape': (3,), ")), /dtype <i8 is not supported/);
  assert.throws(() => parseNpy(withHeader("'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), ")), /fortran_order True/);
  assert.throws(() => parseNpy(withHeader("'descr': '<f4', 'shape': (2, 3), ")), /lacks/);
  assert.deepEqual(parseNpy(withHeader("'descr': '<f8', 'fortran_order': False, 'shape': (3,), ")).shape, [3]);
  // a file read through Node's Buffer (a view into a larger pool) parses to the right values
  writeFileSync(file('t.npy'), ok);
  assert.deepEqual([...parseNpy(readFileSync(file('t.npy'))).data], [1, 2, 3, 4, 5, 6]);
});

test('metrics CLI: one JSON object with every requested feature metric and its protocol', () => {
  const r = cli(['--real', file('real.npy'), '--fake', file('fake.npy'), '--metrics', 'fid,kid,prc,prdc,prd,fm', '--seed', '3', '--kid-subsets', '10', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.length, 1);
  const o = JSON.parse(lines[0]) as Record<string, unknown> & { kid: { mean: number; std: number; subsets: number }; prd: { f8: number; f1_8: number }; protocol: Record<string, unknown> };
  for (const k of ['fid', 'precision', 'recall', 'f1', 'density', 'coverage', 'fm']) assert.equal(typeof o[k], 'number', k);
  assert.ok(Number.isFinite(o.kid.mean) && o.kid.std >= 0);
  // the subset size (1 000) covers all 300 real and fake rows: one subset, std 0, said in the convention (as on the Evaluate page)
  assert.deepEqual([o.kid.std, o.kid.subsets], [0, 1]);
  assert.match((o.protocol.convention as Record<string, string>).kid, /one subset: the subset size 1000 covers all 300 real and fake samples/);
  assert.ok(o.prd.f8 > 0 && o.prd.f8 <= 1 && o.prd.f1_8 > 0 && o.prd.f1_8 <= 1);
  assert.deepEqual([o.protocol.nReal, o.protocol.nFake, o.protocol.d, o.protocol.seed], [300, 300, 8, 3]);
  assert.ok(typeof (o.protocol.convention as Record<string, string>).fid === 'string');
  assert.ok(Math.abs((o.fid as number) - FID_GOLDEN) < 1e-9 * FID_GOLDEN, `fid ${o.fid}`);
});

test('metrics CLI: KID subsets smaller than the sets are drawn as asked, the same as in-process', () => {
  const r = cli(['--real', file('real.npy'), '--fake', file('fake.npy'), '--metrics', 'kid', '--seed', '3', '--kid-subsets', '10', '--kid-subset-size', '100', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const o = JSON.parse(r.stdout) as { kid: { mean: number; std: number; subsets: number; subsetSize: number }; protocol: { convention: Record<string, string> } };
  assert.deepEqual([o.kid.subsets, o.kid.subsetSize], [10, 100]);
  assert.ok(o.kid.std > 0, `std ${o.kid.std}`);
  assert.doesNotMatch(o.protocol.convention.kid, /one subset/);
  const read = (name: string) => {
    const a = parseNpy(readFileSync(file(name)));
    return asMatrix(a.shape[0], a.shape[1], a.data as Float32Array);
  };
  const k = kernelInceptionDistance(read('real.npy'), read('fake.npy'), { seed: 3, subsets: 10, subsetSize: 100 });
  assert.deepEqual([o.kid.mean, o.kid.std], [k.mean, k.std]);
});

// a, b = np.load(real).astype(np.float64), np.load(fake).astype(np.float64) (the files written above);
// ((m1-m2)**2).sum() + np.trace(s1) + np.trace(s2) - 2*np.trace(scipy.linalg.sqrtm(s1@s2).real)
const FID_GOLDEN = 0.45593936998797346;

test('metrics CLI: --probs with is', () => {
  const r = cli(['--probs', file('probs.npy'), '--metrics', 'is', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const o = JSON.parse(r.stdout) as { is: { mean: number; std: number; splits: number } };
  assert.ok(Math.abs(o.is.mean - 10) < 1e-9);
  assert.equal(o.is.splits, 10);
});

test('metrics CLI: swd on uint8 images (N, H, W, C); identical → 0', () => {
  const r = cli(['--real', file('img.npy'), '--fake', file('img.npy'), '--metrics', 'swd', '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal((JSON.parse(r.stdout) as { swd: { average: number } }).swd.average, 0);
});

test('metrics CLI: bad input exits 2 and names the problem', () => {
  const cases: [string[], RegExp][] = [
    [['--real', file('missing.npy'), '--fake', file('fake.npy')], /missing\.npy: no such file/],
    [['--real', file('real.npy'), '--fake', file('d9.npy')], /feature dimensions differ: --real has d = 8, --fake has d = 9/],
    [['--real', file('nan.npy'), '--fake', file('fake.npy')], /--real: value NaN at flat index 17 \(row 2\)/],
    [['--real', file('img.npy'), '--fake', file('img.npy'), '--metrics', 'fid'], /uint8 data is read as images for swd only|2-D/],
    [['--real', file('real.npy'), '--fake', file('fake.npy'), '--metrics', 'fid,bogus'], /unknown metric "bogus"/],
    [['--real', file('small.npy'), '--fake', file('fake.npy'), '--metrics', 'prdc'], /prdc needs at least 6 real samples/],
    [['--real', file('small.npy'), '--fake', file('fake.npy'), '--metrics', 'prd'], /prd needs equal numbers/],
    [['--real', file('real.npy')], /missing --real and\/or --fake/],
  ];
  for (const [args, re] of cases) {
    const r = cli([...args, '--json']);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, re);
    const o = JSON.parse(r.stdout) as { error: { code: string; message: string } };
    assert.match(o.error.message, re);
  }
});

test('metrics CLI: N ≤ d still computes FID, says so, and exits 2', () => {
  const r = cli(['--real', file('small.npy'), '--fake', file('fake.npy'), '--metrics', 'fid', '--json']);
  assert.equal(r.code, 2);
  const o = JSON.parse(r.stdout) as { fid: number; warnings: { code: string; message: string }[] };
  assert.ok(Number.isFinite(o.fid));
  assert.equal(o.warnings[0].code, 'n_too_small');
  assert.match(r.stderr, /real N = 5 ≤ d = 8: its covariance is rank-deficient \(full rank needs N > d\)/);
});
