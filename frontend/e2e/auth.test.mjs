// Signing in and out, the session across reloads, password recovery by email,
// and an account's life from sign-up to deletion.
import assert from 'node:assert/strict'

import { createUser, e2e, logIn, MAIL_URL, unique, until } from './lib.mjs'

e2e('a user logs in, lands where they were going, and logs out', async ({ page, shot }) => {
  const user = await createUser('login')
  await page.goto('/items')
  await page.waitForURL(/\/login\?redirect=(%2F|\/)items$/)
  await shot('login')
  await page.getByLabel('Email').fill(user.email)
  await page.getByLabel('Password', { exact: true }).fill(user.password)
  await page.getByRole('button', { name: 'Log in' }).click()
  await page.getByRole('heading', { name: 'Items', level: 1 }).waitFor()
  assert.match(page.url(), /\/items$/)
  const nav = page.getByRole('navigation', { name: 'Main' })
  await nav.getByRole('link', { name: 'Dashboard' }).waitFor()
  await page.getByText(user.email).waitFor()
  await shot('items')

  await page.getByRole('button', { name: 'Log out' }).click()
  await page.waitForURL(/\/login$/)
  await page.getByText('You are logged out.').waitFor()
  await shot('logged-out')
  // The refresh cookie is gone: neither a reload nor a protected page brings the session back.
  await page.reload()
  await page.getByRole('heading', { name: 'Log in' }).waitFor()
  await page.goto('/settings')
  await page.waitForURL(/\/login\?redirect=(%2F|\/)settings$/)
})

e2e('a wrong password shows an error and no session starts', async ({ page, shot }) => {
  const user = await createUser('wrong-password')
  await page.goto('/login')
  await page.getByLabel('Email').fill(user.email)
  await page.getByLabel('Password', { exact: true }).fill(`${user.password}-not`)
  await page.getByRole('button', { name: 'Log in' }).click()
  const alert = page.getByRole('alert')
  await alert.waitFor()
  assert.equal((await alert.textContent())?.trim(), 'Incorrect email or password')
  await shot('wrong-password')
  assert.match(page.url(), /\/login$/)
  await page.goto('/')
  await page.waitForURL(/\/login$/)
})

e2e('a reload keeps the session through the refresh cookie', async ({ page, shot }) => {
  const user = await createUser('reload')
  await logIn(page, user.email, user.password)
  await page.goto('/settings')
  await page.getByRole('heading', { name: 'Settings', level: 1 }).waitFor()

  // The access token lived in memory only: the reloaded app gets a new one from the cookie.
  const refreshed = page.waitForResponse((response) => response.url().endsWith('/api/v1/login/refresh'))
  await page.reload()
  assert.equal((await refreshed).status(), 200)
  await page.getByRole('heading', { name: 'Settings', level: 1 }).waitFor()
  assert.match(page.url(), /\/settings$/)
  await page.getByText(user.email).waitFor()
  await shot('settings-after-reload')

  // A second tab of the same browser shares the cookie, so it is signed in too.
  const tab = await page.context().newPage()
  await tab.goto('/items')
  await tab.getByRole('heading', { name: 'Items', level: 1 }).waitFor()
  await tab.close()
})

e2e('a forgotten password is reset through the link in the email', async ({ page, shot }) => {
  const user = await createUser('recover')
  const newPassword = unique('new-password')
  await page.goto('/login')
  await page.getByRole('link', { name: 'Forgot your password?' }).click()
  await page.getByRole('heading', { name: 'Recover password' }).waitFor()
  await page.getByLabel('Email').fill(user.email)
  await page.getByRole('button', { name: 'Send reset link' }).click()
  await page.getByRole('status').getByText('If that account exists').waitFor()
  await shot('recovery-sent')

  // The worker sends the email to the mail sink; its web page lists it.
  await page.goto(MAIL_URL)
  // (Its account was made by an administrator: a welcome email came first.)
  const link = page.getByRole('row').filter({ hasText: user.email }).getByRole('link', { name: /reset your password/ })
  await until(
    async () => {
      if (await link.count()) return true
      await page.reload()
      return false
    },
    `the email to ${user.email} in the mail sink`,
    30_000,
    500,
  )
  await shot('mail-sink')
  await link.click()
  await page.getByText('Someone asked to reset the password').waitFor()
  await shot('reset-email')
  await page.getByRole('link', { name: /\/reset-password\?token=/ }).click()

  await page.getByRole('heading', { name: 'Reset password' }).waitFor()
  await page.getByLabel('New password', { exact: true }).fill(newPassword)
  await page.getByLabel('Confirm new password').fill(newPassword)
  await shot('reset-form')
  await page.getByRole('button', { name: 'Set new password' }).click()
  await page.getByRole('status').getByText('Password updated successfully').waitFor()
  await shot('reset-done')
  await page.getByRole('link', { name: 'Log in' }).click()

  await page.getByLabel('Email').fill(user.email)
  await page.getByLabel('Password', { exact: true }).fill(user.password)
  await page.getByRole('button', { name: 'Log in' }).click()
  await page.getByRole('alert').getByText('Incorrect email or password').waitFor()
  await page.getByLabel('Password', { exact: true }).fill(newPassword)
  await page.getByRole('button', { name: 'Log in' }).click()
  await page.getByRole('navigation', { name: 'Main' }).waitFor()
  await shot('logged-in-with-new-password')
})

e2e('a visitor choosing a common password is told so before anything is sent', async ({ page, shot }) => {
  let signups = 0
  page.on('request', (request) => {
    signups += request.url().includes('/api/v1/users/signup') ? 1 : 0
  })
  await page.goto('/signup')
  await page.getByLabel('Email').fill(`${unique('common')}@example.com`)
  const password = page.getByLabel('Password', { exact: true })
  await password.fill('Sunshine1')
  await page.getByLabel('Confirm password').fill('Sunshine1')
  await page.getByRole('status').filter({ hasText: 'Strength: Too common' }).waitFor()
  await page.getByRole('button', { name: 'Sign up' }).click()
  await page.getByText('This password is too common: choose a less predictable one.').waitFor()
  assert.equal(signups, 0)
  await shot('signup-common-password')

  await password.fill('plum tiger kettle ocean')
  await page.getByRole('status').filter({ hasText: 'Strength: Strong' }).waitFor()
  await shot('signup-strong-password')
})

e2e('a visitor signs up, changes the password and deletes the account', async ({ page, shot }) => {
  const email = `${unique('signup')}@example.com`
  await page.goto('/login')
  await page.getByRole('link', { name: 'Sign up' }).click()
  await page.getByLabel('Full name').fill('New Person')
  await page.getByLabel('Email').fill(email)
  await page.getByLabel('Password', { exact: true }).fill('first-password')
  await page.getByLabel('Confirm password').fill('first-password')
  await shot('signup')
  await page.getByRole('button', { name: 'Sign up' }).click()

  // A new account belongs to no group: no administration, no jobs.
  const nav = page.getByRole('navigation', { name: 'Main' })
  await page.getByRole('heading', { name: /Good (morning|afternoon|evening), New Person/ }).waitFor()
  await shot('dashboard')
  assert.equal(await nav.getByRole('link', { name: 'Users' }).count(), 0)
  assert.equal(await nav.getByRole('link', { name: 'Groups' }).count(), 0)
  await page.goto('/admin/users')
  await page.getByText('You do not have permission to open that page.').waitFor()
  await nav.getByRole('link', { name: 'Jobs' }).click()
  await page.getByText('Starting jobs needs the').waitFor()
  await shot('jobs-not-allowed')

  await nav.getByRole('link', { name: 'Settings' }).click()
  await page.getByLabel('Current password').fill('first-password')
  await page.getByLabel('New password', { exact: true }).fill('second-password')
  await page.getByLabel('Confirm new password').fill('second-password')
  await page.getByRole('button', { name: 'Change password' }).click()
  await page.waitForURL(/\/login$/)
  await logIn(page, email, 'second-password')

  // A new email address is confirmed with the password.
  const moved = `${unique('moved')}@example.com`
  await page.goto('/settings')
  await page.getByLabel('Email').fill(moved)
  await page.getByLabel('Password, to confirm the new address').fill('second-password')
  await shot('settings-new-email')
  await page.getByRole('button', { name: 'Save profile' }).click()
  await page.getByText('Profile saved.').waitFor()
  assert.equal(await page.getByLabel('Password, to confirm the new address').count(), 0)

  await shot('settings')
  await page.getByRole('button', { name: 'Delete account' }).click()
  await page
    .getByRole('dialog', { name: 'Delete your account' })
    .getByRole('button', { name: 'Delete my account' })
    .click()
  await page.waitForURL(/\/login$/)
  await page.getByLabel('Email').fill(moved)
  await page.getByLabel('Password', { exact: true }).fill('second-password')
  await page.getByRole('button', { name: 'Log in' }).click()
  await page.getByRole('alert').getByText('Incorrect email or password').waitFor()
})

e2e('an unknown address shows the not-found page', async ({ page, shot }) => {
  await page.goto('/no/such/page')
  await page.getByRole('heading', { name: 'Page not found' }).waitFor()
  await shot('not-found')
})

e2e('a guest page asks for no session and logs no failed request', async ({ page, shot }) => {
  const refreshes = []
  const failures = []
  page.on('request', (request) => {
    if (request.url().includes('/api/v1/login/refresh')) refreshes.push(request.url())
  })
  page.on('console', (message) => {
    if (message.type() === 'error') failures.push(message.text())
  })
  await page.goto('/login')
  await page.getByRole('heading', { name: 'Log in' }).waitFor()
  await page.reload()
  await page.getByRole('heading', { name: 'Log in' }).waitFor()
  await shot('guest')
  assert.deepEqual(refreshes, [])
  assert.deepEqual(failures, [])
})
