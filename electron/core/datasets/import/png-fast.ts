// A fast path for the commonest import input, small plain PNGs (MNIST-like folders): 8-bit grey or
// RGB, not interlaced, no palette, transparency, colour profile, gamma or orientation chunk. Such a
// file is inflated and unfiltered here in a few microseconds instead of a sharp pipeline (whose
// per-image setup dominates at 28×28). Anything else, or anything odd (bad CRC, truncated, wrong
// inflated length), returns null and goes through sharp, which also words the rejection.
import zlib from 'node:zlib';

export interface SimplePng {
  width: number;
  height: number;
  channels: 1 | 3;
  /** height × width × channels, uint8 */
  data: Uint8Array;
}

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
/** ancillary chunks that do not change the pixels */
const HARMLESS = new Set(['tEXt', 'zTXt', 'iTXt', 'tIME', 'pHYs']);

const crc32: ((data: Uint8Array) => number) | undefined = (zlib as unknown as { crc32?: (data: Uint8Array) => number }).crc32;

function chunkType(buf: Uint8Array, at: number): string {
  return String.fromCharCode(buf[at], buf[at + 1], buf[at + 2], buf[at + 3]);
}

export function decodeSimplePng(buf: Uint8Array, maxPixels: number): SimplePng | null {
  if (!crc32 || buf.length < 57) return null;
  for (let i = 0; i < 8; i++) if (buf[i] !== SIGNATURE[i]) return null;
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let at = 8;
  let width = 0;
  let height = 0;
  let channels: 1 | 3 = 1;
  const idat: Uint8Array[] = [];
  let ended = false;
  let first = true;
  while (at + 12 <= buf.length) {
    const len = view.getUint32(at);
    const type = chunkType(buf, at + 4);
    const end = at + 12 + len;
    if (end > buf.length) return null;
    // the CRC covers the type and the data
    if (crc32(buf.subarray(at + 4, at + 8 + len)) >>> 0 !== view.getUint32(at + 8 + len)) return null;
    const data = buf.subarray(at + 8, at + 8 + len);
    if (first) {
      if (type !== 'IHDR' || len !== 13) return null;
      width = view.getUint32(at + 8);
      height = view.getUint32(at + 12);
      const depth = data[8];
      const colour = data[9];
      if (depth !== 8 || (colour !== 0 && colour !== 2) || data[10] !== 0 || data[11] !== 0 || data[12] !== 0) return null;
      if (width === 0 || height === 0 || width * height > maxPixels) return null;
      channels = colour === 0 ? 1 : 3;
      first = false;
    } else if (type === 'IDAT') idat.push(data);
    else if (type === 'IEND') {
      ended = true;
      break;
    } else if (!HARMLESS.has(type)) return null;
    at = end;
  }
  if (!ended || idat.length === 0) return null;
  const stride = width * channels;
  const expected = height * (stride + 1);
  let raw: Buffer;
  try {
    raw = zlib.inflateSync(idat.length === 1 ? idat[0] : Buffer.concat(idat), { maxOutputLength: expected + 1 });
  } catch {
    return null;
  }
  if (raw.length !== expected) return null;
  const out = new Uint8Array(height * stride);
  const bpp = channels;
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const src = y * (stride + 1) + 1;
    const dst = y * stride;
    const up = dst - stride;
    switch (filter) {
      case 0:
        out.set(raw.subarray(src, src + stride), dst);
        break;
      case 1:
        for (let x = 0; x < stride; x++) out[dst + x] = (raw[src + x] + (x >= bpp ? out[dst + x - bpp] : 0)) & 255;
        break;
      case 2:
        for (let x = 0; x < stride; x++) out[dst + x] = (raw[src + x] + (y > 0 ? out[up + x] : 0)) & 255;
        break;
      case 3:
        for (let x = 0; x < stride; x++) {
          const a = x >= bpp ? out[dst + x - bpp] : 0;
          const b = y > 0 ? out[up + x] : 0;
          out[dst + x] = (raw[src + x] + ((a + b) >> 1)) & 255;
        }
        break;
      case 4:
        for (let x = 0; x < stride; x++) {
          const a = x >= bpp ? out[dst + x - bpp] : 0;
          const b = y > 0 ? out[up + x] : 0;
          const c = x >= bpp && y > 0 ? out[up + x - bpp] : 0;
          const p = a + b - c;
          const pa = Math.abs(p - a);
          const pb = Math.abs(p - b);
          const pc = Math.abs(p - c);
          out[dst + x] = (raw[src + x] + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c)) & 255;
        }
        break;
      default:
        return null;
    }
  }
  return { width, height, channels, data: out };
}
