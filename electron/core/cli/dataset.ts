// `gan-studio dataset …`: import a folder, zip or array file into the studio's data folder, list,
// show and delete datasets. Runs the same core API as the UI; --json prints one object per line.
import path from 'node:path';
import type { parseArgs, ParseArgsConfig } from 'node:util';
import { IMPORT_FITS, IMPORT_KINDS, type ApiClient, type DatasetImportReport, type DatasetImportStatus, type DatasetSummary, type StudioEvent } from '../../common/api.ts';
import { ApiError } from '../../common/errors.ts';
import { EXIT, numberFlag as num, parseFlags, printError, UsageError, printJson as line, reportFailure, subcommandProblem, withClient } from './common.ts';

export const DATASET_HELP = `gan-studio dataset — import and manage datasets

Usage: gan-studio dataset import PATH [options]
       gan-studio dataset list [--home DIR] [--json]
       gan-studio dataset show ID [--home DIR] [--json]
       gan-studio dataset delete ID [--home DIR] [--json]

PATH is a folder of images (class subfolders become labels; A/ and B/ are pairs; trainA/ and
trainB/ are two unpaired domains), a .zip of the same, MNIST-style IDX files (gzipped or not),
CIFAR-10/100 .bin batches, or .npy arrays with an optional labels .npy.

Import options:
  --name TEXT               dataset name (default: the file or folder name)
  --kind KIND               ${IMPORT_KINDS.join(' | ')} (default auto: detected from the content)
  --size N                  square side in pixels (default: native for IDX/CIFAR/.npy, 32 for images)
  --channels 1|3            grey or RGB (default: grey when the sources are grey)
  --fit MODE                ${IMPORT_FITS.join(' | ')} (default crop: centre crop to square)
  --holdout F               held-out fraction kept for evaluation, 0–0.5 (default 0.1)
  --flip                    also store a mirrored copy of every training image
  --seed S                  seed of the held-out split (default 1)

Rejected files are listed with their reason; the rest is imported. With --json, stdout carries
{"type":"progress",…} lines, then {"type":"done","id":…,"count":…,"classes":…,"rejected":[…],"report":…}
or {"type":"error","error":{"code":…,"message":…},"rejected":[…]}.
Exit status: 0 imported, 1 nothing importable or not found, 2 bad usage, 130 cancelled by Ctrl-C
(a cancelled import leaves nothing behind).`;

const OPTIONS = {
  home: { type: 'string' },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
  name: { type: 'string' },
  kind: { type: 'string' },
  size: { type: 'string' },
  channels: { type: 'string' },
  fit: { type: 'string' },
  holdout: { type: 'string' },
  flip: { type: 'boolean', default: false },
  seed: { type: 'string' },
} as const satisfies ParseArgsConfig['options'];

export async function datasetCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags(args, OPTIONS, true);
  const [sub, target] = positionals;
  if (values.help || !sub) {
    process.stdout.write(`${DATASET_HELP}\n`);
    return values.help ? EXIT.ok : EXIT.usage;
  }
  const problem = subcommandProblem('dataset', positionals, { import: 'a PATH', list: null, show: 'an ID', delete: 'an ID' });
  if (problem) {
    process.stderr.write(`gan-studio: ${problem}\n\n${DATASET_HELP}\n`);
    return EXIT.usage;
  }
  try {
    return await withClient(values.home, async (client) => {
      switch (sub) {
        case 'import':
          return await importCommand(client, target!, values);
        case 'list':
          return await listCommand(client, values.json);
        case 'show':
          return await showCommand(client, target!, values.json);
        default:
          await client.call('datasets.delete', { datasetId: target! });
          if (values.json) line({ type: 'deleted', id: target });
          else process.stdout.write(`deleted dataset ${target}\n`);
          return EXIT.ok;
      }
    });
  } catch (err) {
    return reportFailure(err, values.json, (e) => (e.code === 'invalid_input' ? EXIT.usage : EXIT.failed));
  }
}

type Values = ReturnType<typeof parseArgs<{ args: string[]; options: typeof OPTIONS; allowPositionals: true }>>['values'];

async function importCommand(client: ApiClient, source: string, values: Values): Promise<number> {
  const channels = num('--channels', values.channels);
  if (channels !== undefined && channels !== 1 && channels !== 3) throw new UsageError(`--channels must be 1 or 3, got ${values.channels}`);
  const request = {
    path: path.resolve(source),
    name: values.name,
    kind: values.kind as (typeof IMPORT_KINDS)[number] | undefined,
    size: num('--size', values.size),
    channels: channels as 1 | 3 | undefined,
    fit: values.fit as (typeof IMPORT_FITS)[number] | undefined,
    holdout: num('--holdout', values.holdout),
    flip: values.flip,
    seed: num('--seed', values.seed),
  };
  const json = values.json;
  let importId: string | null = null;
  const early: StudioEvent[] = [];
  let finished!: (s: DatasetImportStatus) => void;
  const done = new Promise<DatasetImportStatus>((r) => (finished = r));
  let lastPrinted = 0;
  const onEvent = (e: StudioEvent) => {
    if (e.type !== 'dataset.import') return;
    if (importId === null) return void early.push(e);
    const s = e.status;
    if (s.importId !== importId) return;
    if (s.state !== 'running') return finished(s);
    const now = Date.now();
    if (json) line({ type: 'progress', phase: s.phase, fraction: round(s.fraction), filesDone: s.filesDone, filesTotal: s.filesTotal, currentFile: s.currentFile });
    else if (now - lastPrinted > 500) {
      lastPrinted = now;
      process.stderr.write(`[${String(Math.round(s.fraction * 100)).padStart(3)}%] ${s.phase}${s.filesTotal ? ` ${s.filesDone}/${s.filesTotal}` : ''}${s.currentFile ? ` ${s.currentFile}` : ''}\n`);
    }
  };
  const unsubscribe = client.subscribe(onEvent);
  let interrupted = false;
  const onSigint = () => {
    if (!importId || interrupted) return;
    interrupted = true;
    process.stderr.write('gan-studio: cancelling the import…\n');
    client.call('datasets.importCancel', { importId }).catch(() => undefined);
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigint);
  try {
    let started: DatasetImportStatus;
    try {
      started = await client.call('datasets.import', request);
    } catch (err) {
      if (err instanceof ApiError && err.code === 'invalid_input') {
        printError(json, err.code, err.message, { error: err.toJSON(), rejected: [] });
        return EXIT.usage;
      }
      throw err;
    }
    importId = started.importId;
    if (!json) process.stderr.write(`importing ${request.path}\n`);
    for (const e of early.splice(0)) onEvent(e);
    // an import that ended before we subscribed has no event left for us
    const status = await Promise.race([done, pollUntilEnded(client, importId)]);
    if (status.state === 'done') return printDone(client, status, json);
    if (status.state === 'cancelled') {
      if (json) line({ type: 'error', error: { code: 'cancelled', message: 'the import was cancelled; nothing was kept' }, code: 'cancelled', message: 'the import was cancelled' });
      process.stderr.write('gan-studio: the import was cancelled; nothing was kept\n');
      return EXIT.interrupted;
    }
    const error = status.error ?? { code: 'internal', message: 'the import failed' };
    const rejected = (error.details?.rejected as { path: string; reason: string }[] | undefined) ?? [];
    if (json) line({ type: 'error', error: { code: error.code, message: error.message }, code: error.code, message: error.message, rejected });
    else {
      for (const r of rejected.slice(0, 50)) process.stdout.write(`  rejected ${r.path}: ${r.reason}\n`);
      if (rejected.length > 50) process.stdout.write(`  … and ${rejected.length - 50} more\n`);
    }
    process.stderr.write(`gan-studio: ${error.message}\n`);
    return EXIT.failed;
  } finally {
    unsubscribe();
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
  }
}

async function pollUntilEnded(client: ApiClient, importId: string): Promise<DatasetImportStatus> {
  for (;;) {
    await new Promise((r) => setTimeout(r, 1000));
    const s = await client.call('datasets.importStatus', { importId });
    if (s.state !== 'running') return s;
  }
}

const round = (x: number) => Math.round(x * 1000) / 1000;

async function printDone(client: ApiClient, status: DatasetImportStatus, json: boolean): Promise<number> {
  const summary = await client.call('datasets.get', { datasetId: status.datasetId! });
  const report = status.report!;
  if (json) {
    line({ type: 'done', id: summary.id, name: summary.name, count: summary.count, holdout: report.counts.holdout, classes: summary.classNames, layout: summary.layout, width: summary.width, height: summary.height, channels: summary.channels, rejected: report.rejected, report });
    return EXIT.ok;
  }
  process.stdout.write(`${describe(summary, report)}\n`);
  return EXIT.ok;
}

function describe(d: DatasetSummary, report: DatasetImportReport | null): string {
  const out: string[] = [];
  out.push(`${d.id}  "${d.name}"  ${d.layout}, ${d.count} training items${report ? ` + ${report.counts.holdout} held out` : ''}, ${d.width}×${d.height} ${d.channels === 1 ? 'grey' : 'RGB'}`);
  if (d.description) out.push(`  ${d.description}`);
  if (d.classNames) out.push(`  classes (training counts): ${d.classNames.map((c, i) => `${c} ${d.classCounts?.[i] ?? '?'}`).join(', ')}`);
  if (!report) return out.join('\n');
  out.push(`  source: ${report.source} (${report.container}, read as ${report.kind}); ${report.counts.imported} imported, ${report.counts.rejected} rejected in ${(report.durationMs / 1000).toFixed(1)}s (${report.itemsPerSecond} items/s)`);
  const s = report.stats;
  out.push(`  channel mean ${s.channelMean.map((v) => v.toFixed(1)).join('/')}, std ${s.channelStd.map((v) => v.toFixed(1)).join('/')} (0–255)`);
  out.push(`  duplicates: ${s.exactDuplicates.extraCopies} exact copies in ${s.exactDuplicates.groups} groups, ${s.nearDuplicates.pairs.length}${s.nearDuplicates.truncated ? '+' : ''} near pairs (dHash distance ≤ ${s.nearDuplicates.threshold})`);
  for (const p of s.exactDuplicates.pairs.slice(0, 5)) out.push(`    same: ${p.a.path} = ${p.b.path}`);
  for (const p of s.nearDuplicates.pairs.slice(0, 5)) out.push(`    near (${p.distance}): ${p.a.path} ~ ${p.b.path}`);
  out.push(`  source sizes: ${s.sourceSizes.slice(0, 5).map((z) => `${z.width}×${z.height} ×${z.count}`).join(', ')}`);
  if (report.rejected.length) {
    out.push(`  rejected:`);
    for (const r of report.rejected.slice(0, 50)) out.push(`    ${r.path}: ${r.reason}`);
    if (report.counts.rejected > 50) out.push(`    … and ${report.counts.rejected - 50} more`);
  }
  if (report.warnings.length) {
    out.push(`  notes:`);
    for (const w of report.warnings.slice(0, 20)) out.push(`    ${w.path}: ${w.message}`);
    if (report.warnings.length > 20) out.push(`    … and ${report.warnings.length - 20} more`);
  }
  return out.join('\n');
}

async function listCommand(client: ApiClient, json: boolean): Promise<number> {
  const list = await client.call('datasets.list', {});
  if (json) {
    line(list);
    return EXIT.ok;
  }
  const rows = list.map((d) => [d.id, d.name, d.kind, d.layout, String(d.count), `${d.width}×${d.height}×${d.channels}`, d.classNames ? String(d.classNames.length) : '—']);
  const head = ['ID', 'NAME', 'KIND', 'LAYOUT', 'COUNT', 'SHAPE', 'CLASSES'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  for (const r of [head, ...rows]) process.stdout.write(`${r.map((c, i) => c.padEnd(widths[i])).join('  ')}\n`);
  return EXIT.ok;
}

async function showCommand(client: ApiClient, id: string, json: boolean): Promise<number> {
  const d = await client.call('datasets.get', { datasetId: id });
  const { report } = await client.call('datasets.report', { datasetId: id });
  if (json) line({ ...d, report });
  else process.stdout.write(`${describe(d, report)}\n`);
  return EXIT.ok;
}
