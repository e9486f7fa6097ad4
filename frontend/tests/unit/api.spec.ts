import { describe, expect, it } from 'vitest'

import { ApiError, toApiError, unwrap } from '@/api/errors'

describe('API errors', () => {
  it('keeps the server message and field errors', () => {
    const error = toApiError(
      { message: 'Input payload validation failed', errors: { title: 'Must be at least 1 character' } },
      new Response(null, { status: 422 }),
    )

    expect(error.status).toBe(422)
    expect(error.message).toBe('Input payload validation failed')
    expect(error.fields).toEqual({ title: 'Must be at least 1 character' })
  })

  it('explains a status when the body has no message', () => {
    expect(toApiError('<html>', new Response(null, { status: 429 })).message).toBe(
      'Too many attempts. Wait a minute and try again.',
    )
  })

  it('says when a rate-limited user may try again, not the limit itself', () => {
    const limited = (retryAfter?: string) =>
      toApiError(
        { message: '10 per 1 minute' },
        new Response(null, { status: 429, headers: retryAfter ? { 'Retry-After': retryAfter } : {} }),
      ).message

    expect(limited('42')).toBe('Too many attempts. Try again in 42 seconds.')
    expect(limited('1')).toBe('Too many attempts. Try again in 1 second.')
    expect(limited()).toBe('Too many attempts. Wait a minute and try again.')
    expect(limited('soon')).toBe('Too many attempts. Wait a minute and try again.')
  })

  it('unwraps data and throws an ApiError for a failure', async () => {
    await expect(unwrap(Promise.resolve({ data: 5, response: new Response(null, { status: 200 }) }))).resolves.toBe(5)
    await expect(
      unwrap(Promise.resolve({ error: { message: 'Nope' }, response: new Response(null, { status: 403 }) })),
    ).rejects.toEqual(new ApiError('Nope', 403, {}, { message: 'Nope' }))
  })
})
