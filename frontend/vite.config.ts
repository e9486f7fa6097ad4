import { fileURLToPath, URL } from 'node:url'

import vue from '@vitejs/plugin-vue'
import { defineConfig } from 'vitest/config'

// The app talks to the API only on its own origin under /api: in development
// (and `vite preview`) through this proxy, in production through the reverse
// proxy in front of both.
const apiProxy = {
  '/api': {
    target: process.env.VITE_API_PROXY_TARGET ?? 'http://localhost:8001',
    changeOrigin: false,
    // Keep the refresh cookie usable on http://localhost in development.
    cookieDomainRewrite: '',
  },
}

export default defineConfig({
  plugins: [vue()],
  resolve: {
    alias: {
      '@': fileURLToPath(new URL('./src', import.meta.url)),
    },
  },
  server: {
    port: 5173,
    proxy: apiProxy,
  },
  preview: {
    port: 4173,
    proxy: apiProxy,
  },
  build: {
    // dist/.vite/manifest.json maps source modules to hashed chunks:
    // scripts/bundle-size.mjs reads it to measure what each route loads.
    manifest: true,
    target: 'es2022',
    sourcemap: false,
  },
  test: {
    include: ['tests/unit/**/*.spec.ts'],
    environment: 'node',
    restoreMocks: true,
  },
})
