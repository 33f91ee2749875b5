import { defineConfig } from 'vite';

// Relative asset paths, so that the built page works under /demo/ of the service and anywhere else.
// The dev server forwards /graphql (HTTP and WebSocket) to API_URL, so any instance can be tried
// without changing its CORS settings.
export default defineConfig({
  root: import.meta.dirname,
  base: './',
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022' },
  server: {
    proxy: {
      '/graphql': { target: process.env.API_URL ?? 'http://localhost:4000', ws: true, changeOrigin: true },
    },
  },
});
