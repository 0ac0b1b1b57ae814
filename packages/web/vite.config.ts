import { fileURLToPath } from 'node:url';
import vue from '@vitejs/plugin-vue';
import { type ProxyOptions, defineConfig } from 'vite';

const API = process.env.PGBS_API_URL ?? 'http://localhost:4000';

// The Host header is kept (no changeOrigin): the server trusts a WebSocket's session cookie only when
// its Origin matches the Host, and the browser's Origin is this dev server.
const proxy: Record<string, ProxyOptions> = {
  '/graphql': { target: API, ws: true },
  '/downloads': { target: API },
};

export default defineConfig({
  plugins: [vue()],
  resolve: { alias: { '@': fileURLToPath(new URL('./src', import.meta.url)) } },
  server: { proxy },
  preview: { proxy },
  build: { outDir: 'dist', emptyOutDir: true },
});
