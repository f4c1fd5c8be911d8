// Named parameters of a model. Each build gets its own tf variable names (tf keeps a global
// registry of variable names), while checkpoints and optimizers use the stable logical names.
import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from './rng.ts';

let buildCounter = 0;

export interface NamedTensor {
  name: string;
  tensor: tf.Tensor;
}

export class ParamSet {
  readonly #trainable = new Map<string, tf.Variable>();
  /** non-trainable state such as batch-norm running statistics */
  readonly #buffers = new Map<string, tf.Variable>();
  readonly #prefix: string;

  constructor(readonly scope: string) {
    this.#prefix = `${scope}#${++buildCounter}/`;
  }

  #add(map: Map<string, tf.Variable>, name: string, value: tf.Tensor, trainable: boolean): tf.Variable {
    if (this.#trainable.has(name) || this.#buffers.has(name)) throw new Error(`duplicate parameter ${this.scope}/${name}`);
    const v = tf.variable(value, trainable, this.#prefix + name);
    value.dispose();
    map.set(name, v);
    return v;
  }

  /** N(0, std) initialisation from the run's seeded RNG (DCGAN uses std 0.02). */
  normal(name: string, shape: number[], rng: Rng, std: number): tf.Variable {
    const size = shape.reduce((a, b) => a * b, 1);
    return this.#add(this.#trainable, name, tf.tensor(rng.fillNormal(new Float32Array(size), std), shape), true);
  }

  constant(name: string, shape: number[], value: number): tf.Variable {
    return this.#add(this.#trainable, name, tf.fill(shape, value), true);
  }

  buffer(name: string, shape: number[], value: number): tf.Variable {
    return this.#add(this.#buffers, name, tf.fill(shape, value), false);
  }

  get(name: string): tf.Variable {
    const v = this.#trainable.get(name) ?? this.#buffers.get(name);
    if (!v) throw new Error(`no parameter ${this.scope}/${name}`);
    return v;
  }

  trainable(): [string, tf.Variable][] {
    return [...this.#trainable.entries()];
  }

  /** everything a checkpoint must hold, trainable first, in a stable order */
  all(): [string, tf.Variable][] {
    return [...this.#trainable.entries(), ...this.#buffers.entries()];
  }

  count(): number {
    let n = 0;
    for (const v of this.#trainable.values()) n += v.size;
    return n;
  }

  /** Loads values by logical name; every parameter must be present with its exact shape. */
  assign(values: Map<string, tf.Tensor>): void {
    for (const [name, v] of this.all()) {
      const t = values.get(name);
      if (!t) throw new Error(`checkpoint is missing ${this.scope}/${name}`);
      if (t.shape.join('x') !== v.shape.join('x')) throw new Error(`checkpoint shape of ${this.scope}/${name} is ${t.shape.join('x')}, model has ${v.shape.join('x')}`);
      v.assign(t);
    }
  }

  dispose(): void {
    for (const [, v] of this.all()) v.dispose();
    this.#trainable.clear();
    this.#buffers.clear();
  }
}
