// The access token's expiry, for real: the app behind SHORT_TOKEN_BASE_URL
// talks to an API whose tokens last one minute (the shortest the settings
// allow), so this test waits for one to expire. Its file comes first in name
// order, so it starts first and waits while the other tests run.
import { SHORT_TOKEN_BASE_URL } from './support/env'
import { expect, logIn, mainNav, test } from './support/fixtures'

test.use({ baseURL: SHORT_TOKEN_BASE_URL })

test('an expired access token is refreshed silently and the request goes through', async ({
  page,
  user,
  request,
  shot,
}) => {
  test.skip(!SHORT_TOKEN_BASE_URL, 'set E2E_SHORT_TOKEN_BASE_URL (playwright.config.ts does when it starts the system)')
  test.setTimeout(180_000)
  const traffic: string[] = []
  page.on('response', (response) => {
    const { pathname } = new URL(response.url())
    if (pathname.startsWith('/api/')) {
      traffic.push(`${response.request().method()} ${pathname} ${response.status()}`)
    }
  })
  const loggedIn = page.waitForResponse((response) => response.url().endsWith('/api/v1/login/access-token'))
  await logIn(page, user.email, user.password)
  const token = (await (await loggedIn).json()) as { access_token: string; expires_in: number }
  expect(
    token.expires_in,
    'access tokens here should last a minute: point E2E_SHORT_TOKEN_BASE_URL at an API with ACCESS_TOKEN_EXPIRE_MINUTES=1',
  ).toBeLessThanOrEqual(120)
  await (await mainNav(page)).getByRole('link', { name: 'Items' }).click()
  await expect(page.getByText('No items yet.')).toBeVisible()
  await shot('before-expiry')

  // Wait on the server, not on a clock: until it refuses the token the page holds.
  await expect
    .poll(
      async () =>
        (
          await request.post(`${SHORT_TOKEN_BASE_URL}/api/v1/login/test-token`, {
            headers: { Authorization: `Bearer ${token.access_token}` },
          })
        ).status(),
      { message: 'the server to refuse the expired access token', timeout: (token.expires_in + 30) * 1000, intervals: [1000] },
    )
    .toBe(401)

  traffic.length = 0
  await page.getByRole('button', { name: 'New item', exact: true }).click()
  const dialog = page.getByRole('dialog', { name: 'New item' })
  await dialog.getByLabel('Title').fill('Written after the token expired')
  await dialog.getByRole('button', { name: 'Create item' }).click()
  await expect(dialog).toBeHidden()
  await expect(page.getByRole('cell', { name: 'Written after the token expired', exact: true })).toBeVisible()
  await shot('after-expiry')

  // Refused once, refreshed from the cookie, replayed with its body: the user saw none of it.
  expect(traffic.slice(0, 3)).toEqual([
    'POST /api/v1/items/ 401',
    'POST /api/v1/login/refresh 200',
    'POST /api/v1/items/ 201',
  ])
  expect(traffic.filter((line) => line.endsWith(' 401')), traffic.join('\n')).toHaveLength(1)
  await expect(page).toHaveURL(/\/items$/)
  await expect(page.getByText('Your session has ended')).toHaveCount(0)

  // The refresh rotated the cookie, and the new one keeps the session across a reload.
  await page.reload()
  await expect(page.getByRole('cell', { name: 'Written after the token expired', exact: true })).toBeVisible()
})
