// Shared setup for the browser tests (`node --test e2e/`) and the screenshot
// script: Chromium from the system (no browser download), driven by
// playwright-core. Locators use roles and labels, the way a person finds
// things, so the tests double as accessibility checks.
import assert from 'node:assert/strict'
import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { after, test } from 'node:test'
import { fileURLToPath } from 'node:url'

import { chromium } from 'playwright-core'

export const BASE_URL = process.env.E2E_BASE_URL ?? 'http://localhost:5173'
export const ADMIN_EMAIL = process.env.E2E_ADMIN_EMAIL ?? 'admin@example.com'
export const ADMIN_PASSWORD = process.env.E2E_ADMIN_PASSWORD ?? 'changethis'
/** The mail sink's web page (`make dev`: port 8025). */
export const MAIL_URL = process.env.E2E_MAIL_URL ?? 'http://localhost:8025'
/**
 * The same app in front of an API whose access tokens last one minute
 * (scripts/e2e.sh starts one); the test of the silent refresh needs it.
 */
export const SHORT_TOKEN_BASE_URL = process.env.E2E_SHORT_TOKEN_BASE_URL ?? ''
/** Screenshots of every page a test visits; on failure, its console log too. */
export const ARTIFACTS_DIR = fileURLToPath(new URL('../test-results/e2e/', import.meta.url))

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
const VIEWPORT = { width: 1280, height: 860 }
// Generous for two busy cores, yet well inside each test's own timeout, so that
// a stuck step fails with its locator named (and the failure saved).
const ACTION_TIMEOUT_MS = 15_000
const NAVIGATION_TIMEOUT_MS = 30_000

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: FLAGS,
  })
}

// The browser's own failed-load line for an answer the app expects (a 401
// before a refresh, a 400 for a wrong password): not a problem in the page.
// Nor is ERR_NETWORK_CHANGED: Chromium abandons the requests in flight when the
// machine's network interfaces change (a container starting or stopping
// elsewhere on it adds or removes one), even those to localhost. The request is
// noted in the test's log, and a page that it broke fails its test's next step.
const EXPECTED_LOAD_ERROR = /status of 4\d\d|net::ERR_NETWORK_CHANGED/

/** A page that records console errors and uncaught exceptions. */
export async function newPage(browser, options = {}) {
  const context = await browser.newContext({ baseURL: BASE_URL, ...options })
  const page = await context.newPage()
  const problems = []
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`))
  page.on('console', (message) => {
    if (message.type() === 'error' && !EXPECTED_LOAD_ERROR.test(message.text())) {
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
export async function until(check, message, timeoutMs = 10_000, intervalMs = 100) {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${message}`)
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs))
  }
}

/** A name no other test (or earlier run against the same database) uses. */
export function unique(prefix) {
  return `${prefix}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`
}

/** Pick an action from a row's action menu ("Actions for SUBJECT"). */
export async function rowAction(page, subject, action) {
  await page.getByRole('button', { name: `Actions for ${subject}`, exact: true }).click()
  await page.getByRole('menuitem', { name: action, exact: true }).click()
}

// --- the API, for test data (what is under test goes through the browser) ----

/** Call the API from the test itself: `{ status, body }`. */
export async function api(method, url, { token, json, form, baseURL = BASE_URL } = {}) {
  const headers = {}
  let body
  if (token) headers.Authorization = `Bearer ${token}`
  if (json !== undefined) {
    headers['Content-Type'] = 'application/json'
    body = JSON.stringify(json)
  } else if (form !== undefined) {
    body = new URLSearchParams(form)
  }
  const response = await fetch(new URL(url, baseURL), { method, headers, body })
  const text = await response.text()
  return { status: response.status, body: text ? JSON.parse(text) : null }
}

let adminToken = null

/** An access token of the first superuser, for setting up data. */
async function asAdmin() {
  adminToken ??= api('POST', '/api/v1/login/access-token', {
    form: { username: ADMIN_EMAIL, password: ADMIN_PASSWORD },
  }).then(({ status, body }) => {
    assert.equal(status, 200, `the administrator cannot log in: ${JSON.stringify(body)}`)
    return body.access_token
  })
  return adminToken
}

/** A new active user with no group: `{ id, email, password, fullName }`. */
export async function createUser(prefix = 'user') {
  const email = `${unique(prefix)}@example.com`
  const password = unique('password')
  const fullName = `Test ${prefix}`
  const { status, body } = await api('POST', '/api/v1/users/', {
    token: await asAdmin(),
    json: { email, password, full_name: fullName },
  })
  assert.equal(status, 201, `creating ${email}: ${JSON.stringify(body)}`)
  return { id: body.id, email, password, fullName }
}

// --- browser tests --------------------------------------------------------------

let browser = null

function sharedBrowser() {
  if (!browser) {
    browser = launch()
  }
  return browser
}

let closing = false

function closeBrowserAfterTests() {
  if (!closing) {
    closing = true
    after(async () => {
      if (browser) await (await browser).close()
    })
  }
}

function slug(text) {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')
    .slice(0, 60)
}

/** What one test's pages did: console lines, problems, screenshots. */
class Recorder {
  constructor(name) {
    this.prefix = slug(name)
    this.contexts = []
    this.pages = []
    this.lines = []
    this.problems = []
    this.shots = 0
    mkdirSync(ARTIFACTS_DIR, { recursive: true })
  }

  note(pageNumber, text) {
    this.lines.push(`${new Date().toISOString()} [page ${pageNumber}] ${text}`)
  }

  async open(browserInstance, baseURL) {
    const context = await browserInstance.newContext({ baseURL, viewport: VIEWPORT })
    const page = await context.newPage()
    page.setDefaultTimeout(ACTION_TIMEOUT_MS)
    page.setDefaultNavigationTimeout(NAVIGATION_TIMEOUT_MS)
    this.contexts.push(context)
    this.pages.push(page)
    const number = this.pages.length
    page.on('console', (message) => {
      this.note(number, `console.${message.type()}: ${message.text()}`)
      if (message.type() === 'error' && !EXPECTED_LOAD_ERROR.test(message.text())) {
        this.problems.push(`console error: ${message.text()}`)
      }
    })
    page.on('pageerror', (error) => {
      this.note(number, `uncaught: ${error.stack ?? error.message}`)
      this.problems.push(`uncaught exception: ${error.message}`)
    })
    page.on('requestfailed', (request) => {
      this.note(number, `request failed: ${request.method()} ${request.url()} (${request.failure()?.errorText})`)
    })
    page.on('framenavigated', (frame) => {
      if (frame === page.mainFrame()) this.note(number, `at ${frame.url()}`)
    })
    return page
  }

  async shot(page, label) {
    this.shots += 1
    const name = `${this.prefix}-${String(this.shots).padStart(2, '0')}-${slug(label)}.png`
    await page.screenshot({ path: path.join(ARTIFACTS_DIR, name), fullPage: true })
  }

  async saveFailure(error) {
    for (const [index, page] of this.pages.entries()) {
      if (page.isClosed()) continue
      const name = `${this.prefix}-FAILED-page-${index + 1}.png`
      await page.screenshot({ path: path.join(ARTIFACTS_DIR, name), fullPage: true }).catch(() => {})
    }
    const failure = error instanceof Error ? (error.stack ?? error.message) : String(error)
    writeFileSync(
      path.join(ARTIFACTS_DIR, `${this.prefix}-FAILED-console.log`),
      `${this.lines.join('\n')}\n\n${failure}\n`,
    )
  }

  async close() {
    await Promise.all(this.contexts.map((context) => context.close().catch(() => {})))
  }
}

/**
 * A browser test. `body` gets `{ page, shot, openPage }`: a page in a fresh
 * context (no cookies) on `baseURL`; `shot(label, page?)` saves a screenshot;
 * `openPage(baseURL?)` opens another fresh context, as another person would.
 * The test fails on any console error or uncaught exception in its pages (but
 * those matching `expectedErrors`); on failure each page's screenshot and the
 * console log are saved.
 */
export function e2e(
  name,
  body,
  { timeout = 90_000, baseURL = BASE_URL, skip = false, expectedErrors = null } = {},
) {
  closeBrowserAfterTests()
  test(name, { timeout, skip }, async () => {
    const recorder = new Recorder(name)
    try {
      const instance = await sharedBrowser()
      const page = await recorder.open(instance, baseURL)
      await body({
        page,
        shot: (label, target = page) => recorder.shot(target, label),
        openPage: (url = baseURL) => recorder.open(instance, url),
      })
      // A test that makes the server fail on purpose names the errors it expects.
      const unexpected = recorder.problems.filter((problem) => !expectedErrors?.test(problem))
      assert.deepEqual(unexpected, [], 'the pages logged errors')
    } catch (error) {
      await recorder.saveFailure(error)
      throw error
    } finally {
      await recorder.close()
    }
  })
}
