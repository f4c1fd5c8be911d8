// Decodes one image with sharp under a pixel cap and turns it into the dataset's shape at once
// (RELIABILITY D3): EXIF orientation applied, alpha flattened onto black, 16-bit, grey, palette and
// CMYK converted, then centre-cropped, padded or stretched to a square and written as 8-bit grey or
// RGB. Whatever sharp refuses (truncated, corrupt) becomes a per-file rejection.
import sharp from 'sharp';
import type { Metadata, OutputInfo, Sharp } from 'sharp';
import { bmpDimensions, decodeBmp } from './bmp.ts';
import { decodeSimplePng } from './png-fast.ts';
import { isImageFormat, sniffFormat, type ImageFormat, type SniffedFormat } from './sniff.ts';
import { FileRejected } from './source-tree.ts';

export type Fit = 'crop' | 'pad' | 'stretch';

export interface ImageTarget {
  size: number;
  channels: 1 | 3;
  fit: Fit;
}

export interface DecodedImage {
  /** size × size × channels, uint8 */
  pixels: Uint8Array;
  /** source dimensions (of the whole file, also when only a half is used) */
  srcWidth: number;
  srcHeight: number;
  format: ImageFormat;
  /** conversions worth reporting */
  notes: string[];
}

const WHAT: Partial<Record<SniffedFormat, string>> = {
  zip: 'a zip archive (archives inside a source are not opened)',
  gzip: 'a gzip file',
  idx: 'an IDX file',
  npy: 'a NumPy array',
  heif: 'a HEIF/AVIF image (unsupported format)',
  svg: 'an SVG drawing (vector images are not imported)',
};

/** Why a buffer is not a decodable image, or its format. */
export function imageFormatOf(buf: Uint8Array): ImageFormat {
  const format = sniffFormat(buf.subarray(0, 64));
  if (format === 'empty') throw new FileRejected('empty file (0 bytes)');
  if (!isImageFormat(format)) throw new FileRejected(`not an image: the content is ${WHAT[format] ?? 'unrecognised'}`);
  return format;
}

function firstLine(err: unknown): string {
  return ((err as Error).message ?? String(err)).split('\n')[0].replace(/^Input (buffer|file) /, '').trim();
}

const FIT = { crop: 'cover', pad: 'contain', stretch: 'fill' } as const;
/** GAN_STUDIO_IMPORT_FAST_PNG=0 turns the plain-PNG fast path off (scripts/bench-import.ts compares both). */
const FAST_PNG = process.env.GAN_STUDIO_IMPORT_FAST_PNG !== '0';
const BLACK = { r: 0, g: 0, b: 0, alpha: 1 };

/** Opens an image as a sharp pipeline after checking its declared size against the pixel cap. */
async function openImage(buf: Buffer, format: ImageFormat, maxPixels: number): Promise<{ img: Sharp; width: number; height: number; notes: string[] }> {
  const notes: string[] = [];
  if (format === 'bmp') {
    const dims = bmpDimensions(buf);
    if (dims && dims.width * dims.height > maxPixels) throw new FileRejected(`declares ${dims.width}×${dims.height} pixels, above the limit of ${maxPixels} (decompression bomb?)`);
    const bmp = decodeBmp(buf, maxPixels);
    return { img: sharp(bmp.data, { raw: { width: bmp.width, height: bmp.height, channels: 3 } }), width: bmp.width, height: bmp.height, notes };
  }
  // one sharp instance: the header is parsed once, for the checks and for the pipeline
  const img = sharp(buf, { limitInputPixels: maxPixels, pages: 1, sequentialRead: true });
  let meta: Metadata;
  try {
    meta = await img.metadata();
  } catch (err) {
    if (/pixel limit/i.test(String((err as Error).message))) {
      // only the header is read again, to name the declared size
      const m = await sharp(buf, { limitInputPixels: false }).metadata().catch(() => null);
      throw new FileRejected(`declares ${m ? `${m.width}×${m.height}` : 'more'} pixels, above the limit of ${maxPixels} (decompression bomb?)`);
    }
    throw new FileRejected(`corrupt ${format.toUpperCase()} (${firstLine(err)})`);
  }
  const width = meta.autoOrient?.width ?? meta.width ?? 0;
  const height = meta.autoOrient?.height ?? meta.height ?? 0;
  if (!width || !height) throw new FileRejected(`corrupt ${format.toUpperCase()}: no dimensions`);
  if (width * height > maxPixels) throw new FileRejected(`declares ${width}×${height} pixels, above the limit of ${maxPixels} (decompression bomb?)`);
  if (meta.format !== format && !(format === 'tiff' && meta.format === 'tiff')) throw new FileRejected(`content looks like ${format.toUpperCase()} but decodes as ${meta.format}`);
  if (meta.depth && meta.depth !== 'uchar' && meta.depth !== 'char') notes.push(`${meta.depth === 'ushort' ? '16-bit' : meta.depth} samples converted to 8-bit`);
  if (meta.hasAlpha) notes.push('alpha flattened onto black');
  if (meta.space === 'cmyk') notes.push('CMYK converted to RGB');
  if ((meta.pages ?? 1) > 1) notes.push(`first of ${meta.pages} frames used`);
  return { img: img.autoOrient(), width, height, notes };
}

/** Whether the source is grey (one colour channel), from the header only; null when unknown. */
export async function probeGrey(buf: Buffer): Promise<{ grey: boolean; width: number; height: number } | null> {
  try {
    const format = imageFormatOf(buf);
    if (format === 'bmp') {
      const d = bmpDimensions(buf);
      return d && { grey: false, ...d };
    }
    const meta = await sharp(buf, { limitInputPixels: false }).metadata();
    const colour = (meta.channels ?? 3) - (meta.hasAlpha ? 1 : 0);
    return { grey: colour === 1 || meta.space === 'b-w' || meta.space === 'grey16', width: meta.width ?? 0, height: meta.height ?? 0 };
  } catch {
    return null;
  }
}

async function finish(img: Sharp, target: ImageTarget, what: string): Promise<Uint8Array> {
  let pipeline = img.flatten({ background: BLACK }).resize(target.size, target.size, { fit: FIT[target.fit], position: 'centre', background: BLACK });
  pipeline = target.channels === 1 ? pipeline.grayscale() : pipeline.toColourspace('srgb');
  let out: { data: Buffer; info: OutputInfo };
  try {
    out = await pipeline.timeout({ seconds: 60 }).raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
  } catch (err) {
    throw new FileRejected(`corrupt or truncated ${what} (${firstLine(err)})`);
  }
  return fixChannels(out.data, out.info.channels, target.channels, target.size * target.size);
}

/** Makes sure the output has the asked channel count, whatever the colour space produced. */
function fixChannels(data: Uint8Array, got: number, want: 1 | 3, pixels: number): Uint8Array {
  if (got === want) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const out = new Uint8Array(pixels * want);
  for (let p = 0; p < pixels; p++) {
    if (want === 1) out[p] = data[p * got];
    else for (let c = 0; c < 3; c++) out[p * 3 + c] = data[p * got + Math.min(c, got - 1)];
  }
  return out;
}

/**
 * Decodes and preprocesses one image file. `halves` splits a side-by-side A|B image (pix2pix) into
 * its left and right halves, each preprocessed on its own.
 */
export async function decodeImage(buf: Buffer, target: ImageTarget, maxPixels: number): Promise<DecodedImage> {
  const format = imageFormatOf(buf);
  if (format === 'png' && FAST_PNG) {
    // already the target's size and channels: nothing for sharp to do but decode (see png-fast.ts)
    const png = decodeSimplePng(buf, maxPixels);
    if (png && png.width === target.size && png.height === target.size && png.channels === target.channels) return { pixels: png.data, srcWidth: png.width, srcHeight: png.height, format, notes: [] };
  }
  const { img, width, height, notes } = await openImage(buf, format, maxPixels);
  const pixels = await finish(img, target, format.toUpperCase());
  return { pixels, srcWidth: width, srcHeight: height, format, notes };
}

export async function decodeSideBySide(buf: Buffer, target: ImageTarget, maxPixels: number): Promise<{ a: Uint8Array; b: Uint8Array; srcWidth: number; srcHeight: number; format: ImageFormat; notes: string[] }> {
  const format = imageFormatOf(buf);
  const { img, width, height, notes } = await openImage(buf, format, maxPixels);
  const half = Math.floor(width / 2);
  if (half < 1) throw new FileRejected(`too narrow to split into A|B halves (${width}×${height})`);
  // one decode to raw, then both halves from it
  let raw: { data: Buffer; info: OutputInfo };
  try {
    raw = await img.flatten({ background: BLACK }).toColourspace('srgb').raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
  } catch (err) {
    throw new FileRejected(`corrupt or truncated ${format.toUpperCase()} (${firstLine(err)})`);
  }
  const rawInput = { raw: { width: raw.info.width, height: raw.info.height, channels: raw.info.channels as 1 | 2 | 3 | 4 } };
  const a = await finish(sharp(raw.data, rawInput).extract({ left: 0, top: 0, width: half, height: raw.info.height }), target, format.toUpperCase());
  const b = await finish(sharp(raw.data, rawInput).extract({ left: half, top: 0, width: half, height: raw.info.height }), target, format.toUpperCase());
  return { a, b, srcWidth: width, srcHeight: height, format, notes };
}

/** Resizes raw uint8 pixels (an IDX / CIFAR / .npy item) to the target; a copy when nothing changes. */
export async function convertRaw(pixels: Uint8Array, width: number, height: number, channels: 1 | 3, target: ImageTarget): Promise<Uint8Array> {
  if (width === target.size && height === target.size && channels === target.channels) return pixels.slice();
  if (width === target.size && height === target.size) return fixColour(pixels, channels, target.channels, width * height);
  const img = sharp(pixels, { raw: { width, height, channels } });
  return finish(img, target, 'array item');
}

/** Grey ↔ RGB without sharp: grey replicated, RGB to luma (Rec. 601, as sharp's grayscale of sRGB is close to). */
function fixColour(pixels: Uint8Array, from: 1 | 3, to: 1 | 3, n: number): Uint8Array {
  const out = new Uint8Array(n * to);
  for (let p = 0; p < n; p++) {
    if (to === 3) out[p * 3] = out[p * 3 + 1] = out[p * 3 + 2] = pixels[p];
    else out[p] = Math.round(0.299 * pixels[p * from] + 0.587 * pixels[p * from + 1] + 0.114 * pixels[p * from + 2]);
  }
  return out;
}
