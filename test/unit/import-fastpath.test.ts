// The plain-PNG fast path (png-fast.ts) must give exactly what sharp gives, and step aside (null)
// for everything it does not handle, so sharp decodes and words the rejection as before.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import type { PngOptions } from 'sharp';
import { decodeSimplePng } from '../../electron/core/datasets/import/png-fast.ts';
import { decodeImage } from '../../electron/core/datasets/import/decode-image.ts';

function noise(w: number, h: number, channels: number, seed: number, smooth: boolean): Buffer {
  const b = Buffer.alloc(w * h * channels);
  let s = seed >>> 0;
  for (let i = 0; i < b.length; i++) {
    s = (Math.imul(s, 1_664_525) + 1_013_904_223) >>> 0;
    const p = Math.floor(i / channels);
    // smooth images make the encoder pick Sub/Up/Average/Paeth filters; noise makes it pick None
    b[i] = smooth ? ((p % w) * 5 + Math.floor(p / w) * 3 + (s >>> 29) + (i % channels) * 40) & 255 : s >>> 24;
  }
  return b;
}

const encode = (raw: Buffer, w: number, h: number, channels: 1 | 2 | 3 | 4, opts: PngOptions = {}) => {
  const img = sharp(raw, { raw: { width: w, height: h, channels } });
  // sharp writes one- and two-band input as RGB(A) unless told the colour space
  return (channels <= 2 ? img.toColourspace('b-w') : img).png(opts).toBuffer();
};

describe('plain-PNG fast path', () => {
  it('decodes 8-bit grey and RGB PNGs exactly as sharp does, every filter type and compression level', async () => {
    let checked = 0;
    for (const channels of [1, 3] as const) {
      for (const [w, h] of [[28, 28], [1, 1], [33, 7], [64, 64]]) {
        for (const smooth of [false, true]) {
          for (const opts of [{ compressionLevel: 0 }, { compressionLevel: 9, adaptiveFiltering: true }, { compressionLevel: 6, adaptiveFiltering: false }]) {
            const raw = noise(w, h, channels, w * 31 + h + channels, smooth);
            const png = await encode(raw, w, h, channels, opts);
            const fast = decodeSimplePng(png, 1e8);
            assert.ok(fast, `${w}×${h}×${channels} ${JSON.stringify(opts)}`);
            assert.equal(fast.channels, channels);
            assert.deepEqual([fast.width, fast.height], [w, h]);
            // sharp hands grey out as three equal bands unless asked for one
            const viaSharp = await (channels === 1 ? sharp(png).toColourspace('b-w') : sharp(png)).raw().toBuffer();
            assert.ok(Buffer.from(fast.data).equals(viaSharp), `${w}×${h}×${channels} smooth=${smooth} ${JSON.stringify(opts)}`);
            assert.ok(Buffer.from(fast.data).equals(raw));
            checked++;
          }
        }
      }
    }
    assert.equal(checked, 48);
  });

  it('decodeImage gives the same pixels with and without the fast path when the size already matches', async () => {
    for (const channels of [1, 3] as const) {
      const raw = noise(28, 28, channels, 7 + channels, true);
      const png = await encode(raw, 28, 28, channels);
      const img = await decodeImage(png, { size: 28, channels, fit: 'crop' }, 1e8);
      const pipeline = sharp(png).resize(28, 28, { fit: 'cover' });
      const viaSharp = await (channels === 1 ? pipeline.grayscale() : pipeline.toColourspace('srgb')).raw().toBuffer();
      assert.ok(Buffer.from(img.pixels).equals(viaSharp));
      assert.deepEqual([img.srcWidth, img.srcHeight, img.format, img.notes], [28, 28, 'png', []]);
    }
  });

  it('steps aside for what it does not handle: alpha, palette, 16-bit, interlaced, bad CRC, truncated, over the pixel cap', async () => {
    const raw3 = noise(16, 16, 3, 3, true);
    const plain = await encode(raw3, 16, 16, 3);
    assert.ok(decodeSimplePng(plain, 1e8));
    assert.equal(decodeSimplePng(await encode(noise(16, 16, 4, 4, true), 16, 16, 4), 1e8), null, 'RGBA');
    assert.equal(decodeSimplePng(await encode(noise(16, 16, 2, 4, true), 16, 16, 2), 1e8), null, 'grey + alpha');
    assert.equal(decodeSimplePng(await encode(raw3, 16, 16, 3, { palette: true }), 1e8), null, 'palette');
    assert.equal(decodeSimplePng(await sharp(raw3, { raw: { width: 16, height: 16, channels: 3 } }).toColourspace('rgb16').png().toBuffer(), 1e8), null, '16-bit');
    assert.equal(decodeSimplePng(await encode(raw3, 16, 16, 3, { progressive: true }), 1e8), null, 'interlaced');
    const badCrc = Buffer.from(plain);
    badCrc[badCrc.length - 20] ^= 0xff;
    assert.equal(decodeSimplePng(badCrc, 1e8), null, 'a flipped byte');
    assert.equal(decodeSimplePng(plain.subarray(0, plain.length - 12), 1e8), null, 'no IEND');
    assert.equal(decodeSimplePng(plain.subarray(0, 40), 1e8), null, 'truncated');
    assert.equal(decodeSimplePng(plain, 255), null, 'over the pixel cap');
    assert.equal(decodeSimplePng(Buffer.from('not a png at all, not even close to one, no, no, no, no'), 1e8), null);
    // and the full path still rejects the broken ones with its own words
    await assert.rejects(decodeImage(plain.subarray(0, 60), { size: 16, channels: 3, fit: 'crop' }, 1e8), /corrupt|truncated/i);
  });
});
