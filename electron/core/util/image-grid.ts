// Tiles same-sized uint8 images (HWC) into one grid with a dark gutter, for previews and samples.
export interface GridImage {
  width: number;
  height: number;
  channels: number;
  pixels: Uint8Array;
}

export const GRID_PAD = 2;
const GUTTER = 24;

export function tileImages(n: number, cols: number, h: number, w: number, c: number, fill: (index: number, out: Uint8Array) => void): GridImage {
  const rows = Math.max(1, Math.ceil(n / cols));
  const width = cols * w + (cols + 1) * GRID_PAD;
  const height = rows * h + (rows + 1) * GRID_PAD;
  const pixels = new Uint8Array(width * height * c).fill(GUTTER);
  const tile = new Uint8Array(h * w * c);
  for (let k = 0; k < n; k++) {
    fill(k, tile);
    const ox = GRID_PAD + (k % cols) * (w + GRID_PAD);
    const oy = GRID_PAD + Math.floor(k / cols) * (h + GRID_PAD);
    for (let y = 0; y < h; y++) pixels.set(tile.subarray(y * w * c, (y + 1) * w * c), ((oy + y) * width + ox) * c);
  }
  return { width, height, channels: c, pixels };
}
