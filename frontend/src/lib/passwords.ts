/**
 * Passwords people choose: refused when on the list of common passwords (as the
 * API refuses them, with the same words), and a hint of how strong one is.
 *
 * The list is the API's own (backend/app/core/data), copied whole into
 * common-passwords.txt by scripts/common-passwords.mjs: about 38 kB gzipped, in a
 * chunk of its own that only the forms choosing a password load (PasswordField
 * asks for it when shown), never the entry or the login page. A top-N subset
 * would be smaller but would let the form accept what the API then refuses; the
 * whole list keeps both in agreement, and the API stays the authority (while the
 * list is still loading, the form lets the API answer).
 */
import { shallowRef } from 'vue'

export const PASSWORD_TOO_COMMON = 'This password is too common: choose a less predictable one.'
export const PASSWORD_MIN = 8
export const PASSWORD_MAX = 128

/** The list once loaded, lower-cased; null until then. */
export const commonPasswords = shallowRef<ReadonlySet<string> | null>(null)
let loading: Promise<ReadonlySet<string>> | null = null

/** Load the list (once; later calls share the first load). */
export function loadCommonPasswords(): Promise<ReadonlySet<string>> {
  loading ??= import('./common-passwords.txt?raw').then(
    ({ default: text }) => (commonPasswords.value = new Set(text.split('\n').filter(Boolean))),
    (error: unknown) => {
      loading = null // a failed chunk load may succeed next time
      throw error
    },
  )
  return loading
}

/**
 * Whether the password is on the list, in any case, compared as typed (spaces
 * included), as the API compares it; undefined while the list is not loaded.
 */
export function isCommonPassword(password: string, list = commonPasswords.value): boolean | undefined {
  return list ? list.has(password.toLowerCase()) : undefined
}

export type StrengthLevel = 'too-short' | 'too-common' | 'weak' | 'fair' | 'strong'

export interface Strength {
  level: StrengthLevel
  /** Words for the level, shown under the field. */
  label: string
  /** 0 to 3: how much of the meter is filled. */
  score: number
}

// Short: the field's hint and, on submit, its error say the rest.
const LABELS: Record<StrengthLevel, string> = {
  'too-short': 'Too short',
  'too-common': 'Too common',
  weak: 'Weak: a longer one is stronger',
  fair: 'Fair',
  strong: 'Strong',
}

const KINDS = [/\p{Ll}/u, /\p{Lu}/u, /\p{N}/u, /[^\p{Ll}\p{Lu}\p{N}]/u]

/**
 * A hint, not a rule (NIST SP 800-63B asks for no composition rules): length counts
 * most, a mix of kinds of character (lower, upper, digits, others) a little, and a
 * password of few distinct characters ("aaaaaaa1") is weak whatever its length.
 * null for an empty password.
 */
export function passwordStrength(password: string, common = isCommonPassword(password)): Strength | null {
  if (!password) {
    return null
  }
  const length = [...password].length
  let level: StrengthLevel
  if (length < PASSWORD_MIN) {
    level = 'too-short'
  } else if (common) {
    level = 'too-common'
  } else if (new Set(password).size < 5) {
    level = 'weak'
  } else {
    const kinds = KINDS.filter((kind) => kind.test(password)).length
    const points = (length >= 16 ? 2 : length >= 12 ? 1 : 0) + (kinds >= 3 ? 1 : 0)
    level = points >= 2 ? 'strong' : points === 1 ? 'fair' : 'weak'
  }
  const score = { 'too-short': 0, 'too-common': 0, weak: 1, fair: 2, strong: 3 }[level]
  return { level, label: LABELS[level], score }
}
