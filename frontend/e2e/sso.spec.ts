// Single sign-on against a real OpenID provider (oidc-provider, started with the
// system by scripts/e2e-services.sh): the login page's button, the provider's own
// sign-in and consent pages, and back into the app, in the group the provider's
// group maps to.
import { expect, test, unique } from './support/fixtures'

// The provider's development pages import a web font from the internet, which the
// tests never reach: an empty style sheet stands in for it.
test.beforeEach(async ({ page }) => {
  await page.route('https://fonts.googleapis.com/**', (route) =>
    route.fulfill({ contentType: 'text/css', body: '' }),
  )
})

interface Listed {
  data: { email: string; groups: { name: string }[] }[]
}

test('a user signs in with the OpenID provider and lands in the app, in the mapped group', async ({ page, adminApi, shot }) => {
  // The local group the provider's group "staff" maps to (SSO_PROVIDERS).
  const group = await adminApi.post('/api/v1/groups/', { data: { name: 'SSO Staff' } })
  expect([201, 409], await group.text()).toContain(group.status())
  const email = `${unique('sso')}@example.com`

  await page.goto('/login')
  await shot('login-page')
  await page.getByRole('link', { name: 'Sign in with Test IdP' }).click()

  // The provider's development login page: any password will do.
  await page.locator('input[name="login"]').fill(email)
  await page.locator('input[name="password"]').fill('any password')
  await shot('provider-login')
  await page.getByRole('button', { name: 'Sign-in' }).click()
  await page.getByRole('button', { name: 'Continue' }).click()

  await expect(page.getByRole('heading', { name: /^Good /, level: 1 })).toBeVisible()
  await expect(page).toHaveURL(/\/$/)
  await shot('signed-in')

  // The account was created with the mapped group.
  const users = await adminApi.get('/api/v1/users/', { params: { email } })
  expect(users.status()).toBe(200)
  const listed = (await users.json()) as Listed
  expect(listed.data.map((user) => user.email)).toEqual([email])
  expect(listed.data[0]?.groups.map((g) => g.name)).toContain('SSO Staff')

  // A reload keeps the session: the refresh cookie is the password login's.
  await page.reload()
  await expect(page.getByRole('heading', { name: /^Good /, level: 1 })).toBeVisible()
})

test('declining at the provider brings the user back to the login page with a reason', async ({ page }) => {
  await page.goto('/login')
  await page.getByRole('link', { name: 'Sign in with Test IdP' }).click()
  await page.locator('input[name="login"]').fill(`${unique('sso')}@example.com`)
  await page.locator('input[name="password"]').fill('any password')
  await page.getByRole('button', { name: 'Sign-in' }).click()
  // The consent page's "Cancel" link aborts the interaction.
  await page.getByRole('link', { name: /Cancel/i }).click()

  await expect(page).toHaveURL(/\/login\?sso_error=access_denied$/)
  await expect(page.getByRole('alert')).toHaveText('Sign-in was cancelled at the provider.')
})
