// `gan-studio evaluate`: scores a run's checkpoint against its dataset's held-out split, or two
// folders of images, through the same core API as the Evaluate page; prints the stored evaluation
// (scores with their protocol) as one JSON object. Bad input: a clear error, exit 2, nothing stored.
import path from 'node:path';
import { EVAL_METRICS, type EvalMetric, type EvaluationRequest } from '../../common/api-evaluation.ts';
import { ApiError } from '../../common/errors.ts';
import { EXIT, followEvaluationJob, intFlag, parseFlags, reportFailure, unfinishedJobExit, withClient } from './common.ts';

export const EVALUATE_HELP = `gan-studio evaluate — score a generator with a recorded protocol

Usage: gan-studio evaluate --run RUN_ID [--checkpoint latest|best|STEP] [--n N] [--extractor ID] [options] --json
       gan-studio evaluate --real DIR --fake DIR [--extractor ID] [options] --json

  --run RUN_ID              generate N samples from the run's checkpoint (EMA weights when kept) and
                            score them against its dataset's held-out split (the training split when
                            the dataset has none; the split is recorded)
  --checkpoint latest|best|STEP
                            which checkpoint (default latest); best: the one that scored best in the
                            run's evaluations during training (config "evaluation"), kept apart from
                            the last few (refused, exit 2, when the run has none yet)
  --real DIR, --fake DIR    two folders of images instead (decoded with sharp, resized to the extractor)
  --n N                     generated samples; real samples are capped at N (default 1000)
  --extractor ID            feature extractor (gan-studio extractor list); default: the newest classifier
                            trained on the run's dataset, else pixel
  --metrics LIST            comma-separated: ${EVAL_METRICS.join(',')}
                            (default: every metric the extractor and N allow; the others are listed as warnings)
  --split auto|holdout|train  reference split for --run (default auto)
  --seed S                  latents, real subset, KID subsets, PRD k-means, SWD patches (default 0)
  --kid-subsets N, --kid-subset-size M, --splits N (IS), --nn-samples N, --nn-reference N
  --home DIR, --json        see "gan-studio --help"

Output: {"type":"evaluation","id":…,"scores":{"fid":…,"kid":{"mean":…,"std":…},…},"protocol":{…},"protocolKey":…}
With --json, progress lines {"type":"progress","phase":…,"fraction":…} come first.
Exit status: 0 stored; 1 the job failed; 2 bad input (N too small for a metric — e.g. FID needs
N > d — mismatched dimensions, NaN features, unknown run or extractor); 130 cancelled by Ctrl-C.
Nothing is stored unless the exit status is 0.`;

export async function evaluateCommand(args: string[]): Promise<number> {
  const { values } = parseFlags(args, {
    run: { type: 'string' },
    checkpoint: { type: 'string' },
    real: { type: 'string' },
    fake: { type: 'string' },
    n: { type: 'string' },
    extractor: { type: 'string' },
    metrics: { type: 'string' },
    split: { type: 'string' },
    seed: { type: 'string' },
    'kid-subsets': { type: 'string' },
    'kid-subset-size': { type: 'string' },
    splits: { type: 'string' },
    'nn-samples': { type: 'string' },
    'nn-reference': { type: 'string' },
    home: { type: 'string' },
    json: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  });
  if (values.help) {
    process.stdout.write(`${EVALUATE_HELP}\n`);
    return EXIT.ok;
  }
  const json = values.json;
  const str = (k: keyof typeof values) => values[k] as string | undefined;
  let request: EvaluationRequest;
  try {
    const metrics = str('metrics')
      ?.split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    for (const m of metrics ?? []) if (!(EVAL_METRICS as readonly string[]).includes(m)) throw new ApiError('invalid_input', `--metrics: unknown metric "${m}" (known: ${EVAL_METRICS.join(', ')})`);
    let source: EvaluationRequest['source'];
    if (str('run')) {
      if (str('real') || str('fake')) throw new ApiError('invalid_input', '--run cannot be combined with --real/--fake');
      const cp = str('checkpoint') ?? 'latest';
      source = { kind: 'run', runId: str('run')!, checkpoint: cp === 'latest' || cp === 'best' ? cp : intFlag('--checkpoint', cp, 0)! };
    } else if (str('real') && str('fake')) {
      source = { kind: 'folders', realDir: path.resolve(str('real')!), fakeDir: path.resolve(str('fake')!) };
    } else throw new ApiError('invalid_input', 'give --run RUN_ID, or --real DIR and --fake DIR');
    const options: Record<string, number | undefined> = {
      kidSubsets: intFlag('--kid-subsets', str('kid-subsets'), 1),
      kidSubsetSize: intFlag('--kid-subset-size', str('kid-subset-size'), 2),
      isSplits: intFlag('--splits', str('splits'), 1),
      nnSamples: intFlag('--nn-samples', str('nn-samples'), 1),
      nnReference: intFlag('--nn-reference', str('nn-reference'), 10),
    };
    const split = str('split');
    if (split !== undefined && !['auto', 'holdout', 'train'].includes(split)) throw new ApiError('invalid_input', `--split must be auto, holdout or train, got ${JSON.stringify(split)}`);
    request = {
      source,
      ...(str('extractor') ? { extractorId: str('extractor') } : {}),
      ...(metrics ? { metrics: metrics as EvalMetric[] } : {}),
      ...(str('n') ? { n: intFlag('--n', str('n'), 2) } : {}),
      ...(split ? { referenceSplit: split as 'auto' } : {}),
      ...(str('seed') ? { seed: intFlag('--seed', str('seed'), 0) } : {}),
      options: Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)),
    };
  } catch (err) {
    return reportFailure(err, json, () => EXIT.usage);
  }

  try {
    return await withClient(str('home'), async (client, core) => {
      const end = await followEvaluationJob(core, client, json, () => client.call('evaluations.start', request));
      const unfinished = unfinishedJobExit(end, 'evaluation', json);
      if (unfinished !== null) return unfinished;
      const detail = await client.call('evaluations.get', { evaluationId: end.resultId! });
      const { neighbours, classCoverage, fakePreview: _preview, ...summary } = detail;
      const out = {
        type: 'evaluation',
        ...summary,
        classCoverage,
        neighbours: neighbours.map((n) => ({ space: n.space, share: n.share, threshold: n.threshold, rows: n.rows })),
      };
      process.stdout.write(`${JSON.stringify(out, null, json ? undefined : 2)}\n`);
      return EXIT.ok;
    });
  } catch (err) {
    return reportFailure(err, json, (e) => (e.code === 'internal' ? EXIT.failed : EXIT.usage));
  }
}
