// Conditional GAN (Mirza & Osindero 2014, "Conditional Generative Adversarial Nets"): the class y
// enters G as a one-hot vector concatenated to z and D either as one-hot feature maps concatenated
// to the image channels or, with `architecture.projection`, through the projection discriminator
// of Miyato & Koyama 2018 (D(x, y) = ψ(φ(x)) + ⟨embed(y), φ(x)⟩). Real batches carry their labels,
// fakes get uniformly random ones, and the sample grid has one row per class. The step is the
// conv two-player runtime of sagan.ts (so SN and self-attention are available here too).
import type { RunConfig } from '../../common/config.ts';
import type { Issue } from '../../common/errors.ts';
import { buildConvGanRuntime, checkConvGan } from './sagan.ts';
import type { DataShape, FamilyDefinition } from './types.ts';

export function checkCgan(config: RunConfig, shape: DataShape): Issue[] {
  if (shape.layout !== 'images') return [{ path: 'dataset', message: `cgan needs a labelled image dataset, but the dataset is ${shape.layout}` }];
  if (!shape.classes || shape.classes < 2) return [{ path: 'dataset', message: `cgan is conditional and needs a labelled dataset with at least 2 classes; this one has ${shape.classes ? 'one class' : 'no labels'}` }];
  return checkConvGan(config, shape);
}

export const CGAN: FamilyDefinition = {
  id: 'cgan',
  contract: 'conditional',
  check: checkCgan,
  build: (config, shape, seed) => buildConvGanRuntime(config, shape, seed, shape.classes ?? 0),
};
