import { readFileSync } from 'node:fs'
import { fileURLToPath, URL } from 'node:url'

import vue from '@vitejs/plugin-vue'
import { loadEnv, type Plugin } from 'vite'
import { defineConfig } from 'vitest/config'

// The project's identity: project.env at the repository's root (KEY=value
// lines, committed), where the backend and the scripts read it too. Absent (an
// image's build, whose context is frontend/): nothing.
function projectIdentity(repoRoot: string): Record<string, string> {
  let text = ''
  try {
    text = readFileSync(`${repoRoot}/project.env`, 'utf8')
  } catch {
    return {}
  }
  const values: Record<string, string> = {}
  for (const line of text.split(/\r?\n/)) {
    const match = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line.trim())
    if (match) values[match[1]] = match[2].replace(/^(["'])(.*)\1$/, '$2')
  }
  return values
}

// The project's name, shown in the page title and header: the environment's
// (the frontend's image gets it as a build argument), else the repository's
// .env's (a local override), else project.env's, as for the backend.
function projectName(mode: string): string {
  const repoRoot = fileURLToPath(new URL('..', import.meta.url))
  const env = loadEnv(mode, repoRoot, ['PROJECT_NAME', 'VITE_PROJECT_NAME'])
  return (
    env.VITE_PROJECT_NAME ||
    env.PROJECT_NAME ||
    projectIdentity(repoRoot).PROJECT_NAME ||
    'Full Stack Flask'
  )
}

// Error tracking (src/lib/errorTracking.ts), off without a DSN: the environment's
// VITE_SENTRY_* (the frontend's image gets them as build arguments), else the
// repository's .env's. The environment defaults to ENVIRONMENT, as the backend's.
function errorTracking(mode: string): Record<string, string> {
  const repoRoot = fileURLToPath(new URL('..', import.meta.url))
  const env = loadEnv(mode, repoRoot, ['VITE_SENTRY_', 'ENVIRONMENT'])
  return {
    VITE_SENTRY_DSN: env.VITE_SENTRY_DSN ?? '',
    VITE_SENTRY_ENVIRONMENT: env.VITE_SENTRY_ENVIRONMENT || env.ENVIRONMENT || '',
    VITE_SENTRY_RELEASE: env.VITE_SENTRY_RELEASE ?? '',
  }
}

const escapeHtml = (text: string): string =>
  text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`)

// index.html names the project in %PROJECT_NAME% placeholders, escaped here.
function htmlProjectName(name: string): Plugin {
  return {
    name: 'html-project-name',
    transformIndexHtml: (html) => html.replaceAll('%PROJECT_NAME%', escapeHtml(name)),
  }
}

// The app talks to the API only on its own origin under /api: in development
// (and `vite preview`) through this proxy, in production through the reverse
// proxy in front of both. The API is where `make api` / `make dev` serve it:
// API_PORT (the environment, else the repository's .env; default 8001), unless
// VITE_API_PROXY_TARGET names another address (the dev containers do).
function apiProxy(mode: string) {
  const repoRoot = fileURLToPath(new URL('..', import.meta.url))
  const env = { ...loadEnv(mode, repoRoot, ['API_PORT', 'VITE_API_PROXY_TARGET']), ...process.env }
  return {
    // /api/ alone: /apifoo is a page of the app, as behind Traefik.
    '^/api/': {
      target: env.VITE_API_PROXY_TARGET || `http://localhost:${env.API_PORT || 8001}`,
      changeOrigin: false,
      // Keep the refresh cookie usable on http://localhost in development.
      cookieDomainRewrite: '',
    },
  }
}

export default defineConfig(({ mode }) => ({
  plugins: [vue(), htmlProjectName(projectName(mode))],
  define: {
    'import.meta.env.VITE_PROJECT_NAME': JSON.stringify(projectName(mode)),
    ...Object.fromEntries(
      Object.entries(errorTracking(mode)).map(([key, value]) => [
        `import.meta.env.${key}`,
        JSON.stringify(value),
      ]),
    ),
  },
  resolve: {
    alias: {
      '@': fileURLToPath(new URL('./src', import.meta.url)),
    },
  },
  server: {
    port: 5173,
    proxy: apiProxy(mode),
  },
  preview: {
    port: 4173,
    proxy: apiProxy(mode),
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
}))
