// Fixtures for the import tests, all generated on the spot (never downloaded, never committed):
// images through sharp, BMPs, zips from a small writer that can also produce the malicious
// archives a real zipper refuses to (absolute paths, "..", symlinks, lying sizes), IDX, CIFAR and
// .npy bytes by hand.
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import sharp from 'sharp';

const made: string[] = [];
process.once('exit', () => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

/** A temporary folder, removed when the test process exits. */
export function tempDir(prefix: string): string {
  const d = mkdtempSync(path.join(os.tmpdir(), prefix));
  made.push(d);
  return d;
}

export function writeFiles(root: string, files: Record<string, Buffer | string>): void {
  for (const [rel, data] of Object.entries(files)) {
    const file = path.join(root, rel);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, data);
  }
}

/** Every file below a folder, relative, sorted. */
export function listTree(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string, rel: string) => {
    for (const n of readdirSync(dir)) {
      const p = path.join(dir, n);
      const r = rel ? `${rel}/${n}` : n;
      if (statSync(p).isDirectory()) walk(p, r);
      else out.push(r);
    }
  };
  walk(root, '');
  return out.sort();
}

/** A w×h raw image whose pixel (x, y, c) = f(x, y, c). */
export function rawImage(w: number, h: number, channels: number, f: (x: number, y: number, c: number) => number): Buffer {
  const b = Buffer.alloc(w * h * channels);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let c = 0; c < channels; c++) b[(y * w + x) * channels + c] = f(x, y, c) & 255;
  return b;
}

export async function encode(raw: Buffer, w: number, h: number, channels: 1 | 2 | 3 | 4, format: 'png' | 'jpeg' | 'webp' | 'gif' | 'tiff', opts: { depth16?: boolean } = {}): Promise<Buffer> {
  let img = sharp(raw, { raw: { width: w, height: h, channels } });
  // raw grey input would otherwise be written as RGB
  if (opts.depth16) img = img.toColourspace(channels <= 2 ? 'grey16' : 'rgb16');
  else if (channels <= 2) img = img.toColourspace('b-w');
  switch (format) {
    case 'png':
      return img.png().toBuffer();
    case 'jpeg':
      return img.jpeg({ quality: 95 }).toBuffer();
    case 'webp':
      return img.webp({ lossless: true }).toBuffer();
    case 'gif':
      return img.gif().toBuffer();
    case 'tiff':
      return img.tiff({ compression: 'lzw' }).toBuffer();
  }
}

/** A solid or patterned PNG, a quick way to a valid image. */
export function png(w: number, h: number, channels: 1 | 3 | 4, f: (x: number, y: number, c: number) => number): Promise<Buffer> {
  return encode(rawImage(w, h, channels, f), w, h, channels, 'png');
}

/** A PNG that declares w×h in its header but holds one tiny row (the decompression-bomb shape). */
export async function hugePngHeader(w: number, h: number): Promise<Buffer> {
  const small = await png(4, 4, 1, () => 0);
  const out = Buffer.from(small);
  out.writeUInt32BE(w, 16);
  out.writeUInt32BE(h, 20);
  // fix the IHDR CRC so the header itself is well-formed
  out.writeUInt32BE(zlib.crc32(out.subarray(12, 29)) >>> 0, 29);
  return out;
}

/** Uncompressed 24-bit BMP (bottom-up) of an RGB raw image. */
export function bmp24(w: number, h: number, rgb: Buffer): Buffer {
  const stride = Math.ceil((w * 3) / 4) * 4;
  const data = Buffer.alloc(54 + stride * h);
  data.write('BM', 0, 'latin1');
  data.writeUInt32LE(data.length, 2);
  data.writeUInt32LE(54, 10);
  data.writeUInt32LE(40, 14);
  data.writeInt32LE(w, 18);
  data.writeInt32LE(h, 22);
  data.writeUInt16LE(1, 26);
  data.writeUInt16LE(24, 28);
  for (let y = 0; y < h; y++) {
    const row = 54 + (h - 1 - y) * stride;
    for (let x = 0; x < w; x++) {
      const s = (y * w + x) * 3;
      data[row + x * 3] = rgb[s + 2];
      data[row + x * 3 + 1] = rgb[s + 1];
      data[row + x * 3 + 2] = rgb[s];
    }
  }
  return data;
}

/** 8-bit paletted BMP (top-down) with a grey palette: pixel value = palette index. */
export function bmp8Grey(w: number, h: number, grey: Buffer): Buffer {
  const stride = Math.ceil(w / 4) * 4;
  const off = 54 + 256 * 4;
  const data = Buffer.alloc(off + stride * h);
  data.write('BM', 0, 'latin1');
  data.writeUInt32LE(data.length, 2);
  data.writeUInt32LE(off, 10);
  data.writeUInt32LE(40, 14);
  data.writeInt32LE(w, 18);
  data.writeInt32LE(-h, 22);
  data.writeUInt16LE(1, 26);
  data.writeUInt16LE(8, 28);
  data.writeUInt32LE(256, 46);
  for (let i = 0; i < 256; i++) data.fill(i, 54 + i * 4, 54 + i * 4 + 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data[off + y * stride + x] = grey[y * w + x];
  return data;
}

export interface ZipEntrySpec {
  name: string | Buffer;
  data?: Buffer;
  method?: 'store' | 'deflate';
  /** unix mode, e.g. 0o120777 for a symlink; default a regular file */
  mode?: number;
  /** lie in the headers about the inflated size */
  declaredSize?: number;
}

/** A minimal zip writer (local headers, central directory, end record) that writes whatever it is told. */
export function makeZip(entries: ZipEntrySpec[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = typeof e.name === 'string' ? Buffer.from(e.name, 'utf8') : e.name;
    const data = e.data ?? Buffer.alloc(0);
    const method = e.method === 'deflate' ? 8 : 0;
    const body = method === 8 ? zlib.deflateRawSync(data) : data;
    const crc = zlib.crc32(data) >>> 0;
    const size = e.declaredSize ?? data.length;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0x800, 6);
    local.writeUInt16LE(method, 8);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(size, 22);
    local.writeUInt16LE(name.length, 26);
    locals.push(local, name, body);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE((3 << 8) | 20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x800, 8);
    central.writeUInt16LE(method, 10);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(body.length, 20);
    central.writeUInt32LE(size, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(((e.mode ?? 0o100644) << 16) >>> 0, 38);
    central.writeUInt32LE(offset, 42);
    centrals.push(central, name);
    offset += 30 + name.length + body.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}

export function idxImages(n: number, h: number, w: number, pixel: (i: number, y: number, x: number) => number): Buffer {
  const b = Buffer.alloc(16 + n * h * w);
  b.writeUInt32BE(0x00000803, 0);
  b.writeUInt32BE(n, 4);
  b.writeUInt32BE(h, 8);
  b.writeUInt32BE(w, 12);
  for (let i = 0; i < n; i++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) b[16 + i * h * w + y * w + x] = pixel(i, y, x);
  return b;
}

export function idxLabels(labels: number[]): Buffer {
  const b = Buffer.alloc(8 + labels.length);
  b.writeUInt32BE(0x00000801, 0);
  b.writeUInt32BE(labels.length, 4);
  labels.forEach((l, i) => (b[8 + i] = l));
  return b;
}

/** CIFAR-10 records (label, then planar R, G, B 32×32); CIFAR-100 adds a coarse label first. */
export function cifarRecords(labels: number[], pixel: (i: number, c: number, p: number) => number, variant: 10 | 100 = 10): Buffer {
  const rec = variant === 10 ? 3073 : 3074;
  const b = Buffer.alloc(labels.length * rec);
  labels.forEach((l, i) => {
    const o = i * rec;
    if (variant === 100) b[o] = Math.floor(l / 5);
    b[o + rec - 3073] = l;
    for (let c = 0; c < 3; c++) for (let p = 0; p < 1024; p++) b[o + rec - 3072 + c * 1024 + p] = pixel(i, c, p);
  });
  return b;
}

/** A .npy file (format 1.0) of the given dtype and shape. */
export function npy(descr: string, shape: number[], data: ArrayBufferView): Buffer {
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  const pad = 64 - ((10 + header.length + 1) % 64);
  header += ' '.repeat(pad === 64 ? 0 : pad) + '\n';
  const pre = Buffer.alloc(10);
  Buffer.from('\x93NUMPY', 'latin1').copy(pre);
  pre[6] = 1;
  pre[7] = 0;
  pre.writeUInt16LE(header.length, 8);
  return Buffer.concat([pre, Buffer.from(header, 'latin1'), Buffer.from(data.buffer, data.byteOffset, data.byteLength)]);
}
