// Caps on everything an import reads (RELIABILITY D1–D3). Each can be lowered in tests; none is
// configurable by the renderer, so a request cannot lift them.

export interface ImportLimits {
  /** folder levels below the root that are walked */
  maxDepth: number;
  /** files (or zip entries) looked at; the rest are listed as rejected */
  maxFiles: number;
  /** bytes of source data read in total (zip: bytes actually inflated) */
  maxTotalBytes: number;
  /** one file or zip entry (images; IDX / CIFAR / .npy files get maxArrayFileBytes) */
  maxFileBytes: number;
  /** one IDX / CIFAR / .npy file, after gunzip */
  maxArrayFileBytes: number;
  /** zip entries in the central directory */
  maxZipEntries: number;
  /** inflated : compressed, checked on the bytes actually inflated once past `ratioGraceBytes` */
  maxCompressionRatio: number;
  ratioGraceBytes: number;
  /** width × height an image may declare before it is decoded (decompression bombs) */
  maxPixels: number;
  /** items in the finished dataset and bytes of its arrays */
  maxItems: number;
  maxOutputBytes: number;
  /** images decoded at once */
  concurrency: number;
}

const MiB = 1024 * 1024;

export const DEFAULT_IMPORT_LIMITS: ImportLimits = {
  maxDepth: 16,
  maxFiles: 500_000,
  maxTotalBytes: 16 * 1024 * MiB,
  maxFileBytes: 64 * MiB,
  maxArrayFileBytes: 2048 * MiB,
  maxZipEntries: 500_000,
  maxCompressionRatio: 100,
  ratioGraceBytes: 1 * MiB,
  maxPixels: 40_000_000,
  maxItems: 2_000_000,
  maxOutputBytes: 1536 * MiB,
  concurrency: 4,
};
