// A small seedable PRNG whose whole state is four uint32s, so a checkpoint can store it and a
// resumed run draws exactly the numbers the uninterrupted run would have drawn (RELIABILITY F3).
// sfc32 (Chris Doty-Humphrey's Small Fast Counter): passes PractRand to 2^40+ bytes, trivially
// serialisable. Latents and batch order come from here, not from Math.random or tf.random*.

export type RngState = [number, number, number, number];

export class Rng {
  #a: number;
  #b: number;
  #c: number;
  #d: number;

  constructor(seed: number | RngState) {
    if (Array.isArray(seed)) {
      [this.#a, this.#b, this.#c, this.#d] = seed.map((v) => v >>> 0) as RngState;
      return;
    }
    // splitmix32 expands one seed into the four words; then discard a few outputs to mix.
    let s = seed >>> 0;
    const next = () => {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.#a = next();
    this.#b = next();
    this.#c = next();
    this.#d = next();
    for (let i = 0; i < 12; i++) this.nextU32();
  }

  nextU32(): number {
    const t = (((this.#a + this.#b) >>> 0) + this.#d) >>> 0;
    this.#d = (this.#d + 1) >>> 0;
    this.#a = this.#b ^ (this.#b >>> 9);
    this.#b = (this.#c + (this.#c << 3)) >>> 0;
    this.#c = ((this.#c << 21) | (this.#c >>> 11)) >>> 0;
    this.#c = (this.#c + t) >>> 0;
    return t;
  }

  /** uniform in [0, 1) with 32 bits of resolution */
  uniform(): number {
    return this.nextU32() / 4294967296;
  }

  /** integer in [0, n) without modulo bias worth caring about for n ≪ 2^32 */
  int(n: number): number {
    return Math.floor(this.uniform() * n);
  }

  /** standard normal via Box–Muller; no cached spare, so the state stays four words */
  normal(): number {
    let u = 0;
    while (u === 0) u = this.uniform();
    const v = this.uniform();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  fillNormal(out: Float32Array, std = 1): Float32Array {
    for (let i = 0; i < out.length; i++) out[i] = this.normal() * std;
    return out;
  }

  /** Fisher–Yates permutation of 0..n-1 */
  permutation(n: number): Uint32Array {
    const p = new Uint32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = p[i];
      p[i] = p[j];
      p[j] = t;
    }
    return p;
  }

  getState(): RngState {
    return [this.#a, this.#b, this.#c, this.#d];
  }

  /** an independent stream derived from this seed and a label, e.g. one per epoch */
  static derive(seed: number, stream: number): Rng {
    return new Rng((Math.imul(seed ^ 0x5bd1e995, 0x27d4eb2d) + Math.imul(stream + 1, 0x165667b1)) >>> 0);
  }
}
