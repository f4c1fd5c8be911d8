// Array formats: MNIST-style IDX (RELIABILITY D4), CIFAR-10/100 binary batches and NumPy .npy.
// Each parser checks every declared number against the bytes actually there and throws a
// FileRejected naming what is wrong; none trusts a header to size an allocation.
import zlib from 'node:zlib';
import { FileRejected, formatBytes } from './source-tree.ts';

/** N items of H×W×C uint8, HWC, with optional labels. */
export interface ImageArray {
  count: number;
  height: number;
  width: number;
  channels: 1 | 3;
  data: Uint8Array;
  labels: Uint8Array | null;
  notes: string[];
}

export function gunzipCapped(buf: Buffer, maxBytes: number): Buffer {
  try {
    return zlib.gunzipSync(buf, { maxOutputLength: maxBytes });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ERR_BUFFER_TOO_LARGE' || e instanceof RangeError) throw new FileRejected(`gzip output exceeds ${formatBytes(maxBytes)} (cap)`);
    throw new FileRejected(`corrupt gzip data (${e.message})`);
  }
}

// ---- IDX -----------------------------------------------------------------------------------------

export type IdxFile = { kind: 'images'; count: number; height: number; width: number; data: Uint8Array } | { kind: 'labels'; count: number; data: Uint8Array };

const hex = (n: number) => `0x${n.toString(16).padStart(8, '0')}`;

/** Parses an IDX file (gunzipped first when it is gzip), images 0x00000803 or labels 0x00000801. */
export function parseIdx(input: Buffer, maxBytes: number, maxPixels: number): IdxFile {
  const buf = input[0] === 0x1f && input[1] === 0x8b ? gunzipCapped(input, maxBytes) : input;
  if (buf.length < 8) throw new FileRejected(`truncated IDX header (${buf.length} bytes)`);
  const magic = buf.readUInt32BE(0);
  if (buf[0] !== 0 || buf[1] !== 0) throw new FileRejected(`wrong IDX magic ${hex(magic)}: expected 0x00000803 (images) or 0x00000801 (labels)`);
  if (buf[2] !== 0x08) throw new FileRejected(`wrong IDX type byte 0x${buf[2].toString(16).padStart(2, '0')}: only unsigned bytes (0x08) are supported`);
  const dims = buf[3];
  if (dims !== 3 && dims !== 1) throw new FileRejected(`wrong IDX magic ${hex(magic)}: ${dims} dimensions, expected 3 (images, 0x00000803) or 1 (labels, 0x00000801)`);
  const header = 4 + 4 * dims;
  if (buf.length < header) throw new FileRejected(`truncated IDX header (${buf.length} bytes, ${header} needed)`);
  const shape = Array.from({ length: dims }, (_, i) => buf.readUInt32BE(4 + 4 * i));
  if (shape[0] === 0) throw new FileRejected('IDX file declares 0 items');
  if (dims === 3) {
    const [n, h, w] = shape;
    if (h === 0 || w === 0 || h * w > maxPixels || h > 65535 || w > 65535) throw new FileRejected(`impossible IDX image dimensions ${h}×${w}`);
    const expected = header + n * h * w;
    if (n * h * w > maxBytes) throw new FileRejected(`impossible IDX dimensions: ${n}×${h}×${w} is more than ${formatBytes(maxBytes)} (cap)`);
    checkLength(buf.length, expected, 'IDX');
    return { kind: 'images', count: n, height: h, width: w, data: new Uint8Array(buf.buffer, buf.byteOffset + header, n * h * w) };
  }
  checkLength(buf.length, header + shape[0], 'IDX');
  return { kind: 'labels', count: shape[0], data: new Uint8Array(buf.buffer, buf.byteOffset + header, shape[0]) };
}

function checkLength(got: number, expected: number, what: string): void {
  if (got < expected) throw new FileRejected(`truncated ${what} data: ${got} bytes, the header declares ${expected}`);
  if (got > expected) throw new FileRejected(`${got - expected} trailing bytes after the ${what} data the header declares`);
}

// ---- CIFAR ---------------------------------------------------------------------------------------

export const CIFAR_RECORD = { 10: 1 + 3072, 100: 2 + 3072 } as const;
export const CIFAR10_CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];

/** Which CIFAR variant a file of this size and name can be; null when neither. */
export function cifarVariant(size: number, name: string): 10 | 100 | null {
  const ten = size > 0 && size % CIFAR_RECORD[10] === 0;
  const hundred = size > 0 && size % CIFAR_RECORD[100] === 0;
  if (ten && hundred) return /data_batch|test_batch/.test(name) ? 10 : 100;
  return ten ? 10 : hundred ? 100 : null;
}

/** CIFAR records: label byte(s) then 1024 R, 1024 G, 1024 B (planar 32×32); the fine label for CIFAR-100. */
export function parseCifar(buf: Buffer, variant: 10 | 100): ImageArray {
  const rec = CIFAR_RECORD[variant];
  if (buf.length === 0 || buf.length % rec !== 0) throw new FileRejected(`${buf.length} bytes is not a whole number of CIFAR-${variant} records (${rec} bytes each)`);
  const n = buf.length / rec;
  const data = new Uint8Array(n * 3072);
  const labels = new Uint8Array(n);
  const skip = rec - 3072;
  for (let i = 0; i < n; i++) {
    const r = i * rec;
    const label = buf[r + skip - 1];
    if (label >= variant) throw new FileRejected(`record ${i}: label ${label} is outside 0–${variant - 1} (not a CIFAR-${variant} batch?)`);
    labels[i] = label;
    const src = r + skip;
    const dst = i * 3072;
    for (let p = 0; p < 1024; p++) {
      data[dst + p * 3] = buf[src + p];
      data[dst + p * 3 + 1] = buf[src + 1024 + p];
      data[dst + p * 3 + 2] = buf[src + 2048 + p];
    }
  }
  return { count: n, height: 32, width: 32, channels: 3, data, labels, notes: [] };
}

// ---- NumPy ---------------------------------------------------------------------------------------

export interface NpyArray {
  dtype: string;
  shape: number[];
  /** the values, copied into a typed array of their kind */
  values: Uint8Array | Float32Array | Float64Array | Int32Array | Int16Array | Int8Array | Uint16Array | Uint32Array | BigInt64Array;
}

const NPY_TYPES: Record<string, { size: number; make: (b: ArrayBuffer, n: number) => NpyArray['values'] }> = {
  u1: { size: 1, make: (b, n) => new Uint8Array(b, 0, n) },
  i1: { size: 1, make: (b, n) => new Int8Array(b, 0, n) },
  u2: { size: 2, make: (b, n) => new Uint16Array(b, 0, n) },
  i2: { size: 2, make: (b, n) => new Int16Array(b, 0, n) },
  u4: { size: 4, make: (b, n) => new Uint32Array(b, 0, n) },
  i4: { size: 4, make: (b, n) => new Int32Array(b, 0, n) },
  i8: { size: 8, make: (b, n) => new BigInt64Array(b, 0, n) },
  f4: { size: 4, make: (b, n) => new Float32Array(b, 0, n) },
  f8: { size: 8, make: (b, n) => new Float64Array(b, 0, n) },
};

/** Parses a .npy file (format versions 1–3, little-endian or byte-sized types, C order). */
export function parseNpy(buf: Buffer, maxBytes: number): NpyArray {
  if (buf.length < 10 || buf.subarray(0, 6).toString('latin1') !== '\x93NUMPY') throw new FileRejected('not a .npy file (wrong magic)');
  const major = buf[6];
  if (major < 1 || major > 3) throw new FileRejected(`unsupported .npy format version ${major}`);
  const headerLen = major === 1 ? buf.readUInt16LE(8) : buf.length >= 12 ? buf.readUInt32LE(8) : Infinity;
  const start = major === 1 ? 10 : 12;
  if (start + headerLen > buf.length || headerLen > 65536) throw new FileRejected('truncated .npy header');
  const header = buf.subarray(start, start + headerLen).toString(major === 3 ? 'utf8' : 'latin1');
  const descr = header.match(/'descr'\s*:\s*'([^']*)'/)?.[1];
  const fortran = header.match(/'fortran_order'\s*:\s*(True|False)/)?.[1];
  const shapeText = header.match(/'shape'\s*:\s*\(([^)]*)\)/)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) throw new FileRejected('malformed .npy header');
  if (fortran === 'True') throw new FileRejected('Fortran-ordered .npy arrays are not supported (save with C order)');
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map(Number);
  if (shape.some((d) => !Number.isSafeInteger(d) || d < 0)) throw new FileRejected(`impossible .npy shape (${shapeText})`);
  const m = descr.match(/^([<>|=])([uif])(\d)$/);
  const key = m ? `${m[2]}${m[3]}` : '';
  const type = NPY_TYPES[key];
  if (!m || !type) throw new FileRejected(`unsupported .npy dtype ${descr}: use uint8 or float32 images and integer labels`);
  if (m[1] === '>' && type.size > 1) throw new FileRejected(`big-endian .npy dtype ${descr} is not supported`);
  const count = shape.reduce((a, b) => a * b, 1);
  if (count * type.size > maxBytes) throw new FileRejected(`impossible .npy shape (${shapeText}): more than ${formatBytes(maxBytes)} (cap)`);
  checkLength(buf.length, start + headerLen + count * type.size, '.npy');
  const copy = new ArrayBuffer(count * type.size);
  new Uint8Array(copy).set(buf.subarray(start + headerLen));
  return { dtype: descr, shape, values: type.make(copy, count) };
}

/** An image array from a parsed .npy: (N,H,W), (N,H,W,C) with C 1/3/4, or channels-first (N,C,H,W). */
export function npyImages(arr: NpyArray, maxPixels: number): ImageArray {
  const notes: string[] = [];
  const s = arr.shape;
  let n: number, h: number, w: number, c: number;
  let channelsFirst = false;
  if (s.length === 3) [n, h, w, c] = [s[0], s[1], s[2], 1];
  else if (s.length === 4 && [1, 3, 4].includes(s[3])) [n, h, w, c] = s;
  else if (s.length === 4 && [1, 3].includes(s[1])) {
    [n, c, h, w] = s;
    channelsFirst = true;
    notes.push('channels-first (N,C,H,W) array transposed');
  } else throw new FileRejected(`.npy shape (${s.join(', ')}) is not (N,H,W) or (N,H,W,C) with C = 1, 3 or 4`);
  if (n === 0 || h === 0 || w === 0 || h * w > maxPixels) throw new FileRejected(`impossible .npy image dimensions (${s.join(', ')})`);
  const v = arr.values;
  let scale = (x: number) => x;
  if (!(v instanceof Uint8Array)) {
    if (!(v instanceof Float32Array || v instanceof Float64Array)) throw new FileRejected(`images must be uint8 or float32, not ${arr.dtype}`);
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = 0; i < v.length; i++) {
      const x = v[i];
      if (Number.isNaN(x)) throw new FileRejected(`NaN at element ${i}`);
      if (x < lo) lo = x;
      if (x > hi) hi = x;
    }
    if (lo >= 0 && hi <= 1) {
      scale = (x) => x * 255;
      notes.push('float values in [0, 1] scaled to 0–255');
    } else if (lo >= -1 && hi <= 1) {
      scale = (x) => (x + 1) * 127.5;
      notes.push('float values in [-1, 1] scaled to 0–255');
    } else if (lo >= 0 && hi <= 255) {
      notes.push('float values in [0, 255] rounded');
    } else {
      throw new FileRejected(`float values span [${lo}, ${hi}]: expected [0, 1], [-1, 1] or [0, 255]`);
    }
  }
  const outC: 1 | 3 = c === 1 ? 1 : 3;
  if (c === 4) notes.push('alpha channel dropped');
  const data = new Uint8Array(n * h * w * outC);
  const hw = h * w;
  for (let i = 0; i < n; i++) {
    for (let p = 0; p < hw; p++) {
      for (let k = 0; k < outC; k++) {
        const src = channelsFirst ? i * c * hw + k * hw + p : (i * hw + p) * c + k;
        const x = Number(v[src]);
        data[(i * hw + p) * outC + k] = Math.max(0, Math.min(255, Math.round(scale(x))));
      }
    }
  }
  return { count: n, height: h, width: w, channels: outC, data, labels: null, notes };
}

/** Class labels from a 1-D integer .npy (values 0–255). */
export function npyLabels(arr: NpyArray): Uint8Array {
  if (arr.shape.length !== 1) throw new FileRejected(`labels must be 1-D, got shape (${arr.shape.join(', ')})`);
  const v = arr.values;
  if (v instanceof Float32Array || v instanceof Float64Array) throw new FileRejected(`labels must be integers, not ${arr.dtype}`);
  const out = new Uint8Array(arr.shape[0]);
  for (let i = 0; i < out.length; i++) {
    const x = Number(v[i]);
    if (x < 0 || x > 255) throw new FileRejected(`label ${x} at ${i} is outside 0–255`);
    out[i] = x;
  }
  return out;
}
