// Shared setup for browser checks: Chromium from the system (no browser
// download), driven by playwright-core. Locators use roles and labels, the
// way a person finds things, so the checks double as accessibility checks.
import { chromium } from 'playwright-core'

export const BASE_URL = process.env.E2E_BASE_URL ?? 'http://localhost:5173'
export const ADMIN_EMAIL = process.env.E2E_ADMIN_EMAIL ?? 'admin@example.com'
export const ADMIN_PASSWORD = process.env.E2E_ADMIN_PASSWORD ?? 'changethis'

const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--no-first-run',
]

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: FLAGS,
  })
}

/** A page that records console errors and uncaught exceptions. */
export async function newPage(browser, options = {}) {
  const context = await browser.newContext({ baseURL: BASE_URL, ...options })
  const page = await context.newPage()
  const problems = []
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`))
  page.on('console', (message) => {
    // 401s on purpose (session checks) are logged by the browser as failed loads.
    if (message.type() === 'error' && !/status of 40[0-9]/.test(message.text())) {
      problems.push(`console error: ${message.text()}`)
    }
  })
  return { context, page, problems }
}

export async function logIn(page, email = ADMIN_EMAIL, password = ADMIN_PASSWORD) {
  await page.goto('/login')
  await page.getByLabel('Email').fill(email)
  await page.getByLabel('Password', { exact: true }).fill(password)
  await page.getByRole('button', { name: 'Log in' }).click()
  await page.waitForURL((url) => !url.pathname.startsWith('/login'))
}

/** Poll `check` until it returns true, or fail after `timeoutMs`. */
export async function until(check, message, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting: ${message}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

/** Run named steps, printing each; exit non-zero on the first failure. */
export async function steps(list) {
  let passed = 0
  for (const [name, run] of list) {
    const started = Date.now()
    try {
      await run()
      passed += 1
      console.log(`ok   ${name} (${Date.now() - started} ms)`)
    } catch (error) {
      console.log(`FAIL ${name}: ${error instanceof Error ? error.message : error}`)
      console.log(`${passed} passed, 1 failed`)
      return false
    }
  }
  console.log(`${passed} passed, 0 failed`)
  return true
}
