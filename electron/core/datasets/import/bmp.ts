// A small BMP decoder: sharp (libvips) has no BMP loader. Supports what image folders hold in
// practice — uncompressed 24- and 32-bit, 32-bit BI_BITFIELDS with 8-bit masks, and 8-bit (also 1-
// and 4-bit) paletted — and refuses RLE, 16-bit and the rest with a reason. Dimensions are checked
// against the pixel cap before anything is allocated.
import { FileRejected } from './source-tree.ts';

export interface DecodedBmp {
  width: number;
  height: number;
  /** RGB, row-major, top row first */
  data: Uint8Array;
}

export function bmpDimensions(buf: Uint8Array): { width: number; height: number } | null {
  if (buf.length < 26) return null;
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const headerSize = v.getUint32(14, true);
  if (headerSize === 12) return { width: v.getUint16(18, true), height: v.getUint16(20, true) };
  return { width: Math.abs(v.getInt32(18, true)), height: Math.abs(v.getInt32(22, true)) };
}

export function decodeBmp(buf: Uint8Array, maxPixels: number): DecodedBmp {
  if (buf.length < 26 || buf[0] !== 0x42 || buf[1] !== 0x4d) throw new FileRejected('not a BMP file');
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const dataOffset = v.getUint32(10, true);
  const headerSize = v.getUint32(14, true);
  let width: number;
  let rawHeight: number;
  let bpp: number;
  let compression = 0;
  let paletteCount = 0;
  const paletteEntry = headerSize === 12 ? 3 : 4;
  if (headerSize === 12) {
    width = v.getUint16(18, true);
    rawHeight = v.getUint16(20, true);
    bpp = v.getUint16(24, true);
  } else if (headerSize >= 40 && buf.length >= 14 + 40) {
    width = v.getInt32(18, true);
    rawHeight = v.getInt32(22, true);
    bpp = v.getUint16(28, true);
    compression = v.getUint32(30, true);
    paletteCount = v.getUint32(46, true);
  } else {
    throw new FileRejected(`unsupported BMP header (${headerSize} bytes)`);
  }
  const topDown = rawHeight < 0;
  const height = Math.abs(rawHeight);
  if (width <= 0 || height <= 0) throw new FileRejected(`BMP declares impossible dimensions ${width}×${rawHeight}`);
  if (width * height > maxPixels) throw new FileRejected(`declares ${width}×${height} pixels, above the limit of ${maxPixels} (decompression bomb?)`);
  let masks: [number, number, number] | null = null;
  if (compression === 3 && bpp === 32 && headerSize >= 40) {
    // masks follow a 40-byte header, or sit inside V4/V5 headers at the same place
    if (buf.length < 14 + 40 + 12) throw new FileRejected('truncated BMP header');
    masks = [v.getUint32(54, true), v.getUint32(58, true), v.getUint32(62, true)];
    if (!masks.every((m) => [0xff, 0xff00, 0xff0000, 0xff000000].includes(m))) throw new FileRejected('unsupported BMP bit-field masks');
  } else if (compression !== 0) {
    throw new FileRejected(`unsupported BMP compression ${compression === 1 || compression === 2 ? '(RLE)' : compression}`);
  }
  if (![1, 4, 8, 24, 32].includes(bpp)) throw new FileRejected(`unsupported BMP bit depth ${bpp}`);
  let palette: Uint8Array | null = null;
  if (bpp <= 8) {
    const n = paletteCount || 1 << bpp;
    const start = 14 + headerSize;
    if (n > 256 || start + n * paletteEntry > buf.length) throw new FileRejected('truncated or invalid BMP palette');
    palette = new Uint8Array(256 * 3);
    for (let i = 0; i < n; i++) {
      palette[i * 3] = buf[start + i * paletteEntry + 2];
      palette[i * 3 + 1] = buf[start + i * paletteEntry + 1];
      palette[i * 3 + 2] = buf[start + i * paletteEntry];
    }
  }
  const stride = Math.floor((bpp * width + 31) / 32) * 4;
  if (dataOffset + stride * height > buf.length) throw new FileRejected(`truncated BMP: ${buf.length} bytes, the pixels need ${dataOffset + stride * height}`);
  const out = new Uint8Array(width * height * 3);
  const shiftOf = (m: number) => (m === 0xff ? 0 : m === 0xff00 ? 8 : m === 0xff0000 ? 16 : 24);
  const [rs, gs, bs] = masks ? masks.map(shiftOf) : [16, 8, 0];
  for (let y = 0; y < height; y++) {
    const row = dataOffset + (topDown ? y : height - 1 - y) * stride;
    let o = y * width * 3;
    for (let x = 0; x < width; x++, o += 3) {
      if (bpp === 24) {
        const p = row + x * 3;
        out[o] = buf[p + 2];
        out[o + 1] = buf[p + 1];
        out[o + 2] = buf[p];
      } else if (bpp === 32) {
        const px = v.getUint32(row + x * 4, true);
        out[o] = (px >>> rs) & 0xff;
        out[o + 1] = (px >>> gs) & 0xff;
        out[o + 2] = (px >>> bs) & 0xff;
      } else {
        const perByte = 8 / bpp;
        const byte = buf[row + Math.floor(x / perByte)];
        const shift = 8 - bpp * ((x % perByte) + 1);
        const idx = (byte >> shift) & ((1 << bpp) - 1);
        out[o] = palette![idx * 3];
        out[o + 1] = palette![idx * 3 + 1];
        out[o + 2] = palette![idx * 3 + 2];
      }
    }
  }
  return { width, height, data: out };
}
