// What a source holds, from its folder structure and file contents: class folders, A/ and B/
// (paired), trainA/ and trainB/ (unpaired), side-by-side A|B images, IDX, CIFAR or .npy files.
// The user's `kind` overrides the guess; the plan lists every file it will read and rejects the
// ones that do not fit the kind, each with a reason.
import { cifarVariant } from './arrays.ts';
import { formatFromExtension, isImageFormat, sniffFormat, type SniffedFormat } from './sniff.ts';
import { naturalCompare, type Rejection, type SourceFile, type SourceTree } from './source-tree.ts';

export type ImportKindOption = 'auto' | 'folder' | 'zip' | 'images' | 'labelled' | 'paired' | 'unpaired' | 'idx' | 'cifar' | 'npy';

export interface PlannedFile {
  file: SourceFile;
  /** path shown in the report (relative to the source) */
  path: string;
}

export type ImportPlan =
  | { kind: 'images'; items: (PlannedFile & { label: number | null })[]; /** null when unlabelled */ classNames: string[] | null }
  | { kind: 'paired-folders'; pairs: { a: PlannedFile; b: PlannedFile }[] }
  | { kind: 'paired-side-by-side'; items: PlannedFile[] }
  | { kind: 'unpaired'; a: PlannedFile[]; b: PlannedFile[] }
  | { kind: 'arrays'; format: 'idx' | 'cifar' | 'npy'; files: PlannedFile[] };

export class PlanError extends Error {}

type Hint = SniffedFormat | 'cifar' | null;

const SPLIT_NAMES = new Set(['train', 'val', 'valid', 'validation', 'test', 'training', 'testing']);
export const MAX_CLASSES = 256;

function isIdxName(name: string): boolean {
  return /idx[13]-ubyte/i.test(name);
}

/** The hint from the name alone; undefined when only the first bytes can tell. */
function hintByName(f: SourceFile): Hint | undefined {
  const base = f.rel.slice(f.rel.lastIndexOf('/') + 1);
  if (isIdxName(base)) return 'idx';
  const byExt = formatFromExtension(base);
  if (byExt === 'gzip') return 'gzip';
  if (/\.bin$/i.test(base)) return cifarVariant(f.size, base) ? 'cifar' : 'unknown';
  if (byExt) return byExt;
  if (!f.head) return null;
  return undefined;
}

async function hintOf(f: SourceFile): Promise<Hint> {
  const byName = hintByName(f);
  if (byName !== undefined) return byName;
  const head = await f.head!().catch(() => null);
  return head ? sniffFormat(head) : null;
}

/** Paths below the common single top folder, so "mydata/cats/1.png" reads as "cats/1.png". */
function stripCommonRoot(files: SourceFile[]): Map<SourceFile, string[]> {
  const parts = new Map(files.map((f) => [f, f.rel.split('/')] as const));
  for (;;) {
    const firsts = new Set([...parts.values()].map((p) => (p.length > 1 ? p[0] : null)));
    if (firsts.size !== 1 || firsts.has(null) || parts.size === 0) break;
    for (const [f, p] of parts) parts.set(f, p.slice(1));
  }
  return parts;
}

export interface DetectContext {
  container: SourceTree['container'];
  /** width and height of an image file (header only), null when unreadable */
  probeSize(file: SourceFile): Promise<{ width: number; height: number } | null>;
  reject(r: Rejection): void;
  warn(path: string, message: string): void;
}

export async function planImport(tree: SourceTree, kind: ImportKindOption, ctx: DetectContext): Promise<ImportPlan> {
  if (kind === 'folder' && tree.container !== 'folder') throw new PlanError(`--kind folder needs a folder, but ${tree.root} is a ${tree.container}`);
  if (kind === 'zip' && tree.container !== 'zip') throw new PlanError(`--kind zip needs a .zip archive, but ${tree.root} is a ${tree.container}`);
  const hints = new Map<SourceFile, Hint>();
  // by name where it tells (no await per file), by the first bytes otherwise
  for (const f of tree.files) hints.set(f, hintByName(f) ?? (await hintOf(f)));
  const ofHint = (h: (x: Hint) => boolean) => tree.files.filter((f) => h(hints.get(f) ?? null));
  const idxFiles = ofHint((h) => h === 'idx' || h === 'gzip');
  const cifarFiles = ofHint((h) => h === 'cifar');
  const npyFiles = ofHint((h) => h === 'npy');
  // files with no telling name (zip entries without extensions) are tried as images
  const imageFiles = ofHint((h) => h === null || (h !== 'gzip' && h !== 'idx' && h !== 'cifar' && h !== 'npy' && h !== 'zip' && (isImageFormat(h as SniffedFormat) || h === 'unknown' || h === 'empty' || h === 'heif' || h === 'svg')));
  const archives = ofHint((h) => h === 'zip');

  let chosen: ImportKindOption = kind;
  if (kind === 'auto' || kind === 'folder' || kind === 'zip') {
    const realImages = ofHint((h) => h !== null && isImageFormat(h as SniffedFormat));
    if (idxFiles.some((f) => hints.get(f) === 'idx' || isIdxName(f.rel))) chosen = 'idx';
    else if (cifarFiles.length > 0 && realImages.length === 0) chosen = 'cifar';
    else if (npyFiles.length > 0 && realImages.length === 0) chosen = 'npy';
    else chosen = 'images-auto' as ImportKindOption;
  }
  const others = (keep: SourceFile[], reason: (f: SourceFile) => string) => {
    const kept = new Set(keep);
    for (const f of tree.files) if (!kept.has(f)) ctx.reject({ path: f.rel, reason: reason(f) });
  };
  const archiveSet = new Set(archives);
  const notData = (what: string) => (f: SourceFile) => (archiveSet.has(f) ? 'archive inside the source (not opened)' : `not ${what}`);
  const planned = (f: SourceFile): PlannedFile => ({ file: f, path: f.rel });

  switch (chosen) {
    case 'idx': {
      const files = idxFiles.filter((f) => hints.get(f) === 'idx' || isIdxName(f.rel) || hints.get(f) === 'gzip');
      others(files, notData('an IDX file'));
      return { kind: 'arrays', format: 'idx', files: files.map(planned) };
    }
    case 'cifar': {
      others(cifarFiles, (f) => (/\.bin$/i.test(f.rel) ? `${f.size} bytes is not a whole number of CIFAR records (3073 or 3074 bytes)` : /\.(txt|html|meta)$|readme/i.test(f.rel) ? 'not a CIFAR batch (metadata)' : 'not a CIFAR batch'));
      return { kind: 'arrays', format: 'cifar', files: cifarFiles.map(planned) };
    }
    case 'npy': {
      others(npyFiles, notData('a .npy array'));
      return { kind: 'arrays', format: 'npy', files: npyFiles.map(planned) };
    }
  }

  // image collections
  others(imageFiles, notData('an image'));
  const parts = stripCommonRoot(imageFiles);
  const top = (f: SourceFile) => {
    const p = parts.get(f)!;
    return p.length > 1 ? p[0] : null;
  };
  const dirs = new Map<string, SourceFile[]>();
  const loose: SourceFile[] = [];
  for (const f of imageFiles) {
    const d = top(f);
    if (d === null) loose.push(f);
    else {
      const list = dirs.get(d);
      if (list) list.push(f);
      else dirs.set(d, [f]);
    }
  }
  const dirNamed = (name: string) => [...dirs.keys()].find((d) => d.toLowerCase() === name.toLowerCase());
  const outside = (kept: SourceFile[], where: string) => {
    const k = new Set(kept);
    for (const f of imageFiles) if (!k.has(f)) ctx.reject({ path: f.rel, reason: `outside ${where}` });
  };

  const unpaired = () => {
    const a = dirNamed('trainA') ?? dirNamed('A');
    const b = dirNamed('trainB') ?? dirNamed('B');
    if (!a || !b) throw new PlanError('an unpaired dataset needs trainA/ and trainB/ folders (or A/ and B/)');
    const keep = new Set([...dirs.get(a)!, ...dirs.get(b)!]);
    for (const d of dirs.keys()) if (d !== a && d !== b) ctx.warn(`${d}/`, `not imported: only ${a}/ and ${b}/ are read (the held-out split is taken from them)`);
    const skipped = new Set([...dirs.entries()].filter(([d]) => d !== a && d !== b).flatMap(([, fs]) => fs));
    for (const f of imageFiles) if (!keep.has(f) && !skipped.has(f)) ctx.reject({ path: f.rel, reason: `outside ${a}/ and ${b}/` });
    return { kind: 'unpaired' as const, a: dirs.get(a)!.map(planned), b: dirs.get(b)!.map(planned) };
  };

  const pairedFolders = () => {
    const a = dirNamed('A')!;
    const b = dirNamed('B')!;
    const keyOf = (f: SourceFile) => parts.get(f)!.slice(1).join('/').replace(/\.[^./]+$/, '').toLowerCase();
    const bByKey = new Map<string, SourceFile>();
    for (const f of dirs.get(b)!) {
      const key = keyOf(f);
      if (bByKey.has(key)) ctx.reject({ path: f.rel, reason: `second B/ file with the name ${key}` });
      else bByKey.set(key, f);
    }
    const pairs: { a: PlannedFile; b: PlannedFile }[] = [];
    const used = new Set<SourceFile>();
    for (const f of dirs.get(a)!) {
      const partner = bByKey.get(keyOf(f));
      if (!partner || used.has(partner)) {
        ctx.reject({ path: f.rel, reason: `no partner with the same name in ${b}/` });
        continue;
      }
      used.add(partner);
      pairs.push({ a: planned(f), b: planned(partner) });
    }
    for (const f of dirs.get(b)!) if (!used.has(f) && bByKey.get(keyOf(f)) === f) ctx.reject({ path: f.rel, reason: `no partner with the same name in ${a}/` });
    outside([...dirs.get(a)!, ...dirs.get(b)!], `${a}/ and ${b}/`);
    return { kind: 'paired-folders' as const, pairs };
  };

  /** Side-by-side A|B files: every probed image is exactly twice as wide as high. */
  const looksSideBySide = async (files: SourceFile[]) => {
    const sample = files.slice(0, 16);
    if (sample.length === 0) return false;
    let ok = 0;
    for (const f of sample) {
      const s = await ctx.probeSize(f);
      if (!s) continue;
      if (s.width !== 2 * s.height) return false;
      ok++;
    }
    return ok >= Math.min(2, sample.length);
  };

  const labelled = (classOf: (f: SourceFile) => string | null, where: string) => {
    const classes = [...new Set(imageFiles.map(classOf).filter((c): c is string => c !== null))].sort(naturalCompare);
    if (classes.length === 0) throw new PlanError('no class folders: a labelled dataset keeps each class in its own folder');
    if (classes.length > MAX_CLASSES) throw new PlanError(`${classes.length} class folders: at most ${MAX_CLASSES} classes are supported`);
    const index = new Map(classes.map((c, i) => [c, i]));
    const items: (PlannedFile & { label: number | null })[] = [];
    for (const f of imageFiles) {
      const c = classOf(f);
      if (c === null) ctx.reject({ path: f.rel, reason: `outside the class folders (${where})` });
      else items.push({ ...planned(f), label: index.get(c)! });
    }
    return { kind: 'images' as const, items, classNames: classes };
  };
  const unlabelled = (files: SourceFile[]) => ({ kind: 'images' as const, items: files.map((f) => ({ ...planned(f), label: null })), classNames: null });

  if (chosen === 'unpaired') return unpaired();
  if (chosen === 'paired') {
    if (dirNamed('A') && dirNamed('B')) return pairedFolders();
    return { kind: 'paired-side-by-side', items: imageFiles.map(planned) };
  }
  if (chosen === 'images') return unlabelled(imageFiles);
  if (chosen === 'labelled') return labelled(top, 'one folder per class');

  // auto among image collections
  if ((dirNamed('trainA') && dirNamed('trainB')) || (dirNamed('testA') && dirNamed('testB') && dirNamed('trainA'))) return unpaired();
  if (dirNamed('A') && dirNamed('B') && dirs.size === 2) return pairedFolders();
  const dirNames = [...dirs.keys()];
  if (dirNames.length > 0 && dirNames.every((d) => SPLIT_NAMES.has(d.toLowerCase()))) {
    if (await looksSideBySide(imageFiles)) return { kind: 'paired-side-by-side', items: imageFiles.map(planned) };
    // train/cat/…, val/cat/…: the class is the folder under the split
    const second = (f: SourceFile) => {
      const p = parts.get(f)!;
      return p.length > 2 ? p[1] : null;
    };
    if (new Set(imageFiles.map(second).filter(Boolean)).size >= 2) {
      ctx.warn(`${dirNames.join('/, ')}/`, 'read as splits of one dataset; the classes are the folders inside them');
      return labelled(second, 'split/class/file');
    }
    ctx.warn(`${dirNames.join('/, ')}/`, 'read as splits of one unlabelled dataset, not as classes (use kind "labelled" to force classes)');
    return unlabelled(imageFiles);
  }
  if (dirNames.length >= 2) return labelled(top, 'one folder per class');
  if (dirNames.length === 0 && (await looksSideBySide(imageFiles))) return { kind: 'paired-side-by-side', items: imageFiles.map(planned) };
  if (dirNames.length === 1 && loose.length > 0) ctx.warn(`${dirNames[0]}/`, 'one subfolder beside loose images: read as one unlabelled set');
  return unlabelled(imageFiles);
}
