// Two-factor authentication: a user turns it on, logs in with a code and with a
// recovery code, and turns it off.
import { expect, mainNav, test } from './support/fixtures'
import { totp } from './support/totp'

test('a user turns on two-factor authentication, logs in with codes, and turns it off @phone', async ({ page, user, shot }) => {
  await page.goto('/login')
  await page.getByLabel('Email').fill(user.email)
  await page.getByLabel('Password', { exact: true }).fill(user.password)
  await page.getByRole('button', { name: 'Log in' }).click()
  await expect(page.getByRole('heading', { name: /^Good /, level: 1 })).toBeVisible()

  // Enroll: password, then the QR code and the key, then a code from the "app".
  await page.goto('/settings')
  const section = page.getByRole('region', { name: 'Two-factor authentication' })
  await section.getByRole('button', { name: 'Set up two-factor authentication' }).click()
  await section.getByLabel('Password').fill(user.password)
  await section.getByRole('button', { name: 'Continue' }).click()
  await expect(section.getByRole('img', { name: 'QR code for your authenticator app' })).toBeVisible()
  const secret = (await section.getByTestId('totp-secret').textContent())?.trim() ?? ''
  expect(secret).toMatch(/^[A-Z2-7]{32}$/)
  await shot('enroll')
  // This step's code (a code computed near a step's end may reach the server in the
  // next one: ±1 step covers that, the previous step's code would not).
  await section.getByLabel('Authentication code').fill(totp(secret))
  await section.getByRole('button', { name: 'Turn on' }).click()
  const shown = section.getByRole('list', { name: 'Recovery codes' }).getByRole('listitem')
  await expect(shown).toHaveCount(10)
  await shot('recovery-codes')
  const codes = await shown.allTextContents()
  await section.getByRole('button', { name: 'I saved them' }).click()
  await expect(section.getByText('On: logging in asks for a code')).toBeVisible()

  // Log out, log in with the password, then the code.
  await mainNav(page)
  await page.getByRole('button', { name: 'Log out' }).click()
  await expect(page).toHaveURL(/\/login$/)
  await page.getByLabel('Email').fill(user.email)
  await page.getByLabel('Password', { exact: true }).fill(user.password)
  await page.getByRole('button', { name: 'Log in' }).click()
  const code = page.getByLabel('Authentication code')
  await expect(code).toHaveAttribute('autocomplete', 'one-time-code')
  await shot('login-code')
  // The next step's code: each step's code is accepted once, and this step's went
  // to turning it on.
  await code.fill(totp(secret, 1))
  await page.getByRole('button', { name: 'Verify' }).click()
  await expect(page.getByRole('heading', { name: /^Good /, level: 1 })).toBeVisible()

  // Again, with a recovery code.
  await mainNav(page)
  await page.getByRole('button', { name: 'Log out' }).click()
  await page.getByLabel('Email').fill(user.email)
  await page.getByLabel('Password', { exact: true }).fill(user.password)
  await page.getByRole('button', { name: 'Log in' }).click()
  await page.getByRole('button', { name: 'Use a recovery code' }).click()
  await page.getByLabel('Recovery code').fill(codes[0]?.trim() ?? '')
  await page.getByRole('button', { name: 'Verify' }).click()
  await expect(page.getByRole('heading', { name: /^Good /, level: 1 })).toBeVisible()

  // Turn it off with the password and a code.
  await page.goto('/settings')
  await section.getByRole('button', { name: 'Turn off' }).click()
  await section.getByLabel('Password').fill(user.password)
  await section.getByLabel('Code from the app, or a recovery code').fill(codes[1]?.trim() ?? '')
  await section.getByRole('button', { name: 'Turn off two-factor authentication' }).click()
  await expect(section.getByRole('button', { name: 'Set up two-factor authentication' })).toBeVisible()
})
