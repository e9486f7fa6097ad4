/**
 * Whether sign-up is known to be closed. The API has no flag for it: after
 * POST /users/signup answers 403 the link is hidden for this tab's life.
 */
import { ref } from 'vue'

const KEY = 'signup-closed'

function readStored(): boolean {
  try {
    return sessionStorage.getItem(KEY) === '1'
  } catch {
    return false
  }
}

export const signupClosed = ref(typeof sessionStorage === 'undefined' ? false : readStored())

export function markSignupClosed(): void {
  signupClosed.value = true
  try {
    sessionStorage.setItem(KEY, '1')
  } catch {
    // Storage may be disabled; the flag still holds for this page.
  }
}
