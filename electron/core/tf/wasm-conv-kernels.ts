// Conv2D gradient kernels for the tfjs wasm backend, expressed as the backend's own XNNPACK Conv2D
// so that training runs at GEMM speed (see design/PERFORMANCE.md, W1).
import { backend_util } from '@tensorflow/tfjs';
import type { NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';
import { free, heapF32, reshapeInfo, runWasm, sliceInfo, transposeInfo } from './wasm-backend-access.ts';
import type { WasmBackendLike } from './wasm-backend-access.ts';

type Conv2DPad = 'same' | 'valid' | number | backend_util.ExplicitPadding;

/** Below this many input channels the per-phase convs are too narrow to pay off. */
let splitMinChannels = 16;

/**
 * For tests and benchmarks: choose the Conv2DBackpropInput strategy by channel count
 * (1 forces per-phase convs, Infinity forces the single shared-window conv). Returns the old value.
 */
export function setSplitPhaseMinChannels(channels: number): number {
  const previous = splitMinChannels;
  splitMinChannels = channels;
  return previous;
}

interface KernelArgs {
  inputs: Record<string, TensorInfo>;
  backend: WasmBackendLike;
  attrs: NamedAttrMap;
}

function assertChannelsLast(kernel: string, dataFormat: unknown): void {
  if (dataFormat != null && dataFormat !== 'NHWC') {
    throw new Error(`${kernel} on wasm supports only dataFormat 'NHWC', got '${String(dataFormat)}'`);
  }
}

function explicitPad(top: number, bottom: number, left: number, right: number): backend_util.ExplicitPadding {
  return [[0, 0], [top, bottom], [left, right], [0, 0]];
}

/**
 * One spatial axis of a strided transposed convolution split into stride phases.
 * Output position g = h + padStart = q·s + r receives dy[q − j]·w[r + s·j]; every phase r is a
 * J-tap correlation over dy, and all phases share the same dy window, so they become the output
 * channels of a single stride-1 convolution with no multiplies on inserted zeros.
 */
interface PhasePlan {
  taps: number; // J = ceil(k / s)
  rows: number; // Q: phase outputs per axis, covering every needed g
  padBefore: number;
  padAfter: number;
  cropBefore: number; // negative padding becomes a crop of dy
  cropAfter: number;
  offset: number; // first wanted output inside the interleaved grid
}

function phasePlan(kernel: number, stride: number, outLen: number, inLen: number, padStart: number): PhasePlan {
  const taps = Math.ceil(kernel / stride);
  const qFirst = Math.floor(padStart / stride);
  const qLast = Math.floor((outLen - 1 + padStart) / stride);
  const rows = qLast - qFirst + 1;
  const before = taps - 1 - qFirst;
  const after = rows - inLen + qFirst;
  return {
    taps,
    rows,
    padBefore: Math.max(0, before),
    padAfter: Math.max(0, after),
    cropBefore: Math.max(0, -before),
    cropAfter: Math.max(0, -after),
    offset: padStart - qFirst * stride,
  };
}

/**
 * Filter [Jh, Jw, Co, sh·sw·Ci] whose output-channel block (rh·sw + rw) holds phase (rh, rw) of the
 * spatially flipped, transposed filter; taps past the kernel edge are zero.
 */
function buildPhaseFilter(
  backend: WasmBackendLike, filter: TensorInfo, sh: number, sw: number, jh: number, jw: number,
): TensorInfo {
  const [kh, kw, ci, co] = filter.shape;
  const phaseChannels = sh * sw * ci;
  const out = backend.makeOutput([jh, jw, co, phaseChannels], 'float32');
  // Views after the allocation above: it may have grown the heap.
  const w = heapF32(backend, filter);
  const f = heapF32(backend, out);
  let o = 0;
  for (let th = 0; th < jh; th++) {
    for (let tw = 0; tw < jw; tw++) {
      for (let c = 0; c < co; c++) {
        for (let rh = 0; rh < sh; rh++) {
          const y = rh + sh * (jh - 1 - th);
          for (let rw = 0; rw < sw; rw++) {
            const x = rw + sw * (jw - 1 - tw);
            if (y < kh && x < kw) {
              let src = (y * kw + x) * ci * co + c;
              for (let i = 0; i < ci; i++, src += co) f[o++] = w[src];
            } else {
              f.fill(0, o, o + ci);
              o += ci;
            }
          }
        }
      }
    }
  }
  return out;
}

/**
 * Scatters the phase channels back to pixels and crops to the wanted output in one pass: the
 * shipped DepthToSpace and Slice kernels are generic index loops, slower here than the conv itself.
 */
function interleavePhases(
  backend: WasmBackendLike, phases: TensorInfo, outShape: [number, number, number, number],
  sh: number, sw: number, ph: PhasePlan, pw: PhasePlan,
): TensorInfo {
  const [n, outH, outW, ci] = outShape;
  const [, qh, qw, phaseChannels] = phases.shape;
  const out = backend.makeOutput(outShape, 'float32');
  const src = heapF32(backend, phases);
  const dst = heapF32(backend, out);
  let o = 0;
  for (let b = 0; b < n; b++) {
    for (let h = 0; h < outH; h++) {
      const gh = h + ph.offset;
      const rowBase = (b * qh + Math.floor(gh / sh)) * qw;
      const blockH = (gh % sh) * sw;
      for (let w = 0; w < outW; w++) {
        const gw = w + pw.offset;
        let i = (rowBase + Math.floor(gw / sw)) * phaseChannels + (blockH + (gw % sw)) * ci;
        const end = o + ci;
        while (o < end) dst[o++] = src[i++];
      }
    }
  }
  return out;
}

/**
 * Exact per-phase plan: phase r of an axis covers only the outputs g ≡ r (mod s) that are wanted,
 * so nothing is computed and then cropped. Null when a phase has no taps or would need negative
 * padding; the shared-window plan handles those.
 */
interface AxisPhase {
  taps: number;
  first: number; // first q of this phase
  count: number;
  padBefore: number;
  padAfter: number;
}

function splitPhasePlan(kernel: number, stride: number, outLen: number, inLen: number, padStart: number): AxisPhase[] | null {
  const phases: AxisPhase[] = [];
  for (let r = 0; r < stride; r++) {
    const taps = Math.ceil((kernel - r) / stride);
    const first = Math.ceil((padStart - r) / stride);
    const count = Math.floor((outLen - 1 + padStart - r) / stride) - first + 1;
    const padBefore = taps - 1 - first;
    const padAfter = count - inLen + first;
    if (taps <= 0 || count <= 0 || padBefore < 0 || padAfter < 0) return null;
    phases.push({ taps, first, count, padBefore, padAfter });
  }
  return phases;
}

/** Filter [th, tw, Co, Ci] of phase (rh, rw): the flipped, transposed taps w[rh + sh·j, rw + sw·i]. */
function buildSubFilter(
  backend: WasmBackendLike, filter: TensorInfo, rh: number, rw: number, sh: number, sw: number, th: number, tw: number,
): TensorInfo {
  const [, kw, ci, co] = filter.shape;
  const out = backend.makeOutput([th, tw, co, ci], 'float32');
  const w = heapF32(backend, filter);
  const f = heapF32(backend, out);
  let o = 0;
  for (let a = 0; a < th; a++) {
    const y = rh + sh * (th - 1 - a);
    for (let b = 0; b < tw; b++) {
      const x = rw + sw * (tw - 1 - b);
      const base = (y * kw + x) * ci * co;
      for (let c = 0; c < co; c++) {
        let src = base + c;
        for (let i = 0; i < ci; i++, src += co) f[o++] = w[src];
      }
    }
  }
  return out;
}

/** dx via s² exact phase convolutions (no multiplies on zeros, no cropped rows), interleaved in one pass. */
function backpropInputSplit(
  backend: WasmBackendLike, dy: TensorInfo, filter: TensorInfo, outShape: [number, number, number, number],
  sh: number, sw: number, pt: number, pl: number, rowsH: AxisPhase[], rowsW: AxisPhase[],
): TensorInfo {
  const [n, outH, outW, ci] = outShape;
  const parts: TensorInfo[] = [];
  for (let rh = 0; rh < sh; rh++) {
    for (let rw = 0; rw < sw; rw++) {
      const ah = rowsH[rh];
      const aw = rowsW[rw];
      const sub = buildSubFilter(backend, filter, rh, rw, sh, sw, ah.taps, aw.taps);
      parts.push(runWasm('Conv2D', backend, { x: dy, filter: sub }, {
        strides: [1, 1], dilations: [1, 1], dataFormat: 'NHWC',
        pad: explicitPad(ah.padBefore, ah.padAfter, aw.padBefore, aw.padAfter),
      }));
      free(backend, sub);
    }
  }
  const out = backend.makeOutput(outShape, 'float32');
  const dst = heapF32(backend, out);
  const srcs = parts.map((p) => heapF32(backend, p));
  let o = 0;
  for (let b = 0; b < n; b++) {
    for (let h = 0; h < outH; h++) {
      const gh = h + pt;
      const rh = gh % sh;
      const ah = rowsH[rh];
      const qh = (gh - rh) / sh - ah.first;
      for (let w = 0; w < outW; w++) {
        const gw = w + pl;
        const rw = gw % sw;
        const aw = rowsW[rw];
        const src = srcs[rh * sw + rw];
        let i = ((b * ah.count + qh) * aw.count + (gw - rw) / sw - aw.first) * ci;
        const end = o + ci;
        while (o < end) dst[o++] = src[i++];
      }
    }
  }
  free(backend, ...parts);
  return out;
}

/** dx of a conv2d (and the forward pass of conv2dTranspose) via one phase-decomposed XNNPACK Conv2D. */
export function conv2dBackpropInputWasm({ inputs, backend, attrs }: KernelArgs): TensorInfo {
  const { dy, filter } = inputs;
  const { strides, pad, dataFormat, dimRoundingMode, inputShape } = attrs as {
    strides: number | [number, number]; pad: Conv2DPad; dataFormat?: string;
    dimRoundingMode?: 'floor' | 'round' | 'ceil'; inputShape: [number, number, number, number];
  };
  assertChannelsLast('Conv2DBackpropInput', dataFormat);
  const [kh, kw, ci] = filter.shape;
  const info = backend_util.computeConv2DInfo(
    inputShape, filter.shape as [number, number, number, number], strides, 1, pad, dimRoundingMode, false, 'channelsLast',
  );
  const [n, outH, outW] = inputShape;
  const sh = info.strideHeight;
  const sw = info.strideWidth;
  // Split phases when each phase conv still has enough output channels to keep XNNPACK's GEMM
  // efficient; otherwise one conv over a shared window (a little wasted border) is faster.
  if (ci >= splitMinChannels && sh * sw > 1) {
    const rowsH = splitPhasePlan(kh, sh, outH, dy.shape[1], info.padInfo.top);
    const rowsW = splitPhasePlan(kw, sw, outW, dy.shape[2], info.padInfo.left);
    if (rowsH && rowsW) {
      return backpropInputSplit(backend, dy, filter, [n, outH, outW, ci], sh, sw, info.padInfo.top, info.padInfo.left, rowsH, rowsW);
    }
  }
  const ph = phasePlan(kh, sh, outH, dy.shape[1], info.padInfo.top);
  const pw = phasePlan(kw, sw, outW, dy.shape[2], info.padInfo.left);

  const temps: TensorInfo[] = [];
  let src = dy;
  if (ph.cropBefore + ph.cropAfter + pw.cropBefore + pw.cropAfter > 0) {
    src = sliceInfo(backend, dy, [0, ph.cropBefore, pw.cropBefore, 0], [
      n, dy.shape[1] - ph.cropBefore - ph.cropAfter, dy.shape[2] - pw.cropBefore - pw.cropAfter, dy.shape[3],
    ]);
    temps.push(src);
  }
  const phaseFilter = buildPhaseFilter(backend, filter, sh, sw, ph.taps, pw.taps);
  temps.push(phaseFilter);
  const phases = runWasm('Conv2D', backend, { x: src, filter: phaseFilter }, {
    strides: [1, 1], dilations: [1, 1], dataFormat: 'NHWC',
    pad: explicitPad(ph.padBefore, ph.padAfter, pw.padBefore, pw.padAfter),
  });
  const identityLayout = sh === 1 && sw === 1 && phases.shape[1] === outH && phases.shape[2] === outW;
  const result = identityLayout ? phases : interleavePhases(backend, phases, [n, outH, outW, ci], sh, sw, ph, pw);
  if (!identityLayout) temps.push(phases);
  free(backend, ...temps);
  return result;
}

/**
 * dW of a conv2d as an XNNPACK Conv2D over transposed tensors: input channels act as the batch,
 * the batch as channels, dy as the filter and the forward stride as the dilation.
 */
export function conv2dBackpropFilterWasm({ inputs, backend, attrs }: KernelArgs): TensorInfo {
  const { x, dy } = inputs;
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as {
    strides: number | [number, number]; pad: Conv2DPad; dataFormat?: string;
    dimRoundingMode?: 'floor' | 'round' | 'ceil'; filterShape: [number, number, number, number];
  };
  assertChannelsLast('Conv2DBackpropFilter', dataFormat);
  const info = backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number], filterShape, strides, 1, pad, dimRoundingMode, false, 'channelsLast',
  );
  const [n, h, w, ci] = x.shape;
  const [kh, kw, , co] = filterShape;
  const sh = info.strideHeight;
  const sw = info.strideWidth;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  // Padding after the image that makes the dilated "filter" (dy) produce exactly kh × kw outputs.
  const bottom = kh + (info.outHeight - 1) * sh - h - top;
  const right = kw + (info.outWidth - 1) * sw - w - left;

  const temps: TensorInfo[] = [];
  let src = x;
  if (bottom < 0 || right < 0) {
    src = sliceInfo(backend, x, [0, 0, 0, 0], [n, h + Math.min(0, bottom), w + Math.min(0, right), ci]);
    temps.push(src);
  }
  const xT = transposeInfo(backend, src, [3, 1, 2, 0]);
  const dyT = transposeInfo(backend, dy, [1, 2, 0, 3]);
  temps.push(xT, dyT);
  const dwT = runWasm('Conv2D', backend, { x: xT, filter: dyT }, {
    strides: [1, 1], dilations: [sh, sw], dataFormat: 'NHWC',
    pad: explicitPad(top, Math.max(0, bottom), left, Math.max(0, right)),
  });
  temps.push(dwT);
  const result = ci === 1
    ? reshapeInfo(backend, dwT, [kh, kw, 1, co])
    : transposeInfo(backend, dwT, [1, 2, 0, 3]);
  free(backend, ...temps);
  return result;
}
