// Spectral normalisation (Miyato et al. 2018, "Spectral Normalization for GANs"): every normalised
// weight is used as W/σ(W), σ estimated by one power iteration per update. The iteration vector u
// is a non-trainable buffer of the ParamSet (`${layer}/sn_u`), so checkpoints hold it and a resumed
// run continues the same estimate. The new u is computed outside the gradient tape and assigned
// after the optimizer step (as BatchStats are), so σ's gradient flows through W only, as in the paper.
import * as tf from '@tensorflow/tfjs-core';
import type { ParamSet } from './params.ts';
import type { Rng } from './rng.ts';

const EPS = 1e-12;

/** This update's power-iterated u per normalised layer (constants to the gradient tape). */
export type SnVectors = Map<string, tf.Tensor2D>;

/** A kernel by layer name as the forward pass should use it (normalised or raw). */
export type KernelSource = (layer: string) => tf.Tensor;

/**
 * The weight as a matrix whose columns are the kernel's last axis: dense [in, out] as is, conv
 * [kh, kw, in, out] → [kh·kw·in, out], conv-transpose [kh, kw, out, in] → [kh·kw·out, in]. σ of
 * this reshaped matrix is the paper's (and PyTorch's) approximation of the layer's operator norm.
 */
function asMatrix(w: tf.Tensor): tf.Tensor2D {
  const n = w.shape[w.rank - 1];
  return tf.reshape(w, [-1, n]);
}

function normalize(v: tf.Tensor2D): tf.Tensor2D {
  return tf.div(v, tf.add(tf.norm(v), EPS));
}

export class SpectralNorm {
  readonly #layers: string[] = [];

  constructor(readonly params: ParamSet) {}

  get layers(): readonly string[] {
    return this.#layers;
  }

  /** Registers `${layer}/kernel` (already in the ParamSet) and its u buffer, a random unit vector. */
  add(layer: string, rng: Rng): void {
    const w = this.params.get(`${layer}/kernel`);
    const n = w.shape[w.rank - 1];
    const u = this.params.buffer(`${layer}/sn_u`, [n, 1], 0);
    const init = rng.fillNormal(new Float32Array(n));
    const norm = Math.sqrt(init.reduce((s, x) => s + x * x, 0)) || 1;
    tf.tidy(() => u.assign(tf.tensor2d(init.map((x) => x / norm), [n, 1])));
    this.#layers.push(layer);
  }

  /**
   * One power iteration for every normalised layer from the stored u: v = Wu/‖Wu‖, u' = Wᵀv/‖Wᵀv‖.
   * Call it outside tf.variableGrads so the result is a constant of the forward pass.
   */
  iterate(): SnVectors {
    const out: SnVectors = new Map();
    for (const layer of this.#layers) {
      const w = asMatrix(this.params.get(`${layer}/kernel`));
      const v = normalize(tf.matMul(w, this.params.get(`${layer}/sn_u`) as tf.Tensor2D));
      out.set(layer, normalize(tf.matMul(w, v, true, false)));
    }
    return out;
  }

  /**
   * W/σ with σ = ‖W u‖ (= vᵀWu for v = Wu/‖Wu‖): with this update's u when `vectors` is given,
   * else with the stored u (inference, and the player that is not being updated).
   */
  kernel(layer: string, vectors: SnVectors | null): tf.Tensor {
    const w = this.params.get(`${layer}/kernel`);
    const u = vectors?.get(layer) ?? (this.params.get(`${layer}/sn_u`) as tf.Tensor2D);
    const sigma = tf.norm(tf.matMul(asMatrix(w), u));
    return tf.div(w, tf.add(sigma, EPS));
  }

  /** σ of every layer from the stored u, for diagnostics and tests. */
  sigmas(): Map<string, tf.Scalar> {
    return new Map(this.#layers.map((layer) => [layer, tf.norm(tf.matMul(asMatrix(this.params.get(`${layer}/kernel`)), this.params.get(`${layer}/sn_u`) as tf.Tensor2D)) as tf.Scalar]));
  }

  /** u ← u' after the update; the caller's tidy frees `vectors`. */
  commit(vectors: SnVectors): void {
    for (const [layer, u] of vectors) this.params.get(`${layer}/sn_u`).assign(u);
  }

  /** The kernels one forward pass uses: normalised layers through W/σ, the rest raw. */
  source(vectors: SnVectors | null): KernelSource {
    const normalised = new Set(this.#layers);
    return (layer) => (normalised.has(layer) ? this.kernel(layer, vectors) : this.params.get(`${layer}/kernel`));
  }
}
