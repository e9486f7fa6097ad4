// The access token's expiry, for real: the app behind SHORT_TOKEN_BASE_URL
// talks to an API whose tokens last one minute (the shortest the settings
// allow), so this test waits for one to expire. It starts first (files run in
// name order, two at a time) and waits while the other files run.
import assert from 'node:assert/strict'

import { api, createUser, e2e, logIn, SHORT_TOKEN_BASE_URL, until } from './lib.mjs'

e2e(
  'an expired access token is refreshed silently and the request goes through',
  async ({ page, shot }) => {
    const user = await createUser('expiry')
    const traffic = []
    page.on('response', (response) => {
      const { pathname } = new URL(response.url())
      if (pathname.startsWith('/api/')) {
        traffic.push(`${response.request().method()} ${pathname} ${response.status()}`)
      }
    })
    const loggedIn = page.waitForResponse((response) => response.url().endsWith('/api/v1/login/access-token'))
    await logIn(page, user.email, user.password)
    const token = await (await loggedIn).json()
    assert.ok(
      token.expires_in <= 120,
      `access tokens here last ${token.expires_in} s: point E2E_SHORT_TOKEN_BASE_URL at an API with ACCESS_TOKEN_EXPIRE_MINUTES=1`,
    )
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Items' }).click()
    await page.getByText('No items yet.').waitFor()
    await shot('before-expiry')

    // Wait on the server, not on a clock: until it refuses the token the page holds.
    await until(
      async () => {
        const check = await api('POST', '/api/v1/login/test-token', {
          token: token.access_token,
          baseURL: SHORT_TOKEN_BASE_URL,
        })
        return check.status === 401
      },
      'the server to refuse the expired access token',
      (token.expires_in + 30) * 1000,
      1000,
    )

    traffic.length = 0
    await page.getByRole('button', { name: 'New item', exact: true }).click()
    const dialog = page.getByRole('dialog', { name: 'New item' })
    await dialog.getByLabel('Title').fill('Written after the token expired')
    await dialog.getByRole('button', { name: 'Create item' }).click()
    await dialog.waitFor({ state: 'hidden' })
    await page.getByRole('cell', { name: 'Written after the token expired', exact: true }).waitFor()
    await shot('after-expiry')

    // Refused once, refreshed from the cookie, replayed with its body: the user saw none of it.
    assert.deepEqual(traffic.slice(0, 3), [
      'POST /api/v1/items/ 401',
      'POST /api/v1/login/refresh 200',
      'POST /api/v1/items/ 201',
    ])
    assert.equal(traffic.filter((line) => line.endsWith(' 401')).length, 1, traffic.join('\n'))
    assert.match(page.url(), /\/items$/)
    assert.equal(await page.getByText('Your session has ended').count(), 0)

    // The refresh rotated the cookie, and the new one keeps the session across a reload.
    await page.reload()
    await page.getByRole('cell', { name: 'Written after the token expired', exact: true }).waitFor()
  },
  {
    baseURL: SHORT_TOKEN_BASE_URL,
    timeout: 180_000,
    skip: !SHORT_TOKEN_BASE_URL && 'set E2E_SHORT_TOKEN_BASE_URL (scripts/e2e.sh does)',
  },
)
