// The work of an evaluation or a classifier training, as run inside the evaluation thread (or
// directly by tests): load, generate, extract, score, render strips; or train, measure, save.
// Cancellation is an AbortSignal checked between batches; nothing here writes the database.
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import type * as TfModule from '@tensorflow/tfjs';
import type { EvalMetric, EvaluationProtocol, Extractor, NeighbourStrip } from '../../common/api-evaluation.ts';
import { ApiError } from '../../common/errors.ts';
import { loadDatasetCache } from '../datasets/cache.ts';
import { trainingDataFromCache } from '../trainer/data-source.ts';
import { readCheckpoint } from '../trainer/checkpoint.ts';
import { Rng } from '../models/rng.ts';
import { asMatrix, memorisationShare, nearestNeighbours, type Matrix } from '../metrics/index.ts';
import { buildClassifier, chooseArchitecture, classifierAccuracy, FEATURE_LAYER, PROBS_LAYER, trainClassifier, type LabelledImages } from './classifier.ts';
import { featureDimOf, loadExtractor, type FeatureExtractor, type ImageShape } from './extractors.ts';
import { ensureBackend, generateFromCheckpoint } from './generate.ts';
import { conformImages, gridDataUrl, listImageFiles, neighbourStrip, probeShape, readImages, type ImageSet } from './images.ts';
import { saveLayersModel } from './model-io.ts';
import type { EvaluateJob, EvaluationResult, TrainExtractorJob } from './protocol.ts';
import { checkFinite, computeScores, normalise, resolveMetrics } from './scoring.ts';

type Tf = typeof TfModule;

export interface JobContext {
  signal: AbortSignal;
  progress(phase: string, fraction: number): void;
}

/** The trainer's backend choice (tensorflow, then wasm with the project's kernels, then cpu), once per thread (shared with the generator). */
export function jobBackend(): Promise<Tf> {
  return ensureBackend().then((r) => r.tf);
}

const cancelled = (signal: AbortSignal) => {
  if (signal.aborted) throw new DOMException('cancelled', 'AbortError');
};

function subsetIndices(count: number, take: number, rng: Rng): number[] {
  if (take >= count) return Array.from({ length: count }, (_, i) => i);
  return Array.from(rng.permutation(count).subarray(0, take)).sort((a, b) => a - b);
}

function pick(images: Uint8Array, idx: number[], shape: ImageShape): ImageSet {
  const size = shape.height * shape.width * shape.channels;
  const out = new Uint8Array(idx.length * size);
  idx.forEach((i, k) => out.set(images.subarray(i * size, (i + 1) * size), k * size));
  return { images: out, count: idx.length, shape };
}

function pixelMatrix(set: ImageSet): Matrix {
  const out = new Float32Array(set.images.length);
  for (let i = 0; i < out.length; i++) out[i] = set.images[i]! / 127.5 - 1;
  return asMatrix(set.count, out.length / Math.max(1, set.count), out);
}

async function extractAll(fe: FeatureExtractor, set: ImageSet, signal: AbortSignal, onBatch: (done: number) => void): Promise<{ features: Float32Array; probs: Float32Array | null; d: number; classes: number }> {
  const batch = 100;
  const parts: Float32Array[] = [];
  const probParts: Float32Array[] = [];
  let classes = 0;
  for (let start = 0; start < set.count; start += batch) {
    cancelled(signal);
    const n = Math.min(batch, set.count - start);
    const r = fe.extract(set.images, start, n, set.shape);
    parts.push(r.features);
    if (r.probs) probParts.push(r.probs);
    classes = r.classes;
    onBatch(start + n);
    await new Promise<void>((res) => setImmediate(res));
  }
  const cat = (list: Float32Array[]) => {
    const out = new Float32Array(list.reduce((a, b) => a + b.length, 0));
    let at = 0;
    for (const p of list) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  };
  const features = cat(parts);
  return { features, probs: probParts.length ? cat(probParts) : null, d: set.count ? features.length / set.count : 0, classes };
}

export async function runEvaluateJob(job: EvaluateJob, ctx: JobContext): Promise<EvaluationResult> {
  const started = performance.now();
  ctx.progress('loading', 0.01);
  const tf = await jobBackend();
  const fe = await loadExtractor(tf, job.extractor);
  try {
    return await evaluateWith(tf, fe, job, ctx, started);
  } finally {
    fe.dispose();
  }
}

async function evaluateWith(tf: Tf, fe: FeatureExtractor, job: EvaluateJob, ctx: JobContext, started: number): Promise<EvaluationResult> {
  const e = fe.extractor;
  const rng = Rng.derive(job.seed, 21);
  let real: ImageSet;
  let fake: ImageSet;
  let train: ImageSet;
  /** dataset (or real-folder subset) index of each training image searched for neighbours */
  let trainIndex: number[];
  let dataDistribution: number[] | null = null;
  let reference: Pick<EvaluationProtocol, 'referenceSplit' | 'reference' | 'referenceHash'>;
  let label: string;
  const warnings: string[] = [];
  let base: Pick<EvaluationResult, 'runId' | 'step' | 'datasetId' | 'sourceKind'>;
  if (job.source.kind === 'run') {
    const s = job.source;
    const data = await loadDatasetCache(s.dataset.dir);
    const m = data.manifest;
    if (m.layout !== 'images' || !data.images) throw new ApiError('invalid_input', `run ${s.runId} trains on ${m.layout} data; evaluation scores image datasets`);
    const shape = { height: m.height, width: m.width, channels: m.channels };
    let refImages = data.images;
    let refCount = m.count;
    if (s.referenceSplit === 'holdout') {
      const count = m.holdout?.count ?? 0;
      const buf = count > 0 ? await fsp.readFile(path.join(s.dataset.dir, 'holdout_images.u8')).catch(() => null) : null;
      if (!buf || buf.byteLength < count * m.height * m.width * m.channels) throw new ApiError('invalid_input', `dataset ${m.id} has no held-out split to score against; use referenceSplit "train"`);
      refImages = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
      refCount = count;
    }
    real = pick(refImages, subsetIndices(refCount, job.n, rng), shape);
    trainIndex = subsetIndices(m.count, job.options.nnReference, Rng.derive(job.seed, 22));
    train = pick(data.images, trainIndex, shape);
    if (e.datasetId === m.id && m.classCounts && e.classNames && e.classNames.length === m.classCounts.length) dataDistribution = normalise(m.classCounts);
    reference = { referenceSplit: s.referenceSplit, reference: m.id, referenceHash: m.contentHash };
    cancelled(ctx.signal);
    ctx.progress('generating', 0.05);
    const ckpt = await readCheckpoint(s.checkpointDir);
    const gen = await generateFromCheckpoint(s.config, trainingDataFromCache(data).shape, ckpt, {
      n: job.n,
      seed: job.seed,
      signal: ctx.signal,
      onProgress: (done) => ctx.progress('generating', 0.05 + 0.3 * (done / job.n)),
    });
    if (gen.usedEma) warnings.push('generated with the EMA generator weights (as the run’s sample grids)');
    fake = { images: gen.images, count: gen.count, shape };
    label = `${s.runName} @ step ${s.step}`;
    base = { runId: s.runId, step: s.step, datasetId: m.id, sourceKind: 'run' };
  } else {
    const s = job.source;
    const realFiles = await listImageFiles(s.realDir, 'real folder');
    const fakeFiles = await listImageFiles(s.fakeDir, 'fake folder');
    const probed = await probeShape(realFiles);
    const shape = e.kind === 'pixel' ? fe.inputShape(probed) : fe.inputShape(probed);
    ctx.progress('decoding real images', 0.03);
    const r = await readImages(realFiles, shape, { max: job.n, seed: job.seed, signal: ctx.signal, onProgress: (d, t) => ctx.progress('decoding real images', 0.03 + 0.15 * (d / t)) });
    const f = await readImages(fakeFiles, shape, { max: job.n, seed: job.seed + 1, signal: ctx.signal, onProgress: (d, t) => ctx.progress('decoding fake images', 0.18 + 0.15 * (d / t)) });
    for (const [set, what] of [[r, 'real'], [f, 'fake']] as const) {
      if (set.skipped.length) warnings.push(`${set.skipped.length} ${what} files could not be decoded and were skipped (first: ${set.skipped[0]})`);
      if (set.count === 0) throw new ApiError('invalid_input', `no ${what} image could be decoded (${set.skipped[0] ?? ''})`);
    }
    real = r;
    fake = f;
    train = r;
    trainIndex = Array.from({ length: r.count }, (_, i) => i);
    reference = { referenceSplit: 'folder', reference: s.realDir, referenceHash: null };
    label = `${path.basename(s.realDir)} vs ${path.basename(s.fakeDir)}`;
    base = { runId: null, step: null, datasetId: null, sourceKind: 'folders' };
  }

  const nativeShape = real.shape;
  const inShape = fe.inputShape(nativeShape);
  const d = featureDimOf(e, nativeShape) || fe.featureDim(nativeShape);
  const { metrics, warnings: skipped } = resolveMetrics(
    job.metrics ?? undefined,
    { d, nReal: real.count, nFake: fake.count, hasProbs: fe.hasProbs, imageSide: Math.min(inShape.height, inShape.width), trainCount: train.count },
    job.options,
  );
  warnings.push(...skipped);
  const has = (m: EvalMetric) => metrics.includes(m);

  ctx.progress('features', 0.36);
  const realIn = await conformImages(real, inShape);
  const fakeIn = await conformImages(fake, inShape);
  const total = realIn.count + fakeIn.count;
  const rf = await extractAll(fe, realIn, ctx.signal, (k) => ctx.progress('features', 0.36 + 0.24 * (k / total)));
  const ff = await extractAll(fe, fakeIn, ctx.signal, (k) => ctx.progress('features', 0.36 + 0.24 * ((realIn.count + k) / total)));
  if (rf.d !== ff.d) throw new ApiError('invalid_input', `feature dimensions differ: real d = ${rf.d}, fake d = ${ff.d}`);
  checkFinite(rf.features, realIn.count, rf.d, 'real features');
  checkFinite(ff.features, fakeIn.count, ff.d, 'fake features');
  const realM = asMatrix(realIn.count, rf.d, rf.features);
  const fakeM = asMatrix(fakeIn.count, ff.d, ff.features);
  const probsM = (p: Float32Array | null, n: number, c: number) => (p && c ? asMatrix(n, c, p) : null);

  const { scores, convention, classCoverage } = await computeScores(
    metrics,
    {
      real: realM,
      fake: fakeM,
      realProbs: probsM(rf.probs, realIn.count, rf.classes),
      fakeProbs: probsM(ff.probs, fakeIn.count, ff.classes),
      realImages: { n: realIn.count, ...inShape, data: realIn.images },
      fakeImages: { n: fakeIn.count, ...inShape, data: fakeIn.images },
      dataDistribution,
    },
    job.options,
    job.seed,
    {
      signal: ctx.signal,
      onMetric: (m, f) => ctx.progress(`metrics: ${m} ${Math.floor(100 * f)} %`, 0.6 + 0.3 * ((metrics.indexOf(m) + f) / metrics.length)),
    },
  );

  const neighbours: NeighbourStrip[] = [];
  if (has('nn')) {
    cancelled(ctx.signal);
    ctx.progress('nearest neighbours', 0.9);
    const rows = Array.from({ length: Math.min(job.options.nnSamples, fake.count) }, (_, i) => i);
    const k = Math.min(job.options.nnK, train.count);
    const strip = async (space: 'pixel' | 'feature', fakeAll: Matrix, trainM: Matrix): Promise<NeighbourStrip> => {
      const mem = memorisationShare(fakeAll, trainM);
      const q = asMatrix(rows.length, fakeAll.cols, fakeAll.data.subarray(0, rows.length * fakeAll.cols));
      const nn = nearestNeighbours(q, trainM, k);
      const idx = rows.map((r) => Array.from(nn.indices.subarray(r * k, (r + 1) * k)));
      const img = await neighbourStrip(fake, rows, train, idx);
      return {
        space,
        image: { dataUrl: img.dataUrl, width: img.width, height: img.height },
        tile: fake.shape.height,
        columns: img.columns,
        rows: rows.map((r) => ({ distances: Array.from(nn.distances.subarray(r * k, (r + 1) * k)), trainIndices: idx[r]!.map((i) => trainIndex[i]!), memorised: mem.generatedNearest[r]! < mem.threshold })),
        threshold: mem.threshold,
        share: mem.share,
      };
    };
    const pixel = await strip('pixel', pixelMatrix(fake), pixelMatrix(train));
    neighbours.push(pixel);
    let featureShare: number | null = null;
    if (e.kind !== 'pixel') {
      const trainIn = await conformImages(train, inShape);
      const tf2 = await extractAll(fe, trainIn, ctx.signal, (n) => ctx.progress('nearest neighbours', 0.9 + 0.05 * (n / trainIn.count)));
      const fs = await strip('feature', fakeM, asMatrix(trainIn.count, tf2.d, tf2.features));
      neighbours.push(fs);
      featureShare = fs.share;
    }
    scores.memorisation = { pixel: pixel.share, feature: featureShare };
    convention.nn = `${convention.nn}; ${train.count} training images searched`;
  }
  void tf;
  ctx.progress('saving', 0.98);
  const fakePreview = await gridDataUrl(fake, 64, 8);
  const protocol: EvaluationProtocol = {
    extractorId: e.id,
    extractorKind: e.kind,
    weightsHash: e.weightsHash,
    featureDim: rf.d,
    inputWidth: inShape.width,
    inputHeight: inShape.height,
    inputChannels: inShape.channels,
    nReal: real.count,
    nFake: fake.count,
    ...reference,
    seed: job.seed,
    convention,
    options: job.options,
    duringTraining: job.duringTraining,
  };
  return {
    ...base,
    label,
    metrics,
    scores,
    protocol,
    warnings,
    durationMs: performance.now() - started,
    neighbours,
    classCoverage: classCoverage && e.classNames ? { classNames: e.classNames, ...classCoverage } : null,
    fakePreview,
  };
}

// ---- classifier training ------------------------------------------------------------------------

export async function runTrainExtractorJob(job: TrainExtractorJob, ctx: JobContext): Promise<Extractor> {
  const started = performance.now();
  ctx.progress('loading', 0.01);
  const tf = await jobBackend();
  const data = await loadDatasetCache(job.dataset.dir);
  const m = data.manifest;
  if (m.layout !== 'images' || !data.images) throw new ApiError('invalid_input', `dataset ${m.id} holds ${m.layout} data; a classifier trains on labelled images`);
  if (!m.classNames || !data.labels) throw new ApiError('invalid_input', `dataset ${m.id} has no labels; a classifier needs a labelled dataset (class folders, IDX or CIFAR labels)`);
  if (m.classNames.length < 2) throw new ApiError('invalid_input', `dataset ${m.id} has one class; a classifier needs at least 2`);
  const shape = { height: m.height, width: m.width, channels: m.channels };
  const size = m.height * m.width * m.channels;
  let trainSet: LabelledImages;
  let evalSet: LabelledImages;
  let accuracySplit: 'holdout' | 'own-split';
  const holdoutCount = m.holdout?.count ?? 0;
  const hImages = holdoutCount > 0 ? await fsp.readFile(path.join(job.dataset.dir, 'holdout_images.u8')).catch(() => null) : null;
  const hLabels = holdoutCount > 0 ? await fsp.readFile(path.join(job.dataset.dir, 'holdout_labels.u8')).catch(() => null) : null;
  const rng = new Rng(job.seed);
  if (hImages && hLabels && hImages.byteLength >= holdoutCount * size && hLabels.byteLength >= holdoutCount) {
    evalSet = { images: new Uint8Array(hImages.buffer, hImages.byteOffset, holdoutCount * size), labels: new Uint8Array(hLabels.buffer, hLabels.byteOffset, holdoutCount), count: holdoutCount };
    const idx = subsetIndices(m.count, job.maxTrain ?? m.count, rng);
    trainSet = { ...pickLabelled(data.images, data.labels, idx, size) };
    accuracySplit = 'holdout';
  } else {
    // no held-out split: keep a seeded 10 % of the training items out of training
    const perm = Array.from(rng.permutation(m.count));
    const evalCount = Math.max(1, Math.floor(m.count / 10));
    evalSet = pickLabelled(data.images, data.labels, perm.slice(0, evalCount), size);
    const rest = perm.slice(evalCount);
    trainSet = pickLabelled(data.images, data.labels, rest.slice(0, job.maxTrain ?? rest.length), size);
    accuracySplit = 'own-split';
  }
  const arch = chooseArchitecture(job.architecture, m.height, m.width, m.channels);
  const model = buildClassifier(tf, arch, shape, m.classNames.length, job.seed);
  try {
    ctx.progress(`training epoch 1/${job.epochs}`, 0.02);
    await trainClassifier(tf, model, trainSet, shape, {
      epochs: job.epochs,
      batchSize: job.batchSize,
      seed: job.seed,
      signal: ctx.signal,
      onProgress: (p) => ctx.progress(`training epoch ${p.epoch}/${p.epochs}`, 0.02 + 0.88 * (((p.epoch - 1) * p.batches + p.batch) / (p.epochs * p.batches))),
    });
    cancelled(ctx.signal);
    ctx.progress('measuring held-out accuracy', 0.91);
    const accuracy = classifierAccuracy(tf, model, evalSet, shape);
    const featureDim = model.getLayer(FEATURE_LAYER).outputShape.at(-1) as number;
    cancelled(ctx.signal);
    ctx.progress('saving', 0.96);
    let record: Extractor | null = null;
    await saveLayersModel(tf, model, job.outDir, ({ weightsSha256 }) => {
      record = {
        id: job.extractorId,
        name: job.name ?? `${arch === 'lenet' ? 'LeNet' : 'ResNet'} classifier on ${m.name}`,
        kind: 'classifier',
        architecture: arch,
        weightsHash: weightsSha256,
        inputWidth: m.width,
        inputHeight: m.height,
        inputChannels: m.channels,
        inputRange: '-1..1',
        featureLayer: FEATURE_LAYER,
        featureDim,
        probsLayer: PROBS_LAYER,
        classNames: m.classNames,
        datasetId: m.id,
        datasetHash: m.contentHash,
        accuracy,
        accuracySplit,
        accuracyCount: evalSet.count,
        source: null,
        training: { epochs: job.epochs, trainCount: trainSet.count, durationMs: performance.now() - started, backend: tf.getBackend(), seed: job.seed },
        createdAt: Date.now(),
      };
      return { 'extractor.json': JSON.stringify(record, null, 1) };
    });
    if (!record) throw new Error('the classifier was not saved');
    return record;
  } finally {
    model.dispose();
  }
}

function pickLabelled(images: Uint8Array, labels: Uint8Array, idx: number[], size: number): LabelledImages {
  const out = new Uint8Array(idx.length * size);
  const lab = new Uint8Array(idx.length);
  idx.forEach((i, k) => {
    out.set(images.subarray(i * size, (i + 1) * size), k * size);
    lab[k] = labels[i]!;
  });
  return { images: out, labels: lab, count: idx.length };
}
