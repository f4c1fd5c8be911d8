// Which families this build can train, and whether a config fits its data. The config schema
// names every family; a family without a definition here is refused with a clear message.
import type { DataContract, Family, RunConfig } from '../../common/config.ts';
import type { Issue } from '../../common/errors.ts';
import { DCGAN, LSGAN, WGAN, WGAN_GP } from './adversarial.ts';
import { EBGAN } from './ebgan.ts';
import { BEGAN } from './began.ts';
import { SAGAN } from './sagan.ts';
import { CGAN } from './cgan.ts';
import { STYLEGAN } from './stylegan.ts';
import { PIX2PIX } from './pix2pix.ts';
import { CYCLEGAN } from './cyclegan.ts';
import type { DataShape, DatasetLayout, FamilyDefinition } from './types.ts';

export const FAMILY_DEFINITIONS: Partial<Record<Family, FamilyDefinition>> = {
  pix2pix: PIX2PIX,
  cyclegan: CYCLEGAN,
  dcgan: DCGAN,
  wgan: WGAN,
  'wgan-gp': WGAN_GP,
  lsgan: LSGAN,
  ebgan: EBGAN,
  began: BEGAN,
  sagan: SAGAN,
  cgan: CGAN,
  stylegan: STYLEGAN,
};

export function availableFamilies(): Family[] {
  return Object.keys(FAMILY_DEFINITIONS) as Family[];
}

export function familyDefinition(family: Family): FamilyDefinition {
  const def = FAMILY_DEFINITIONS[family];
  if (!def) throw new Error(`family ${family} is not available in this build`);
  return def;
}

const CONTRACT_LAYOUTS: Record<DataContract, DatasetLayout[]> = {
  unconditional: ['images', 'points'],
  conditional: ['images'],
  paired: ['paired'],
  unpaired: ['unpaired'],
};

/** Every reason this config cannot train on data of this shape; empty when it can. */
export function checkRun(config: RunConfig, shape: DataShape): Issue[] {
  const def = FAMILY_DEFINITIONS[config.family];
  if (!def) return [{ path: 'family', message: `family ${config.family} is not available in this build; available: ${availableFamilies().join(', ')}` }];
  const layouts = CONTRACT_LAYOUTS[def.contract];
  if (!layouts.includes(shape.layout)) {
    return [{ path: 'dataset', message: `${config.family} needs ${def.contract} data (${layouts.join(' or ')}), but the dataset is ${shape.layout}` }];
  }
  if (def.contract === 'conditional' && !shape.classes) return [{ path: 'dataset', message: `${config.family} is conditional and needs a labelled dataset; this one has no labels` }];
  return def.check(config, shape);
}
