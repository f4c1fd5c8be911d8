// Importing folders of images (RELIABILITY D1, D3): every supported format, class folders as
// labels, exact round trip, preprocessing options, and every bad-input case with its reason.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { bmp24, bmp8Grey, encode, hugePngHeader, listTree, png, rawImage, tempDir, writeFiles } from './import-fixtures.ts';
import { importFailure, importInProcess, reasonFor } from './import-helpers.ts';
import { DatasetImportReportSchema } from '../../electron/common/api.ts';

/** Resampling rings a little at hard edges: compare within a tolerance. */
function near(actual: number[], expected: number[], tol = 16): void {
  assert.equal(actual.length, expected.length);
  assert.ok(actual.every((v, i) => Math.abs(v - expected[i]) <= tol), `${JSON.stringify(actual)} is not within ${tol} of ${JSON.stringify(expected)}`);
}

const colour = (cls: number, i: number) => [(cls * 60 + i) & 255, (cls * 30 + 2 * i) & 255, (255 - cls * 40 - i) & 255];

test('class folders of PNG, WebP, GIF, TIFF and BMP become a labelled dataset whose pixels read back exactly', async () => {
  const src = tempDir('gs-src-');
  const files: Record<string, Buffer> = {};
  const formats = ['png', 'webp', 'gif', 'tiff', 'bmp'] as const;
  for (let cls = 0; cls < 3; cls++) {
    for (let i = 0; i < 10; i++) {
      const [r, g, b] = colour(cls, i);
      // a 2×2 checker of two colours: exact in every lossless format, palette-safe for GIF
      const raw = rawImage(8, 8, 3, (x, y, c) => ((x >> 2) + (y >> 2)) % 2 === 0 ? [r, g, b][c] : [b, r, g][c]);
      const fmt = formats[i % formats.length];
      files[`digits/class-${cls}/img${i}.${fmt === 'tiff' ? 'tif' : fmt}`] = fmt === 'bmp' ? bmp24(8, 8, raw) : await encode(raw, 8, 8, 3, fmt);
    }
  }
  writeFiles(src, files);
  const before = listTree(src);
  const { report, cache, dir } = await importInProcess({ path: src, size: 8, holdout: 0.2, seed: 7 });
  assert.equal(report.kind, 'labelled');
  assert.equal(report.rejected.length, 0, JSON.stringify(report.rejected));
  assert.deepEqual(report.classNames, ['class-0', 'class-1', 'class-2']);
  assert.deepEqual(report.classCounts, [10, 10, 10]);
  assert.deepEqual(report.holdoutClassCounts, [2, 2, 2]);
  assert.equal(cache.manifest.count, 24);
  assert.equal(cache.manifest.holdout?.count, 6);
  assert.equal(cache.manifest.channels, 3);
  assert.deepEqual(cache.manifest.classCounts, [8, 8, 8]);
  // every training item equals its source image, with its class as label
  const seen = new Set<string>();
  for (let k = 0; k < cache.manifest.count; k++) {
    const item = cache.images!.subarray(k * 192, (k + 1) * 192);
    const cls = cache.labels![k];
    const match = [...Array(10).keys()].find((i) => {
      const [r, g, b] = colour(cls, i);
      return item[0] === r && item[1] === g && item[2] === b && item[4 * 3] === b && item[4 * 3 + 1] === r;
    });
    assert.notEqual(match, undefined, `item ${k} of class ${cls} matches no source image`);
    seen.add(`${cls}:${match}`);
  }
  assert.equal(seen.size, 24);
  // the held-out split and the report sit next to the cache
  assert.equal(readFileSync(path.join(dir, 'holdout_images.u8')).length, 6 * 192);
  assert.equal(readFileSync(path.join(dir, 'holdout_labels.u8')).length, 6);
  DatasetImportReportSchema.parse(JSON.parse(readFileSync(path.join(dir, 'report.json'), 'utf8')));
  // same seed, same split
  const again = await importInProcess({ path: src, size: 8, holdout: 0.2, seed: 7 });
  assert.equal(again.cache.manifest.contentHash, cache.manifest.contentHash);
  assert.deepEqual(listTree(src), before, 'the source folder is untouched');
});

test('JPEG, 16-bit, grey, grey+alpha, RGBA and 8-bit paletted BMP are converted, not rejected', async () => {
  const src = tempDir('gs-src-');
  writeFiles(src, {
    'a.jpg': await encode(rawImage(16, 16, 3, () => 128), 16, 16, 3, 'jpeg'),
    'b16.png': await encode(rawImage(16, 16, 3, () => 200), 16, 16, 3, 'png', { depth16: true }),
    'grey.png': await png(16, 16, 1, () => 50),
    'greyalpha.png': await encode(rawImage(16, 16, 2, (_x, _y, c) => (c === 0 ? 255 : 128)), 16, 16, 2, 'png'),
    'rgba.png': await png(16, 16, 4, (_x, _y, c) => (c === 3 ? 0 : 255)),
    'pal.bmp': bmp8Grey(16, 16, Buffer.alloc(256, 77)),
  });
  const { report, cache } = await importInProcess({ path: src, size: 16, channels: 3, holdout: 0 });
  assert.equal(report.counts.imported, 6);
  assert.equal(report.rejected.length, 0);
  assert.ok(report.warnings.some((w) => w.path === 'b16.png' && /16-bit/.test(w.message)), JSON.stringify(report.warnings));
  assert.ok(report.warnings.some((w) => w.path === 'rgba.png' && /alpha/.test(w.message)));
  const item = (name: string) => {
    const idx = ['a.jpg', 'b16.png', 'grey.png', 'greyalpha.png', 'pal.bmp', 'rgba.png'].indexOf(name);
    return cache.images!.subarray(idx * 768, (idx + 1) * 768);
  };
  assert.ok(Math.abs(item('a.jpg')[0] - 128) <= 2);
  assert.equal(item('b16.png')[0], 200);
  assert.deepEqual([...item('grey.png').subarray(0, 3)], [50, 50, 50]);
  assert.ok(Math.abs(item('greyalpha.png')[0] - 128) <= 1, `grey 255 at alpha 0.5 over black, got ${item('greyalpha.png')[0]}`);
  assert.deepEqual([...item('rgba.png').subarray(0, 3)], [0, 0, 0], 'transparent pixels become black');
  assert.deepEqual([...item('pal.bmp').subarray(0, 3)], [77, 77, 77]);
});

test('grey sources give a 1-channel dataset by default; crop, pad and stretch; mirrored copies are stored', async () => {
  const src = tempDir('gs-src-');
  // 16×8, left half 0, right half 255
  writeFiles(src, { 'wide.png': await png(16, 8, 1, (x) => (x < 8 ? 0 : 255)), 'wide2.png': await png(16, 8, 1, (x) => (x < 8 ? 0 : 255)) });
  const crop = await importInProcess({ path: src, size: 8, fit: 'crop', holdout: 0, kind: 'images' });
  assert.equal(crop.cache.manifest.channels, 1);
  const row = (c: typeof crop, k = 0) => [...c.cache.images!.subarray(k * 64, k * 64 + 8)];
  near(row(crop), [0, 0, 0, 0, 255, 255, 255, 255]); // centre crop keeps the middle
  const pad = await importInProcess({ path: src, size: 8, fit: 'pad', holdout: 0, kind: 'images' });
  near([...pad.cache.images!.subarray(0, 8)], [0, 0, 0, 0, 0, 0, 0, 0]); // padding rows are black
  near([...pad.cache.images!.subarray(4 * 8, 4 * 8 + 8)], [0, 0, 0, 0, 255, 255, 255, 255]);
  const stretch = await importInProcess({ path: src, size: 8, fit: 'stretch', holdout: 0, kind: 'images' });
  near(row(stretch), [0, 0, 0, 0, 255, 255, 255, 255]);
  const flipped = await importInProcess({ path: src, size: 8, fit: 'crop', holdout: 0, flip: true, kind: 'images' });
  assert.equal(flipped.cache.manifest.count, 4);
  assert.deepEqual(flipped.cache.manifest.augment, { hflip: true });
  near(row(flipped, 2), row(flipped, 0).reverse(), 0);
  assert.equal(flipped.report.counts.flipped, 2);
});

test('bad files are each rejected with their reason and the rest is imported; nothing is written outside the data folder', async () => {
  const root = tempDir('gs-src-');
  const src = path.join(root, 'data');
  const outside = path.join(root, 'secret.png');
  writeFileSync(outside, await png(8, 8, 3, () => 1));
  const good = await png(8, 8, 3, (x) => x * 20);
  const truncated = (await png(64, 64, 3, (x, y) => x * y)).subarray(0, 200);
  writeFiles(src, {
    'ok1.png': good,
    'ok2.png': await png(8, 8, 3, (x) => 255 - x * 20),
    'zero.png': Buffer.alloc(0),
    'truncated.png': truncated,
    'text.png': 'this is not an image at all, whatever the name says',
    'really-png.jpg': good,
    'bomb.png': await hugePngHeader(100_000, 100_000),
    'notes.txt': 'hello',
    'nested/archive.zip': Buffer.from('PK\x03\x04rest-of-a-zip'),
    'svg.png': '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"></svg>',
    'bomb.bmp': (() => {
      const b = bmp24(2, 2, Buffer.alloc(12));
      b.writeInt32LE(200_000, 18);
      b.writeInt32LE(200_000, 22);
      return b;
    })(),
  });
  symlinkSync(outside, path.join(src, 'escape.png'));
  symlinkSync(src, path.join(src, 'loop'));
  mkdirSync(path.join(src, 'deep'));
  symlinkSync(path.join(src, 'deep'), path.join(src, 'deep', 'again'));
  symlinkSync(path.join(src, 'missing-target'), path.join(src, 'dangling.png'));
  const homeBefore = readdirSync(root).sort();
  const { report, cache, datasetsDir } = await importInProcess({ path: src, size: 8, holdout: 0, kind: 'images' });
  assert.equal(cache.manifest.count, 3, JSON.stringify(report.rejected));
  assert.match(reasonFor(report, 'zero.png')!, /empty file \(0 bytes\)/);
  assert.match(reasonFor(report, 'truncated.png')!, /corrupt or truncated PNG/);
  assert.match(reasonFor(report, 'text.png')!, /not an image: the content is unrecognised/);
  assert.match(reasonFor(report, 'bomb.png')!, /declares 100000×100000 pixels, above the limit/);
  assert.match(reasonFor(report, 'bomb.bmp')!, /declares 200000×200000 pixels/);
  assert.match(reasonFor(report, 'notes.txt')!, /not an image/);
  assert.match(reasonFor(report, 'nested/archive.zip')!, /archive inside the source/);
  assert.match(reasonFor(report, 'svg.png')!, /SVG/);
  assert.match(reasonFor(report, 'escape.png')!, /symlink leaves the imported folder/);
  assert.match(reasonFor(report, 'loop')!, /symlink loop/);
  assert.match(reasonFor(report, 'deep/again')!, /symlink loop/);
  assert.match(reasonFor(report, 'dangling.png')!, /broken symlink/);
  assert.ok(report.warnings.some((w) => w.path === 'really-png.jpg' && /extension says JPEG but the content is PNG/.test(w.message)));
  assert.equal(report.counts.rejected, report.rejected.length);
  // nothing beside the source changed, and the data folder holds only the dataset
  assert.deepEqual(readdirSync(root).sort(), homeBefore);
  assert.deepEqual(readdirSync(datasetsDir), ['imported-test-1']);
  assert.deepEqual(readdirSync(path.join(datasetsDir, 'imported-test-1')).sort(), ['duplicates.png', 'images.u8', 'manifest.json', 'report.json'], 'ok1.png and really-png.jpg are duplicates');
});

test('caps on depth, file count and total bytes reject what is over them', async () => {
  const src = tempDir('gs-src-');
  const img = await png(8, 8, 1, () => 9);
  writeFiles(src, { 'a.png': img, 'b.png': img, 'c.png': img, 'l1/l2/l3/deep.png': img });
  const depth = await importInProcess({ path: src, size: 8, holdout: 0, kind: 'images' }, { maxDepth: 2 });
  assert.match(reasonFor(depth.report, 'l1/l2/l3')!, /deeper than 2 levels/);
  const files = await importInProcess({ path: src, size: 8, holdout: 0, kind: 'images' }, { maxFiles: 2 });
  assert.equal(files.cache.manifest.count, 2);
  assert.match(files.report.rejected.map((r) => r.reason).join(), /more than 2 files \(cap\)/);
  const bytes = await importInProcess({ path: src, size: 8, holdout: 0, kind: 'images' }, { maxTotalBytes: img.length * 2 + 10 });
  assert.equal(bytes.cache.manifest.count, 2);
  assert.match(bytes.report.rejected.map((r) => r.reason).join(), /read more than .* in total \(cap\)/);
  writeFiles(src, { 'tiny.png': await png(1, 1, 1, () => 0) });
  const small = await importInProcess({ path: src, size: 8, holdout: 0, kind: 'images' }, { maxFileBytes: img.length - 1 });
  assert.equal(small.cache.manifest.count, 1);
  assert.match(reasonFor(small.report, 'a.png')!, /too large: .* \(cap /);
});

test('nothing importable: one clear error and no dataset folder', async () => {
  const src = tempDir('gs-src-');
  writeFiles(src, { 'a.png': Buffer.alloc(0), 'b.txt': 'nope', 'c.jpg': 'not really' });
  const { error, leftovers } = await importFailure({ path: src });
  assert.equal(error.code, 'invalid_input');
  assert.match(error.message, /nothing importable in .*: all 3 files were rejected/);
  assert.equal(error.details.rejected?.length, 3);
  assert.deepEqual(leftovers, []);
  const empty = tempDir('gs-src-');
  assert.match((await importFailure({ path: empty })).error.message, /holds no image or array file/);
  assert.equal((await importFailure({ path: path.join(empty, 'nope') })).error.code, 'not_found');
});

test('statistics: per-class counts, channel mean/std, exact and near duplicates, source size histogram', async () => {
  const src = tempDir('gs-src-');
  const a = await png(8, 8, 3, (x, _y, c) => (c === 0 ? x * 30 : 100));
  writeFiles(src, {
    'x/a.png': a,
    'x/a-copy.png': a,
    'x/a-brighter.png': await png(8, 8, 3, (x, _y, c) => (c === 0 ? x * 30 + 3 : 103)),
    'y/flat.png': await png(32, 16, 3, () => 10),
    'y/other.png': await png(64, 64, 3, (x, y) => (x * 7 + y * 13) % 256),
  });
  const { report } = await importInProcess({ path: src, size: 8, holdout: 0, fit: 'stretch' });
  assert.deepEqual(report.classCounts, [3, 2]);
  assert.equal(report.stats.exactDuplicates.groups, 1);
  assert.equal(report.stats.exactDuplicates.extraCopies, 1);
  assert.deepEqual(report.stats.exactDuplicates.pairs.map((p) => [p.a.path, p.b.path]).flat().sort(), ['x/a-copy.png', 'x/a.png']);
  assert.ok(report.stats.nearDuplicates.pairs.some((p) => [p.a.path, p.b.path].includes('x/a-brighter.png')), JSON.stringify(report.stats.nearDuplicates));
  assert.equal(report.stats.channelMean.length, 3);
  assert.ok(report.stats.channelStd[1] > 0);
  assert.deepEqual(report.stats.sourceSizes.find((s) => s.width === 8), { width: 8, height: 8, count: 3 });
  assert.equal(report.stats.sourceSideHistogram.find((b) => b.upTo === 16)!.count, 3);
  assert.equal(report.stats.sourceSideHistogram.find((b) => b.upTo === 32)!.count, 1);
  assert.equal(report.stats.sourceSideHistogram.find((b) => b.upTo === 64)!.count, 1);
});

test('a cancel stops the import and leaves nothing behind', async () => {
  const src = tempDir('gs-src-');
  const files: Record<string, Buffer> = {};
  for (let i = 0; i < 300; i++) files[`${i}.png`] = await png(32, 32, 3, (x, y, c) => x + y + c + i);
  writeFiles(src, files);
  const abort = new AbortController();
  const datasetsDir = tempDir('gs-import-home-');
  const { runImport, ImportCancelled } = await import('../../electron/core/datasets/import/pipeline.ts');
  const { DEFAULT_IMPORT_LIMITS } = await import('../../electron/core/datasets/import/limits.ts');
  const { DatasetImportRequestSchema } = await import('../../electron/common/api.ts');
  await assert.rejects(
    // resized to 16 (sharp, about a millisecond a file) so decoding outlasts a progress tick: at their
    // own size these PNGs take the fast path and all 300 decode in a few tens of milliseconds
    runImport({ request: DatasetImportRequestSchema.parse({ path: src, size: 16 }), datasetId: 'imported:c-1', dir: path.join(datasetsDir, 'imported-c-1') }, {
      limits: DEFAULT_IMPORT_LIMITS,
      signal: abort.signal,
      onProgress: (p) => {
        if (p.filesDone > 20) abort.abort();
      },
    }),
    (err) => err instanceof ImportCancelled,
  );
  assert.deepEqual(readdirSync(datasetsDir), []);
  assert.equal(existsSync(path.join(datasetsDir, 'imported-c-1')), false);
});
