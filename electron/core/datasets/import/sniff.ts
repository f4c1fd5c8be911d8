// What a file is, from its first bytes (RELIABILITY D1: sniff magic bytes, not extensions).

export type ImageFormat = 'png' | 'jpeg' | 'webp' | 'gif' | 'bmp' | 'tiff';
export type SniffedFormat = ImageFormat | 'zip' | 'gzip' | 'idx' | 'npy' | 'heif' | 'svg' | 'empty' | 'unknown';

export const IMAGE_FORMATS: readonly ImageFormat[] = ['png', 'jpeg', 'webp', 'gif', 'bmp', 'tiff'];

export function isImageFormat(f: SniffedFormat): f is ImageFormat {
  return (IMAGE_FORMATS as readonly string[]).includes(f);
}

const startsWith = (b: Uint8Array, sig: number[], at = 0) => b.length >= at + sig.length && sig.every((v, i) => b[at + i] === v);

/** Sniffs a format from at least the first 16 bytes of a file. */
export function sniffFormat(head: Uint8Array): SniffedFormat {
  if (head.length === 0) return 'empty';
  if (startsWith(head, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'png';
  if (startsWith(head, [0xff, 0xd8, 0xff])) return 'jpeg';
  if (startsWith(head, [0x52, 0x49, 0x46, 0x46]) && startsWith(head, [0x57, 0x45, 0x42, 0x50], 8)) return 'webp';
  if (startsWith(head, [0x47, 0x49, 0x46, 0x38])) return 'gif';
  if (startsWith(head, [0x42, 0x4d]) && head.length >= 18) return 'bmp';
  if (startsWith(head, [0x49, 0x49, 0x2a, 0x00]) || startsWith(head, [0x4d, 0x4d, 0x00, 0x2a])) return 'tiff';
  if (startsWith(head, [0x50, 0x4b, 0x03, 0x04]) || startsWith(head, [0x50, 0x4b, 0x05, 0x06])) return 'zip';
  if (startsWith(head, [0x1f, 0x8b])) return 'gzip';
  if (startsWith(head, [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59])) return 'npy';
  // IDX: two zero bytes, a type byte, a dimension count (MNIST: 0x08 unsigned byte, 1 or 3 dims)
  if (head.length >= 4 && head[0] === 0 && head[1] === 0 && [0x08, 0x09, 0x0b, 0x0c, 0x0d, 0x0e].includes(head[2]) && head[3] >= 1 && head[3] <= 4) return 'idx';
  if (head.length >= 12 && startsWith(head, [0x66, 0x74, 0x79, 0x70], 4)) return 'heif';
  const text = new TextDecoder().decode(head.subarray(0, 64)).trimStart();
  if (text.startsWith('<svg') || (text.startsWith('<?xml') && text.includes('svg'))) return 'svg';
  return 'unknown';
}

/** The format a file name claims, for the report's "extension lies" note. */
export function formatFromExtension(name: string): SniffedFormat | null {
  const ext = name.toLowerCase().match(/\.([a-z0-9]+)$/)?.[1];
  switch (ext) {
    case 'png':
      return 'png';
    case 'jpg':
    case 'jpeg':
    case 'jpe':
      return 'jpeg';
    case 'webp':
      return 'webp';
    case 'gif':
      return 'gif';
    case 'bmp':
    case 'dib':
      return 'bmp';
    case 'tif':
    case 'tiff':
      return 'tiff';
    case 'zip':
      return 'zip';
    case 'gz':
      return 'gzip';
    case 'npy':
      return 'npy';
    default:
      return null;
  }
}
