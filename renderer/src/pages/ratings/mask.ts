// The mask that follows a timed exposure: seeded grey-level noise at the image's own size, drawn
// on a canvas and used as a data: URL (the CSP allows data: images). Noise masks the afterimage,
// so the exposure really ends when the mask appears.

/** A data URL of w×h noise; the same seed gives the same mask. */
export function noiseMask(width: number, height: number, seed: number): string {
  const canvas = document.createElement('canvas');
  canvas.width = Math.max(1, width);
  canvas.height = Math.max(1, height);
  const ctx = canvas.getContext('2d');
  if (!ctx) return '';
  const img = ctx.createImageData(canvas.width, canvas.height);
  // mulberry32: small and good enough for a visual mask
  let a = seed >>> 0 || 1;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  for (let i = 0; i < img.data.length; i += 4) {
    const v = Math.floor(next() * 256);
    img.data[i] = v;
    img.data[i + 1] = v;
    img.data[i + 2] = v;
    img.data[i + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
  return canvas.toDataURL('image/png');
}
