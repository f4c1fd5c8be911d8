// Kernels that let the tfjs wasm backend train conv nets at XNNPACK speed (issue #3, W1).
// Importing the wasm backend here registers its kernels, so the originals we wrap exist whether
// this runs before or after tf.setBackend('wasm').
import '@tensorflow/tfjs-backend-wasm';
import { getKernel, registerKernel, unregisterKernel, util } from '@tensorflow/tfjs';
import type { KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';
import { conv2dBackpropFilterWasm, conv2dBackpropInputWasm } from './wasm-conv-kernels.ts';
import { free, heapF32, originalWasmKernels, transposeInfo } from './wasm-backend-access.ts';
import type { KernelFuncLike, WasmBackendLike } from './wasm-backend-access.ts';

export { registerSecondOrderGradients } from './gradients.ts';

interface KernelArgs {
  inputs: Record<string, TensorInfo>;
  backend: WasmBackendLike;
  attrs: NamedAttrMap;
}

let registered = false;

// Marks our kernel functions so a second copy of this module (another import path, a bundle)
// never captures one of them as "the original" and recurses into itself.
const OURS = Symbol.for('gan-studio.wasm-training-kernel');

function isOurs(fn: unknown): boolean {
  return typeof fn === 'function' && (fn as unknown as Record<symbol, unknown>)[OURS] === true;
}

function original(name: string): KernelFuncLike {
  const fn = originalWasmKernels.get(name);
  if (!fn) throw new Error(`no original wasm kernel ${name}`);
  return fn;
}

function firstOutput(out: TensorInfo | TensorInfo[]): TensorInfo {
  return Array.isArray(out) ? out[0] : out;
}

/** Conv2DBackpropInput: phase-decomposed conv; the shipped naive loop stays as fallback for NCHW. */
function conv2dBackpropInput(args: KernelArgs): TensorInfo {
  const { dataFormat } = args.attrs as { dataFormat?: string };
  if ((dataFormat != null && dataFormat !== 'NHWC') || args.inputs.dy.dtype !== 'float32') {
    return firstOutput(original('Conv2DBackpropInput')(args));
  }
  return conv2dBackpropInputWasm(args);
}

function swapLastTwo(rank: number): number[] {
  const perm = Array.from({ length: rank }, (_, i) => i);
  perm[rank - 2] = rank - 1;
  perm[rank - 1] = rank - 2;
  return perm;
}

/**
 * The shipped wasm matmul only reaches XNNPACK for unbatched, untransposed operands and otherwise
 * runs a naive loop (the transposed products of every dense-layer gradient). Materialising the
 * transpose is O(n²) and puts the O(n³) product on the fast path.
 */
function matMulViaXnnpack(name: 'BatchMatMul' | '_FusedMatMul') {
  return (args: KernelArgs): TensorInfo => {
    const { a, b } = args.inputs;
    const { transposeA, transposeB } = args.attrs as { transposeA: boolean; transposeB: boolean };
    const unbatched = util.sizeFromShape(a.shape.slice(0, -2)) === 1 && util.sizeFromShape(b.shape.slice(0, -2)) === 1;
    if ((!transposeA && !transposeB) || !unbatched || a.dtype !== 'float32' || b.dtype !== 'float32') {
      return firstOutput(original(name)(args));
    }
    const temps: TensorInfo[] = [];
    const a2 = transposeA ? transposeInfo(args.backend, a, swapLastTwo(a.shape.length)) : a;
    const b2 = transposeB ? transposeInfo(args.backend, b, swapLastTwo(b.shape.length)) : b;
    if (a2 !== a) temps.push(a2);
    if (b2 !== b) temps.push(b2);
    const out = firstOutput(original(name)({
      inputs: { ...args.inputs, a: a2, b: b2 },
      backend: args.backend,
      attrs: { ...args.attrs, transposeA: false, transposeB: false },
    }));
    free(args.backend, ...temps);
    return out;
  };
}

/**
 * Tile that is a plain repetition of the whole tensor (leading unit axes tiled, e.g. the
 * [1,1,1,C] → [N,H,W,C] broadcast in the batch-norm gradient) as doubling memcpy; other
 * patterns go to the shipped kernel.
 */
function tile(args: KernelArgs): TensorInfo {
  const { x } = args.inputs;
  const { reps } = args.attrs as { reps: number[] };
  const backend = args.backend;
  let split = 0;
  while (split < reps.length && x.shape[split] === 1) split++;
  const contiguous = reps.slice(split).every((r) => r === 1);
  if (!contiguous || x.dtype !== 'float32') return firstOutput(original('Tile')(args));
  const outShape = x.shape.map((d, i) => d * reps[i]);
  const out = backend.makeOutput(outShape, 'float32');
  const dst = heapF32(backend, out);
  const src = heapF32(backend, x);
  const block = src.length;
  if (block > 0) {
    dst.set(src, 0);
    let filled = block;
    while (filled < dst.length) {
      const n = Math.min(filled, dst.length - filled);
      dst.copyWithin(filled, 0, n);
      filled += n;
    }
  }
  return out;
}

function install(name: string, kernelFunc: (args: KernelArgs) => TensorInfo, overrides: boolean): void {
  const existing = getKernel(name, 'wasm');
  if (existing) {
    if (!overrides || isOurs(existing.kernelFunc)) return; // a newer tfjs provides it, or it is already ours
    originalWasmKernels.set(name, existing.kernelFunc as unknown as KernelFuncLike);
    unregisterKernel(name, 'wasm');
  }
  Object.defineProperty(kernelFunc, OURS, { value: true });
  const config: KernelConfig = {
    kernelName: name,
    backendName: 'wasm',
    kernelFunc: kernelFunc as unknown as KernelFunc,
    // The wrapped kernel's setup (cwrap of its C++ entry) must still run if the backend is
    // initialised after this registration.
    setupFunc: existing?.setupFunc,
  };
  registerKernel(config);
}

/**
 * Registers Conv2DBackpropFilter and faster Conv2DBackpropInput / BatchMatMul / _FusedMatMul / Tile
 * for the 'wasm' backend. Idempotent; may be called before or after `tf.setBackend('wasm')`.
 */
export function registerWasmTrainingKernels(): void {
  if (registered) return;
  registered = true;
  install('Conv2DBackpropFilter', conv2dBackpropFilterWasm, false);
  install('Conv2DBackpropInput', conv2dBackpropInput, true);
  install('BatchMatMul', matMulViaXnnpack('BatchMatMul'), true);
  install('_FusedMatMul', matMulViaXnnpack('_FusedMatMul'), true);
  install('Tile', tile, true);
}
