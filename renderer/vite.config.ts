/**
 * Builds the window's React code into renderer/dist. The relative base lets Electron load the
 * page from file:// and the test bridge serve it from any path. JSX goes through Vite's built-in
 * esbuild transform, so no framework plugin is needed.
 */

import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  esbuild: { jsx: 'automatic' },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: true,
    // One script and one style sheet, so the strict policy needs no inline code.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
  },
});
