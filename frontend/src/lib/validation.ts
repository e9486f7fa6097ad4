/**
 * Form rules, checked before a request is sent. They mirror the API's
 * constraints so most mistakes are caught without a round trip; the server
 * still validates and its messages are shown the same way.
 */

import { isCommonPassword, PASSWORD_MAX, PASSWORD_MIN, PASSWORD_TOO_COMMON } from './passwords'

export { PASSWORD_MAX, PASSWORD_MIN }

/** A rule returns an error message, or null when the value is fine. */
export type Rule<T = unknown> = (value: T, values: Record<string, unknown>) => string | null

function text(value: unknown): string {
  return typeof value === 'string' ? value : value == null ? '' : String(value)
}

export function required(message = 'This field is required.'): Rule {
  return (value) => (text(value).trim() === '' ? message : null)
}

export function minLength(min: number, label = 'This field'): Rule {
  return (value) => {
    const length = text(value).length
    return length > 0 && length < min ? `${label} must be at least ${min} characters.` : null
  }
}

export function maxLength(max: number, label = 'This field'): Rule {
  return (value) =>
    text(value).length > max ? `${label} must be at most ${max} characters.` : null
}

// Deliberately loose: one @, something on both sides, a dot in the domain.
// The server has the last word; this only catches typos early.
const EMAIL_PATTERN = /^[^\s@]+@[^\s@]+\.[^\s@]+$/

export function email(message = 'Enter a valid email address, like name@example.com.'): Rule {
  return (value) => {
    const trimmed = text(value).trim()
    return trimmed && !EMAIL_PATTERN.test(trimmed) ? message : null
  }
}

/** Not on the list of common passwords, once loaded (loadCommonPasswords); the API checks it too. */
export function notCommonPassword(message = PASSWORD_TOO_COMMON): Rule {
  return (value) => (isCommonPassword(text(value)) ? message : null)
}

/** A password being chosen: its length, and not a common one. */
export function password(label = 'Password'): Rule[] {
  return [minLength(PASSWORD_MIN, label), maxLength(PASSWORD_MAX, label), notCommonPassword()]
}

export function sameAs(field: string, message: string): Rule {
  return (value, values) => (text(value) !== text(values[field]) ? message : null)
}

export function numberBetween(min: number, max: number, label = 'The value'): Rule {
  return (value) => {
    const raw = text(value).trim()
    if (raw === '') {
      return null
    }
    const number = Number(raw)
    return Number.isFinite(number) && number >= min && number <= max
      ? null
      : `${label} must be a number from ${min} to ${max}.`
  }
}

export type Rules<V> = Partial<Record<keyof V & string, Rule[]>>

/** Check every field; the result maps each failing field to its first message. */
export function validate<V extends Record<string, unknown>>(
  values: V,
  rules: Rules<V>,
): Partial<Record<keyof V & string, string>> {
  const errors: Partial<Record<keyof V & string, string>> = {}
  for (const field of Object.keys(rules) as (keyof V & string)[]) {
    for (const rule of rules[field] ?? []) {
      const message = rule(values[field], values)
      if (message) {
        errors[field] = message
        break
      }
    }
  }
  return errors
}
