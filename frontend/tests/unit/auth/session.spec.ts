import { beforeEach, describe, expect, it } from 'vitest'

import { createItem, readItems } from '@/client'
import { createClient, createConfig } from '@/client/client'
import { createSession, type Session, type SessionHint } from '@/auth/session'

import { BASE_URL, FakeApi } from '../support/fakeApi'

let api: FakeApi
let client: ReturnType<typeof createClient>
let session: Session
let hinted: boolean
const hint: SessionHint = { get: () => hinted, set: (present) => (hinted = present) }

beforeEach(() => {
  api = new FakeApi()
  client = createClient(createConfig({ baseUrl: BASE_URL }))
  hinted = false
  session = createSession({ client, fetch: api.fetch, hint })
})

async function logIn(): Promise<void> {
  await session.login(api.user.email, api.user.password)
}

describe('session login', () => {
  it('logs in with email and password and loads the user', async () => {
    await logIn()

    expect(session.state.status).toBe('authenticated')
    expect(session.state.user?.email).toBe('jane@example.com')
    expect(session.token()).toMatch(/^access-/)
  })

  it('rejects a wrong password with the server message and stays signed out', async () => {
    await expect(session.login(api.user.email, 'wrong password')).rejects.toMatchObject({
      status: 401,
      message: 'Incorrect email or password',
    })

    expect(session.state.user).toBeNull()
    expect(session.token()).toBeNull()
  })
})

describe('session restore on page load', () => {
  it('turns a valid refresh cookie into a signed-in session', async () => {
    api.hasRefreshCookie = true
    hinted = true

    await session.restore()

    expect(session.state.status).toBe('authenticated')
    expect(session.state.user?.id).toBe(1)
    expect(api.calls('/login/refresh')).toBe(1)
  })

  it('ends signed out without a refresh cookie, and stops trying', async () => {
    hinted = true

    await session.restore()

    expect(session.state.status).toBe('anonymous')
    expect(session.state.user).toBeNull()
    expect(api.calls('/users/me')).toBe(0)
    expect(hinted).toBe(false)
  })

  it('asks nothing of a guest who never logged in here', async () => {
    api.hasRefreshCookie = true

    await session.restore()

    expect(session.state.status).toBe('anonymous')
    expect(api.calls('/login/refresh')).toBe(0)
  })

  it('notes a login, and forgets it at logout', async () => {
    await logIn()
    expect(hinted).toBe(true)

    await session.logout()

    expect(hinted).toBe(false)
  })

  it('asks the server once however many times it is awaited', async () => {
    api.hasRefreshCookie = true
    hinted = true

    await Promise.all([session.restore(), session.restore(), session.restore()])

    expect(api.calls('/login/refresh')).toBe(1)
  })
})

describe('refresh on 401', () => {
  it('shares one refresh between requests that fail together, then replays each', async () => {
    await logIn()
    api.expireAccessTokens()

    const results = await Promise.all([
      readItems({ client }),
      readItems({ client }),
      createItem({ client, body: { title: 'Replayed with its body' } }),
    ])

    expect(api.calls('/login/refresh')).toBe(1)
    expect(results.map((result) => result.response?.status)).toEqual([200, 200, 201])
    expect(results[2]?.data).toMatchObject({ title: 'Replayed with its body' })
    expect(session.state.status).toBe('authenticated')
  })

  it('replays a late failure with the new token without refreshing again', async () => {
    await logIn()
    const staleToken = session.token()
    api.expireAccessTokens()
    await readItems({ client })
    expect(api.calls('/login/refresh')).toBe(1)

    // A request sent with the old token that answers after the refresh.
    const response = await session.fetch(`${BASE_URL}/items/`, {
      headers: { Authorization: `Bearer ${staleToken}` },
    })

    expect(response.status).toBe(200)
    expect(api.calls('/login/refresh')).toBe(1)
  })

  it('ends the session once when the refresh is refused', async () => {
    await logIn()
    api.expireAccessTokens()
    api.hasRefreshCookie = false
    let expired = 0
    session.onExpired(() => {
      expired += 1
    })

    const results = await Promise.all([readItems({ client }), readItems({ client })])

    expect(results.map((result) => result.response?.status)).toEqual([401, 401])
    expect(api.calls('/login/refresh')).toBe(1)
    expect(expired).toBe(1)
    expect(session.state.status).toBe('anonymous')
    expect(session.state.user).toBeNull()
    expect(session.token()).toBeNull()
  })

  it('keeps the session when the server cannot be reached to refresh', async () => {
    await logIn()
    api.expireAccessTokens()
    let expired = 0
    session.onExpired(() => {
      expired += 1
    })
    api.refreshReachable = false

    const result = await readItems({ client })

    expect(result.response?.status).toBe(401)
    expect(expired).toBe(0)
    expect(session.state.status).toBe('authenticated')
  })

  it('does not refresh for a request sent without a token', async () => {
    const result = await readItems({ client })

    expect(result.response?.status).toBe(401)
    expect(api.calls('/login/refresh')).toBe(0)
  })
})

describe('logout', () => {
  it('revokes the refresh cookie on the server and clears the session', async () => {
    await logIn()

    await session.logout()

    expect(api.calls('/login/logout')).toBe(1)
    expect(api.hasRefreshCookie).toBe(false)
    expect(session.state.status).toBe('anonymous')
    expect(session.state.user).toBeNull()
    expect(session.token()).toBeNull()
    const after = await readItems({ client })
    expect(after.response?.status).toBe(401)
    expect(api.calls('/login/refresh')).toBe(0)
  })

  it('clears the session even when the server cannot be reached', async () => {
    await logIn()
    api.online = false

    await session.logout()

    expect(session.state.user).toBeNull()
    expect(session.token()).toBeNull()
  })

  it('is not undone by a refresh that was in flight', async () => {
    await logIn()
    api.expireAccessTokens()
    api.holdRefresh = true
    const pending = readItems({ client })
    await new Promise((resolve) => setTimeout(resolve, 20))

    await session.logout()
    api.releaseRefresh()
    await pending

    expect(session.state.user).toBeNull()
    expect(session.token()).toBeNull()
  })
})
