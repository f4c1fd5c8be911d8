// One import from start to finish, in whatever thread runs it: open the source (folder, zip or
// file), plan what it holds, decode and preprocess every item under caps and bounded concurrency,
// split off the held-out items, compute the statistics and write the cache (manifest, arrays,
// holdout_*.u8, report.json, duplicates.png) with one rename. Per-file problems are rejections in
// the report; only "nothing importable", a bad request or a cancel end the import, and then the
// target folder does not exist.
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import type { DatasetImportReport, DatasetImportRequestSchema } from '../../../common/api.ts';
import type { z } from 'zod';
import { writeDatasetCache, type DatasetManifest } from '../cache.ts';
import { tileImages } from '../../util/image-grid.ts';
import { CIFAR10_CLASSES, cifarVariant, npyImages, npyLabels, parseCifar, parseIdx, parseNpy, type ImageArray, type NpyArray } from './arrays.ts';
import { convertRaw, decodeImage, decodeSideBySide, probeGrey, type DecodedImage, type ImageTarget } from './decode-image.ts';
import { PlanError, planImport, type ImportPlan, type PlannedFile } from './detect.ts';
import type { ImportLimits } from './limits.ts';
import { formatFromExtension, sniffFormat } from './sniff.ts';
import { ByteBudget, FileRejected, formatBytes, naturalCompare, openZipTree, singleFileTree, walkFolder, type Rejection, type SourceFile, type SourceTree } from './source-tree.ts';
import { PhaseClock, type PhaseTimings } from './phases.ts';
import { channelStats, findDuplicates, SizeTally, splitHoldout, type ImageSet, type ItemRef } from './stats.ts';

export type ImportRequest = z.output<typeof DatasetImportRequestSchema>;
export type ImportPhase = 'scanning' | 'decoding' | 'statistics' | 'writing';

export interface ImportProgress {
  phase: ImportPhase;
  fraction: number;
  filesDone: number;
  filesTotal: number;
  currentFile: string | null;
}

export interface ImportJob {
  request: ImportRequest;
  datasetId: string;
  /** the cache folder to create; must not exist yet */
  dir: string;
}

export interface ImportContext {
  limits: ImportLimits;
  signal: AbortSignal;
  onProgress(p: ImportProgress): void;
}

/** The import as a whole cannot go on; `code` follows the API's error codes. */
export class ImportFailed extends Error {
  constructor(
    readonly code: 'invalid_input' | 'not_found' | 'internal',
    message: string,
    readonly details: { rejected?: Rejection[]; rejectedCount?: number } = {},
  ) {
    super(message);
  }
}

export class ImportCancelled extends Error {
  constructor() {
    super('the import was cancelled');
  }
}

const MAX_LISTED = 10_000;
const IMAGE_DEFAULT_SIZE = 32;

class Book {
  rejected: Rejection[] = [];
  rejectedCount = 0;
  warnings: { path: string; message: string }[] = [];
  reject(r: Rejection): void {
    this.rejectedCount++;
    if (this.rejected.length < MAX_LISTED) this.rejected.push(r);
  }
  warn(p: string, message: string): void {
    if (this.warnings.length < 2000) this.warnings.push({ path: p, message });
  }
}

/** Items of one domain, in source order, before the split. */
interface Collected {
  items: Uint8Array[];
  labels: number[];
  paths: string[];
}
const collected = (): Collected => ({ items: [], labels: [], paths: [] });

async function openSource(src: string, limits: ImportLimits, budget: ByteBudget, shown: string): Promise<SourceTree> {
  const st = await fsp.stat(src).catch((err: NodeJS.ErrnoException) => {
    throw new ImportFailed('not_found', err.code === 'ENOENT' ? `${src} does not exist` : `${src} cannot be read (${err.code ?? err.message})`);
  });
  if (st.isDirectory()) return walkFolder(src, limits, budget);
  if (!st.isFile()) throw new ImportFailed('invalid_input', `${src} is neither a folder nor a file`);
  const fh = await fsp.open(src, 'r');
  const head = Buffer.alloc(16);
  await fh.read(head, 0, 16, 0).finally(() => fh.close());
  if (sniffFormat(head) === 'zip') {
    try {
      return await openZipTree(src, limits, budget);
    } catch (err) {
      if (err instanceof FileRejected) throw new ImportFailed('invalid_input', `${shown}: ${err.message}`, { rejected: [{ path: shown, reason: err.message }], rejectedCount: 1 });
      throw err;
    }
  }
  // one IDX / CIFAR / .npy file: its labels companion beside it, when there is one
  const dir = path.dirname(src);
  const base = path.basename(src);
  const siblings = await fsp.readdir(dir).catch(() => [] as string[]);
  const wanted = new Set<string>();
  const labelName = base.replace(/images/i, 'labels').replace(/idx3/i, 'idx1');
  if (labelName !== base) wanted.add(labelName);
  if (/\.npy$/i.test(base)) {
    const stem = base.replace(/\.npy$/i, '');
    for (const n of [`${stem}_labels.npy`, `${stem}-labels.npy`, 'labels.npy', stem.replace(/^x/i, 'y') + '.npy', stem.replace(/images/i, 'labels') + '.npy']) if (n !== base) wanted.add(n);
  }
  if (/\.bin$/i.test(base)) for (const n of ['batches.meta.txt', 'fine_label_names.txt']) wanted.add(n);
  const companions: string[] = [];
  const sizes = new Map<string, number>([[src, st.size]]);
  for (const n of siblings) {
    if (!wanted.has(n) && !wanted.has(n.replace(/\.gz$/i, '')) && !(labelName !== base && n.replace(/\.gz$/i, '') === labelName.replace(/\.gz$/i, ''))) continue;
    const f = path.join(dir, n);
    const s = await fsp.lstat(f).catch(() => null);
    if (s?.isFile()) {
      companions.push(f);
      sizes.set(f, s.size);
    }
  }
  return singleFileTree(src, companions, budget, sizes);
}

const YIELD_EVERY_MS = 25;
const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Runs `fn` over 0..n-1 with at most `concurrency` in flight; stops early on cancel. Reads are
 * blocking and small PNGs decode without leaving the thread, so a run of items can complete in
 * microtasks alone: the pool yields to the event loop every few milliseconds, which lets a cancel
 * message (and sharp's callbacks) in.
 */
export async function pool(n: number, concurrency: number, signal: AbortSignal, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  let lastYield = performance.now();
  const worker = async () => {
    while (next < n) {
      if (performance.now() - lastYield > YIELD_EVERY_MS) {
        await yieldToEventLoop();
        lastYield = performance.now();
      }
      if (signal.aborted) throw new ImportCancelled();
      if (next >= n) break;
      const i = next++;
      await fn(i);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, n)) }, worker));
}

function rejectionReason(err: unknown): string {
  if (err instanceof FileRejected) return err.message;
  return `could not be read (${(err as Error).message ?? String(err)})`;
}

export interface ImportResult {
  manifest: DatasetManifest;
  report: DatasetImportReport;
  /** wall milliseconds per phase (see phases.ts) */
  timings: PhaseTimings;
}

export async function runImport(job: ImportJob, ctx: ImportContext): Promise<ImportResult> {
  const started = Date.now();
  const t0 = performance.now();
  const clock = new PhaseClock();
  const { request, limits, signal } = { ...job, ...ctx };
  const book = new Book();
  const checkCancel = () => {
    if (signal.aborted) throw new ImportCancelled();
  };
  let last = 0;
  const progress = (p: ImportProgress, force = false) => {
    const now = Date.now();
    if (!force && now - last < 100) return;
    last = now;
    clock.time('progress', () => ctx.onProgress(p));
  };
  const source = path.resolve(request.path);
  // an upload is staged under a generated name: the report names the user's file instead
  const shown = request.sourceLabel ?? path.basename(source);
  progress({ phase: 'scanning', fraction: 0, filesDone: 0, filesTotal: 0, currentFile: null }, true);

  const budget = new ByteBudget(limits.maxTotalBytes);
  const tree = await clock.timeAsync('walk', () => openSource(source, limits, budget, shown));
  try {
    for (const r of tree.rejected) book.reject(r);
    if (tree.skippedHidden > 0) book.warn('.', `${tree.skippedHidden} hidden or metadata files (.DS_Store, __MACOSX/…) passed over`);
    checkCancel();
    const seen = tree.files.length + tree.rejected.length;
    progress({ phase: 'scanning', fraction: 0.03, filesDone: 0, filesTotal: tree.files.length, currentFile: null }, true);

    // files read to probe them are kept for their decode, so nothing is read (or counted) twice
    const probeCache = new Map<SourceFile, Awaited<ReturnType<typeof probeGrey>>>();
    const probed = new Map<SourceFile, Buffer>();
    const probe = async (f: SourceFile) => {
      if (!probeCache.has(f)) {
        const buf = await f.read(limits.maxFileBytes).catch(() => null);
        if (buf) probed.set(f, buf);
        probeCache.set(f, buf && (await probeGrey(buf)));
      }
      return probeCache.get(f)!;
    };
    const readFile = async (f: SourceFile) => {
      const buf = probed.get(f);
      if (buf) {
        probed.delete(f);
        return buf;
      }
      const r0 = performance.now();
      try {
        return f.readSync ? f.readSync(limits.maxFileBytes) : await f.read(limits.maxFileBytes);
      } finally {
        clock.add('read', performance.now() - r0);
      }
    };
    const tPlan = performance.now();
    const plan: ImportPlan = await planImport(tree, request.kind, { container: tree.container, probeSize: probe, reject: (r) => book.reject(r), warn: (p, m) => book.warn(p, m) }).catch((err: unknown) => {
      if (err instanceof PlanError) throw new ImportFailed('invalid_input', err.message, { rejected: book.rejected, rejectedCount: book.rejectedCount });
      throw err;
    });
    clock.add('plan', performance.now() - tPlan);
    checkCancel();

    const sizes = new SizeTally();
    const a = collected();
    const b = collected();
    let classNames: string[] | null = null;
    let target: ImageTarget;
    const layout: DatasetManifest['layout'] = plan.kind === 'paired-folders' || plan.kind === 'paired-side-by-side' ? 'paired' : plan.kind === 'unpaired' ? 'unpaired' : 'images';

    const tDecode = performance.now();
    if (plan.kind === 'arrays') {
      const arrays = await loadArrays(plan, tree, limits, book, checkCancel);
      if (arrays.chunks.length === 0) throw nothingImportable(shown, book);
      classNames = arrays.classNames;
      const first = arrays.chunks[0].array;
      const side = request.size ?? (first.height === first.width ? first.height : Math.min(first.height, first.width, 256));
      target = { size: side, channels: request.channels ?? first.channels, fit: request.fit };
      const total = arrays.chunks.reduce((n, c) => n + c.array.count, 0);
      const cap = maxItems(limits, target, false, request.flip);
      let done = 0;
      for (const { array, path: p } of arrays.chunks) {
        const hw = array.height * array.width * array.channels;
        sizes.addMany(array.width, array.height, array.count);
        for (const note of array.notes) book.warn(p, note);
        await pool(array.count, limits.concurrency, signal, async (i) => {
          if (a.items.length >= cap) {
            if (i === 0 || done % 10000 === 0) book.reject({ path: `${p}#${i}`, reason: `the dataset is full (${cap} items, cap ${formatBytes(limits.maxOutputBytes)})` });
            done++;
            return;
          }
          const px = await convertRaw(array.data.subarray(i * hw, (i + 1) * hw), array.width, array.height, array.channels, target);
          a.items[a.paths.length] = px;
          a.labels[a.paths.length] = array.labels ? array.labels[i] : -1;
          a.paths.push(`${p}#${i}`);
          done++;
          progress({ phase: 'decoding', fraction: 0.05 + (0.85 * done) / total, filesDone: done, filesTotal: total, currentFile: `${p}#${i}` });
        });
      }
      if (!arrays.chunks.some((c) => c.array.labels)) classNames = null;
    } else {
      // image files: choose channels and size, then decode everything once
      const files: PlannedFile[] = plan.kind === 'unpaired' ? [...plan.a, ...plan.b] : plan.kind === 'paired-folders' ? plan.pairs.flatMap((p) => [p.a, p.b]) : plan.items;
      if (files.length === 0) throw nothingImportable(shown, book);
      let channels = request.channels;
      if (!channels) {
        const probes = await clock.timeAsync('probe', () => Promise.all(files.slice(0, 32).map((f) => probe(f.file))));
        const known = probes.filter((p) => p !== null);
        channels = known.length > 0 && known.every((p) => p.grey) ? 1 : 3;
      }
      probeCache.clear();
      target = { size: request.size ?? IMAGE_DEFAULT_SIZE, channels, fit: request.fit };
      const total = files.length;
      let done = 0;
      const step = (p: string) => {
        done++;
        progress({ phase: 'decoding', fraction: 0.05 + (0.85 * done) / total, filesDone: done, filesTotal: total, currentFile: p });
      };
      const cap = maxItems(limits, target, layout !== 'images', request.flip);
      const decodeFile = async (f: PlannedFile): Promise<DecodedImage | null> => {
        try {
          const buf = await readFile(f.file);
          const d0 = performance.now();
          const img = await decodeImage(buf, target, limits.maxPixels);
          clock.add('decode', performance.now() - d0);
          noteFormat(f, img.format, book);
          for (const n of img.notes) book.warn(f.path, n);
          sizes.add(img.srcWidth, img.srcHeight);
          return img;
        } catch (err) {
          book.reject({ path: f.path, reason: rejectionReason(err) });
          return null;
        } finally {
          step(f.path);
        }
      };

      if (plan.kind === 'images') {
        classNames = plan.classNames;
        const out: (Uint8Array | null)[] = new Array(plan.items.length).fill(null);
        await pool(plan.items.length, limits.concurrency, signal, async (i) => {
          out[i] = (await decodeFile(plan.items[i]))?.pixels ?? null;
        });
        plan.items.forEach((it, i) => {
          const px = out[i];
          if (!px) return;
          if (a.items.length >= cap) return book.reject({ path: it.path, reason: `the dataset is full (${cap} items, cap)` });
          a.items.push(px);
          a.labels.push(it.label ?? -1);
          a.paths.push(it.path);
        });
      } else if (plan.kind === 'unpaired') {
        const decodeAll = async (list: PlannedFile[], into: Collected) => {
          const out: (Uint8Array | null)[] = new Array(list.length).fill(null);
          await pool(list.length, limits.concurrency, signal, async (i) => {
            out[i] = (await decodeFile(list[i]))?.pixels ?? null;
          });
          list.forEach((f, i) => {
            const px = out[i];
            if (!px) return;
            if (into.items.length >= cap) return book.reject({ path: f.path, reason: `the dataset is full (${cap} items, cap)` });
            into.items.push(px);
            into.labels.push(-1);
            into.paths.push(f.path);
          });
        };
        await decodeAll(plan.a, a);
        await decodeAll(plan.b, b);
        if (a.items.length === 0 || b.items.length === 0) {
          throw new ImportFailed('invalid_input', `nothing importable in ${shown}: domain ${a.items.length === 0 ? 'A' : 'B'} has no readable image (${book.rejectedCount} files rejected)`, { rejected: book.rejected, rejectedCount: book.rejectedCount });
        }
      } else if (plan.kind === 'paired-folders') {
        const out: (Uint8Array | null)[] = new Array(plan.pairs.length * 2).fill(null);
        await pool(plan.pairs.length * 2, limits.concurrency, signal, async (k) => {
          const pair = plan.pairs[k >> 1];
          out[k] = (await decodeFile(k % 2 === 0 ? pair.a : pair.b))?.pixels ?? null;
        });
        plan.pairs.forEach((pair, i) => {
          const pa = out[2 * i];
          const pb = out[2 * i + 1];
          if (pa && !pb) book.reject({ path: pair.a.path, reason: `its partner ${pair.b.path} was rejected` });
          if (pb && !pa) book.reject({ path: pair.b.path, reason: `its partner ${pair.a.path} was rejected` });
          if (!pa || !pb) return;
          if (a.items.length >= cap) return book.reject({ path: pair.a.path, reason: `the dataset is full (${cap} pairs, cap)` });
          a.items.push(pa);
          b.items.push(pb);
          a.labels.push(-1);
          a.paths.push(pair.a.path);
          b.paths.push(pair.b.path);
        });
      } else {
        const out: ({ a: Uint8Array; b: Uint8Array } | null)[] = new Array(plan.items.length).fill(null);
        await pool(plan.items.length, limits.concurrency, signal, async (i) => {
          const f = plan.items[i];
          try {
            const buf = await readFile(f.file);
            const d0 = performance.now();
            const img = await decodeSideBySide(buf, target, limits.maxPixels);
            clock.add('decode', performance.now() - d0);
            noteFormat(f, img.format, book);
            for (const n of img.notes) book.warn(f.path, n);
            if (img.srcWidth !== 2 * img.srcHeight) book.warn(f.path, `${img.srcWidth}×${img.srcHeight} is not exactly twice as wide as high; split at the middle`);
            sizes.add(img.srcWidth, img.srcHeight);
            out[i] = { a: img.a, b: img.b };
          } catch (err) {
            book.reject({ path: f.path, reason: rejectionReason(err) });
          } finally {
            step(f.path);
          }
        });
        plan.items.forEach((f, i) => {
          const r = out[i];
          if (!r) return;
          if (a.items.length >= cap) return book.reject({ path: f.path, reason: `the dataset is full (${cap} pairs, cap)` });
          a.items.push(r.a);
          b.items.push(r.b);
          a.labels.push(-1);
          a.paths.push(`${f.path} (left)`);
          b.paths.push(`${f.path} (right)`);
        });
      }
    }
    clock.add('decodePhase', performance.now() - tDecode);
    checkCancel();
    if (a.items.length === 0) throw nothingImportable(shown, book);
    const tAssemble = performance.now();

    // classes that ended up empty (every file rejected) are dropped, and the labels renumbered
    let labels: Uint8Array | null = null;
    if (classNames && layout === 'images') {
      // array formats keep their declared classes (label numbers mean something there)
      const used = plan.kind === 'images' ? [...new Set(a.labels)].filter((l) => l >= 0).sort((x, y) => x - y) : classNames.map((_, i) => i);
      for (let c = 0; c < classNames.length; c++) if (!used.includes(c)) book.warn(classNames[c], 'class dropped: none of its files could be imported');
      const remap = new Map(used.map((l, i) => [l, i]));
      classNames = used.map((l) => classNames![l]);
      labels = Uint8Array.from(a.labels, (l) => remap.get(l)!);
    } else {
      classNames = null;
    }

    // ---- split, statistics, write
    progress({ phase: 'statistics', fraction: 0.9, filesDone: a.items.length, filesTotal: a.items.length, currentFile: null }, true);
    const itemBytes = target.size * target.size * target.channels;
    const splitA = splitHoldout(a.items.length, labels, request.holdout, request.seed);
    const splitB = layout === 'unpaired' ? splitHoldout(b.items.length, null, request.holdout, request.seed + 1) : splitA;
    const gather = (list: Uint8Array[], idx: number[], extra = 0) => {
      const out = new Uint8Array((idx.length + extra) * itemBytes);
      idx.forEach((src, k) => out.set(list[src], k * itemBytes));
      return out;
    };
    const trainA = gather(a.items, splitA.train, request.flip ? splitA.train.length : 0);
    const holdA = gather(a.items, splitA.holdout);
    const hasB = layout !== 'images';
    const trainB = hasB ? gather(b.items, splitB.train, request.flip ? splitB.train.length : 0) : null;
    const holdB = hasB ? gather(b.items, splitB.holdout) : null;
    const trainLabels = labels ? Uint8Array.from(splitA.train, (i) => labels![i]) : null;
    const holdLabels = labels ? Uint8Array.from(splitA.holdout, (i) => labels![i]) : null;

    const refs = (paths: string[], split: { train: number[]; holdout: number[] }, domain: 'a' | 'b') => {
      const train: ItemRef[] = split.train.map((i, k) => ({ path: paths[i], split: 'train', index: k, domain }));
      const hold: ItemRef[] = split.holdout.map((i, k) => ({ path: paths[i], split: 'holdout', index: k, domain }));
      return { train, hold };
    };
    const refsA = refs(a.paths, splitA, 'a');
    const setsA: ImageSet[] = [
      { images: trainA.subarray(0, splitA.train.length * itemBytes), count: splitA.train.length, refs: refsA.train },
      { images: holdA, count: splitA.holdout.length, refs: refsA.hold },
    ];
    const setsB: ImageSet[] = [];
    if (hasB) {
      const refsB = refs(b.paths, splitB, 'b');
      setsB.push({ images: trainB!.subarray(0, splitB.train.length * itemBytes), count: splitB.train.length, refs: refsB.train }, { images: holdB!, count: splitB.holdout.length, refs: refsB.hold });
    }
    clock.add('assemble', performance.now() - tAssemble);
    checkCancel();
    const channelsStats = clock.time('channelStats', () => channelStats([...setsA, ...setsB], target.channels));
    const dups = findDuplicates(setsA, target.size, target.channels, clock);
    if (hasB && layout === 'unpaired') {
      const dupsB = findDuplicates(setsB, target.size, target.channels, clock);
      dups.exactDuplicates.groups += dupsB.exactDuplicates.groups;
      dups.exactDuplicates.extraCopies += dupsB.exactDuplicates.extraCopies;
      dups.exactDuplicates.pairs.push(...dupsB.exactDuplicates.pairs.slice(0, 100));
      dups.nearDuplicates.pairs.push(...dupsB.nearDuplicates.pairs.slice(0, 100));
      dups.nearDuplicates.truncated ||= dupsB.nearDuplicates.truncated;
    }
    checkCancel();

    if (request.flip) {
      clock.time('mirror', () => {
        mirrorInto(trainA, splitA.train.length, target);
        if (trainB) mirrorInto(trainB, splitB.train.length, target);
      });
    }
    const flippedLabels = trainLabels && request.flip ? concat(trainLabels, trainLabels) : trainLabels;
    const count = splitA.train.length * (request.flip ? 2 : 1);
    const countB = layout === 'unpaired' ? splitB.train.length * (request.flip ? 2 : 1) : layout === 'paired' ? count : 0;
    const classCountsOf = (l: Uint8Array | null) => (l && classNames ? classNames.map((_, c) => l.reduce((n, x) => n + (x === c ? 1 : 0), 0)) : null);
    const totalClassCounts = labels && classNames ? classNames.map((_, c) => labels!.reduce((n, x) => n + (x === c ? 1 : 0), 0)) : null;

    const elapsed = Date.now() - started;
    const imported = a.items.length + (layout === 'unpaired' ? b.items.length : 0);
    const detected = plan.kind === 'images' ? (classNames ? 'labelled' : 'images') : plan.kind === 'paired-folders' || plan.kind === 'paired-side-by-side' ? 'paired' : plan.kind === 'arrays' ? plan.format : plan.kind;
    const report: DatasetImportReport = {
      source: request.sourceLabel ?? source,
      container: tree.container,
      kind: detected,
      layout,
      options: { size: target.size, channels: target.channels, fit: target.fit, holdout: request.holdout, flip: request.flip, seed: request.seed },
      counts: {
        seen,
        imported,
        rejected: book.rejectedCount,
        train: splitA.train.length,
        holdout: splitA.holdout.length,
        trainB: layout === 'unpaired' ? splitB.train.length : layout === 'paired' ? splitA.train.length : 0,
        holdoutB: layout === 'unpaired' ? splitB.holdout.length : layout === 'paired' ? splitA.holdout.length : 0,
        flipped: request.flip ? splitA.train.length + (layout === 'unpaired' ? splitB.train.length : 0) : 0,
      },
      classNames,
      classCounts: totalClassCounts,
      holdoutClassCounts: classCountsOf(holdLabels),
      rejected: book.rejected,
      warnings: book.warnings,
      stats: {
        channelMean: channelsStats.mean,
        channelStd: channelsStats.std,
        exactDuplicates: dups.exactDuplicates,
        nearDuplicates: dups.nearDuplicates,
        sourceSizes: sizes.sizes(),
        sourceSideHistogram: sizes.histogram(),
      },
      durationMs: elapsed,
      itemsPerSecond: Math.round((imported / Math.max(1, elapsed)) * 1000),
    };

    progress({ phase: 'writing', fraction: 0.95, filesDone: a.items.length, filesTotal: a.items.length, currentFile: null }, true);
    const extra: Record<string, Uint8Array | string> = {};
    if (splitA.holdout.length > 0) {
      extra['holdout_images.u8'] = holdA;
      if (holdLabels) extra['holdout_labels.u8'] = holdLabels;
    }
    if (holdB && holdB.length > 0) extra['holdout_images_b.u8'] = holdB;
    const preview = await clock.timeAsync('preview', () => duplicatesPreview(report, { trainA, holdA, trainB, holdB }, target));
    if (preview) extra['duplicates.png'] = preview;
    extra['report.json'] = JSON.stringify(report);
    checkCancel();
    const name = request.name ?? (shown.replace(/\.(zip|npy|gz|bin)$/i, '') || 'imported');
    const what = layout === 'paired' ? `${count} A→B pairs` : layout === 'unpaired' ? `${count} A and ${countB} B images` : `${count} images${classNames ? ` in ${classNames.length} classes` : ''}`;
    const manifest = await writeDatasetCache(
      job.dir,
      {
        id: job.datasetId,
        name,
        kind: 'imported',
        layout,
        description: `Imported from ${shown} (${detected}): ${what}, ${target.size}×${target.size} ${target.channels === 1 ? 'grey' : 'RGB'}${request.flip ? ', mirrored copies included' : ''}.`,
        count,
        countB,
        width: target.size,
        height: target.size,
        channels: target.channels,
        classNames,
        classCounts: classCountsOf(flippedLabels),
        source: request.sourceLabel ?? source,
        createdAt: Date.now(),
        holdout: { count: splitA.holdout.length, countB: layout === 'unpaired' ? splitB.holdout.length : layout === 'paired' ? splitA.holdout.length : 0, fraction: request.holdout, seed: request.seed },
        augment: { hflip: request.flip },
        report: 'report.json',
      },
      { images: trainA, labels: flippedLabels, imagesB: trainB, points: null },
      extra,
      clock.ms,
    );
    progress({ phase: 'writing', fraction: 1, filesDone: a.items.length, filesTotal: a.items.length, currentFile: null }, true);
    clock.add('total', performance.now() - t0);
    return { manifest, report, timings: clock.snapshot() };
  } finally {
    await tree.close();
  }
}

function maxItems(limits: ImportLimits, t: ImageTarget, twoSided: boolean, flip: boolean): number {
  const per = t.size * t.size * t.channels * (twoSided ? 2 : 1) * (flip ? 2 : 1);
  return Math.max(1, Math.min(limits.maxItems, Math.floor(limits.maxOutputBytes / per)));
}

function noteFormat(f: PlannedFile, format: string, book: Book): void {
  const claimed = formatFromExtension(f.path);
  if (claimed && claimed !== format) book.warn(f.path, `the extension says ${claimed.toUpperCase()} but the content is ${format.toUpperCase()}: decoded by content`);
}

/** `shown`: the source as the user knows it (its base name, or the upload's file name). */
function nothingImportable(shown: string, book: Book): ImportFailed {
  const examples = book.rejected
    .slice(0, 3)
    .map((r) => `${r.path}: ${r.reason}`)
    .join('; ');
  const message = book.rejectedCount === 0 ? `nothing importable in ${shown}: it holds no image or array file` : `nothing importable in ${shown}: all ${book.rejectedCount} files were rejected (${examples}${book.rejectedCount > 3 ? '; …' : ''})`;
  return new ImportFailed('invalid_input', message, { rejected: book.rejected, rejectedCount: book.rejectedCount });
}

function concat(x: Uint8Array, y: Uint8Array): Uint8Array {
  const out = new Uint8Array(x.length + y.length);
  out.set(x);
  out.set(y, x.length);
  return out;
}

/** Writes the mirror image of items 0..n-1 into slots n..2n-1. */
function mirrorInto(arr: Uint8Array, n: number, t: ImageTarget): void {
  const { size, channels } = t;
  const itemBytes = size * size * channels;
  for (let i = 0; i < n; i++) {
    const src = i * itemBytes;
    const dst = (n + i) * itemBytes;
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const s = src + (y * size + x) * channels;
        const d = dst + (y * size + (size - 1 - x)) * channels;
        for (let c = 0; c < channels; c++) arr[d + c] = arr[s + c];
      }
    }
  }
}

/** A PNG of up to 12 duplicate pairs, one pair per row (a | b), exact ones first; null when there are none. */
async function duplicatesPreview(report: DatasetImportReport, arrays: { trainA: Uint8Array; holdA: Uint8Array; trainB: Uint8Array | null; holdB: Uint8Array | null }, t: ImageTarget): Promise<Buffer | null> {
  const pairs = [...report.stats.exactDuplicates.pairs.slice(0, 6), ...report.stats.nearDuplicates.pairs].slice(0, 12);
  if (pairs.length === 0) return null;
  const itemBytes = t.size * t.size * t.channels;
  const pick = (r: ItemRef) => {
    const arr = r.domain === 'a' ? (r.split === 'train' ? arrays.trainA : arrays.holdA) : r.split === 'train' ? arrays.trainB! : arrays.holdB!;
    return arr.subarray(r.index * itemBytes, (r.index + 1) * itemBytes);
  };
  const grid = tileImages(pairs.length * 2, 2, t.size, t.size, t.channels, (k, out) => out.set(pick(k % 2 === 0 ? pairs[k >> 1].a : pairs[k >> 1].b)));
  return sharp(grid.pixels, { raw: { width: grid.width, height: grid.height, channels: grid.channels as 1 | 3 } }).png().toBuffer();
}

// ---- IDX / CIFAR / .npy ------------------------------------------------------------------------

interface LoadedArrays {
  chunks: { path: string; array: ImageArray }[];
  classNames: string[] | null;
}

/**
 * Pairs image arrays with label arrays by name ("images" ↔ "labels", "x" ↔ "y", idx3 ↔ idx1) or,
 * when there is one of each, with each other; counts must match. When some images have labels,
 * images without are rejected rather than mixed in unlabelled.
 */
function pairWithLabels<I extends { path: string; count: number }, L extends { path: string; count: number }>(images: I[], labels: L[], book: Book): { image: I; labels: L | null }[] {
  const norm = (p: string) =>
    p
      .toLowerCase()
      .replace(/\.gz$/, '')
      .replace(/\.npy$/, '')
      .replace(/idx[13]/, 'idx')
      .replace(/labels?/, '#')
      .replace(/images?/, '#')
      .replace(/(^|[/_-])[xy]($|[_-])/, '$1#$2');
  const used = new Set<L>();
  const out: { image: I; labels: L | null }[] = [];
  for (const img of images) {
    let match = labels.find((l) => !used.has(l) && norm(l.path) === norm(img.path));
    if (!match && images.length === 1 && labels.length === 1) match = labels[0];
    if (match) {
      used.add(match);
      if (match.count !== img.count) {
        book.reject({ path: img.path, reason: `${img.count} images but ${match.path} holds ${match.count} labels` });
        book.reject({ path: match.path, reason: `${match.count} labels but ${img.path} holds ${img.count} images` });
        continue;
      }
    }
    out.push({ image: img, labels: match ?? null });
  }
  for (const l of labels) if (!used.has(l)) book.reject({ path: l.path, reason: 'labels without a matching images file' });
  if (out.some((o) => o.labels) && out.some((o) => !o.labels)) {
    for (const o of out) if (!o.labels) book.reject({ path: o.image.path, reason: 'no matching labels file (other files here have labels)' });
    return out.filter((o) => o.labels);
  }
  return out;
}

async function loadArrays(plan: Extract<ImportPlan, { kind: 'arrays' }>, tree: SourceTree, limits: ImportLimits, book: Book, checkCancel: () => void): Promise<LoadedArrays> {
  const read = async (f: PlannedFile) => {
    try {
      return await f.file.read(limits.maxArrayFileBytes);
    } catch (err) {
      book.reject({ path: f.path, reason: rejectionReason(err) });
      return null;
    }
  };
  if (plan.format === 'idx') {
    const images: { path: string; count: number; h: number; w: number; data: Uint8Array }[] = [];
    const labels: { path: string; count: number; data: Uint8Array }[] = [];
    for (const f of plan.files) {
      checkCancel();
      const buf = await read(f);
      if (!buf) continue;
      try {
        const idx = parseIdx(buf, limits.maxArrayFileBytes, limits.maxPixels);
        if (idx.kind === 'images') images.push({ path: f.path, count: idx.count, h: idx.height, w: idx.width, data: idx.data });
        else labels.push({ path: f.path, count: idx.count, data: idx.data });
      } catch (err) {
        book.reject({ path: f.path, reason: rejectionReason(err) });
      }
    }
    const pairs = pairWithLabels(images, labels, book);
    const labelled = pairs.some((p) => p.labels);
    const maxLabel = labelled ? Math.max(...pairs.flatMap((p) => (p.labels ? [p.labels.data.reduce((m, x) => Math.max(m, x), 0)] : []))) : -1;
    return {
      chunks: pairs.map((p) => ({ path: p.image.path, array: { count: p.image.count, height: p.image.h, width: p.image.w, channels: 1, data: p.image.data, labels: p.labels?.data ?? null, notes: [] } })),
      classNames: labelled ? Array.from({ length: maxLabel + 1 }, (_, i) => String(i)) : null,
    };
  }
  if (plan.format === 'cifar') {
    const variants = plan.files.map((f) => cifarVariant(f.file.size, f.path));
    const tens = variants.filter((v) => v === 10).length;
    const variant: 10 | 100 = tens >= variants.length - tens ? 10 : 100;
    const chunks: LoadedArrays['chunks'] = [];
    for (const [i, f] of plan.files.entries()) {
      checkCancel();
      if (variants[i] !== variant) {
        book.reject({ path: f.path, reason: `a CIFAR-${variants[i]} batch among CIFAR-${variant} ones` });
        continue;
      }
      const buf = await read(f);
      if (!buf) continue;
      try {
        chunks.push({ path: f.path, array: parseCifar(buf, variant) });
      } catch (err) {
        book.reject({ path: f.path, reason: rejectionReason(err) });
      }
    }
    let names = variant === 10 ? CIFAR10_CLASSES : Array.from({ length: 100 }, (_, i) => String(i));
    const metaName = variant === 10 ? /batches\.meta\.txt$/ : /fine_label_names\.txt$/;
    const meta = tree.files.find((f) => metaName.test(f.rel));
    if (meta) {
      const text = await meta.read(1024 * 1024).then((b) => b.toString('utf8'), () => '');
      const lines = text
        .split(/\r?\n/)
        .map((l) => l.trim())
        .filter(Boolean);
      if (lines.length === variant) names = lines;
    }
    // only classes present up to the largest label, so a 10-class file does not claim 100
    const maxLabel = Math.max(-1, ...chunks.map((c) => c.array.labels!.reduce((m, x) => Math.max(m, x), 0)));
    return { chunks, classNames: names.slice(0, Math.max(maxLabel + 1, 1)) };
  }
  const images: { path: string; count: number; array: ImageArray }[] = [];
  const labels: { path: string; count: number; data: Uint8Array }[] = [];
  for (const f of [...plan.files].sort((x, y) => naturalCompare(x.path, y.path))) {
    checkCancel();
    const buf = await read(f);
    if (!buf) continue;
    let arr: NpyArray;
    try {
      arr = parseNpy(buf, limits.maxArrayFileBytes);
      if (arr.shape.length === 1) labels.push({ path: f.path, count: arr.shape[0], data: npyLabels(arr) });
      else {
        const a = npyImages(arr, limits.maxPixels);
        images.push({ path: f.path, count: a.count, array: a });
      }
    } catch (err) {
      book.reject({ path: f.path, reason: rejectionReason(err) });
    }
  }
  const pairs = pairWithLabels(images, labels, book);
  const labelled = pairs.some((p) => p.labels);
  const maxLabel = labelled ? Math.max(...pairs.flatMap((p) => (p.labels ? [p.labels.data.reduce((m, x) => Math.max(m, x), 0)] : []))) : -1;
  return {
    chunks: pairs.map((p) => ({ path: p.image.path, array: { ...p.image.array, labels: p.labels?.data ?? null } })),
    classNames: labelled ? Array.from({ length: maxLabel + 1 }, (_, i) => String(i)) : null,
  };
}
