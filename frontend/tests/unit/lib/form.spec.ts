import { describe, expect, it } from 'vitest'

import { ApiError } from '@/api/errors'
import { placeServerError, useForm } from '@/lib/form'
import { email, required } from '@/lib/validation'

function signupForm() {
  return useForm(
    { email: '', full_name: '' },
    { email: [required('Enter your email address.'), email()] },
  )
}

describe('useForm', () => {
  it('does not send an invalid form and shows the field messages', async () => {
    const form = signupForm()
    let sent = 0

    const ok = await form.submit(async () => {
      sent += 1
    })

    expect(ok).toBe(false)
    expect(sent).toBe(0)
    expect(form.errors.email).toBe('Enter your email address.')
    expect(form.formError.value).toBe('Please correct the highlighted fields.')
  })

  it('sends a valid form once', async () => {
    const form = signupForm()
    form.values.email = 'jane@example.com'
    let sent = 0

    const ok = await form.submit(async () => {
      sent += 1
    })

    expect(ok).toBe(true)
    expect(sent).toBe(1)
    expect(form.formError.value).toBe('')
  })

  it('places server errors beside their fields, with no banner when each found its field', async () => {
    const form = signupForm()
    form.values.email = 'taken@example.com'

    const ok = await form.submit(async () => {
      throw new ApiError('A user with this email already exists', 409, {
        email: 'A user with this email already exists',
      })
    })

    expect(ok).toBe(false)
    expect(form.errors.email).toBe('A user with this email already exists')
    expect(form.formError.value).toBe('')
  })

  it('keeps a banner for what names no field of the form', async () => {
    const form = signupForm()
    form.values.email = 'taken@example.com'

    await form.submit(async () => {
      throw new ApiError('Input payload validation failed', 422, {
        email: 'A user with this email already exists',
        password: 'Must be at least 8 characters',
      })
    })

    expect(form.errors.email).toBe('A user with this email already exists')
    expect(form.formError.value).toBe('Input payload validation failed Must be at least 8 characters')
  })

  it('turns a network failure into a readable message', async () => {
    const form = signupForm()
    form.values.email = 'jane@example.com'

    await form.submit(async () => {
      throw new TypeError('Failed to fetch')
    })

    expect(form.formError.value).toBe('Could not reach the server. Check your connection and try again.')
  })
})

describe('placeServerError', () => {
  it('puts a message naming no field in the banner', () => {
    const placed = placeServerError(new ApiError('Incorrect password', 400), ['current_password'])
    expect(placed).toEqual({ fields: {}, banner: 'Incorrect password' })
  })

  it('finds the field of an entry ("permissions.1") and of a name the server spells otherwise', () => {
    const error = new ApiError('Invalid input', 422, {
      'permissions.1': 'Unknown permission',
      new_password: 'Too short',
    })
    const placed = placeServerError(error, ['permissions', 'password'], { new_password: 'password' })
    expect(placed).toEqual({ fields: { permissions: 'Unknown permission', password: 'Too short' }, banner: '' })
  })
})
