// Memory estimate of a run before it starts (RELIABILITY F4): parameters, optimizer slots,
// gradients, activations kept for the backward pass, the dataset cache and the runtime. An
// estimate, not a measurement: it errs high (every intermediate counted as live at once).
import os from 'node:os';
import type { RunConfig } from '../../common/config.ts';
import { upsamplingStages, type ImageShape } from './dcgan.ts';

const F32 = 4;
/** Node, tfjs and the backend before any tensor (measured: ~120 MB RSS for a trainer at rest) */
const RUNTIME_BYTES = 160 * 2 ** 20;
/** wasm32 linear memory tops out at 4 GiB, whatever the machine has */
const WASM_MAX_BYTES = 4 * 2 ** 30;

export interface MemoryEstimate {
  totalBytes: number;
  breakdown: { parameters: number; optimizer: number; gradients: number; activations: number; dataset: number; runtime: number };
}

function countDcgan(config: RunConfig, image: ImageShape): { params: number; actsPerImage: number } {
  const a = config.architecture;
  const stages = upsamplingStages(image.height);
  const base = image.height >> stages;
  let params = a.latentDim * base * base * a.gChannels + 2 * base * base * a.gChannels;
  // G: dense → BN → LeakyReLU, then per stage ConvT → BN → LeakyReLU; each output is kept
  let acts = 3 * base * base * a.gChannels;
  let ch = a.gChannels;
  let size = base;
  for (let i = 0; i < stages; i++) {
    const out = i === stages - 1 ? image.channels : Math.max(8, ch >> 1);
    params += 16 * ch * out + 2 * out;
    size *= 2;
    acts += 3 * size * size * out;
    ch = out;
  }
  // D runs on a real and a fake batch: conv + LeakyReLU outputs per stage, twice
  ch = image.channels;
  size = image.height;
  let dActs = size * size * ch;
  for (let i = 0; i < stages; i++) {
    const out = a.dChannels << i;
    params += 16 * ch * out + out;
    size /= 2;
    dActs += 2 * size * size * out;
    ch = out;
  }
  params += size * size * ch + 1;
  return { params, actsPerImage: acts + 2 * dActs };
}

/** G and D as MLPs on 2-D points: three hidden layers each */
function countMlp(config: RunConfig): { params: number; actsPerImage: number } {
  const h = config.architecture.hiddenUnits;
  const mlp = (i: number, o: number) => i * h + h + 2 * (h * h + h) + h * o + o;
  return { params: mlp(config.architecture.latentDim, 2) + mlp(2, 1), actsPerImage: 2 * 3 * h * 3 };
}

/** Families with more than one G/D pair or wider blocks, relative to the DCGAN count. */
const FAMILY_FACTOR: Partial<Record<RunConfig['family'], number>> = { cyclegan: 2, pix2pix: 1.5, stylegan: 1.5, sagan: 1.3 };

/**
 * An estimate: exact for DCGAN-shaped families (W1 is counted layer by layer), scaled for the
 * families whose networks differ, MLP-exact for 2-D points.
 */
export function estimateRunMemory(config: RunConfig, image: ImageShape, datasetCount: number, layout: 'images' | 'paired' | 'unpaired' | 'points' = 'images'): MemoryEstimate {
  const counted = layout === 'points' ? countMlp(config) : countDcgan(config, image);
  const f = layout === 'points' ? 1 : (FAMILY_FACTOR[config.family] ?? 1);
  const params = counted.params * f;
  const actsPerImage = counted.actsPerImage * f;
  const slotsPerParam = config.optimizer.g.kind === 'adam' ? 2 : 1;
  // forward activations plus their gradients, with headroom for a gradient penalty's second pass
  const gpFactor = config.regularizers.gradientPenalty > 0 || config.regularizers.r1 > 0 ? 2 : 1;
  const breakdown = {
    parameters: params * F32,
    optimizer: params * slotsPerParam * F32,
    gradients: params * F32,
    activations: 2 * gpFactor * actsPerImage * config.schedule.batchSize * F32,
    dataset: layout === 'points' ? datasetCount * 8 : datasetCount * image.height * image.width * image.channels * (layout === 'images' ? 1 : 2),
    runtime: RUNTIME_BYTES,
  };
  return { totalBytes: Object.values(breakdown).reduce((x, y) => x + y, 0), breakdown };
}

/** What a run may use: a share of this machine's memory, and the wasm heap's ceiling for wasm. */
export function memoryLimit(backend: RunConfig['backend'], nativeAvailable: boolean, totalMemory = os.totalmem()): { bytes: number; reason: string } {
  const machine = Math.floor(totalMemory * 0.75);
  const wasm = backend === 'wasm' || (backend === 'auto' && !nativeAvailable);
  if (wasm && WASM_MAX_BYTES < machine) return { bytes: WASM_MAX_BYTES, reason: 'the wasm backend can address at most 4 GiB' };
  return { bytes: machine, reason: `75 % of this machine's ${(totalMemory / 2 ** 30).toFixed(1)} GiB` };
}

/** The largest batch size (≤ the requested one) whose estimate fits, or null when none does. */
export function largestFittingBatch(config: RunConfig, image: ImageShape, datasetCount: number, limitBytes: number, layout: Parameters<typeof estimateRunMemory>[3] = 'images'): number | null {
  let lo = 0;
  let hi = config.schedule.batchSize;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    const fits = estimateRunMemory({ ...config, schedule: { ...config.schedule, batchSize: mid } }, image, datasetCount, layout).totalBytes <= limitBytes;
    if (fits) lo = mid;
    else hi = mid - 1;
  }
  return lo > 0 ? lo : null;
}
