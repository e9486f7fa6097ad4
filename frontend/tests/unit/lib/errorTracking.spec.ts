import { describe, expect, it, vi } from 'vitest'
import { createApp, type App } from 'vue'

import { startErrorTracking } from '@/lib/errorTracking'
import { FILTERED, scrub } from '@/lib/errorTrackingSdk'

// One app for every test: the SDK is never really started here (the browser test is
// e2e/error-tracking.spec.ts).
const app: App = createApp({ name: 'TrackedApp', render: () => null })
const ON = { dsn: 'http://public@127.0.0.1:9/1', environment: 'staging', release: 'v1.2.3' }

describe('startErrorTracking', () => {
  it('loads nothing without a DSN', async () => {
    const load = vi.fn()
    expect(await startErrorTracking(app, { ...ON, dsn: '' }, load)).toBe(false)
    expect(load).not.toHaveBeenCalled()
  })

  it('starts the SDK with the build settings when given a DSN', async () => {
    const init = vi.fn()
    expect(await startErrorTracking(app, ON, () => Promise.resolve({ init, scrub, FILTERED }))).toBe(
      true,
    )
    expect(init).toHaveBeenCalledWith(app, ON)
  })

  it('leaves the app alone when the SDK cannot load', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {})
    const failing = () => Promise.reject(new Error('blocked'))
    expect(await startErrorTracking(app, ON, failing)).toBe(false)
    expect(warn).toHaveBeenCalled()
  })
})

describe('scrub', () => {
  it('filters secrets by name, in strings and in header pairs', () => {
    const event = {
      message: 'failed with Bearer eyJhbGciOi.abc-def_1',
      request: {
        url: 'https://app.example/reset-password?token=s3cret&page=2#access_token=xyz',
        headers: { Authorization: 'Bearer abc', Accept: 'application/json' },
        cookies: 'refresh=abc',
      },
      breadcrumbs: [
        { category: 'fetch', data: { url: 'https://db:pw@api.example/x?api_key=k1' } },
        { data: { headers: [['X-Auth-Token', 'abc'], ['Accept', 'text/html']] } },
      ],
      extra: { refresh_token: 'abc', count: 3 },
    }
    const scrubbed = scrub(event)
    expect(scrubbed).toEqual({
      message: `failed with ${FILTERED}`,
      request: {
        url: `https://app.example/reset-password?token=${FILTERED}&page=2#access_token=${FILTERED}`,
        headers: { Authorization: FILTERED, Accept: 'application/json' },
        cookies: FILTERED,
      },
      breadcrumbs: [
        { category: 'fetch', data: { url: `https://db:${FILTERED}@api.example/x?api_key=${FILTERED}` } },
        { data: { headers: [['X-Auth-Token', FILTERED], ['Accept', 'text/html']] } },
      ],
      extra: { refresh_token: FILTERED, count: 3 },
    })
    // The original is left as it was.
    expect(event.extra.refresh_token).toBe('abc')
  })
})
