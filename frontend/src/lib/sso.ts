/** Single sign-on: the providers the login page offers, and what each failure
 * code of the API's callback (`/login?sso_error=...`) means to the user. */
import { unwrap } from '@/api/errors'
import { listSsoProviders, type SsoProviderPublic } from '@/client'

export type SsoProvider = SsoProviderPublic

/** The providers, or none when the list cannot be had (the password form still works). */
export async function loadSsoProviders(): Promise<SsoProvider[]> {
  try {
    return (await unwrap(listSsoProviders())).data
  } catch {
    return []
  }
}

/** Where the button sends the browser: a full navigation, not a fetch. */
export function authorizeUrl(name: string): string {
  return `/api/v1/login/sso/${encodeURIComponent(name)}/authorize`
}

const MESSAGES: Record<string, string> = {
  access_denied: 'Sign-in was cancelled at the provider.',
  provider_error: 'The sign-in provider refused the sign-in. Try again.',
  provider_unreachable: 'The sign-in provider could not be reached. Try again later, or log in with your password.',
  provider_misconfigured: 'Single sign-on is not set up correctly. Tell your administrator.',
  state_mismatch: 'That sign-in expired or was started in another window. Try again.',
  invalid_token: 'The sign-in provider’s answer could not be verified. Try again.',
  wrong_audience: 'The sign-in provider’s answer was meant for another application.',
  token_expired: 'The sign-in provider’s answer had expired. Try again.',
  nonce_mismatch: 'The sign-in provider’s answer did not match this sign-in. Try again.',
  email_missing: 'The sign-in provider did not share your email address.',
  email_unverified: 'Your email address is not verified at the sign-in provider.',
  domain_not_allowed: 'Accounts of your email domain cannot sign in this way.',
  unknown_user: 'No account uses that email address. Ask an administrator to create one.',
  inactive_user: 'Your account is deactivated. Ask an administrator.',
  session_missing: 'Signing in did not finish. Try again.',
  try_again: 'Signing in did not finish. Try again.',
}

/** The message for an `sso_error` code; any code gets one. */
export function ssoErrorMessage(code: unknown): string | null {
  if (typeof code !== 'string' || code === '') return null
  return MESSAGES[code] ?? 'Single sign-on failed. Try again, or log in with your password.'
}
