// Importing zips (RELIABILITY D2), IDX (D4), CIFAR, .npy, paired and unpaired sets, with every
// malformed-input case rejected by reason while the rest of the source is imported.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { cifarRecords, idxImages, idxLabels, makeZip, npy, png, tempDir, writeFiles } from './import-fixtures.ts';
import { importFailure, importInProcess, reasonFor } from './import-helpers.ts';

test('zip of class folders under one root folder imports like the folder', async () => {
  const dir = tempDir('gs-src-');
  const entries = [];
  for (let c = 0; c < 2; c++) for (let i = 0; i < 5; i++) entries.push({ name: `set/${c ? 'dog' : 'cat'}/${i}.png`, data: await png(8, 8, 3, () => c * 100 + i), method: (i % 2 ? 'deflate' : 'store') as 'deflate' | 'store' });
  entries.push({ name: 'set/', data: Buffer.alloc(0) }, { name: '__MACOSX/set/._0.png', data: Buffer.from('junk') });
  const zip = path.join(dir, 'pets.zip');
  writeFileSync(zip, makeZip(entries));
  const { report, cache } = await importInProcess({ path: zip, size: 8, holdout: 0 });
  assert.equal(report.container, 'zip');
  assert.equal(report.kind, 'labelled');
  assert.deepEqual(report.classNames, ['cat', 'dog']);
  assert.equal(cache.manifest.count, 10);
  assert.equal(cache.manifest.name, 'pets');
  assert.equal(report.rejected.length, 0, JSON.stringify(report.rejected));
  assert.equal(cache.images![0], 0);
  assert.equal(cache.images![5 * 192], 100);
});

test('zip entries with absolute paths, "..", backslashes, symlinks, bombs and lying sizes are rejected one by one', async () => {
  const dir = tempDir('gs-src-');
  const img = await png(8, 8, 1, () => 7);
  const zeros = Buffer.alloc(8 * 1024 * 1024);
  const zip = path.join(dir, 'evil.zip');
  writeFileSync(
    zip,
    makeZip([
      { name: 'good.png', data: img },
      { name: '/etc/abs.png', data: img },
      { name: 'C:/win.png', data: img },
      { name: '../escape.png', data: img },
      { name: 'a/../../escape2.png', data: img },
      { name: 'sub\\back.png', data: img },
      { name: 'link.png', data: Buffer.from('/etc/passwd'), mode: 0o120777 },
      { name: 'fifo.png', data: img, mode: 0o010644 },
      { name: 'bomb.png', data: zeros, method: 'deflate' },
      { name: 'liar.png', data: zeros, method: 'deflate', declaredSize: 1000 },
      { name: 'good.png', data: img },
    ]),
  );
  const { report, cache, datasetsDir } = await importInProcess({ path: zip, size: 8, holdout: 0 }, { ratioGraceBytes: 64 * 1024 });
  assert.equal(cache.manifest.count, 1);
  assert.match(reasonFor(report, '/etc/abs.png')!, /absolute path/);
  assert.match(reasonFor(report, 'C:/win.png')!, /absolute path/);
  assert.match(reasonFor(report, '../escape.png')!, /"\.\." in the entry name/);
  assert.match(reasonFor(report, 'a/../../escape2.png')!, /"\.\."/);
  assert.match(reasonFor(report, 'sub\\back.png')!, /backslash/);
  assert.match(reasonFor(report, 'link.png')!, /symlink entry/);
  assert.match(reasonFor(report, 'fifo.png')!, /not a regular file/);
  assert.match(reasonFor(report, 'bomb.png')!, /compression ratio above 100:1/);
  // declares 1000 bytes (ratio fine on paper): caught on the bytes actually inflated
  assert.match(reasonFor(report, 'liar.png')!, /corrupt|ratio above/);
  assert.match(report.rejected.filter((r) => r.path === 'good.png').map((r) => r.reason).join(), /duplicate entry name/);
  assert.equal(path.dirname(path.join(datasetsDir, 'x')), datasetsDir);
});

test('zip caps: too many entries fails the archive with one error; total inflated bytes are capped', async () => {
  const dir = tempDir('gs-src-');
  const img = await png(8, 8, 1, () => 7);
  const zip = path.join(dir, 'many.zip');
  writeFileSync(zip, makeZip([...Array(5).keys()].map((i) => ({ name: `${i}.png`, data: img }))));
  const { error, leftovers } = await importFailure({ path: zip }, { maxZipEntries: 3 });
  assert.match(error.message, /declares 5 entries, more than the cap of 3/);
  assert.deepEqual(leftovers, []);
  const capped = await importInProcess({ path: zip, size: 8, holdout: 0 }, { maxTotalBytes: img.length * 2 + 1 });
  assert.equal(capped.cache.manifest.count, 2);
  const broken = path.join(dir, 'broken.zip');
  writeFileSync(broken, Buffer.concat([Buffer.from('PK\x03\x04'), Buffer.alloc(100, 1)]));
  assert.match((await importFailure({ path: broken })).error.message, /not a readable zip archive/);
});

test('IDX: gzipped and plain pairs import with labels; every malformed file is rejected by reason', async () => {
  const src = tempDir('gs-src-');
  const px = (i: number, y: number, x: number) => (i * 10 + y + x) & 255;
  const labels = [3, 1, 4, 1, 5, 9, 2, 6];
  const imgs = idxImages(8, 28, 28, px);
  const wrongMagic = Buffer.from(imgs);
  wrongMagic.writeUInt32BE(0x00000802, 0);
  const wrongType = Buffer.from(imgs);
  wrongType[2] = 0x0d;
  const impossible = Buffer.from(imgs.subarray(0, 16));
  impossible.writeUInt32BE(100000, 8);
  impossible.writeUInt32BE(100000, 12);
  writeFiles(src, {
    'train-images-idx3-ubyte.gz': zlib.gzipSync(imgs),
    'train-labels-idx1-ubyte.gz': zlib.gzipSync(idxLabels(labels)),
    't10k-images-idx3-ubyte': idxImages(2, 28, 28, px),
    't10k-labels-idx1-ubyte': idxLabels([0, 7]),
    'magic-images-idx3-ubyte': wrongMagic,
    'type-images-idx3-ubyte': wrongType,
    'dims-images-idx3-ubyte': impossible,
    'short-images-idx3-ubyte': imgs.subarray(0, imgs.length - 5),
    'long-images-idx3-ubyte': Buffer.concat([imgs, Buffer.alloc(3)]),
    'count-images-idx3-ubyte': imgs,
    'count-labels-idx1-ubyte': idxLabels([1, 2, 3]),
    'bomb-images-idx3-ubyte.gz': zlib.gzipSync(idxImages(200, 28, 28, () => 0)),
  });
  const { report, cache } = await importInProcess({ path: src, holdout: 0 }, { maxArrayFileBytes: 100_000 });
  assert.equal(report.kind, 'idx');
  assert.equal(cache.manifest.width, 28);
  assert.equal(cache.manifest.channels, 1);
  assert.equal(cache.manifest.count, 10);
  assert.deepEqual(report.classNames, ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
  // order: files in name order (t10k before train); items exactly as written
  assert.deepEqual([...cache.labels!], [0, 7, ...labels]);
  assert.equal(cache.images![2 * 784 + 28 * 3 + 5], px(0, 3, 5));
  assert.match(reasonFor(report, 'magic-images-idx3-ubyte')!, /wrong IDX magic 0x00000802/);
  assert.match(reasonFor(report, 'type-images-idx3-ubyte')!, /wrong IDX type byte 0x0d/);
  assert.match(reasonFor(report, 'dims-images-idx3-ubyte')!, /impossible IDX image dimensions 100000×100000/);
  assert.match(reasonFor(report, 'short-images-idx3-ubyte')!, /truncated IDX data/);
  assert.match(reasonFor(report, 'long-images-idx3-ubyte')!, /3 trailing bytes/);
  assert.match(reasonFor(report, 'count-images-idx3-ubyte')!, /8 images but count-labels-idx1-ubyte holds 3 labels/);
  assert.match(reasonFor(report, 'bomb-images-idx3-ubyte.gz')!, /gzip output exceeds .* \(cap\)/);
});

test('IDX: one images file given directly finds its labels beside it; resized on request', async () => {
  const src = tempDir('gs-src-');
  writeFiles(src, { 'train-images-idx3-ubyte': idxImages(4, 28, 28, (i) => i * 50), 'train-labels-idx1-ubyte': idxLabels([0, 1, 0, 1]), 'unrelated.png': 'x' });
  const { report, cache } = await importInProcess({ path: path.join(src, 'train-images-idx3-ubyte'), size: 14, channels: 3, holdout: 0.5 });
  assert.equal(report.container, 'file');
  assert.equal(cache.manifest.width, 14);
  assert.equal(cache.manifest.channels, 3);
  assert.equal(cache.manifest.count, 2);
  assert.equal(cache.manifest.holdout?.count, 2);
});

test('CIFAR-10 batches (planar RGB) with class names from batches.meta.txt; CIFAR-100 fine labels; bad batches rejected', async () => {
  const src = tempDir('gs-src-');
  const pixel = (i: number, c: number, p: number) => (i * 7 + c * 50 + p) & 255;
  writeFiles(src, {
    'data_batch_1.bin': cifarRecords([0, 1, 2], pixel),
    'data_batch_2.bin': cifarRecords([9, 8], pixel),
    'batches.meta.txt': 'plane\ncar\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n',
    'odd.bin': Buffer.alloc(3073 * 2 + 5),
    'badlabel.bin': cifarRecords([12], pixel),
  });
  const { report, cache } = await importInProcess({ path: src, holdout: 0 });
  assert.equal(report.kind, 'cifar');
  assert.equal(cache.manifest.count, 5);
  assert.equal(cache.manifest.width, 32);
  assert.deepEqual(cache.manifest.classNames, ['plane', 'car', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck']);
  // item 0 of data_batch_1 (sorted after badlabel.bin was rejected): HWC from planar
  const first = [...cache.labels!].indexOf(0);
  assert.deepEqual([...cache.images!.subarray(first * 3072, first * 3072 + 6)], [pixel(0, 0, 0), pixel(0, 1, 0), pixel(0, 2, 0), pixel(0, 0, 1), pixel(0, 1, 1), pixel(0, 2, 1)]);
  assert.match(reasonFor(report, 'odd.bin')!, /not a whole number of CIFAR records/);
  assert.match(reasonFor(report, 'badlabel.bin')!, /label 12 is outside 0–9/);
  const c100 = tempDir('gs-src-');
  writeFiles(c100, { 'train.bin': cifarRecords([42, 99, 3], pixel, 100) });
  const hundred = await importInProcess({ path: c100, holdout: 0 });
  assert.equal(hundred.cache.manifest.classNames!.length, 100);
  assert.deepEqual([...hundred.cache.labels!], [42, 99, 3]);
});

test('.npy: uint8 (N,H,W) with int64 labels, float32 (N,H,W,3) in [0,1]; malformed arrays rejected', async () => {
  const src = tempDir('gs-src-');
  const u8 = new Uint8Array(4 * 8 * 8).map((_, k) => k & 255);
  writeFiles(src, { 'x_train.npy': npy('|u1', [4, 8, 8], u8), 'y_train.npy': npy('<i8', [4], new BigInt64Array([1n, 0n, 1n, 2n])) });
  const { report, cache } = await importInProcess({ path: src, holdout: 0 });
  assert.equal(report.kind, 'npy');
  assert.deepEqual([...cache.images!], [...u8]);
  assert.deepEqual([...cache.labels!], [1, 0, 1, 2]);
  const f = tempDir('gs-src-');
  const f32 = new Float32Array(2 * 4 * 4 * 3).map((_, k) => (k % 3) / 2);
  writeFiles(f, {
    'images.npy': npy('<f4', [2, 4, 4, 3], f32),
    'fortran.npy': Buffer.from(npy('|u1', [1, 4, 4], new Uint8Array(16)).toString('latin1').replace("'fortran_order': False", "'fortran_order': True "), 'latin1'),
    'complex.npy': npy('<c8', [1, 4, 4], new Float32Array(32)),
    'short.npy': npy('|u1', [2, 4, 4], new Uint8Array(32)).subarray(0, 128 + 10),
  });
  const floats = await importInProcess({ path: f, holdout: 0 });
  assert.equal(floats.cache.manifest.channels, 3);
  assert.deepEqual([...floats.cache.images!.subarray(0, 3)], [0, 128, 255]);
  assert.match(reasonFor(floats.report, 'fortran.npy')!, /Fortran-ordered/);
  assert.match(reasonFor(floats.report, 'complex.npy')!, /unsupported \.npy dtype <c8/);
  assert.match(reasonFor(floats.report, 'short.npy')!, /truncated \.npy data/);
});

test('paired: A/ and B/ matched by file name; side-by-side A|B images split at the middle', async () => {
  const src = tempDir('gs-src-');
  writeFiles(src, {
    'A/1.png': await png(8, 8, 3, () => 10),
    'A/2.png': await png(8, 8, 3, () => 20),
    'A/lonely.png': await png(8, 8, 3, () => 30),
    'B/1.jpg': await png(8, 8, 3, () => 110),
    'B/2.png': await png(8, 8, 3, () => 120),
  });
  const { report, cache } = await importInProcess({ path: src, size: 8, holdout: 0 });
  assert.equal(report.kind, 'paired');
  assert.equal(cache.manifest.layout, 'paired');
  assert.equal(cache.manifest.count, 2);
  assert.deepEqual([cache.images![0], cache.imagesB![0], cache.images![192], cache.imagesB![192]], [10, 110, 20, 120]);
  assert.match(reasonFor(report, 'A/lonely.png')!, /no partner with the same name in B\//);
  const sbs = tempDir('gs-src-');
  const files: Record<string, Buffer> = {};
  for (let i = 0; i < 4; i++) files[`train/${i}.png`] = await png(16, 8, 3, (x) => (x < 8 ? 40 + i : 200 + i));
  writeFiles(sbs, files);
  const pairs = await importInProcess({ path: sbs, size: 8, holdout: 0.25 });
  assert.equal(pairs.report.kind, 'paired');
  assert.equal(pairs.cache.manifest.count, 3);
  assert.equal(pairs.cache.manifest.holdout?.count, 1);
  assert.ok(Math.abs(pairs.cache.images![0] - 40) <= 1 && Math.abs(pairs.cache.imagesB![0] - 200) <= 1);
});

test('unpaired: trainA/ and trainB/ become two domains; testA/ is passed over with a warning', async () => {
  const src = tempDir('gs-src-');
  const files: Record<string, Buffer> = {};
  for (let i = 0; i < 5; i++) files[`horse2zebra/trainA/h${i}.png`] = await png(8, 8, 3, () => 10 + i);
  for (let i = 0; i < 3; i++) files[`horse2zebra/trainB/z${i}.png`] = await png(8, 8, 3, () => 200 + i);
  files['horse2zebra/testA/t.png'] = await png(8, 8, 3, () => 1);
  writeFiles(src, files);
  const { report, cache } = await importInProcess({ path: src, size: 8, holdout: 0, kind: 'unpaired' });
  assert.equal(cache.manifest.layout, 'unpaired');
  assert.equal(cache.manifest.count, 5);
  assert.equal(cache.manifest.countB, 3);
  assert.equal(cache.labels, null);
  assert.ok(report.warnings.some((w) => w.path === 'testA/'));
  const auto = await importInProcess({ path: src, size: 8 });
  assert.equal(auto.report.kind, 'unpaired');
  assert.equal(auto.report.counts.holdout + auto.report.counts.train, 5);
  assert.equal(auto.report.counts.holdoutB + auto.report.counts.trainB, 3);
});
