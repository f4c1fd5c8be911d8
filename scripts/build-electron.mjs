// Bundles the Electron side into dist/electron/: main.cjs, preload.cjs (a sandboxed preload must be
// one file that requires nothing but `electron`) and trainer.cjs (the utilityProcess entry).
// Native and heavy packages stay external and load from node_modules (asarUnpack'ed when packaged).
import { build } from 'esbuild';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outdir = path.join(root, 'dist', 'electron');
const EXTERNALS = ['electron', 'better-sqlite3', 'sharp', '@tensorflow/*'];

const shared = {
  absWorkingDir: root,
  bundle: true,
  format: 'cjs',
  // Electron 38 ships Node 22 and Chromium 140.
  target: 'node22',
  sourcemap: 'linked',
  logLevel: 'error',
  legalComments: 'none',
  define: { 'process.env.NODE_ENV': '"production"' },
};

// Core modules are ESM and locate files from `import.meta.url` (package.json, node_modules,
// resources). In a CJS bundle import.meta is empty, and one URL for the whole bundle would break
// every relative path. So each source file's import.meta.url/dirname/filename is rewritten to its
// own location in the app (dist/electron/../.. is the app root, inside the asar when packaged).
const sourceLocation = {
  name: 'source-import-meta',
  setup(b) {
    b.onLoad({ filter: /\.[cm]?ts$/ }, async (args) => {
      if (args.path.includes(`${path.sep}node_modules${path.sep}`)) return undefined;
      const text = await readFile(args.path, 'utf8');
      if (!text.includes('import.meta.')) return undefined;
      const rel = path.relative(root, args.path).split(path.sep).join('/');
      const contents = text
        .replaceAll('import.meta.url', `__gs_source_url(${JSON.stringify(rel)})`)
        .replaceAll('import.meta.dirname', `__gs_source_path(${JSON.stringify(path.posix.dirname(rel))})`)
        .replaceAll('import.meta.filename', `__gs_source_path(${JSON.stringify(rel)})`);
      return { contents, loader: 'ts' };
    });
  },
};
const nodeBundle = {
  platform: 'node',
  external: EXTERNALS,
  plugins: [sourceLocation],
  // "use strict" first, so the banner does not demote the bundle to sloppy mode.
  banner: {
    js: [
      '"use strict";',
      'const __gs_app_root = require("node:path").join(__dirname, "..", "..");',
      'const __gs_source_path = (rel) => require("node:path").join(__gs_app_root, rel);',
      'const __gs_source_url = (rel) => require("node:url").pathToFileURL(__gs_source_path(rel)).href;',
    ].join('\n'),
  },
};

const results = await Promise.allSettled([
  build({ ...shared, ...nodeBundle, entryPoints: ['electron/main/main.ts'], outfile: path.join(outdir, 'main.cjs') }),
  build({ ...shared, ...nodeBundle, entryPoints: ['electron/core/trainer/trainer-main.ts'], outfile: path.join(outdir, 'trainer.cjs') }),
  // dataset imports run in a worker thread; the bundle has no tsx, so the worker gets its own file
  build({ ...shared, ...nodeBundle, entryPoints: ['electron/core/datasets/import/import-worker.ts'], outfile: path.join(outdir, 'import-worker.cjs') }),
  // evaluations and classifier trainings run in a worker thread too
  build({ ...shared, ...nodeBundle, entryPoints: ['electron/core/evaluation/evaluation-worker.ts'], outfile: path.join(outdir, 'evaluation-worker.cjs') }),
  // Minified: it carries zod (through the method list in electron/common/api.ts) into every page load.
  build({ ...shared, platform: 'browser', minify: true, entryPoints: ['electron/preload/preload.ts'], outfile: path.join(outdir, 'preload.cjs'), external: ['electron'] }),
]);
const failed = results.filter((r) => r.status === 'rejected');
if (failed.length > 0) {
  // esbuild has already printed each error with its location.
  console.error(`build:electron: ${failed.length} of ${results.length} bundles failed`);
  process.exit(1);
}

// The sandboxed preload cannot load anything else: fail the build, not the window.
const preload = await readFile(path.join(outdir, 'preload.cjs'), 'utf8');
const required = [...preload.matchAll(/\brequire\(\s*["']([^"']+)["']\s*\)/g)].map((m) => m[1]);
const unexpected = required.filter((name) => name !== 'electron');
if (unexpected.length > 0) {
  console.error(`preload.cjs requires ${unexpected.join(', ')}; a sandboxed preload may only require electron`);
  process.exit(1);
}
console.log(`built ${path.relative(root, outdir)}/{main,preload,trainer,import-worker,evaluation-worker}.cjs`);
