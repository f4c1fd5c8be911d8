// Optimizers with explicit, named state. tfjs's own optimizers key their slots by the global
// variable name and restore them by position; ours key by the model's logical parameter names,
// so a checkpoint restores exactly (RELIABILITY F3) and reads the same on every backend.
import * as tf from '@tensorflow/tfjs-core';
import type { OptimizerConfig } from '../../common/config.ts';
import type { TensorEntry } from '../trainer/checkpoint.ts';

const EPS = 1e-8;

export interface Optimizer {
  readonly kind: OptimizerConfig['kind'];
  /** number of updates applied so far */
  readonly iterations: number;
  apply(params: [string, tf.Variable][], grads: Record<string, tf.Tensor>): void;
  /** slot tensors by name, for checkpoints */
  slots(): [string, tf.Variable][];
  restore(iterations: number, slots: Map<string, TensorEntry>): void;
  dispose(): void;
}

export function createOptimizer(cfg: OptimizerConfig, scope: string): Optimizer {
  const slots = new Map<string, tf.Variable>();
  let t = 0;
  const slot = (name: string, like: tf.Tensor) => {
    let v = slots.get(name);
    if (!v) {
      v = tf.variable(tf.zerosLike(like), false);
      slots.set(name, v);
    }
    return v;
  };
  return {
    kind: cfg.kind,
    get iterations() {
      return t;
    },
    apply(params, grads) {
      t += 1;
      tf.tidy(() => {
        const lr = cfg.lr;
        const bc1 = 1 - Math.pow(cfg.beta1, t);
        const bc2 = 1 - Math.pow(cfg.beta2, t);
        for (const [name, w] of params) {
          const g = grads[w.name];
          if (!g) continue;
          if (cfg.kind === 'adam') {
            const m = slot(`${scope}/${name}/m`, w);
            const v = slot(`${scope}/${name}/v`, w);
            m.assign(tf.add(tf.mul(m, cfg.beta1), tf.mul(g, 1 - cfg.beta1)));
            v.assign(tf.add(tf.mul(v, cfg.beta2), tf.mul(tf.square(g), 1 - cfg.beta2)));
            const update = tf.div(tf.div(m, bc1), tf.add(tf.sqrt(tf.div(v, bc2)), EPS));
            w.assign(tf.sub(w, tf.mul(update, lr)));
          } else if (cfg.kind === 'rmsprop') {
            // decay rate ρ is beta2 (PyTorch calls it alpha)
            const v = slot(`${scope}/${name}/v`, w);
            v.assign(tf.add(tf.mul(v, cfg.beta2), tf.mul(tf.square(g), 1 - cfg.beta2)));
            w.assign(tf.sub(w, tf.mul(tf.div(g, tf.add(tf.sqrt(v), EPS)), lr)));
          } else {
            // SGD with heavy-ball momentum beta1 (0 = plain SGD)
            if (cfg.beta1 > 0) {
              const m = slot(`${scope}/${name}/m`, w);
              m.assign(tf.add(tf.mul(m, cfg.beta1), g));
              w.assign(tf.sub(w, tf.mul(m, lr)));
            } else {
              w.assign(tf.sub(w, tf.mul(g, lr)));
            }
          }
        }
      });
    },
    slots() {
      return [...slots.entries()];
    },
    restore(iterations, saved) {
      t = iterations;
      for (const [name, entry] of saved) {
        if (!name.startsWith(`${scope}/`)) continue;
        const existing = slots.get(name);
        const value = tf.tensor(entry.data, entry.shape);
        if (existing) {
          existing.assign(value);
          value.dispose();
        } else {
          slots.set(name, tf.variable(value, false));
          value.dispose();
        }
      }
    },
    dispose() {
      for (const v of slots.values()) v.dispose();
      slots.clear();
    },
  };
}
