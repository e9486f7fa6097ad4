// Email verification, as the services run it by default (EMAIL_VERIFICATION_REQUIRED):
// a visitor who signs up is told to check their email, cannot log in until the
// link in it is opened, asks for a new one from the login page, and a used or
// broken link says so and offers another.
import { expect, rowAction, test, unique } from './support/fixtures'
import { followVerificationLink, openEmail } from './support/mail'

test('a visitor signs up, is refused login until the emailed link is opened, then logs in', { tag: '@phone' }, async ({
  page,
  shot,
}) => {
  const email = `${unique('verify')}@example.com`
  const password = 'verify-me-please'
  await page.goto('/signup')
  await page.getByLabel('Full name').fill('Verified Person')
  await page.getByLabel('Email').fill(email)
  await page.getByLabel('Password', { exact: true }).fill(password)
  await page.getByLabel('Confirm password').fill(password)
  await page.getByRole('button', { name: 'Sign up' }).click()
  await expect(page.getByRole('status').getByText('Check your email.')).toBeVisible()
  await expect(page.getByRole('status').getByText(email)).toBeVisible()
  await shot('signup-check-email')

  // The login is refused, with a way to have the link sent again.
  await page.getByRole('link', { name: 'Log in' }).click()
  await page.getByLabel('Email').fill(email)
  await page.getByLabel('Password', { exact: true }).fill(password)
  await page.getByRole('button', { name: 'Log in' }).click()
  await expect(page.getByRole('alert').getByText('Verify your email address first')).toBeVisible()
  await page.getByRole('button', { name: 'Resend verification email' }).click()
  await expect(page.getByRole('status').getByText('a new verification email has been sent')).toBeVisible()
  await expect(page).toHaveURL(/\/login$/)
  await shot('login-unverified')

  // The newest email's link (the resent one) verifies the address.
  await followVerificationLink(page, email)
  await expect(page.getByRole('heading', { name: 'Verify email' })).toBeVisible()
  await expect(page.getByRole('status').getByText(`Your email address ${email} is verified.`)).toBeVisible()
  await shot('verified')
  const verifiedAt = page.url()
  await page.getByRole('link', { name: 'Log in' }).click()
  await page.getByLabel('Email').fill(email)
  await page.getByLabel('Password', { exact: true }).fill(password)
  await page.getByRole('button', { name: 'Log in' }).click()
  await expect(page.getByRole('heading', { name: /Good (morning|afternoon|evening), Verified Person/ })).toBeVisible()

  // The link works once: opened again, it says so and offers a new one.
  await page.goto(verifiedAt)
  await expect(page.getByRole('alert').getByText('Invalid, expired or already used verification link')).toBeVisible()
  await expect(page.getByRole('button', { name: 'Resend verification email' })).toBeVisible()
  await shot('link-used')
})

test('a broken link says so, and a new one can be asked for there', async ({ page }) => {
  await page.goto('/verify-email?token=not-a-real-token')
  await expect(page.getByRole('alert').getByText('Invalid, expired or already used verification link')).toBeVisible()
  await page.getByLabel('Email').fill(`${unique('nobody')}@example.com`)
  await page.getByRole('button', { name: 'Resend verification email' }).click()
  await expect(page.getByRole('status').getByText('a new verification email has been sent')).toBeVisible()
})

test('a new email address takes effect once the link sent to it is opened', async ({ userPage: page, user, shot }) => {
  const moved = `${unique('moved')}@example.com`
  await page.goto('/settings')
  await page.getByLabel('Email').fill(moved)
  await expect(page.getByText('The new address takes effect once you open the link we send to it.')).toBeVisible()
  await page.getByLabel('Password, to confirm the new address').fill(user.password)
  await page.getByRole('button', { name: 'Save profile' }).click()
  await expect(page.getByRole('status').getByText(`We sent a link to ${moved}`)).toBeVisible()
  await expect(page.getByLabel('Email')).toHaveValue(user.email)
  await expect(page.getByText(`Waiting for verification: ${moved}.`)).toBeVisible()
  await shot('settings-email-pending')

  await openEmail(page, moved, /verify your email address/)
  await page.getByRole('link', { name: /\/verify-email\?token=/ }).click()
  await expect(page.getByRole('status').getByText(`Your email address ${moved} is verified.`)).toBeVisible()
  await page.getByRole('link', { name: 'Back to settings' }).click()
  await expect(page.getByLabel('Email')).toHaveValue(moved)
})

test('an administrator marks a signed-up user verified, who can then log in', async ({
  adminPage: page,
  openPage,
  shot,
}) => {
  const email = `${unique('unverified')}@example.com`
  const password = 'waiting-for-admin'
  const visitor = await openPage()
  const signup = await visitor.request.post('/api/v1/users/signup', { data: { email, password } })
  expect(signup.status()).toBe(201)

  await page.goto('/admin/users')
  await page.getByLabel('Search by email').fill(email)
  await page.getByRole('button', { name: 'Search', exact: true }).click()
  const row = page.getByRole('row').filter({ hasText: email })
  await expect(row.getByText('Email unverified')).toBeVisible()
  await rowAction(page, email, 'Edit')
  const dialog = page.getByRole('dialog')
  await dialog.getByLabel('Email verified').check()
  await shot('admin-marks-verified')
  await dialog.getByRole('button', { name: 'Save' }).click()
  await expect(row.getByText('Email unverified')).toHaveCount(0)

  await visitor.goto('/login')
  await visitor.getByLabel('Email').fill(email)
  await visitor.getByLabel('Password', { exact: true }).fill(password)
  await visitor.getByRole('button', { name: 'Log in' }).click()
  await visitor.waitForURL((url) => !url.pathname.startsWith('/login'))
})
