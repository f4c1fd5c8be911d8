// Builds the renderer into dist/renderer. The page runs under a strict CSP (RELIABILITY.md A3:
// script-src 'self', style-src 'self', no inline anything), so every script and style must be
// emitted as a file: no module-preload polyfill (it is an inline script) and no inlined assets.
import { defineConfig } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';

export default defineConfig({
  root: import.meta.dirname,
  // relative URLs work under both http://127.0.0.1:<port>/ and Electron's app://studio/
  base: './',
  plugins: [svelte({ configFile: false, compilerOptions: { runes: true } })],
  build: {
    outDir: '../dist/renderer',
    emptyOutDir: true,
    target: 'es2022',
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    cssCodeSplit: false,
    chunkSizeWarningLimit: 1500,
  },
});
