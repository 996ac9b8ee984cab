import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The Command Center. `npm run build` builds it into web/dist/ (scripts/build-steps/10-web.js), which
// `omoi start` serves at `/`. For UI work, `npx vite web` serves it with hot reload and forwards the
// API to a running `omoi start` on the default port.
export default defineConfig({
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: false, chunkSizeWarningLimit: 400 },
  server: { proxy: { '/api': 'http://127.0.0.1:7878' } },
});
