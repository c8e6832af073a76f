import preact from '@preact/preset-vite';
import { defineConfig } from 'vite';

/** The console: a static single-page app the server serves at `/`; it calls the API at `/api`. */
export default defineConfig({
  root: import.meta.dirname,
  base: '/',
  plugins: [preact()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // ECharts is most of the bundle; one chunk for it keeps the console's own code small to reload.
    chunkSizeWarningLimit: 1500,
    sourcemap: false,
  },
  server: { proxy: { '/api': 'http://127.0.0.1:8470' } },
});
