/// <reference types="vitest/config" />
// Vite builds the Self-Service SPA from frontend/ into frontend/dist, which the Go server
// embeds (frontend/embed.go). frontend/public/.keep is copied to dist/.keep on every
// build, so emptying dist never deletes the committed placeholder.
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// `npm run dev` proxies the API to a vscard-server started with
// --public-url http://localhost:5173, so the sign-in redirects, the session cookie and the
// WebSocket origin all match the dev server's address.
const server = process.env.VSCARD_SERVER ?? 'http://127.0.0.1:18080';

export default defineConfig({
  root: 'frontend',
  // Keep Vite's and Vitest's caches in the root node_modules (ignored), not in frontend/.
  cacheDir: '../node_modules/.vite',
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // frontend/scripts/bundle-size.mjs reads it to measure the initial JavaScript.
    manifest: true,
    chunkSizeWarningLimit: 800,
    // The Desktop App's PIN page is a second entry: the bridge embeds this build too
    // and serves only pinpage.html and what it loads (desktop-bridge/pinpage).
    rollupOptions: {
      input: { main: 'frontend/index.html', pinpage: 'frontend/pinpage.html' },
    },
  },
  server: {
    port: 5173,
    strictPort: true,
    proxy: {
      '/query': { target: server, ws: true },
      '/auth': server,
      '/dev/idp': server,
      '/ca': server,
    },
  },
  test: {
    include: ['src/**/*.test.{ts,tsx}'],
    environment: 'node',
  },
});
