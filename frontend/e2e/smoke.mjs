#!/usr/bin/env node
// Browser smoke test of the whole app against a running API: open
// E2E_BASE_URL (the dev server or `vite preview`, which proxy /api), log in,
// and walk through items, jobs, administration, settings and logout.
// Jobs finish only with a worker running; set E2E_WORKER=0 to skip waiting.
import assert from 'node:assert/strict'

import { ADMIN_EMAIL, ADMIN_PASSWORD, BASE_URL, launch, newPage, steps, until } from './lib.mjs'

const WAIT_FOR_WORKER = process.env.E2E_WORKER !== '0'
const stamp = Date.now().toString(36)
let signupClosed = false

const browser = await launch()
const { page, problems } = await newPage(browser, { viewport: { width: 1280, height: 860 } })
page.setDefaultTimeout(10_000)
console.log(`smoke test against ${BASE_URL}`)

const ok = await steps([
  [
    'a signed-out visitor is sent to log in, then back where they were going',
    async () => {
      await page.goto('/items')
      await page.waitForURL(/\/login\?redirect=(%2F|\/)items$/)
      await page.getByLabel('Email').fill(ADMIN_EMAIL)
      await page.getByLabel('Password', { exact: true }).fill(ADMIN_PASSWORD)
      await page.getByRole('button', { name: 'Log in' }).click()
      await page.getByRole('heading', { name: 'Items' }).waitFor()
      assert.match(page.url(), /\/items$/)
    },
  ],
  [
    'a wrong password shows the server message',
    async () => {
      const { page: other, context } = await newPage(browser)
      await other.goto('/login')
      await other.getByLabel('Email').fill(ADMIN_EMAIL)
      await other.getByLabel('Password', { exact: true }).fill('not the password')
      await other.getByRole('button', { name: 'Log in' }).click()
      const alert = other.getByRole('alert')
      await alert.waitFor()
      assert.equal((await alert.textContent())?.trim(), 'Incorrect email or password')
      await context.close()
    },
  ],
  [
    'an item is created, edited and survives a reload (session restored from the cookie)',
    async () => {
      await page.goto('/items')
      await page.getByRole('button', { name: 'New item', exact: true }).click()
      const dialog = page.getByRole('dialog', { name: 'New item' })
      await dialog.getByRole('button', { name: 'Create item' }).click()
      await dialog.getByText('Enter a title.').waitFor()
      await dialog.getByLabel('Title').fill(`Smoke ${stamp}`)
      await dialog.getByLabel('Description').fill('Made by the browser smoke test')
      await dialog.getByRole('button', { name: 'Create item' }).click()
      await page.getByRole('cell', { name: `Smoke ${stamp}`, exact: true }).waitFor()

      await page.getByRole('button', { name: `Edit Smoke ${stamp}` }).click()
      const edit = page.getByRole('dialog', { name: 'Edit item' })
      await edit.getByLabel('Title').fill(`Smoke ${stamp} edited`)
      await edit.getByRole('button', { name: 'Save' }).click()
      await page.getByRole('cell', { name: `Smoke ${stamp} edited`, exact: true }).waitFor()

      await page.reload()
      await page.getByRole('cell', { name: `Smoke ${stamp} edited`, exact: true }).waitFor()
    },
  ],
  [
    'an item is deleted after confirmation',
    async () => {
      await page.getByRole('button', { name: `Delete Smoke ${stamp} edited` }).click()
      const confirm = page.getByRole('dialog', { name: 'Delete item' })
      await confirm.getByRole('button', { name: 'Delete' }).click()
      await page.getByRole('cell', { name: `Smoke ${stamp} edited`, exact: true }).waitFor({ state: 'detached' })
    },
  ],
  [
    'a demo job starts and its progress is shown live',
    async () => {
      await page.getByRole('link', { name: 'Jobs' }).click()
      await page.getByLabel('Seconds').fill('2')
      await page.getByRole('button', { name: 'Start job' }).click()
      const first = page.locator('.job').first()
      await first.getByText(/Queued|Running|Succeeded/).waitFor()
      if (WAIT_FOR_WORKER) {
        await first.getByText('Succeeded').waitFor({ timeout: 30_000 })
        await first.getByText('{"slept":2}').waitFor()
      }
    },
  ],
  [
    'a failing demo job shows its error',
    async () => {
      await page.getByLabel('Seconds').fill('0')
      await page.getByLabel('Fail on purpose').check()
      await page.getByRole('button', { name: 'Start job' }).click()
      if (WAIT_FOR_WORKER) {
        const first = page.locator('.job').first()
        await first.getByText('Failed', { exact: true }).waitFor({ timeout: 30_000 })
        await first.locator('.job__error').waitFor()
      }
    },
  ],
  [
    'an administrator creates a user and finds them by email',
    async () => {
      await page.getByRole('link', { name: 'Users' }).click()
      await page.getByRole('button', { name: 'New user' }).click()
      const dialog = page.getByRole('dialog', { name: 'New user' })
      await dialog.getByLabel('Email').fill(`smoke-${stamp}@example.com`)
      await dialog.getByLabel('Full name').fill('Smoke Tester')
      await dialog.getByLabel('Password').fill('smoke-password')
      await dialog.getByRole('button', { name: 'Create user' }).click()
      await dialog.waitFor({ state: 'hidden' })
      await page.getByLabel('Search by email').fill(`smoke-${stamp}`)
      await page.getByRole('button', { name: 'Search', exact: true }).click()
      await page.getByRole('cell', { name: `Smoke Tester smoke-${stamp}@example.com` }).waitFor()
      // The list settles on the search result: only the matching user.
      await until(
        async () => (await page.getByRole('cell', { name: /^Smoke Tester/ }).count()) === 1,
        'the search to list only the new user',
      )
      await page.getByRole('button', { name: `Deactivate smoke-${stamp}@example.com` }).click()
      await page.getByRole('button', { name: `Activate smoke-${stamp}@example.com` }).waitFor()
    },
  ],
  [
    'a duplicate email is reported beside the form',
    async () => {
      await page.getByRole('button', { name: 'New user' }).click()
      const dialog = page.getByRole('dialog', { name: 'New user' })
      await dialog.getByLabel('Email').fill(`smoke-${stamp}@example.com`)
      await dialog.getByLabel('Password').fill('smoke-password')
      await dialog.getByRole('button', { name: 'Create user' }).click()
      await dialog.getByRole('alert').waitFor()
      await dialog.getByRole('button', { name: 'Cancel' }).click()
    },
  ],
  [
    'an administrator creates a group with permissions and adds a member',
    async () => {
      await page.getByRole('link', { name: 'Groups' }).click()
      await page.getByRole('button', { name: 'New group' }).click()
      const dialog = page.getByRole('dialog', { name: 'New group' })
      await dialog.getByLabel('Name').fill(`Smoke group ${stamp}`)
      await dialog.getByLabel('jobs:run').check()
      await dialog.getByRole('button', { name: 'Create group' }).click()
      await page.getByRole('heading', { name: `Smoke group ${stamp}` }).waitFor()
      await page.getByLabel('Find users by email').fill(`smoke-${stamp}`)
      await page.getByRole('button', { name: 'Find users' }).click()
      await page.getByRole('button', { name: `Add smoke-${stamp}@example.com` }).click()
      await page.getByRole('heading', { name: 'Members (1)' }).waitFor()
      await page.getByRole('button', { name: `Remove smoke-${stamp}@example.com` }).click()
      await page.getByRole('heading', { name: 'Members (0)' }).waitFor()
      await page.getByRole('button', { name: 'Delete group' }).click()
      await page.getByRole('dialog', { name: 'Delete group' }).getByRole('button', { name: 'Delete group' }).click()
      await page.getByRole('heading', { name: 'Groups' }).waitFor()
    },
  ],
  [
    'an unknown address shows the not-found page',
    async () => {
      await page.goto('/no/such/page')
      await page.getByRole('heading', { name: 'Page not found' }).waitFor()
    },
  ],
  [
    'logging out ends the session, also after a reload',
    async () => {
      await page.goto('/settings')
      await page.getByRole('button', { name: 'Log out' }).click()
      await page.waitForURL(/\/login$/)
      await page.goto('/settings')
      await page.waitForURL(/\/login\?redirect=(%2F|\/)settings$/)
    },
  ],
  [
    'a visitor signs up (or is told sign-up is closed) and sees only what they may use',
    async () => {
      await page.goto('/signup')
      await page.getByLabel('Full name').fill('New Person')
      await page.getByLabel('Email').fill(`new-${stamp}@example.com`)
      await page.getByLabel('Password', { exact: true }).fill('first-password')
      await page.getByLabel('Confirm password').fill('first-password')
      await page.getByRole('button', { name: 'Sign up' }).click()
      const closed = page.getByText('Sign-up is not available.')
      const nav = page.getByRole('navigation', { name: 'Main' })
      await Promise.race([closed.waitFor(), nav.waitFor()])
      if (await closed.isVisible()) {
        signupClosed = true
        await page.goto('/login')
        assert.equal(await page.getByRole('link', { name: 'Sign up' }).count(), 0)
        return
      }
      await nav.getByRole('link', { name: 'Items' }).waitFor()
      assert.equal(await nav.getByRole('link', { name: 'Users' }).count(), 0)
      assert.equal(await nav.getByRole('link', { name: 'Groups' }).count(), 0)
      await page.goto('/admin/users')
      await page.getByText('You do not have permission to open that page.').waitFor()
      await page.getByRole('heading', { name: /Good (morning|afternoon|evening), New Person/ }).waitFor()
      await page.goto('/jobs')
      await page.getByText('Starting jobs needs the').waitFor()
    },
  ],
  [
    'changing the password ends the session; the new password logs in',
    async () => {
      if (signupClosed) return
      await page.goto('/settings')
      await page.getByLabel('Current password').fill('first-password')
      await page.getByLabel('New password', { exact: true }).fill('second-password')
      await page.getByLabel('Confirm new password').fill('second-password')
      await page.getByRole('button', { name: 'Change password' }).click()
      await page.waitForURL(/\/login$/)
      await page.getByLabel('Email').fill(`new-${stamp}@example.com`)
      await page.getByLabel('Password', { exact: true }).fill('second-password')
      await page.getByRole('button', { name: 'Log in' }).click()
      await page.getByRole('navigation', { name: 'Main' }).waitFor()
    },
  ],
  [
    'a user deletes their own account after confirmation',
    async () => {
      if (signupClosed) return
      await page.goto('/settings')
      await page.getByRole('button', { name: 'Delete account' }).click()
      await page.getByRole('dialog', { name: 'Delete your account' }).getByRole('button', { name: 'Delete my account' }).click()
      await page.waitForURL(/\/login$/)
      await page.getByLabel('Email').fill(`new-${stamp}@example.com`)
      await page.getByLabel('Password', { exact: true }).fill('second-password')
      await page.getByRole('button', { name: 'Log in' }).click()
      await page.getByRole('alert').waitFor()
    },
  ],
  [
    'no console errors or uncaught exceptions',
    async () => {
      assert.deepEqual(problems, [])
    },
  ],
])

await browser.close()
process.exit(ok ? 0 : 1)
