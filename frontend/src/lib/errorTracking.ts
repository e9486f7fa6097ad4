/**
 * Error tracking with Sentry's browser SDK (or any service that takes its events):
 * off unless the build was given a DSN (VITE_SENTRY_DSN, vite.config.ts). The SDK
 * (src/lib/errorTrackingSdk.ts) is then loaded in a chunk of its own while the
 * first page loads: a build without a DSN (the default) never downloads it, and
 * the login page's JavaScript does not grow with one.
 */
import type { App } from 'vue'

import type * as Sdk from './errorTrackingSdk'

export interface ErrorTrackingConfig {
  dsn: string
  environment: string
  release: string
}

/** The build's settings (vite.config.ts): an empty DSN means off. */
export function buildConfig(): ErrorTrackingConfig {
  return {
    dsn: import.meta.env.VITE_SENTRY_DSN,
    environment: import.meta.env.VITE_SENTRY_ENVIRONMENT,
    release: import.meta.env.VITE_SENTRY_RELEASE,
  }
}

/**
 * Start sending the app's errors when the build has a DSN; whether it does. A
 * failure to load the SDK (a blocker) is reported on the console, never to the app.
 */
export async function startErrorTracking(
  app: App,
  config: ErrorTrackingConfig = buildConfig(),
  load: () => Promise<typeof Sdk> = () => import('./errorTrackingSdk'),
): Promise<boolean> {
  if (!config.dsn) return false
  try {
    const sdk = await load()
    sdk.init(app, config)
    return true
  } catch (error) {
    console.warn('error tracking is off: its SDK did not load', error)
    return false
  }
}
