// `gan-studio extractor …`: train a domain classifier on a labelled dataset, register a user TF.js
// model folder, list and delete extractors. Runs the same core API as the Evaluate page.
import path from 'node:path';
import type { Extractor } from '../../common/api-evaluation.ts';
import { EXIT, followEvaluationJob, intFlag, parseFlags, printError, reportFailure, unfinishedJobExit, withClient } from './common.ts';

export const EXTRACTOR_HELP = `gan-studio extractor — feature extractors for evaluation

Usage: gan-studio extractor train --dataset ID [--epochs E] [--arch auto|lenet|resnet] [--max-train N] [--seed S] [--name TEXT] --json
       gan-studio extractor register --path DIR [--feature-layer NAME] [--probs-layer NAME] [--input-size S] [--channels 1|3] [--range -1..1|0..1|0..255] --json
       gan-studio extractor list --json
       gan-studio extractor delete ID --json

train     trains a classifier (LeNet-like for ≤32×32 grey, a small ResNet otherwise) on the dataset's
          training split and measures its accuracy on the held-out split (a seeded 10 % of its own
          when the dataset has none); its penultimate layer gives features, its softmax IS and modes.
register  a TF.js layers or graph model folder (model.json + shards), e.g. a converted InceptionV3.
list      the built-in pixel extractors and every stored one, with weights hash and accuracy.
Exit status: 0 ok, 1 the training failed, 2 bad input (unknown or unlabelled dataset, bad model folder), 130 cancelled.`;

function line(e: Extractor): string {
  const acc = e.accuracy === null ? '' : `  accuracy ${(e.accuracy * 100).toFixed(1)} % (${e.accuracySplit}, n=${e.accuracyCount})`;
  return `${e.id.padEnd(34)} ${e.kind.padEnd(10)} d=${String(e.featureDim || 'H·W·C').padEnd(6)} ${e.weightsHash.slice(0, 16)}  ${e.name}${acc}`;
}

export async function extractorCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  const { values, positionals } = parseFlags(
    rest,
    {
      dataset: { type: 'string' },
      epochs: { type: 'string' },
      arch: { type: 'string' },
      'max-train': { type: 'string' },
      'batch-size': { type: 'string' },
      seed: { type: 'string' },
      name: { type: 'string' },
      path: { type: 'string' },
      'feature-layer': { type: 'string' },
      'probs-layer': { type: 'string' },
      'input-size': { type: 'string' },
      channels: { type: 'string' },
      range: { type: 'string' },
      home: { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    true,
  );
  if (values.help || !sub || sub === '--help' || sub === '-h') {
    process.stdout.write(`${EXTRACTOR_HELP}\n`);
    return sub ? EXIT.ok : EXIT.usage;
  }
  const json = values.json;
  const str = (k: keyof typeof values) => values[k] as string | undefined;
  const fail = (code: string, message: string, exit: number) => {
    printError(json, code, message);
    return exit;
  };
  if (!['train', 'register', 'list', 'delete'].includes(sub)) return fail('invalid_input', `unknown extractor command "${sub}" (train, register, list, delete)`, EXIT.usage);
  try {
    return await withClient(str('home'), async (client, core) => {
      switch (sub) {
        case 'list': {
          const list = await client.call('extractors.list', {});
          process.stdout.write(json ? `${JSON.stringify(list)}\n` : `${list.map(line).join('\n')}\n`);
          return EXIT.ok;
        }
        case 'delete': {
          const id = positionals[0];
          if (!id) return fail('invalid_input', 'missing the extractor id: gan-studio extractor delete ID', EXIT.usage);
          await client.call('extractors.delete', { extractorId: id });
          process.stdout.write(json ? `${JSON.stringify({ type: 'deleted', id })}\n` : `deleted ${id}\n`);
          return EXIT.ok;
        }
        case 'register': {
          if (!str('path')) return fail('invalid_input', 'missing --path DIR (a folder with model.json and its weight shards)', EXIT.usage);
          const channels = intFlag('--channels', str('channels'), 1);
          if (channels !== undefined && channels !== 1 && channels !== 3) return fail('invalid_input', '--channels must be 1 or 3', EXIT.usage);
          const range = str('range');
          if (range !== undefined && !['-1..1', '0..1', '0..255'].includes(range)) return fail('invalid_input', '--range must be -1..1, 0..1 or 0..255', EXIT.usage);
          const e = await client.call('extractors.register', {
            path: path.resolve(str('path')!),
            ...(str('name') ? { name: str('name') } : {}),
            ...(str('feature-layer') ? { featureLayer: str('feature-layer') } : {}),
            ...(str('probs-layer') ? { probsLayer: str('probs-layer') } : {}),
            ...(str('input-size') ? { inputSize: intFlag('--input-size', str('input-size'), 8) } : {}),
            ...(channels ? { inputChannels: channels as 1 | 3 } : {}),
            ...(range ? { inputRange: range as '0..1' } : {}),
          });
          process.stdout.write(json ? `${JSON.stringify({ type: 'extractor', ...e })}\n` : `${line(e)}\n`);
          return EXIT.ok;
        }
        case 'train': {
          if (!str('dataset')) return fail('invalid_input', 'missing --dataset ID (a labelled image dataset, e.g. builtin:mnist)', EXIT.usage);
          const arch = str('arch');
          if (arch !== undefined && !['auto', 'lenet', 'resnet'].includes(arch)) return fail('invalid_input', '--arch must be auto, lenet or resnet', EXIT.usage);
          const request = {
            datasetId: str('dataset')!,
            ...(str('epochs') ? { epochs: intFlag('--epochs', str('epochs'), 1) } : {}),
            ...(arch ? { architecture: arch as 'auto' } : {}),
            ...(str('max-train') ? { maxTrain: intFlag('--max-train', str('max-train'), 10) } : {}),
            ...(str('batch-size') ? { batchSize: intFlag('--batch-size', str('batch-size'), 8) } : {}),
            ...(str('seed') ? { seed: intFlag('--seed', str('seed'), 0) } : {}),
            ...(str('name') ? { name: str('name') } : {}),
          };
          const end = await followEvaluationJob(core, client, json, () => client.call('extractors.train', request));
          const unfinished = unfinishedJobExit(end, 'training', json);
          if (unfinished !== null) return unfinished;
          const e = await client.call('extractors.get', { extractorId: end.resultId! });
          process.stdout.write(json ? `${JSON.stringify({ type: 'extractor', ...e })}\n` : `${line(e)}\n`);
          return EXIT.ok;
        }
      }
      return EXIT.usage;
    });
  } catch (err) {
    return reportFailure(err, json, (e) => (e.code === 'internal' ? EXIT.failed : EXIT.usage));
  }
}
