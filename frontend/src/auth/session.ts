/**
 * The signed-in session: who the user is and their access token.
 *
 * - The access token lives in this closure only (never in storage), so a
 *   script injected into the page cannot read it from localStorage.
 * - The refresh token is an httpOnly cookie the browser sends to
 *   /api/v1/login/* only. On page load, and when a request answers 401, the
 *   session calls POST /login/refresh to get a new access token.
 * - Refreshing is single-flight: requests that fail together share one
 *   refresh, because the server rotates the refresh token on every use and
 *   treats a reused one as theft (revoking the whole family).
 * - Scripts cannot see the cookie, so a flag in localStorage (no secret: "this
 *   browser logged in") says whether a refresh is worth trying on page load: a
 *   guest's page asks nothing and logs no 401.
 */
import { reactive, readonly } from 'vue'

import { asApiError, unwrap } from '@/api/errors'
import type { UserPublic } from '@/client'
import { loginAccessToken, loginMfa, loginRefresh, logout as logoutRequest, readUserMe } from '@/client'
import type { Client } from '@/client/client'

export type SessionStatus = 'unknown' | 'anonymous' | 'authenticated'

/** What a refresh attempt came to. */
export type RefreshOutcome = 'ok' | 'denied' | 'unreachable'

export interface SessionState {
  status: SessionStatus
  user: UserPublic | null
}

/** Whether this browser may hold a session to restore. */
export interface SessionHint {
  get(): boolean
  set(present: boolean): void
}

const HINT_KEY = 'session'

/** The hint in localStorage; where storage is unavailable, always worth a try. */
export const storedHint: SessionHint = {
  get: () => {
    try {
      return localStorage.getItem(HINT_KEY) === '1'
    } catch {
      return true
    }
  },
  set: (present) => {
    try {
      if (present) localStorage.setItem(HINT_KEY, '1')
      else localStorage.removeItem(HINT_KEY)
    } catch {
      // No storage (a private window, say): every page load tries a refresh.
    }
  },
}

export interface SessionOptions {
  /** The generated client to authenticate; the session installs itself into it. */
  client: Client
  /** The network below the session: the browser's fetch unless a test passes another. */
  fetch?: typeof fetch
  /** Where the session hint lives: localStorage unless a test passes another. */
  hint?: SessionHint
}

export type Session = ReturnType<typeof createSession>

/** What a password login came to: logged in, or a second factor is due. */
export type LoginStep = { user: UserPublic; mfaToken?: undefined } | { user?: undefined; mfaToken: string }

function bearerOf(request: Request): string | null {
  const header = request.headers.get('Authorization')
  return header?.startsWith('Bearer ') ? header.slice('Bearer '.length) : null
}

export function createSession({ client, fetch: networkFetch, hint = storedHint }: SessionOptions) {
  // Resolved at call time so the browser's fetch keeps its `this`.
  const send: typeof fetch = networkFetch ?? ((input, init) => globalThis.fetch(input, init))
  const state = reactive<SessionState>({ status: 'unknown', user: null })
  let accessToken: string | null = null
  let refreshing: Promise<RefreshOutcome> | null = null
  // Bumped on logout: a refresh that started before it must not revive the session.
  let epoch = 0
  const expiredListeners = new Set<() => void>()

  function clear(): void {
    accessToken = null
    state.user = null
    state.status = 'anonymous'
  }

  async function requestRefresh(): Promise<RefreshOutcome> {
    const started = epoch
    try {
      const token = await unwrap(loginRefresh({ client, fetch: send }))
      if (started !== epoch) {
        return 'denied'
      }
      accessToken = token.access_token
      hint.set(true)
      return 'ok'
    } catch (error) {
      if (asApiError(error).status === 0) {
        return 'unreachable'
      }
      hint.set(false)
      return 'denied'
    }
  }

  /** Get a new access token from the refresh cookie; concurrent callers share one request. */
  function refresh(): Promise<RefreshOutcome> {
    if (!refreshing) {
      const pending = requestRefresh()
      refreshing = pending
      void pending.finally(() => {
        if (refreshing === pending) {
          refreshing = null
        }
      })
    }
    return refreshing
  }

  function expire(): void {
    if (state.status !== 'authenticated') {
      clear()
      return
    }
    clear()
    for (const listener of expiredListeners) {
      listener()
    }
  }

  /**
   * The fetch the generated client uses: sends the request, and when an
   * authenticated one answers 401, refreshes once and replays it.
   */
  const authFetch: typeof fetch = async (input, init) => {
    const request = new Request(input, init)
    const sentWith = bearerOf(request)
    if (!sentWith) {
      return send(request)
    }
    // The body can be read once: keep a copy for the replay.
    const replay = request.clone()
    const response = await send(request)
    if (response.status !== 401) {
      return response
    }
    // Another request may already have refreshed while this one was in flight.
    const outcome: RefreshOutcome =
      accessToken && accessToken !== sentWith ? 'ok' : await refresh()
    if (outcome === 'ok' && accessToken) {
      const headers = new Headers(replay.headers)
      headers.set('Authorization', `Bearer ${accessToken}`)
      return send(new Request(replay, { headers }))
    }
    if (outcome === 'denied') {
      expire()
    }
    return response
  }

  client.setConfig({
    fetch: authFetch,
    auth: () => accessToken ?? undefined,
  })

  async function loadUser(): Promise<UserPublic> {
    const user = await unwrap(readUserMe({ client }))
    state.user = user
    state.status = 'authenticated'
    return user
  }

  let restoring: Promise<void> | null = null

  /** On page load: turn the refresh cookie, if any, into a session. Runs once. */
  function restore(): Promise<void> {
    restoring ??= (async () => {
      if (!hint.get()) {
        clear()
        return
      }
      const outcome = await refresh()
      if (outcome !== 'ok') {
        clear()
        return
      }
      try {
        await loadUser()
      } catch {
        clear()
      }
    })()
    return restoring
  }

  async function start(token: { access_token: string }): Promise<UserPublic> {
    epoch += 1
    accessToken = token.access_token
    hint.set(true)
    return loadUser()
  }

  /**
   * Log in with email and password; throws an ApiError with the server's message.
   * With two-factor authentication on, the answer is the mfaToken for `loginWithCode`.
   */
  async function login(email: string, password: string): Promise<LoginStep> {
    let token
    try {
      token = await unwrap(
        loginAccessToken({ client, body: { username: email, password, grant_type: 'password' } }),
      )
    } catch (error) {
      const failure = asApiError(error)
      const mfaToken = failure.body.mfa_token
      if (failure.status === 403 && failure.body.mfa_required === true && typeof mfaToken === 'string') {
        return { mfaToken }
      }
      throw failure
    }
    return { user: await start(token) }
  }

  /**
   * After a single sign-on: the API's callback set the refresh cookie (the page
   * cannot see it); trade it for a session. False when there was none to trade.
   */
  async function adoptRefreshCookie(): Promise<boolean> {
    epoch += 1
    if ((await refresh()) !== 'ok') {
      clear()
      return false
    }
    try {
      await loadUser()
    } catch {
      clear()
      return false
    }
    return true
  }

  /** The second step of a login: a code from the authenticator app, or a recovery code. */
  async function loginWithCode(mfaToken: string, code: string): Promise<UserPublic> {
    return start(await unwrap(loginMfa({ client, body: { mfa_token: mfaToken, code } })))
  }

  /**
   * End the session: the API revokes the refresh token and clears its
   * cookie; local state is cleared even when the API cannot be reached.
   */
  async function logout(): Promise<void> {
    epoch += 1
    hint.set(false)
    try {
      await unwrap(logoutRequest({ client, fetch: send }))
    } catch {
      // Already logged out, or offline: the local session ends all the same.
    } finally {
      clear()
    }
  }

  return {
    state: readonly(state),
    /** The current access token (memory only), for code that must build a request by hand. */
    token: (): string | null => accessToken,
    fetch: authFetch,
    refresh,
    restore,
    login,
    loginWithCode,
    adoptRefreshCookie,
    logout,
    reloadUser: loadUser,
    setUser(user: UserPublic): void {
      state.user = user
    },
    /** Call `listener` when the server ends the session (refresh denied). */
    onExpired(listener: () => void): () => void {
      expiredListeners.add(listener)
      return () => expiredListeners.delete(listener)
    },
  }
}
