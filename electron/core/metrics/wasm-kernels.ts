// Float64 kernels (and one float32 product) as a tiny hand-assembled WebAssembly SIMD module. The
// metrics are pure TS (no tfjs, float64 accumulation as numpy does), but plain JS loops over
// Float64Array run at about 0.5 GFMA/s on the build machine while 128-bit WebAssembly SIMD runs many
// times faster, and the O(N·d²) covariances, O(N²·d) distances and O(d³) Householder steps all
// reduce to the kernels below. `gemmNT32` (f32x4 products, float64 output) carries the O(N²·d) Gram
// blocks of KID and the k-NN metrics on float32 features: ~29 GFLOP/s single-threaded on the build
// machine, against ~20 for tfjs-backend-wasm's XNNPACK matMul with a pre-transposed operand and ~1.5
// with transposeB (scripts/bench-metrics.ts `--only gram` measures both). Nothing is downloaded or
// compiled from text: the bytes are generated here. A plain JS implementation of the same kernels is
// the fallback when SIMD is unavailable and the reference the tests compare against.

/** The kernels, on byte offsets into one linear memory. All data are float64 except gemmNT32's float32 operands. */
export interface Kernels {
  readonly simd: boolean;
  /** Float64 view of the whole memory; take it again after `reserve`, which may replace the buffer. */
  readonly f64: Float64Array;
  /** Makes sure at least `bytes` of memory exist; contents are kept. */
  reserve(bytes: number): void;
  /**
   * C[i·ldc + j] (+)= Σ_{k<K} P[i·ldp + k]·Q[j·ldq + k] for i < m, j < n, i.e. C = P·Qᵀ with P (m×K)
   * and Q (n×K) row-major. Requires m % TILE_M = 0, n % TILE_N = 0 and K even (callers pad with
   * zeros); strides and pointers may be odd (unaligned f64x2 loads are fine in WebAssembly).
   */
  gemmNT(p: number, q: number, c: number, m: number, n: number, K: number, ldp: number, ldq: number, ldc: number, accumulate: boolean): void;
  /** Float32 view of the same memory (take it again after `reserve`). */
  readonly f32: Float32Array;
  /**
   * The same product with float32 P and Q (strides ldp, ldq in floats) into float64 C (stride ldc
   * in doubles): each of four f32x4 lanes sums every fourth product of the K slice in float32, the
   * lanes are added in float64 and C (+)= that. Requires m % TILE32_M = 0, n % TILE32_N = 0 and
   * K % 4 = 0 (callers pad with zeros). Symmetric: swapping P and Q gives bit-identical values.
   */
  gemmNT32(p: number, q: number, c: number, m: number, n: number, K: number, ldp: number, ldq: number, ldc: number, accumulate: boolean): void;
  /** Σ a[j]·b[j] for j < len */
  dot(a: number, b: number, len: number): number;
  /** returns Σ row[j]·v[j] and does out[j] += s·row[j]: one row of a symmetric matrix–vector product */
  dotAxpy(row: number, v: number, out: number, len: number, s: number): number;
  /** row[j] -= sv·v[j] + sw·w[j]: one row of a symmetric rank-2 update */
  axpy2(row: number, v: number, w: number, len: number, sv: number, sw: number): void;
}

export const TILE_M = 2;
export const TILE_N = 4;
/** register tile of the float32 product: 4×2 ran at ~29 GFLOP/s on the build machine (2×4 ~27, 3×3 ~19, 3×4 and 4×3 ~14: register spills) */
export const TILE32_M = 4;
export const TILE32_N = 2;

// ---------------------------------------------------------------------------------------------
// a minimal WebAssembly encoder: only the opcodes the kernels use

const uleb = (n: number): number[] => {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
};
const sleb = (n: number): number[] => {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && !(b & 0x40)) || (n === -1 && b & 0x40)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
};
const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
const section = (id: number, bytes: number[]): number[] => [id, ...uleb(bytes.length), ...bytes];
const utf8 = (s: string): number[] => vec([...s].map((c) => [c.charCodeAt(0)]));

const I32 = 0x7f;
const F64 = 0x7c;
const V128 = 0x7b;
const simd = (code: number): number[] => [0xfd, ...uleb(code)];
const op = {
  get: (i: number) => [0x20, ...uleb(i)],
  set: (i: number) => [0x21, ...uleb(i)],
  tee: (i: number) => [0x22, ...uleb(i)],
  i32: (v: number) => [0x41, ...sleb(v)],
  i32Add: [0x6a],
  i32Mul: [0x6c],
  i32And: [0x71],
  i32Shl: [0x74],
  i32LtU: [0x49],
  i32GeU: [0x4f],
  f64Load: (off: number) => [0x2b, 3, ...uleb(off)],
  f64PromoteF32: [0xbb],
  f64Store: (off: number) => [0x39, 3, ...uleb(off)],
  f64Add: [0xa0],
  f64Sub: [0xa1],
  f64Mul: [0xa2],
  f64Zero: [0x44, 0, 0, 0, 0, 0, 0, 0, 0],
  select: [0x1b],
  block: [0x02, 0x40],
  loop: [0x03, 0x40],
  if: [0x04, 0x40],
  end: [0x0b],
  brIf: (d: number) => [0x0d, ...uleb(d)],
  v128Load: (off: number) => [...simd(0), 4, ...uleb(off)],
  v128Store: (off: number) => [...simd(11), 4, ...uleb(off)],
  v128Zero: [...simd(12), ...new Array<number>(16).fill(0)],
  f64x2Splat: simd(20),
  f64x2Lane: (lane: number) => [...simd(33), lane],
  f64x2Add: simd(240),
  f64x2Sub: simd(241),
  f64x2Mul: simd(242),
  f32x4Lane: (lane: number) => [...simd(31), lane],
  f32x4Add: simd(228),
  f32x4Mul: simd(230),
};

type Fn = { params: number[]; results: number[]; locals: number[]; body: number[] };

function assemble(fns: Record<string, Fn>): Uint8Array {
  const entries = Object.entries(fns);
  const types = entries.map(([, f]) => [0x60, ...vec(f.params.map((t) => [t])), ...vec(f.results.map((t) => [t]))]);
  const bodies = entries.map(([, f]) => {
    const code = [...vec(f.locals.map((t) => [1, t])), ...f.body, ...op.end];
    return [...uleb(code.length), ...code];
  });
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0],
    ...section(1, vec(types)),
    ...section(2, vec([[...utf8('env'), ...utf8('memory'), 2, 0, 1]])),
    ...section(3, vec(entries.map((_, i) => uleb(i)))),
    ...section(7, vec(entries.map(([n], i) => [...utf8(n), 0, ...uleb(i)]))),
    ...section(10, vec(bodies)),
  ]);
}

/** `for (i = start; i < end; i += step) body` with i32 locals; nothing runs when start ≥ end */
function forLoop(i: number, end: number, step: number, body: number[]): number[] {
  return [
    ...op.block,
    ...op.get(i), ...op.get(end), ...op.i32GeU, ...op.brIf(0),
    ...op.loop,
    ...body,
    ...op.get(i), ...op.i32(step), ...op.i32Add, ...op.tee(i), ...op.get(end), ...op.i32LtU, ...op.brIf(0),
    ...op.end,
    ...op.end,
  ];
}

/**
 * Register-tiled C = P·Qᵀ: an R×S tile of v128 accumulators, each lane summing every other k
 * (float64) or every fourth k (float32, `f32`: P and Q float32, C float64).
 */
function gemmNTFn(R: number, S: number, f32 = false): Fn {
  const shiftPQ = f32 ? 2 : 3;
  const vMul = f32 ? op.f32x4Mul : op.f64x2Mul;
  const vAdd = f32 ? op.f32x4Add : op.f64x2Add;
  // the tile's horizontal sum in float64: (lane0 + lane1) (+ (lane2 + lane3))
  const hsum = (ac: number): number[] =>
    f32
      ? [...op.get(ac), ...op.f32x4Lane(0), ...op.f64PromoteF32, ...op.get(ac), ...op.f32x4Lane(1), ...op.f64PromoteF32, ...op.f64Add, ...op.get(ac), ...op.f32x4Lane(2), ...op.f64PromoteF32, ...op.get(ac), ...op.f32x4Lane(3), ...op.f64PromoteF32, ...op.f64Add, ...op.f64Add]
      : [...op.get(ac), ...op.f64x2Lane(0), ...op.get(ac), ...op.f64x2Lane(1), ...op.f64Add];
  const [P, Q, C, M, N, K, LDP, LDQ, LDC, ACC] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  let next = 10;
  const i = next++, j = next++, kk = next++, kb = next++, ldcb = next++, cRow = next++, ldpb = next++, ldqb = next++;
  const pr = Array.from({ length: R }, () => next++);
  const qs = Array.from({ length: S }, () => next++);
  const nI32 = next - 10;
  const acc = Array.from({ length: R * S }, () => next++);
  const a = Array.from({ length: R }, () => next++);
  const b = next++;
  const locals = [...new Array<number>(nI32).fill(I32), ...new Array<number>(R * S + R + 1).fill(V128)];
  const kLoop = forLoop(kk, kb, 16, [
    ...a.flatMap((ar, r) => [...op.get(pr[r]), ...op.get(kk), ...op.i32Add, ...op.v128Load(0), ...op.set(ar)]),
    ...qs.flatMap((qj, s) => [
      ...op.get(qj), ...op.get(kk), ...op.i32Add, ...op.v128Load(0), ...op.set(b),
      ...a.flatMap((ar, r) => [...op.get(acc[r * S + s]), ...op.get(ar), ...op.get(b), ...vMul, ...vAdd, ...op.set(acc[r * S + s])]),
    ]),
  ]);
  const stores = acc.flatMap((ac, idx) => {
    const r = Math.floor(idx / S);
    const s = idx % S;
    const addr = [...op.get(cRow), ...op.get(ldcb), ...op.i32(r), ...op.i32Mul, ...op.i32Add];
    // C = (lane0 + lane1) + (accumulate ? C : 0)
    return [...addr, ...hsum(ac), ...addr, ...op.f64Load(s * 8), ...op.f64Zero, ...op.get(ACC), ...op.select, ...op.f64Add, ...op.f64Store(s * 8)];
  });
  const jBody = [
    ...qs.flatMap((qj, s) => [...op.get(Q), ...op.get(j), ...op.i32(s), ...op.i32Add, ...op.get(ldqb), ...op.i32Mul, ...op.i32Add, ...op.set(qj)]),
    ...acc.flatMap((ac) => [...op.v128Zero, ...op.set(ac)]),
    ...op.i32(0), ...op.set(kk),
    ...kLoop,
    // cRow = C + (i·ldc + j)·8
    ...op.get(C), ...op.get(i), ...op.get(ldcb), ...op.i32Mul, ...op.get(j), ...op.i32(3), ...op.i32Shl, ...op.i32Add, ...op.i32Add, ...op.set(cRow),
    ...stores,
  ];
  const iBody = [
    ...pr.flatMap((p, r) => [...op.get(P), ...op.get(i), ...op.i32(r), ...op.i32Add, ...op.get(ldpb), ...op.i32Mul, ...op.i32Add, ...op.set(p)]),
    ...op.i32(0), ...op.set(j),
    ...forLoop(j, N, S, jBody),
  ];
  const body = [
    ...op.get(K), ...op.i32(shiftPQ), ...op.i32Shl, ...op.set(kb),
    ...op.get(LDC), ...op.i32(3), ...op.i32Shl, ...op.set(ldcb),
    ...op.get(LDP), ...op.i32(shiftPQ), ...op.i32Shl, ...op.set(ldpb),
    ...op.get(LDQ), ...op.i32(shiftPQ), ...op.i32Shl, ...op.set(ldqb),
    ...op.i32(0), ...op.set(i),
    ...forLoop(i, M, R, iBody),
  ];
  return { params: new Array<number>(10).fill(I32), results: [], locals, body };
}

/**
 * A streaming loop over len float64s: `pair(off)` handles two elements at byte offset kk+off with
 * f64x2 (unrolled twice, so two independent accumulators), `single` the odd last element at kk.
 */
function streamLoop(lenParam: number, kk: number, end32: number, bytes: number, pair: (off: number, unit: 0 | 1) => number[], single: number[]): number[] {
  return [
    ...op.get(lenParam), ...op.i32(3), ...op.i32Shl, ...op.set(bytes),
    ...op.get(bytes), ...op.i32(~31), ...op.i32And, ...op.set(end32),
    ...op.i32(0), ...op.set(kk),
    ...forLoop(kk, end32, 32, [...pair(0, 0), ...pair(16, 1)]),
    // one more pair if (bytes & 16)
    ...op.get(bytes), ...op.i32(16), ...op.i32And, ...op.if, ...pair(0, 0), ...op.get(kk), ...op.i32(16), ...op.i32Add, ...op.set(kk), ...op.end,
    ...op.get(bytes), ...op.i32(8), ...op.i32And, ...op.if, ...single, ...op.end,
  ];
}

function dotFn(): Fn {
  const [A, B, LEN] = [0, 1, 2];
  const [kk, end32, bytes, acc0, acc1, tail] = [3, 4, 5, 6, 7, 8];
  const at = (base: number, off: number) => [...op.get(base), ...op.get(kk), ...op.i32Add, ...op.v128Load(off)];
  const pair = (off: number, unit: 0 | 1) => {
    const accL = unit ? acc1 : acc0;
    return [...op.get(accL), ...at(A, off), ...at(B, off), ...op.f64x2Mul, ...op.f64x2Add, ...op.set(accL)];
  };
  const single = [...op.get(A), ...op.get(kk), ...op.i32Add, ...op.f64Load(0), ...op.get(B), ...op.get(kk), ...op.i32Add, ...op.f64Load(0), ...op.f64Mul, ...op.set(tail)];
  return {
    params: [I32, I32, I32],
    results: [F64],
    locals: [I32, I32, I32, V128, V128, F64],
    body: [
      ...streamLoop(LEN, kk, end32, bytes, pair, single),
      ...op.get(acc0), ...op.get(acc1), ...op.f64x2Add, ...op.tee(acc0), ...op.f64x2Lane(0), ...op.get(acc0), ...op.f64x2Lane(1), ...op.f64Add, ...op.get(tail), ...op.f64Add,
    ],
  };
}

function dotAxpyFn(): Fn {
  const [ROW, V, OUT, LEN, S] = [0, 1, 2, 3, 4];
  const [kk, end32, bytes, acc0, acc1, sv, r, tail] = [5, 6, 7, 8, 9, 10, 11, 12];
  const addr = (base: number) => [...op.get(base), ...op.get(kk), ...op.i32Add];
  const pair = (off: number, unit: 0 | 1) => {
    const accL = unit ? acc1 : acc0;
    return [
      ...addr(ROW), ...op.v128Load(off), ...op.set(r),
      ...op.get(accL), ...op.get(r), ...addr(V), ...op.v128Load(off), ...op.f64x2Mul, ...op.f64x2Add, ...op.set(accL),
      ...addr(OUT), ...addr(OUT), ...op.v128Load(off), ...op.get(sv), ...op.get(r), ...op.f64x2Mul, ...op.f64x2Add, ...op.v128Store(off),
    ];
  };
  const single = [
    ...addr(ROW), ...op.f64Load(0), ...addr(V), ...op.f64Load(0), ...op.f64Mul, ...op.set(tail),
    ...addr(OUT), ...addr(OUT), ...op.f64Load(0), ...op.get(S), ...addr(ROW), ...op.f64Load(0), ...op.f64Mul, ...op.f64Add, ...op.f64Store(0),
  ];
  return {
    params: [I32, I32, I32, I32, F64],
    results: [F64],
    locals: [I32, I32, I32, V128, V128, V128, V128, F64],
    body: [
      ...op.get(S), ...op.f64x2Splat, ...op.set(sv),
      ...streamLoop(LEN, kk, end32, bytes, pair, single),
      ...op.get(acc0), ...op.get(acc1), ...op.f64x2Add, ...op.tee(acc0), ...op.f64x2Lane(0), ...op.get(acc0), ...op.f64x2Lane(1), ...op.f64Add, ...op.get(tail), ...op.f64Add,
    ],
  };
}

function axpy2Fn(): Fn {
  const [ROW, V, W, LEN, SV, SW] = [0, 1, 2, 3, 4, 5];
  const [kk, end32, bytes, sv, sw] = [6, 7, 8, 9, 10];
  const addr = (base: number) => [...op.get(base), ...op.get(kk), ...op.i32Add];
  const pair = (off: number) => [
    ...addr(ROW),
    ...addr(ROW), ...op.v128Load(off),
    ...op.get(sv), ...addr(V), ...op.v128Load(off), ...op.f64x2Mul,
    ...op.get(sw), ...addr(W), ...op.v128Load(off), ...op.f64x2Mul,
    ...op.f64x2Add, ...op.f64x2Sub, ...op.v128Store(off),
  ];
  const single = [
    ...addr(ROW),
    ...addr(ROW), ...op.f64Load(0),
    ...op.get(SV), ...addr(V), ...op.f64Load(0), ...op.f64Mul,
    ...op.get(SW), ...addr(W), ...op.f64Load(0), ...op.f64Mul,
    ...op.f64Add, ...op.f64Sub, ...op.f64Store(0),
  ];
  return {
    params: [I32, I32, I32, I32, F64, F64],
    results: [],
    locals: [I32, I32, I32, V128, V128],
    body: [...op.get(SV), ...op.f64x2Splat, ...op.set(sv), ...op.get(SW), ...op.f64x2Splat, ...op.set(sw), ...streamLoop(LEN, kk, end32, bytes, pair, single)],
  };
}

export function kernelModuleBytes(tileM = TILE_M, tileN = TILE_N, tile32M = TILE32_M, tile32N = TILE32_N): Uint8Array {
  return assemble({ gemmNT: gemmNTFn(tileM, tileN), gemmNT32: gemmNTFn(tile32M, tile32N, true), dot: dotFn(), dotAxpy: dotAxpyFn(), axpy2: axpy2Fn() });
}

// ---------------------------------------------------------------------------------------------
// instances

const PAGE = 65536;

// The project's lib is ES2023 without DOM, so the few WebAssembly JS-API members used are typed here.
type WasmMemory = { readonly buffer: ArrayBuffer; grow(pages: number): number };
type WasmModule = object;
type WasmApi = {
  Memory: new (desc: { initial: number; maximum?: number }) => WasmMemory;
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (mod: WasmModule, imports: Record<string, Record<string, unknown>>) => { exports: Record<string, unknown> };
};
const wasm = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;

class MemoryHolder {
  // A WebAssembly memory when the engine has one (the wasm kernels need it); else a plain buffer.
  memory: WasmMemory;
  #view: Float64Array;
  #view32: Float32Array;
  constructor(initialBytes: number) {
    const pages = Math.max(1, Math.ceil(initialBytes / PAGE));
    this.memory = wasm ? new wasm.Memory({ initial: pages, maximum: 65536 }) : plainMemory(pages);
    this.#view = new Float64Array(this.memory.buffer);
    this.#view32 = new Float32Array(this.memory.buffer);
  }
  get f64(): Float64Array {
    if (this.#view.buffer !== this.memory.buffer) this.#view = new Float64Array(this.memory.buffer);
    return this.#view;
  }
  get f32(): Float32Array {
    if (this.#view32.buffer !== this.memory.buffer) this.#view32 = new Float32Array(this.memory.buffer);
    return this.#view32;
  }
  reserve(bytes: number): void {
    const have = this.memory.buffer.byteLength;
    if (bytes <= have) return;
    if (bytes > 4 * 1024 ** 3 - PAGE) throw new RangeError(`the metric needs ${(bytes / 1024 ** 3).toFixed(1)} GiB of scratch memory, more than WebAssembly's 4 GiB`);
    this.memory.grow(Math.ceil((bytes - have) / PAGE));
  }
}

function plainMemory(pages: number): WasmMemory {
  let buffer = new ArrayBuffer(pages * PAGE);
  return {
    get buffer() {
      return buffer;
    },
    grow(more: number) {
      const old = buffer;
      buffer = new ArrayBuffer(old.byteLength + more * PAGE);
      new Uint8Array(buffer).set(new Uint8Array(old));
      return old.byteLength / PAGE;
    },
  };
}

type WasmExports = {
  gemmNT(p: number, q: number, c: number, m: number, n: number, K: number, ldp: number, ldq: number, ldc: number, acc: number): void;
  gemmNT32(p: number, q: number, c: number, m: number, n: number, K: number, ldp: number, ldq: number, ldc: number, acc: number): void;
  dot(a: number, b: number, len: number): number;
  dotAxpy(row: number, v: number, out: number, len: number, s: number): number;
  axpy2(row: number, v: number, w: number, len: number, sv: number, sw: number): void;
};

let compiled: WasmModule | null | undefined;

function compileOnce(): WasmModule | null {
  if (compiled === undefined) {
    try {
      compiled = wasm ? new wasm.Module(kernelModuleBytes()) : null;
    } catch {
      compiled = null; // no SIMD in this engine: the JS kernels below take over
    }
  }
  return compiled;
}

export function createWasmKernels(initialBytes = PAGE): Kernels | null {
  const mod = compileOnce();
  if (!mod) return null;
  const mem = new MemoryHolder(initialBytes);
  const ex = new wasm!.Instance(mod, { env: { memory: mem.memory } }).exports as unknown as WasmExports;
  return {
    simd: true,
    get f64() {
      return mem.f64;
    },
    get f32() {
      return mem.f32;
    },
    reserve: (bytes) => mem.reserve(bytes),
    gemmNT: (p, q, c, m, n, K, ldp, ldq, ldc, accumulate) => ex.gemmNT(p, q, c, m, n, K, ldp, ldq, ldc, accumulate ? 1 : 0),
    gemmNT32: (p, q, c, m, n, K, ldp, ldq, ldc, accumulate) => ex.gemmNT32(p, q, c, m, n, K, ldp, ldq, ldc, accumulate ? 1 : 0),
    dot: (a, b, len) => ex.dot(a, b, len),
    dotAxpy: (row, v, out, len, s) => ex.dotAxpy(row, v, out, len, s),
    axpy2: (row, v, w, len, sv, sw) => ex.axpy2(row, v, w, len, sv, sw),
  };
}

/** The same contract in plain JS: the fallback, and the reference in tests. */
export function createJsKernels(initialBytes = PAGE): Kernels {
  const mem = new MemoryHolder(initialBytes);
  return {
    simd: false,
    get f64() {
      return mem.f64;
    },
    get f32() {
      return mem.f32;
    },
    reserve: (bytes) => mem.reserve(bytes),
    gemmNT32(p, q, c, m, n, K, ldp, ldq, ldc, accumulate) {
      // float32 inputs, exact float64 products and sums (the wasm kernel sums lanes in float32)
      const f = mem.f64;
      const h = mem.f32;
      const [P, Q, C] = [p / 4, q / 4, c / 8];
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < n; j++) {
          let s = 0;
          const pi = P + i * ldp;
          const qj = Q + j * ldq;
          for (let k = 0; k < K; k++) s += h[pi + k] * h[qj + k];
          const o = C + i * ldc + j;
          f[o] = accumulate ? f[o] + s : s;
        }
      }
    },
    gemmNT(p, q, c, m, n, K, ldp, ldq, ldc, accumulate) {
      const f = mem.f64;
      const [P, Q, C] = [p / 8, q / 8, c / 8];
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < n; j++) {
          let s = 0;
          const pi = P + i * ldp;
          const qj = Q + j * ldq;
          for (let k = 0; k < K; k++) s += f[pi + k] * f[qj + k];
          const o = C + i * ldc + j;
          f[o] = accumulate ? f[o] + s : s;
        }
      }
    },
    dot(a, b, len) {
      const f = mem.f64;
      let s = 0;
      for (let k = 0; k < len; k++) s += f[a / 8 + k] * f[b / 8 + k];
      return s;
    },
    dotAxpy(row, v, out, len, s) {
      const f = mem.f64;
      let acc = 0;
      for (let k = 0; k < len; k++) {
        const r = f[row / 8 + k];
        acc += r * f[v / 8 + k];
        f[out / 8 + k] += s * r;
      }
      return acc;
    },
    axpy2(row, v, w, len, sv, sw) {
      const f = mem.f64;
      for (let k = 0; k < len; k++) f[row / 8 + k] -= sv * f[v / 8 + k] + sw * f[w / 8 + k];
    },
  };
}

/** SIMD kernels when the engine has them (Node ≥ 16.4, Electron), else the JS ones. */
export function createKernels(initialBytes = PAGE): Kernels {
  return createWasmKernels(initialBytes) ?? createJsKernels(initialBytes);
}
