// CycleGAN (Zhu et al. 2017, "Unpaired Image-to-Image Translation using Cycle-Consistent
// Adversarial Networks"): two generators G_AB: A → B and G_BA: B → A, two PatchGAN discriminators
// D_A and D_B, the least-squares adversarial objective (Mao et al.; §4 "Training details"), the
// cycle-consistency loss λ_cyc·(‖G_BA(G_AB(a)) − a‖₁ + ‖G_AB(G_BA(b)) − b‖₁) (eq. 2), the identity
// loss λ_id·(‖G_AB(b) − b‖₁ + ‖G_BA(a) − a‖₁) (§5.2, Taigman et al.; the paper uses λ_id = ½λ_cyc),
// and a pool of past fakes per D (Shrivastava et al. 2017) so D does not chase G's latest output.
//
// One step follows the reference implementation's order: G_AB and G_BA update jointly, then D_A and
// D_B update jointly on real images versus fakes drawn through the pools.
import * as tf from '@tensorflow/tfjs-core';
import type { RunConfig } from '../../common/config.ts';
import type { Issue } from '../../common/errors.ts';
import { Rng } from '../models/rng.ts';
import { createOptimizer } from '../models/optim.ts';
import { OBJECTIVE_LOSSES } from '../models/objectives.ts';
import type { FeatureNorm } from '../models/unet.ts';
import type { ParamSet } from '../models/params.ts';
import { buildResnetGenerator, RESNET_STAGES } from '../models/resnet-gen.ts';
import { buildPatchDiscriminator } from '../models/patchgan.ts';
import { discriminatorInput, globalNorm } from './shared.ts';
import { checkTranslation, discriminatorPenalties, meanScore, patchDiscriminatorLoss } from './pix2pix.ts';
import type { DataShape, FamilyDefinition, FamilyRuntime, FixedInputs, SampleOutput, StepContext } from './types.ts';

/**
 * The history of generated images one D trains on (Shrivastava et al. 2017; CycleGAN's
 * `ImagePool`): until the pool is full every fake goes in and through; after that each fake, with
 * probability ½, swaps with a random stored one, which D sees instead. The images live in a
 * variable (checkpointed as family state tensors); the fill count is family state.
 */
export class ImagePool {
  readonly images: tf.Variable | null;
  filled = 0;

  constructor(
    readonly size: number,
    imageShape: [number, number, number],
  ) {
    if (size > 0) {
      const init = tf.zeros([size, ...imageShape]);
      this.images = tf.variable(init, false);
      init.dispose();
    } else {
      this.images = null;
    }
  }

  /** The batch D sees for these fresh fakes; updates the pool. Draws from `random` (the step's RNG). */
  query(fresh: tf.Tensor4D, random: () => number): tf.Tensor4D {
    if (!this.images) return fresh;
    const n = fresh.shape[0];
    const size = this.size;
    // index < size: a stored image; index ≥ size: fresh image (index − size). Sequential semantics:
    // a later fake in this batch can draw one that an earlier fake just put in.
    const slots = Int32Array.from({ length: size }, (_, j) => j);
    const picks = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      if (this.filled < size) {
        slots[this.filled++] = size + i;
        picks[i] = size + i;
      } else if (random() < 0.5) {
        const j = Math.min(size - 1, Math.floor(random() * size));
        picks[i] = slots[j];
        slots[j] = size + i;
      } else {
        picks[i] = size + i;
      }
    }
    const all = tf.concat([this.images, fresh], 0);
    this.images.assign(tf.gather(all, tf.tensor1d(slots, 'int32')));
    return tf.gather(all, tf.tensor1d(picks, 'int32')) as tf.Tensor4D;
  }

  dispose(): void {
    this.images?.dispose();
  }
}

export function checkCyclegan(config: RunConfig, shape: DataShape): Issue[] {
  const issues = checkTranslation(config, shape, 'unpaired', RESNET_STAGES);
  if (config.regularizers.l1 > 0) issues.push({ path: 'regularizers.l1', message: 'cyclegan has no paired L1 loss (that is pix2pix on paired data); set regularizers.l1 to 0 and use regularizers.cycle / identity' });
  if (config.architecture.dropout > 0) issues.push({ path: 'architecture.dropout', message: "cyclegan's ResNet generators have no dropout (it is pix2pix's noise source); set architecture.dropout to 0" });
  return issues;
}

/** `${network}/${param}` names, so one optimizer over two networks with the same layer names keeps distinct slots. */
function prefixed(networks: Record<string, ParamSet>, keys: string[]): [string, tf.Variable][] {
  return keys.flatMap((k) => networks[k].trainable().map(([name, v]) => [`${k}/${name}`, v] as [string, tf.Variable]));
}

const l1 = (x: tf.Tensor, y: tf.Tensor) => tf.mean(tf.abs(tf.sub(x, y))) as tf.Scalar;

export function buildCyclegan(config: RunConfig, shape: DataShape, seed: number): FamilyRuntime {
  const arch = config.architecture;
  const c = shape.channels;
  const gSpec = { channels: arch.gChannels, imageChannels: c, norm: arch.gNorm as FeatureNorm };
  const dSpec = { inChannels: c, channels: arch.dChannels, norm: arch.dNorm as FeatureNorm, leak: arch.leak };
  const gAB = buildResnetGenerator(gSpec, Rng.derive(seed, 1), 'G_AB');
  const gBA = buildResnetGenerator(gSpec, Rng.derive(seed, 2), 'G_BA');
  const dA = buildPatchDiscriminator(dSpec, Rng.derive(seed, 11), 'D_A');
  const dB = buildPatchDiscriminator(dSpec, Rng.derive(seed, 12), 'D_B');
  const networks = { G_AB: gAB.params, G_BA: gBA.params, D_A: dA.params, D_B: dB.params };
  const gOpt = createOptimizer(config.optimizer.g, 'g');
  const dOpt = createOptimizer(config.optimizer.d, 'd');
  const gTrainable = prefixed(networks, ['G_AB', 'G_BA']);
  const dTrainable = prefixed(networks, ['D_A', 'D_B']);
  const imageShape: [number, number, number] = [shape.height, shape.width, c];
  // pool A holds generated A images (G_BA's output, for D_A); pool B generated B images (for D_B)
  const poolA = new ImagePool(config.extras.poolSize, imageShape);
  const poolB = new ImagePool(config.extras.poolSize, imageShape);
  const { cycle: lambdaCycle, identity: lambdaIdentity, weightClip } = config.regularizers;
  const loss = OBJECTIVE_LOSSES[config.objective]!;
  // Zhu et al. train G with the plain squared error (D(G(x)) − 1)²; the shared LSGAN loss carries Mao et al.'s ½.
  const gAdversarial = (scores: tf.Tensor): tf.Scalar => (config.objective === 'least-squares' ? (tf.mean(tf.square(tf.sub(scores, 1))) as tf.Scalar) : loss.generator(scores));

  /** one D update of D_A and D_B on these real images and (pooled) fakes */
  const discriminatorStep = (ctx: StepContext, realA: tf.Tensor4D, realB: tf.Tensor4D, fakeA: tf.Tensor4D, fakeB: tf.Tensor4D, withNorm: boolean, out: Record<string, tf.Scalar>) => {
    const inRealA = discriminatorInput(ctx, realA);
    const inRealB = discriminatorInput(ctx, realB);
    const inFakeA = discriminatorInput(ctx, poolA.query(fakeA, ctx.random));
    const inFakeB = discriminatorInput(ctx, poolB.query(fakeB, ctx.random));
    let dReal!: tf.Scalar;
    let dFake!: tf.Scalar;
    const { value, grads } = tf.variableGrads(() => {
      const sRealA = dA.apply(inRealA);
      const sFakeA = dA.apply(inFakeA);
      const sRealB = dB.apply(inRealB);
      const sFakeB = dB.apply(inFakeB);
      let l = tf.add(patchDiscriminatorLoss(ctx, sRealA, sFakeA), patchDiscriminatorLoss(ctx, sRealB, sFakeB)) as tf.Scalar;
      const penA = discriminatorPenalties(ctx, (x) => dA.apply(x as tf.Tensor4D), inRealA, inFakeA);
      const penB = discriminatorPenalties(ctx, (x) => dB.apply(x as tf.Tensor4D), inRealB, inFakeB);
      if (penA && penB) l = tf.add(l, tf.add(penA, penB));
      dReal = tf.keep(tf.mul(tf.add(meanScore(config.objective, sRealA), meanScore(config.objective, sRealB)), 0.5) as tf.Scalar);
      dFake = tf.keep(tf.mul(tf.add(meanScore(config.objective, sFakeA), meanScore(config.objective, sFakeB)), 0.5) as tf.Scalar);
      return l;
    }, dTrainable.map(([, v]) => v));
    if (withNorm) out['grad/d_norm'] = globalNorm(grads);
    dOpt.apply(dTrainable, grads);
    if (weightClip > 0) for (const [, v] of dTrainable) v.assign(tf.clipByValue(v, -weightClip, weightClip));
    out['loss/d'] = value;
    out['d/real'] = tf.clone(dReal);
    out['d/fake'] = tf.clone(dFake);
    tf.dispose([dReal, dFake]);
  };

  return {
    networks,
    generatorKey: 'G_AB',
    optimizers: [gOpt, dOpt],
    trainStep(ctx: StepContext, withGradNorms: boolean) {
      const out: Record<string, tf.Scalar> = {};
      const batch = ctx.batch();
      if (batch.kind !== 'unpaired') throw new Error(`cyclegan needs unpaired batches, got ${batch.kind}`);
      const { a, b } = batch;
      // G step: both generators against both discriminators, plus cycle and identity terms
      let kept: tf.Tensor[] = [];
      const { value: gLoss, grads } = tf.variableGrads(() => {
        const fakeB = gAB.apply(a);
        const fakeA = gBA.apply(b);
        const adv = tf.add(gAdversarial(dB.apply(discriminatorInput(ctx, fakeB))), gAdversarial(dA.apply(discriminatorInput(ctx, fakeA))));
        const cyc = tf.add(l1(gBA.apply(fakeB), a), l1(gAB.apply(fakeA), b));
        let total = tf.add(adv, tf.mul(cyc, lambdaCycle));
        let idt: tf.Scalar | null = null;
        if (lambdaIdentity > 0) {
          idt = tf.add(l1(gAB.apply(b), b), l1(gBA.apply(a), a)) as tf.Scalar;
          total = tf.add(total, tf.mul(idt, lambdaIdentity));
        }
        // the fakes go on to D's step; their values are final, so they leave the tape kept
        kept = [fakeA, fakeB, adv, cyc, ...(idt ? [idt] : [])].map((t) => tf.keep(t));
        return total as tf.Scalar;
      }, gTrainable.map(([, v]) => v));
      if (withGradNorms) out['grad/g_norm'] = globalNorm(grads);
      gOpt.apply(gTrainable, grads);
      const [fakeA, fakeB, adv, cyc, idt] = kept.map((t) => tf.clone(t)) as tf.Tensor4D[];
      tf.dispose(kept);
      out['loss/g'] = gLoss;
      out['loss/g_adv'] = adv as unknown as tf.Scalar;
      out['cycle/loss'] = cyc as unknown as tf.Scalar;
      if (idt) out['identity/loss'] = idt as unknown as tf.Scalar;

      discriminatorStep(ctx, a, b, fakeA, fakeB, withGradNorms && config.schedule.dStepsPerG === 1, out);
      // extra D steps (dStepsPerG > 1) on fresh batches, with fakes from the updated generators
      for (let k = 1; k < config.schedule.dStepsPerG; k++) {
        const more = ctx.batch();
        if (more.kind !== 'unpaired') throw new Error(`cyclegan needs unpaired batches, got ${more.kind}`);
        discriminatorStep(ctx, more.a, more.b, gBA.apply(more.b), gAB.apply(more.a), withGradNorms && k === config.schedule.dStepsPerG - 1, out);
      }
      return out;
    },
    sample(fixed: FixedInputs): SampleOutput {
      if (!fixed.a || !fixed.b) throw new Error('cyclegan samples need fixed images of both domains');
      const n = Math.min(fixed.a.shape[0], fixed.b.shape[0]);
      const a = tf.slice(fixed.a, 0, n);
      const b = tf.slice(fixed.b, 0, n);
      const fakeB = gAB.apply(a);
      const fakeA = gBA.apply(b);
      // each row: a | G_AB(a) | G_BA(G_AB(a)) | b | G_BA(b) | G_AB(G_BA(b))
      const images = tf.reshape(tf.stack([a, fakeB, gBA.apply(fakeB), b, fakeA, gAB.apply(fakeA)], 1), [6 * n, ...imageShape]) as tf.Tensor4D;
      return { kind: 'grid', images, cols: 6 };
    },
    state: () => ({ poolFilledA: poolA.filled, poolFilledB: poolB.filled }),
    restoreState(state: Record<string, unknown>) {
      poolA.filled = typeof state.poolFilledA === 'number' ? state.poolFilledA : 0;
      poolB.filled = typeof state.poolFilledB === 'number' ? state.poolFilledB : 0;
    },
    stateTensors() {
      const out: [string, tf.Variable][] = [];
      if (poolA.images) out.push(['pool_A', poolA.images]);
      if (poolB.images) out.push(['pool_B', poolB.images]);
      return out;
    },
    dispose() {
      for (const p of Object.values(networks)) p.dispose();
      gOpt.dispose();
      dOpt.dispose();
      poolA.dispose();
      poolB.dispose();
    },
  };
}

export const CYCLEGAN: FamilyDefinition = { id: 'cyclegan', contract: 'unpaired', check: checkCyclegan, build: buildCyclegan };
