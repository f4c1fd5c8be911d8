// Narrow view of the tfjs wasm backend internals that composite kernels need.
// The public BackendWasm type hides the heap helpers, so we describe only what we use.
import { getKernel } from '@tensorflow/tfjs';
import type { DataId, DataType, KernelBackend, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';

export interface WasmBackendLike extends KernelBackend {
  dataIdMap: { get(dataId: DataId): { id: number; memoryOffset: number; shape: number[]; dtype: DataType } | undefined };
  makeOutput(shape: number[], dtype: DataType, memoryOffset?: number): TensorInfo;
  typedArrayFromHeap(info: TensorInfo): Float32Array | Int32Array | Uint8Array;
  disposeData(dataId: DataId, force?: boolean): boolean;
}

export type KernelFuncLike = (args: { inputs: Record<string, TensorInfo>; backend: WasmBackendLike; attrs: NamedAttrMap }) => TensorInfo | TensorInfo[];

/** Originals of wasm kernels we override, captured before the override so we can delegate to them. */
export const originalWasmKernels = new Map<string, KernelFuncLike>();

function kernelFuncFor(name: string): KernelFuncLike {
  const original = originalWasmKernels.get(name);
  if (original) return original;
  const config = getKernel(name, 'wasm');
  if (!config) throw new Error(`wasm kernel ${name} is not registered`);
  return config.kernelFunc as unknown as KernelFuncLike;
}

/** Runs a wasm kernel function directly (no engine bookkeeping): the caller owns and must free the result. */
export function runWasm(name: string, backend: WasmBackendLike, inputs: Record<string, TensorInfo>, attrs: NamedAttrMap = {}): TensorInfo {
  const out = kernelFuncFor(name)({ inputs, backend, attrs });
  return Array.isArray(out) ? out[0] : out;
}

export function free(backend: WasmBackendLike, ...infos: TensorInfo[]): void {
  for (const info of infos) backend.disposeData(info.dataId);
}

/** Float32 view on the wasm heap. Take it right before use: any allocation may grow and detach the heap. */
export function heapF32(backend: WasmBackendLike, info: TensorInfo): Float32Array {
  const view = backend.typedArrayFromHeap(info);
  if (!(view instanceof Float32Array)) throw new Error(`expected float32 tensor, got ${info.dtype}`);
  return view;
}

export function reshapeInfo(backend: WasmBackendLike, x: TensorInfo, shape: number[]): TensorInfo {
  return runWasm('Reshape', backend, { x }, { shape });
}

export function transposeInfo(backend: WasmBackendLike, x: TensorInfo, perm: number[]): TensorInfo {
  return runWasm('Transpose', backend, { x }, { perm });
}

export function sliceInfo(backend: WasmBackendLike, x: TensorInfo, begin: number[], size: number[]): TensorInfo {
  return runWasm('Slice', backend, { x }, { begin, size });
}
