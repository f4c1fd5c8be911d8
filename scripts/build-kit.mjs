// Bundles the offline rater kit's page script (renderer/src/rater-kit/kit.ts and the studio modules it
// shares with the app: exposure timing, staircase, truth encoding, answer keys) into one classic
// script, dist/rater-kit/kit.js. A kit is opened straight from disk (file://), where a page can load
// no ES modules and fetch nothing, so the output is an IIFE for a plain <script src>. Runs as part of
// `npm run build:renderer` (and so on `npm ci`, through `prepare`); electron/core/rating/kit.ts copies
// the result into every exported kit. Usage: node scripts/build-kit.mjs [--outdir <dir>]
import { build } from 'esbuild';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const at = process.argv.indexOf('--outdir');
const outdir = at > 0 && process.argv[at + 1] ? path.resolve(process.argv[at + 1]) : path.join(root, 'dist', 'rater-kit');
const outfile = path.join(outdir, 'kit.js');
const entry = 'renderer/src/rater-kit/kit.ts';

let result;
try {
  result = await build({
    absWorkingDir: root,
    entryPoints: [entry],
    bundle: true,
    format: 'iife',
    platform: 'browser',
    // a rater may open the kit in any current browser, not only the studio's Chromium
    target: 'es2020',
    // readable: whoever hands a kit to raters can see what the page does
    minify: false,
    sourcemap: false,
    legalComments: 'none',
    charset: 'utf8',
    write: false,
    logLevel: 'error',
    banner: { js: `// GAN Studio rater kit page script, built from ${entry} by scripts/build-kit.mjs. Do not edit.` },
  });
} catch {
  // esbuild has already printed each error with its location.
  console.error('build-kit: the rater kit script did not build');
  process.exit(1);
}

const [file] = result.outputFiles;
const text = file.text;
// The kit must stay one self-contained classic script: no module syntax, no loads at run time.
const forbidden = [
  [/^\s*(import|export)\s[^(]/m, 'an ES module import/export'],
  [/\bimport\s*\(/, 'a dynamic import()'],
  [/\brequire\s*\(/, 'a require()'],
  [/\bfetch\s*\(/, 'a fetch()'],
  [/\bXMLHttpRequest\b/, 'an XMLHttpRequest'],
];
for (const [pattern, what] of forbidden) {
  if (pattern.test(text)) {
    console.error(`build-kit: ${path.relative(root, outfile)} would contain ${what}; the kit must load from file:// as one classic script`);
    process.exit(1);
  }
}

// temp + rename: a kit exported while this runs copies the old file or the new one, never half of one
await mkdir(outdir, { recursive: true });
const tmp = `${outfile}.tmp-${process.pid}`;
try {
  await writeFile(tmp, text);
  await rename(tmp, outfile);
} catch (err) {
  await rm(tmp, { force: true });
  throw err;
}
console.log(`built ${path.relative(root, outfile) || outfile} (${(Buffer.byteLength(text) / 1024).toFixed(1)} KiB)`);
