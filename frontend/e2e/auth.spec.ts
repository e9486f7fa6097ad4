// Signing in and out, the session across reloads, password recovery by email,
// and an account's life from sign-up to deletion.
import { MAIL_URL, SHORT_TOKEN_BASE_URL } from './support/env'
import { expect, logIn, mainNav, test, unique } from './support/fixtures'
import { followVerificationLink } from './support/mail'

test('a user logs in, lands where they were going, and logs out', { tag: '@phone' }, async ({ page, user, shot }) => {
  await page.goto('/items')
  await expect(page).toHaveURL(/\/login\?redirect=(%2F|\/)items$/)
  await shot('login')
  await page.getByLabel('Email').fill(user.email)
  await page.getByLabel('Password', { exact: true }).fill(user.password)
  await page.getByRole('button', { name: 'Log in' }).click()
  await expect(page.getByRole('heading', { name: 'Items', level: 1 })).toBeVisible()
  await expect(page).toHaveURL(/\/items$/)
  const nav = await mainNav(page)
  await expect(nav.getByRole('link', { name: 'Dashboard' })).toBeVisible()
  await expect(page.getByText(user.email)).toBeVisible()
  await shot('items')

  await page.getByRole('button', { name: 'Log out' }).click()
  await expect(page).toHaveURL(/\/login$/)
  await expect(page.getByText('You are logged out.')).toBeVisible()
  await shot('logged-out')
  // The refresh cookie is gone: neither a reload nor a protected page brings the session back.
  await page.reload()
  await expect(page.getByRole('heading', { name: 'Log in' })).toBeVisible()
  await page.goto('/settings')
  await expect(page).toHaveURL(/\/login\?redirect=(%2F|\/)settings$/)
})

test('a wrong password shows an error and no session starts', async ({ page, user, shot }) => {
  await page.goto('/login')
  await page.getByLabel('Email').fill(user.email)
  await page.getByLabel('Password', { exact: true }).fill(`${user.password}-not`)
  await page.getByRole('button', { name: 'Log in' }).click()
  await expect(page.getByRole('alert')).toHaveText('Incorrect email or password')
  await shot('wrong-password')
  await expect(page).toHaveURL(/\/login$/)
  await page.goto('/')
  await expect(page).toHaveURL(/\/login$/)
})

test('a rate-limited login says when to try again, from Retry-After', async ({ page, shot }) => {
  // The API behind SHORT_TOKEN_BASE_URL keeps the rate limits on (the other
  // runs without them: the tests log in many times a minute). One account has
  // 10 attempts a minute; the 11th answers 429 with Retry-After.
  test.skip(!SHORT_TOKEN_BASE_URL, 'set E2E_SHORT_TOKEN_BASE_URL to an API with its rate limits on')
  await page.goto(`${SHORT_TOKEN_BASE_URL}/login`)
  await page.getByLabel('Email').fill(`${unique('limited')}@example.com`)
  await page.getByLabel('Password', { exact: true }).fill('not the password')
  const alert = page.getByRole('alert')
  for (let attempt = 1; attempt <= 10; attempt++) {
    const answered = page.waitForResponse((response) => response.url().endsWith('/api/v1/login/access-token'))
    await page.getByRole('button', { name: 'Log in' }).click()
    expect((await answered).status()).toBe(401)
    await expect(alert).toHaveText('Incorrect email or password')
  }
  const limited = page.waitForResponse((response) => response.url().endsWith('/api/v1/login/access-token'))
  await page.getByRole('button', { name: 'Log in' }).click()
  const answer = await limited
  expect(answer.status()).toBe(429)
  const seconds = Number(answer.headers()['retry-after'])
  expect(seconds).toBeGreaterThan(0)
  await expect(alert).toHaveText(`Too many attempts. Try again in ${seconds} second${seconds === 1 ? '' : 's'}.`)
  await expect(alert).not.toContainText('per 1 minute')
  await shot('rate-limited')
  await expect(page).toHaveURL(/\/login$/)
})

test('a reload keeps the session through the refresh cookie', async ({ userPage: page, user, shot }) => {
  await page.goto('/settings')
  await expect(page.getByRole('heading', { name: 'Settings', level: 1 })).toBeVisible()

  // The access token lived in memory only: the reloaded app gets a new one from the cookie.
  const refreshed = page.waitForResponse((response) => response.url().endsWith('/api/v1/login/refresh'))
  await page.reload()
  expect((await refreshed).status()).toBe(200)
  await expect(page.getByRole('heading', { name: 'Settings', level: 1 })).toBeVisible()
  await expect(page).toHaveURL(/\/settings$/)
  await expect(page.getByText(user.email)).toBeVisible()
  await shot('settings-after-reload')

  // A second tab of the same browser shares the cookie, so it is signed in too.
  const tab = await page.context().newPage()
  await tab.goto('/items')
  await expect(tab.getByRole('heading', { name: 'Items', level: 1 })).toBeVisible()
  await tab.close()
})

test('a forgotten password is reset through the link in the email', async ({ page, user, shot }) => {
  const newPassword = unique('new-password')
  await page.goto('/login')
  await page.getByRole('link', { name: 'Forgot your password?' }).click()
  await expect(page.getByRole('heading', { name: 'Recover password' })).toBeVisible()
  await page.getByLabel('Email').fill(user.email)
  await page.getByRole('button', { name: 'Send reset link' }).click()
  await expect(page.getByRole('status').getByText('If that account exists')).toBeVisible()
  await shot('recovery-sent')

  // The worker sends the email to the mail sink; its web page lists it.
  // (Its account was made by an administrator: a welcome email came first.)
  const link = page
    .getByRole('row')
    .filter({ hasText: user.email })
    .getByRole('link', { name: /reset your password/ })
  await expect(async () => {
    await page.goto(MAIL_URL)
    await expect(link).toBeVisible({ timeout: 500 })
  }, `the email to ${user.email} in the mail sink`).toPass({ timeout: 30_000 })
  await shot('mail-sink')
  await link.click()
  await expect(page.getByText('Someone asked to reset the password')).toBeVisible()
  await shot('reset-email')
  await page.getByRole('link', { name: /\/reset-password\?token=/ }).click()

  await expect(page.getByRole('heading', { name: 'Reset password' })).toBeVisible()
  await page.getByLabel('New password', { exact: true }).fill(newPassword)
  await page.getByLabel('Confirm new password').fill(newPassword)
  await shot('reset-form')
  await page.getByRole('button', { name: 'Set new password' }).click()
  await expect(page.getByRole('status').getByText('Password updated successfully')).toBeVisible()
  await shot('reset-done')
  await page.getByRole('link', { name: 'Log in' }).click()

  await page.getByLabel('Email').fill(user.email)
  await page.getByLabel('Password', { exact: true }).fill(user.password)
  await page.getByRole('button', { name: 'Log in' }).click()
  await expect(page.getByRole('alert').getByText('Incorrect email or password')).toBeVisible()
  await page.getByLabel('Password', { exact: true }).fill(newPassword)
  await page.getByRole('button', { name: 'Log in' }).click()
  await mainNav(page)
  await shot('logged-in-with-new-password')
})

test('a visitor choosing a common password is told so before anything is sent', async ({ page, shot }) => {
  let signups = 0
  page.on('request', (request) => {
    signups += request.url().includes('/api/v1/users/signup') ? 1 : 0
  })
  await page.goto('/signup')
  await page.getByLabel('Email').fill(`${unique('common')}@example.com`)
  const password = page.getByLabel('Password', { exact: true })
  await password.fill('Sunshine1')
  await page.getByLabel('Confirm password').fill('Sunshine1')
  await expect(page.getByRole('status').filter({ hasText: 'Strength: Too common' })).toBeVisible()
  await page.getByRole('button', { name: 'Sign up' }).click()
  await expect(page.getByText('This password is too common: choose a less predictable one.')).toBeVisible()
  expect(signups).toBe(0)
  await shot('signup-common-password')

  await password.fill('plum tiger kettle ocean')
  await expect(page.getByRole('status').filter({ hasText: 'Strength: Strong' })).toBeVisible()
  await shot('signup-strong-password')
})

test('a visitor signs up, changes the password and deletes the account', async ({ page, shot }) => {
  const email = `${unique('signup')}@example.com`
  await page.goto('/login')
  await page.getByRole('link', { name: 'Sign up' }).click()
  await page.getByLabel('Full name').fill('New Person')
  await page.getByLabel('Email').fill(email)
  await page.getByLabel('Password', { exact: true }).fill('first-password')
  await page.getByLabel('Confirm password').fill('first-password')
  await shot('signup')
  await page.getByRole('button', { name: 'Sign up' }).click()
  // Its address is verified first (e2e/email-verification.spec.ts).
  await expect(page.getByRole('status').getByText('Check your email.')).toBeVisible()
  await followVerificationLink(page, email)
  await page.getByRole('link', { name: 'Log in' }).click()
  await page.getByLabel('Email').fill(email)
  await page.getByLabel('Password', { exact: true }).fill('first-password')
  await page.getByRole('button', { name: 'Log in' }).click()

  // A new account belongs to no group: no administration, no jobs.
  await expect(page.getByRole('heading', { name: /Good (morning|afternoon|evening), New Person/ })).toBeVisible()
  await shot('dashboard')
  const nav = await mainNav(page)
  await expect(nav.getByRole('link', { name: 'Users' })).toHaveCount(0)
  await expect(nav.getByRole('link', { name: 'Groups' })).toHaveCount(0)
  await page.goto('/admin/users')
  await expect(page.getByText('You do not have permission to open that page.')).toBeVisible()
  await (await mainNav(page)).getByRole('link', { name: 'Jobs' }).click()
  await expect(page.getByText('Starting jobs needs the')).toBeVisible()
  await shot('jobs-not-allowed')

  await (await mainNav(page)).getByRole('link', { name: 'Settings' }).click()
  await page.getByLabel('Current password').fill('first-password')
  await page.getByLabel('New password', { exact: true }).fill('second-password')
  await page.getByLabel('Confirm new password').fill('second-password')
  await page.getByRole('button', { name: 'Change password' }).click()
  await expect(page).toHaveURL(/\/login$/)
  await logIn(page, email, 'second-password')

  // A new email address is confirmed with the password, and waits for its link.
  const moved = `${unique('moved')}@example.com`
  await page.goto('/settings')
  await page.getByLabel('Email').fill(moved)
  await page.getByLabel('Password, to confirm the new address').fill('second-password')
  await shot('settings-new-email')
  await page.getByRole('button', { name: 'Save profile' }).click()
  await expect(page.getByText('Profile saved.')).toBeVisible()
  await expect(page.getByLabel('Password, to confirm the new address')).toHaveCount(0)

  await shot('settings')
  await page.getByRole('button', { name: 'Delete account' }).click()
  await page
    .getByRole('dialog', { name: 'Delete your account' })
    .getByRole('button', { name: 'Delete my account' })
    .click()
  await expect(page).toHaveURL(/\/login$/)
  await page.getByLabel('Email').fill(moved)
  await page.getByLabel('Password', { exact: true }).fill('second-password')
  await page.getByRole('button', { name: 'Log in' }).click()
  await expect(page.getByRole('alert').getByText('Incorrect email or password')).toBeVisible()
})

test('an unknown address shows the not-found page', { tag: '@phone' }, async ({ page, shot }) => {
  await page.goto('/no/such/page')
  await expect(page.getByRole('heading', { name: 'Page not found' })).toBeVisible()
  await shot('not-found')
})

test('a guest page asks for no session and logs no failed request', async ({ page, shot }) => {
  const refreshes: string[] = []
  const failures: string[] = []
  page.on('request', (request) => {
    if (request.url().includes('/api/v1/login/refresh')) refreshes.push(request.url())
  })
  page.on('console', (message) => {
    if (message.type() === 'error') failures.push(message.text())
  })
  await page.goto('/login')
  await expect(page.getByRole('heading', { name: 'Log in' })).toBeVisible()
  await page.reload()
  await expect(page.getByRole('heading', { name: 'Log in' })).toBeVisible()
  await shot('guest')
  expect(refreshes).toEqual([])
  expect(failures).toEqual([])
})
