/**
 * An in-memory stand-in for the API's auth endpoints, served through a
 * fetch function, so the session's refresh logic runs end to end in a unit
 * test: tokens expire, refresh rotates, logout revokes. The real API is
 * exercised by the browser smoke test (e2e/).
 */
export const BASE_URL = 'http://api.test/api/v1'

export interface FakeUser {
  id: number
  email: string
  password: string
  full_name: string | null
  is_active: boolean
  is_superuser: boolean
  permissions: string[]
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(status === 204 ? null : JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json', ...headers },
  })
}

export class FakeApi {
  user: FakeUser = {
    id: 1,
    email: 'jane@example.com',
    password: 'correct horse',
    full_name: 'Jane Doe',
    is_active: true,
    is_superuser: false,
    permissions: ['jobs:run'],
  }
  /** Whether the browser holds a valid refresh cookie. */
  hasRefreshCookie = false
  /** When false, every fetch fails as if the server were unreachable. */
  online = true
  /** When false, only POST /login/refresh fails that way. */
  refreshReachable = true
  /** The single sign-on providers GET /login/sso/ lists. */
  ssoProviders: { name: string; title: string }[] = []
  /** Requests seen, as "METHOD /path" (after the base URL). */
  log: string[] = []
  private validTokens = new Set<string>()
  private issued = 0
  /** Resolvers holding refresh answers back, when `holdRefresh` is set. */
  private held: (() => void)[] = []
  holdRefresh = false

  calls(path: string): number {
    return this.log.filter((entry) => entry.endsWith(` ${path}`)).length
  }

  /** Every access token issued so far stops working (as when it expires). */
  expireAccessTokens(): void {
    this.validTokens.clear()
  }

  releaseRefresh(): void {
    const waiting = this.held
    this.held = []
    for (const release of waiting) release()
  }

  private grantTokens(): Response {
    this.issued += 1
    const token = `access-${this.issued}`
    this.validTokens.add(token)
    this.hasRefreshCookie = true
    return json(200, { access_token: token, token_type: 'bearer', expires_in: 900 })
  }

  private authorized(request: Request): boolean {
    const header = request.headers.get('Authorization') ?? ''
    return header.startsWith('Bearer ') && this.validTokens.has(header.slice(7))
  }

  private publicUser() {
    const { id, email, full_name, is_active, is_superuser, permissions } = this.user
    return { id, email, full_name, is_active, is_superuser, permissions, groups: [], created_at: '2026-01-01T00:00:00Z' }
  }

  fetch: typeof fetch = async (input, init) => {
    const request = new Request(input, init)
    if (!this.online) {
      throw new TypeError('Failed to fetch')
    }
    const path = new URL(request.url).pathname.replace('/api/v1', '')
    this.log.push(`${request.method} ${path}`)
    // Let concurrent callers queue up before any answer arrives.
    await new Promise((resolve) => setTimeout(resolve, 5))

    if (path === '/login/sso/' && request.method === 'GET') {
      return json(200, { data: this.ssoProviders })
    }
    if (path === '/login/access-token' && request.method === 'POST') {
      const form = new URLSearchParams(await request.text())
      if (form.get('username') !== this.user.email || form.get('password') !== this.user.password) {
        return json(401, { message: 'Incorrect email or password' })
      }
      return this.grantTokens()
    }
    if (path === '/login/refresh' && request.method === 'POST') {
      if (!this.refreshReachable) {
        throw new TypeError('Failed to fetch')
      }
      if (this.holdRefresh) {
        await new Promise<void>((resolve) => this.held.push(resolve))
      }
      return this.hasRefreshCookie ? this.grantTokens() : json(401, { message: 'Not authenticated' })
    }
    if (path === '/login/logout' && request.method === 'POST') {
      this.hasRefreshCookie = false
      return json(204, null)
    }
    if (!this.authorized(request)) {
      return json(401, { message: 'Not authenticated' }, { 'WWW-Authenticate': 'Bearer' })
    }
    if (path === '/users/me' && request.method === 'GET') {
      return json(200, this.publicUser())
    }
    if (path === '/items/' && request.method === 'GET') {
      return json(200, { data: [], count: 0 })
    }
    if (path === '/items/' && request.method === 'POST') {
      const body = (await request.json()) as { title: string }
      return json(201, { id: 7, title: body.title, description: null, owner_id: this.user.id })
    }
    return json(404, { message: 'Not found' })
  }
}
