import { describe, expect, it } from 'vitest'

import { isPageLoadError } from '@/lib/page-load'

describe('isPageLoadError', () => {
  it.each([
    'Failed to fetch dynamically imported module: http://localhost/assets/ItemsPage-x1.js',
    'error loading dynamically imported module: http://localhost/assets/ItemsPage-x1.js',
    'Importing a module script failed.',
    'Unable to preload CSS for /assets/ItemsPage-x1.css',
  ])('recognises a chunk that failed to load: %s', (message) => {
    expect(isPageLoadError(new TypeError(message))).toBe(true)
  })

  it('leaves other errors to the router', () => {
    expect(isPageLoadError(new Error('Navigation cancelled'))).toBe(false)
    expect(isPageLoadError(undefined)).toBe(false)
  })
})
