import { describe, expect, it } from 'vitest'

import { safeRedirect } from '@/lib/redirect'

describe('safeRedirect', () => {
  it('keeps a path on this site', () => {
    expect(safeRedirect('/items?page=2')).toBe('/items?page=2')
  })

  it('refuses other sites and odd values', () => {
    expect(safeRedirect('https://evil.example/')).toBe('/')
    expect(safeRedirect('//evil.example/')).toBe('/')
    expect(safeRedirect('/\\evil.example/')).toBe('/')
    expect(safeRedirect(['/items'])).toBe('/')
    expect(safeRedirect(undefined)).toBe('/')
  })
})
