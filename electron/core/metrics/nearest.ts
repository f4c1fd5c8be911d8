// Nearest neighbours of generated samples in a reference (training) set, in pixel or feature space
// (flattened rows either way), and a memorisation flag: the share of generated samples whose
// nearest training neighbour is closer than the typical (median) training-to-training
// nearest-neighbour distance. For a generator that does not copy, generated-to-train distances
// look like train-to-train ones and the share sits near ½; copies push it towards 1.
import { nearestSquared } from './knn.ts';
import type { Matrix } from './linalg.ts';

export type Neighbours = { k: number; /** query-major, k per query */ indices: Int32Array; distances: Float64Array };

export function nearestNeighbours(query: Matrix, reference: Matrix, k: number): Neighbours {
  if (query.cols !== reference.cols) throw new RangeError(`dimension mismatch: query ${query.cols}, reference ${reference.cols}`);
  const top = nearestSquared(query, reference, k);
  return { k, indices: top.indices, distances: top.values.map(Math.sqrt) };
}

export type Memorisation = { share: number; threshold: number; generatedNearest: Float64Array; trainNearest: Float64Array; nearestIndex: Int32Array };

export function memorisationShare(generated: Matrix, train: Matrix, opts: { thresholdScale?: number } = {}): Memorisation {
  if (train.rows < 2) throw new RangeError('memorisation needs at least 2 training samples (a train-to-train distance)');
  const gen = nearestNeighbours(generated, train, 1);
  const trainNearest = nearestSquared(train, train, 1, { excludeSelf: true }).values.map(Math.sqrt);
  const sorted = Float64Array.from(trainNearest).sort();
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  const threshold = median * (opts.thresholdScale ?? 1);
  let below = 0;
  for (const v of gen.distances) if (v < threshold) below++;
  return { share: generated.rows ? below / generated.rows : 0, threshold, generatedNearest: gen.distances, trainNearest, nearestIndex: gen.indices };
}
