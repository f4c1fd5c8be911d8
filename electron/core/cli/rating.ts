// `gan-studio rating …`: human rating sessions headless — list, show (with results), export as CSV
// or JSON, create, export an offline rater kit and import its answers. Same core API as the UI.
import path from 'node:path';
import { promises as fsp } from 'node:fs';
import type { parseArgs, ParseArgsConfig } from 'node:util';
import type { ApiClient } from '../../common/api.ts';
import { RATING_TYPES, type RatingResults, type RatingSession, type RatingSourceSpec, type Estimate } from '../../common/api-rating.ts';
import { ApiError } from '../../common/errors.ts';
import { writeFileAtomic } from '../util/atomic-fs.ts';
import { EXIT, numberFlag as num, parseFlags, printJson as line, reportFailure, subcommandProblem, UsageError as Usage, withClient } from './common.ts';

export const RATING_HELP = `gan-studio rating — human rating sessions

Usage: gan-studio rating list [--run RUN_ID] [--home DIR] [--json]
       gan-studio rating show SESSION [--exclude-unreliable] [--home DIR] [--json]
       gan-studio rating export SESSION --csv|--json [--out FILE] [--home DIR]
       gan-studio rating create --type TYPE --source SRC… --rater NAME… [options]
       gan-studio rating kit SESSION --rater NAME [--out DIR] [--home DIR] [--json]
       gan-studio rating import-answers FILE [--home DIR] [--json]

show prints the scores with bootstrap 95 % intervals, per-rater accuracy and attention checks,
agreement (Fleiss' κ, Krippendorff's α) and the ranking; results stay provisional until every
rater has finished. export writes one CSV row per rater and item (sources revealed), or the
session, results and answers as JSON, to stdout or --out FILE.

Create options:
  --type TYPE               ${RATING_TYPES.join(' | ')}
  --source SRC              run:RUN_ID (newest checkpoint), run:RUN_ID@STEP, or real:DATASET_ID; repeat
  --rater NAME              a rater, in the order they rate; repeat
  --items N                 scored items per rater (default 40)
  --attention F             share of extra attention-check items, 0–0.3 (default 0.1)
  --seed S                  seed of the draw and the shuffles (default 1)
  --question TEXT           the question shown above every item
  --name TEXT               session name
kit writes a self-contained folder (index.html + kit.js + kit.css + images + signed manifest) that
runs offline in any browser; the rater downloads an answers JSON file, which import-answers checks
against its session (id, item list hash, signature) and stores in one transaction.
Exit status: 0 done, 1 not found or refused, 2 bad usage.`;

const OPTIONS = {
  home: { type: 'string' },
  json: { type: 'boolean', default: false },
  csv: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
  run: { type: 'string' },
  out: { type: 'string' },
  type: { type: 'string' },
  source: { type: 'string', multiple: true },
  rater: { type: 'string', multiple: true },
  items: { type: 'string' },
  attention: { type: 'string' },
  seed: { type: 'string' },
  question: { type: 'string' },
  name: { type: 'string' },
  'exclude-unreliable': { type: 'boolean', default: false },
} as const satisfies ParseArgsConfig['options'];

type Values = ReturnType<typeof parseArgs<{ args: string[]; options: typeof OPTIONS; allowPositionals: true }>>['values'];

/** run:ID, run:ID@STEP or real:DATASET_ID */
export function parseSource(text: string): RatingSourceSpec {
  const m = /^(run|real):([^@]+)(?:@(\d+))?$/.exec(text);
  if (!m) throw new Usage(`--source must be run:RUN_ID, run:RUN_ID@STEP or real:DATASET_ID, got ${JSON.stringify(text)}`);
  if (m[1] === 'real') {
    if (m[3] !== undefined) throw new Usage(`a real source takes no @STEP: ${text}`);
    return { kind: 'real', datasetId: m[2]! };
  }
  return m[3] === undefined ? { kind: 'checkpoint', runId: m[2]! } : { kind: 'checkpoint', runId: m[2]!, step: Number(m[3]) };
}

export async function ratingCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags(args, OPTIONS, true);
  const [sub, target] = positionals;
  if (values.help || !sub) {
    process.stdout.write(`${RATING_HELP}\n`);
    return values.help ? EXIT.ok : EXIT.usage;
  }
  const problem = subcommandProblem('rating', positionals, { list: null, show: 'a SESSION', export: 'a SESSION', create: null, kit: 'a SESSION', 'import-answers': 'a FILE' });
  if (problem) {
    process.stderr.write(`gan-studio: ${problem}\n\n${RATING_HELP}\n`);
    return EXIT.usage;
  }
  if (sub === 'export' && values.csv === values.json) {
    process.stderr.write('gan-studio: rating export needs exactly one of --csv and --json\n');
    return EXIT.usage;
  }
  try {
    return await withClient(values.home, async (client) => {
      switch (sub) {
        case 'list':
          return await listCommand(client, values);
        case 'show':
          return await showCommand(client, target!, values);
        case 'export':
          return await exportCommand(client, target!, values);
        case 'create':
          return await createCommand(client, values);
        case 'kit':
          return await kitCommand(client, target!, values);
        default:
          return await importCommand(client, target!, values);
      }
    });
  } catch (err) {
    return reportFailure(err, values.json, () => EXIT.failed);
  }
}

const pct = (x: number | null) => (x === null ? '—' : `${(x * 100).toFixed(1)} %`);
function est(e: Estimate, fmt: (x: number | null) => string = pct): string {
  return e.value === null ? '—' : `${fmt(e.value)} [${fmt(e.low)}, ${fmt(e.high)}] (n=${e.n})`;
}

function sessionLine(s: RatingSession): string {
  const answered = s.raters.reduce((a, r) => a + r.answered, 0);
  const total = s.raters.reduce((a, r) => a + r.total, 0);
  return `${s.id}  ${s.type.padEnd(15)} ${s.state.padEnd(9)} ${String(s.raters.filter((r) => r.state === 'finished').length)}/${s.raters.length} raters  ${answered}/${total} answers  ${s.name}`;
}

async function listCommand(client: ApiClient, values: Values): Promise<number> {
  const sessions = await client.call('ratings.list', { runId: values.run });
  if (values.json) line(sessions);
  else if (sessions.length === 0) process.stdout.write('no rating sessions\n');
  else for (const s of sessions) process.stdout.write(`${sessionLine(s)}\n`);
  return EXIT.ok;
}

export function formatResults(s: RatingSession, r: RatingResults): string {
  const out: string[] = [sessionLine(s), `question: ${s.question}`];
  if (!r.complete) out.push(`PROVISIONAL: ${r.ratersFinished} of ${r.ratersTotal} raters have finished; only their answers count`);
  for (const n of s.notes) out.push(`note: ${n}`);
  out.push('sources:');
  for (const src of s.sources) out.push(`  ${src.id}  ${src.kind === 'real' ? `real ${src.datasetId} (${src.split})` : `run ${src.runId} @ ${src.step}`}  ${src.label}`);
  if (r.realFake) {
    out.push(`error on fakes (fakes judged real; 50 % = indistinguishable): ${est(r.realFake.errorOnFakes)}`);
    out.push(`error on reals: ${est(r.realFake.errorOnReals)}   overall: ${est(r.realFake.errorOverall)}`);
    for (const p of r.realFake.perSource) out.push(`  ${p.label}: ${est(p.errorOnFakes)}`);
  }
  if (r.timed) {
    for (const p of r.timed.perSource) out.push(`  exposure at convergence, ${p.label}: ${est(p.exposureMs, (x) => (x === null ? '—' : `${x.toFixed(0)} ms`))}`);
    out.push(`  measured − requested exposure: mean ${r.timed.exposureErrorMs.mean?.toFixed(1) ?? '—'} ms, max ${r.timed.exposureErrorMs.max?.toFixed(1) ?? '—'} ms`);
  }
  if (r.preference) {
    out.push('Bradley–Terry ranking (1000 + 400·log10 strength, bootstrap 95 %) and Elo:');
    for (const p of r.preference.ranking) out.push(`  ${p.rank}. ${p.label}: ${p.rating.toFixed(0)} [${p.low?.toFixed(0) ?? '—'}, ${p.high?.toFixed(0) ?? '—'}]  Elo ${p.elo.toFixed(0)}`);
    out.push(`  ties: ${r.preference.ties}`);
  }
  if (r.quality) for (const q of r.quality) out.push(`  ${q.label}: mean ${est(q.mean, (x) => (x === null ? '—' : x.toFixed(2)))}, z ${est(q.meanZ, (x) => (x === null ? '—' : x.toFixed(2)))}`);
  if (r.duplicates) for (const d of r.duplicates) out.push(`  ${d.label}: cells marked duplicate ${est(d.duplicateRate)}`);
  if (r.memorisation) for (const m of r.memorisation) out.push(`  ${m.label}: judged copies ${est(m.copyRate)}`);
  out.push('raters:');
  for (const x of r.raters) {
    out.push(
      `  ${x.name.padEnd(16)} ${x.state.padEnd(11)} ${x.answered} answers  accuracy ${pct(x.accuracy)}  attention ${x.attentionPassed}/${x.attentionTotal}${x.reliable ? '' : '  UNRELIABLE'}  ${x.meanResponseMs === null ? '' : `${x.meanResponseMs.toFixed(0)} ms/answer`}`,
    );
  }
  const a = r.agreement;
  out.push(`agreement over ${a.items} items, ${a.raters} raters: Fleiss κ ${a.fleissKappa?.toFixed(3) ?? '—'}, Krippendorff α (${a.alphaLevel}) ${a.krippendorffAlpha?.toFixed(3) ?? '—'}`);
  for (const m of r.automatic) out.push(`beside ${m.metric}: Spearman ${m.spearman?.toFixed(3) ?? '—'}, Kendall ${m.kendall?.toFixed(3) ?? '—'} over ${m.pairs.length} checkpoints`);
  if (r.excludedRaters.length) out.push(`left out as unreliable: ${r.excludedRaters.join(', ')}`);
  return out.join('\n');
}

async function showCommand(client: ApiClient, id: string, values: Values): Promise<number> {
  const session = await client.call('ratings.get', { sessionId: id });
  const results = await client.call('ratings.results', { sessionId: id, excludeUnreliable: values['exclude-unreliable'] });
  if (values.json) line({ session, results });
  else process.stdout.write(`${formatResults(session, results)}\n`);
  return EXIT.ok;
}

async function exportCommand(client: ApiClient, id: string, values: Values): Promise<number> {
  const file = await client.call('ratings.export', { sessionId: id, format: values.csv ? 'csv' : 'json' });
  if (values.out) {
    await writeFileAtomic(path.resolve(values.out), file.text);
    process.stderr.write(`wrote ${path.resolve(values.out)}\n`);
  } else process.stdout.write(file.text.endsWith('\n') ? file.text : `${file.text}\n`);
  return EXIT.ok;
}

async function createCommand(client: ApiClient, values: Values): Promise<number> {
  if (!values.type || !(RATING_TYPES as readonly string[]).includes(values.type)) throw new Usage(`--type must be one of ${RATING_TYPES.join(', ')}`);
  if (!values.source?.length) throw new Usage('rating create needs at least one --source');
  if (!values.rater?.length) throw new Usage('rating create needs at least one --rater');
  const session = await client.call('ratings.create', {
    type: values.type as (typeof RATING_TYPES)[number],
    sources: values.source.map(parseSource),
    raters: values.rater,
    items: num('--items', values.items),
    attentionShare: num('--attention', values.attention),
    seed: num('--seed', values.seed),
    question: values.question,
    name: values.name,
  });
  if (values.json) line({ type: 'created', session });
  else process.stdout.write(`created ${sessionLine(session)}\n`);
  return EXIT.ok;
}

async function kitCommand(client: ApiClient, id: string, values: Values): Promise<number> {
  const rater = values.rater?.[0];
  if (!rater || values.rater!.length > 1) throw new Usage('rating kit needs exactly one --rater');
  const kit = await client.call('ratings.exportKit', { sessionId: id, rater, dir: values.out ? path.resolve(values.out) : undefined });
  if (values.json) line({ type: 'kit', ...kit });
  else process.stdout.write(`wrote the rater kit for "${rater}" to ${kit.path} (${kit.files} files); open index.html in any browser\n`);
  return EXIT.ok;
}

async function importCommand(client: ApiClient, file: string, values: Values): Promise<number> {
  const text = await fsp.readFile(path.resolve(file), 'utf8').catch((err: Error) => {
    throw new ApiError('not_found', `cannot read ${file}: ${err.message}`);
  });
  const r = await client.call('ratings.importAnswers', { text });
  if (values.json) line({ type: 'imported', sessionId: r.sessionId, rater: r.rater, imported: r.imported, state: r.session.state });
  else process.stdout.write(`imported ${r.imported} answers of "${r.rater}" into ${r.sessionId} (session ${r.session.state})\n`);
  return EXIT.ok;
}
