/// <reference types="vite/client" />

interface ImportMetaEnv {
  /** The project's name: PROJECT_NAME of the repository's project.env, or .env (vite.config.ts). */
  readonly VITE_PROJECT_NAME: string
  /** Error tracking's DSN; empty: off (src/lib/errorTracking.ts, vite.config.ts). */
  readonly VITE_SENTRY_DSN: string
  /** The environment and release its events are tagged with. */
  readonly VITE_SENTRY_ENVIRONMENT: string
  readonly VITE_SENTRY_RELEASE: string
}
