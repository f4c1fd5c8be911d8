// npm run bench:families — step time of every family at its default preset on the wasm backend
// (issue #4), each on the built-in data its contract needs. Prints the median of several steps
// after a warm-up and the ratio to DCGAN (workload W1) measured in the same run.
//   --families dcgan,wgan  --steps 3  --backend wasm|cpu  --json
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { registerSecondOrderGradients, registerWasmTrainingKernels } from '../electron/core/tf/wasm-kernels.ts';
import { FAMILY_INFO, resolveRunConfig, type Family } from '../electron/common/config.ts';
import { availableFamilies } from '../electron/core/families/registry.ts';
import { GanTrainer } from '../electron/core/trainer/gan-trainer.ts';
import type { TrainingData } from '../electron/core/trainer/data-source.ts';
import { builtinMnistArrays } from '../electron/core/datasets/builtin-mnist.ts';
import { mnistEdgesPairs, mnistThickUnpaired } from '../electron/core/datasets/builtin-translation.ts';

const { values } = parseArgs({ options: { families: { type: 'string' }, steps: { type: 'string', default: '3' }, backend: { type: 'string', default: 'wasm' }, json: { type: 'boolean', default: false } } });
const steps = Math.max(1, Number(values.steps));
const families = (values.families?.split(',') as Family[] | undefined) ?? availableFamilies();

registerWasmTrainingKernels();
registerSecondOrderGradients();
await tf.setBackend(values.backend!);
await tf.ready();

const img = { height: 28, width: 28, channels: 1 };
function dataFor(family: Family): { data: TrainingData; name: string } {
  const contract = FAMILY_INFO[family].dataContract;
  if (contract === 'paired') {
    const p = mnistEdgesPairs();
    return { name: 'builtin:mnist-edges', data: { shape: { layout: 'paired', ...img, count: p.count, classes: null }, images: p.a, imagesB: p.b, countB: p.count, labels: null, points: null } };
  }
  if (contract === 'unpaired') {
    const u = mnistThickUnpaired();
    return { name: 'builtin:mnist-thick', data: { shape: { layout: 'unpaired', ...img, count: u.count, classes: null }, images: u.a, imagesB: u.b, countB: u.countB, labels: null, points: null } };
  }
  const { arrays } = builtinMnistArrays();
  return { name: 'builtin:mnist', data: { shape: { layout: 'images', ...img, count: 10_000, classes: 10 }, images: arrays.images, imagesB: null, countB: 0, labels: arrays.labels, points: null } };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const rows: { family: Family; dataset: string; batchSize: number; msPerStep: number; imgPerSec: number; ratioToDcgan: number | null }[] = [];
for (const family of ['dcgan' as Family, ...families.filter((f) => f !== 'dcgan')]) {
  if (!families.includes(family) && family !== 'dcgan') continue;
  const { data, name } = dataFor(family);
  const config = resolveRunConfig({ dataset: name, family, seed: 1 });
  const trainer = new GanTrainer(config, data);
  trainer.trainStep(false); // warm-up: kernels, optimizer slots
  const times: number[] = [];
  for (let i = 0; i < steps; i++) {
    const t0 = performance.now();
    trainer.trainStep(false);
    times.push(performance.now() - t0);
  }
  trainer.dispose();
  const ms = median(times);
  rows.push({ family, dataset: name, batchSize: config.schedule.batchSize, msPerStep: ms, imgPerSec: (1000 * config.schedule.batchSize) / ms, ratioToDcgan: null });
  if (!values.json) process.stderr.write(`${family}: ${ms.toFixed(0)} ms/step\n`);
}
const base = rows.find((r) => r.family === 'dcgan')!.msPerStep;
for (const r of rows) r.ratioToDcgan = r.msPerStep / base;
if (values.json) {
  process.stdout.write(`${JSON.stringify({ backend: tf.getBackend(), steps, baseline: 'dcgan (W1) in the same run', rows })}\n`);
} else {
  console.log(`backend ${tf.getBackend()}, median of ${steps} steps after 1 warm-up; ratio = step time / DCGAN's (W1) in this run`);
  console.log('family      dataset               batch   ms/step    img/s   ×DCGAN');
  for (const r of rows) console.log(`${r.family.padEnd(11)} ${r.dataset.padEnd(21)} ${String(r.batchSize).padStart(5)} ${r.msPerStep.toFixed(0).padStart(9)} ${r.imgPerSec.toFixed(1).padStart(8)} ${r.ratioToDcgan!.toFixed(2).padStart(8)}`);
}
