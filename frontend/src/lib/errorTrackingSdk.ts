/**
 * Error tracking's SDK side (src/lib/errorTracking.ts loads it only when on):
 * Sentry's browser SDK, and `scrub`, which keeps secrets out of its events.
 *
 * Events never carry the access token, the refresh cookie, an Authorization
 * header or a secret in a URL (a password reset's token): the SDK collects no
 * user data, cookies, headers or bodies (dataCollection), and `scrub` filters
 * what could still get through (a credential quoted in an error's message), in
 * the event and its breadcrumbs alike, as the backend does
 * (backend/app/core/error_tracking.py).
 */
import * as Sentry from '@sentry/vue'
import type { App } from 'vue'

import type { ErrorTrackingConfig } from './errorTracking'

export const FILTERED = '[Filtered]'
// Names whose values are secrets, wherever they appear (keys, query parameters).
const SECRET_WORDS = 'pass|secret|token|auth|cookie|session|csrf|api[-_]?key|dsn'
const SECRET_NAME = new RegExp(SECRET_WORDS, 'i')
// A secret inside a string: a bearer credential, a URL's password, a secret
// query (or fragment) parameter.
const BEARER = /(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi
const URL_PASSWORD = /(:\/\/[^/:@\s]+:)[^@\s/]+@/g
const PARAMETER_SECRET = new RegExp(
  `((?:^|[?&;#\\s])[^=&;#\\s]*(?:${SECRET_WORDS})[^=&;#\\s]*=)[^&;#\\s'"]*`,
  'gi',
)

/** Sentry's SDK on `app`, with the build's settings and the scrubbing below. */
export function init(app: App, config: ErrorTrackingConfig): void {
  Sentry.init({
    app,
    dsn: config.dsn,
    environment: config.environment || undefined,
    release: config.release || undefined,
    // No user identity, cookies, headers or bodies in events: none is needed to
    // find a bug, and any could hold a secret.
    dataCollection: { userInfo: false, cookies: false, httpHeaders: false, httpBodies: [] },
    // Errors only: no performance tracing, no session replay.
    tracesSampleRate: undefined,
    beforeSend: (event) => scrub(event),
    beforeBreadcrumb: (breadcrumb) => scrub(breadcrumb),
  })
}

/** A copy of `value` with its secrets filtered out (events are plain data). */
export function scrub<T>(value: T): T {
  return scrubValue(value, 0) as T
}

// Events are shallow; a cycle or a huge structure stops here.
const MAX_DEPTH = 20

function scrubValue(value: unknown, depth: number): unknown {
  if (depth > MAX_DEPTH) return value
  if (typeof value === 'string') return scrubString(value)
  if (Array.isArray(value)) {
    // Headers may come as [name, value] pairs.
    if (value.length === 2 && typeof value[0] === 'string' && SECRET_NAME.test(value[0])) {
      return [value[0], FILTERED]
    }
    return value.map((item) => scrubValue(item, depth + 1))
  }
  if (isPlainObject(value)) {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [
        key,
        SECRET_NAME.test(key) ? FILTERED : scrubValue(item, depth + 1),
      ]),
    )
  }
  return value
}

function scrubString(text: string): string {
  return text
    .replace(BEARER, FILTERED)
    .replace(URL_PASSWORD, `$1${FILTERED}@`)
    .replace(PARAMETER_SECRET, `$1${FILTERED}`)
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') return false
  const prototype = Object.getPrototypeOf(value) as unknown
  return prototype === Object.prototype || prototype === null
}
