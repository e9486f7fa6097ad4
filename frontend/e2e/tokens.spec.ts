// Personal access tokens from the settings page: created and shown once, used
// from outside the browser, revoked.
import { expect, logIn, test, unique } from './support/fixtures'

test('a personal access token is shown once, works as a bearer token, and fails once revoked', async ({
  page,
  user,
  request,
  shot,
}) => {
  await logIn(page, user.email, user.password)
  await page.goto('/settings')
  const section = page.getByRole('region', { name: 'Personal access tokens' })
  await expect(section.getByText('You have no tokens.')).toBeVisible()

  const name = unique('ci')
  await section.getByLabel('Token name').fill(name)
  await section.getByLabel('Expires in').selectOption('30')
  await section.getByRole('button', { name: 'Create token' }).click()
  const shown = section.getByTestId('new-token-value')
  await expect(shown).toBeVisible()
  await expect(section.getByText('it will not be shown again')).toBeVisible()
  const token = (await shown.textContent())?.trim() ?? ''
  expect(token).toMatch(/^[a-z0-9]+_pat_[A-Za-z0-9_-]{40,}$/)
  await expect(section.getByRole('cell', { name, exact: true })).toBeVisible()
  await shot('created')

  const bearer = { Authorization: `Bearer ${token}` }
  const me = await request.get('/api/v1/users/me', { headers: bearer })
  expect(me.status()).toBe(200)
  expect(((await me.json()) as { email: string }).email).toBe(user.email)

  // Once dismissed (or after a reload) the token is nowhere on the page.
  await section.getByRole('button', { name: 'Done' }).click()
  await page.reload()
  await expect(section.getByRole('cell', { name, exact: true })).toBeVisible()
  await expect(page.getByText(token)).toHaveCount(0)

  await section.getByRole('button', { name: `Revoke ${name}` }).click()
  const dialog = page.getByRole('dialog', { name: 'Revoke token' })
  await dialog.getByRole('button', { name: 'Revoke token' }).click()
  await expect(dialog).toBeHidden()
  await expect(section.getByText('You have no tokens.')).toBeVisible()

  const after = await request.get('/api/v1/users/me', { headers: bearer })
  expect(after.status()).toBe(401)
})
