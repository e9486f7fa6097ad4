import { describe, expect, it } from 'vitest'

import { loadCommonPasswords } from '@/lib/passwords'
import {
  email,
  maxLength,
  numberBetween,
  password,
  required,
  sameAs,
  validate,
} from '@/lib/validation'

describe('rules', () => {
  it('requires a non-blank value', () => {
    expect(required()('   ', {})).toBe('This field is required.')
    expect(required()('x', {})).toBeNull()
  })

  it('accepts plausible emails and rejects typos', () => {
    expect(email()('jane@example.com', {})).toBeNull()
    expect(email()('jane@example', {})).toMatch(/valid email/)
    expect(email()('jane example.com', {})).toMatch(/valid email/)
    // Empty is for `required` to judge.
    expect(email()('', {})).toBeNull()
  })

  it('keeps passwords between 8 and 128 characters', () => {
    const check = (value: string) => validate({ value }, { value: password() }).value
    expect(check('1234567')).toBe('Password must be at least 8 characters.')
    expect(check('pa5s-pa5')).toBeUndefined()
    expect(check('x'.repeat(129))).toBe('Password must be at most 128 characters.')
  })

  it('refuses a common password with the API\'s words, once the list is loaded', async () => {
    const check = (value: string) => validate({ value }, { value: password() }).value
    await loadCommonPasswords()
    expect(check('12345678')).toBe('This password is too common: choose a less predictable one.')
    expect(check('PassWord1')).toBe('This password is too common: choose a less predictable one.')
    expect(check('correct-horse-battery')).toBeUndefined()
  })

  it('limits length', () => {
    expect(maxLength(255, 'Title')('x'.repeat(256), {})).toBe('Title must be at most 255 characters.')
    expect(maxLength(255, 'Title')('x'.repeat(255), {})).toBeNull()
  })

  it('compares a confirmation with its field', () => {
    const rule = sameAs('password', 'The passwords do not match.')
    expect(rule('abcdefgh', { password: 'abcdefgh' })).toBeNull()
    expect(rule('abcdefgX', { password: 'abcdefgh' })).toBe('The passwords do not match.')
  })

  it('keeps job seconds within 0 to 60', () => {
    const rule = numberBetween(0, 60, 'Seconds')
    expect(rule('0', {})).toBeNull()
    expect(rule('60', {})).toBeNull()
    expect(rule('2.5', {})).toBeNull()
    expect(rule('61', {})).toBe('Seconds must be a number from 0 to 60.')
    expect(rule('-1', {})).toBe('Seconds must be a number from 0 to 60.')
    expect(rule('soon', {})).toBe('Seconds must be a number from 0 to 60.')
  })
})

describe('validate', () => {
  it('reports the first failing rule of each field', () => {
    const errors = validate(
      { email: '', password: 'short', confirm: 'other' },
      {
        email: [required('Enter your email address.'), email()],
        password: [required(), ...password()],
        confirm: [sameAs('password', 'The passwords do not match.')],
      },
    )

    expect(errors).toEqual({
      email: 'Enter your email address.',
      password: 'Password must be at least 8 characters.',
      confirm: 'The passwords do not match.',
    })
  })

  it('returns no errors for valid values', () => {
    expect(validate({ title: 'Groceries' }, { title: [required(), maxLength(255)] })).toEqual({})
  })
})
