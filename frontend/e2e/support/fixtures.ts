// What every browser test gets: `test` with the fixtures below, and `expect`.
// Locators use roles and labels, the way a person finds things, so the tests
// double as accessibility checks.
//
// - Every page a test opens is watched: a console error or an uncaught
//   exception fails the test, but those a test declares with
//   `test.use({ expectedErrors: /.../ })` (a test that makes the server fail
//   on purpose).
// - `adminPage` / `userPage`: a page logged in as the first superuser, or as a
//   new plain user (`user`), made for the test.
// - `openPage(baseURL?)`: another fresh browser context, as another person.
// - `shot(label, page?)`: a screenshot for people to look at, into
//   test-results/screenshots/<project>/.
// - `createUser(prefix)`: a new active account, made through the API.
import { mkdirSync } from 'node:fs'
import path from 'node:path'

import { test as base, expect, type APIRequestContext, type BrowserContext, type Page } from '@playwright/test'

import { ADMIN } from './env'

export { expect }

export interface User {
  id: number
  email: string
  password: string
  fullName: string
}

/** A name no other test (or earlier run against the same database) uses. */
export function unique(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`
}

/** Log in through the login page and wait until it is left. */
export async function logIn(page: Page, email = ADMIN.email, password = ADMIN.password): Promise<void> {
  await page.goto('/login')
  await page.getByLabel('Email').fill(email)
  await page.getByLabel('Password', { exact: true }).fill(password)
  await page.getByRole('button', { name: 'Log in' }).click()
  await page.waitForURL((url) => !url.pathname.startsWith('/login'))
}

/** Pick an action from a row's action menu (its button: "Actions for SUBJECT"). */
export async function rowAction(page: Page, subject: string, action: string): Promise<void> {
  await page.getByRole('button', { name: `Actions for ${subject}`, exact: true }).click()
  await page.getByRole('menuitem', { name: action, exact: true }).click()
}

/**
 * The main navigation, shown: on a narrow screen it sits behind the Menu
 * button, which this opens first.
 */
export async function mainNav(page: Page) {
  const nav = page.getByRole('navigation', { name: 'Main' })
  const toggle = page.getByRole('button', { name: 'Menu' })
  // One of the two shows once the layout is on the page.
  await expect(nav.or(toggle).first()).toBeVisible()
  if ((await toggle.isVisible()) && (await toggle.getAttribute('aria-expanded')) !== 'true') {
    await toggle.click()
  }
  await expect(nav).toBeVisible()
  return nav
}

// The browser's own failed-load line for an answer the app expects (a 401
// before a refresh, a 400 for a wrong password): not a problem in the page.
// Nor is ERR_NETWORK_CHANGED: Chromium abandons the requests in flight when the
// machine's network interfaces change (a container starting or stopping
// elsewhere on it adds or removes one), even those to localhost; a page that it
// broke fails its test's next step.
const EXPECTED_LOAD_ERROR = /status of 4\d\d|net::ERR_NETWORK_CHANGED/

function watchForProblems(context: BrowserContext, problems: string[]): void {
  const watch = (page: Page) => {
    page.on('pageerror', (error) => problems.push(`uncaught exception: ${error.message}`))
    page.on('console', (message) => {
      if (message.type() === 'error' && !EXPECTED_LOAD_ERROR.test(message.text())) {
        problems.push(`console error: ${message.text()}`)
      }
    })
  }
  context.pages().forEach(watch)
  context.on('page', watch)
}

function slug(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')
    .slice(0, 60)
}

interface TestFixtures {
  /** Console errors the test causes on purpose (matched against each problem). */
  expectedErrors: RegExp | null
  /** The problems the test's pages logged; checked when the test ends. */
  pageProblems: string[]
  openPage: (baseURL?: string) => Promise<Page>
  shot: (label: string, target?: Page) => Promise<void>
  createUser: (prefix?: string) => Promise<User>
  /** A new plain user (no group), made for this test. */
  user: User
  /** `page`, logged in as `user`. */
  userPage: Page
  /** `page`, logged in as the first superuser. */
  adminPage: Page
}

interface WorkerFixtures {
  /** The API as the first superuser, for setting up test data. */
  adminApi: APIRequestContext
}

export const test = base.extend<TestFixtures, WorkerFixtures>({
  expectedErrors: [null, { option: true }],

  pageProblems: async ({ expectedErrors }, use) => {
    const problems: string[] = []
    await use(problems)
    const unexpected = problems.filter((problem) => !expectedErrors?.test(problem))
    expect(unexpected, 'the pages logged errors').toEqual([])
  },

  context: async ({ context, pageProblems }, use) => {
    watchForProblems(context, pageProblems)
    await use(context)
  },

  openPage: async ({ browser, pageProblems }, use) => {
    const contexts: BrowserContext[] = []
    await use(async (baseURL) => {
      // The project's options (viewport, baseURL...) apply to it too.
      const context = await browser.newContext(baseURL ? { baseURL } : {})
      contexts.push(context)
      watchForProblems(context, pageProblems)
      return context.newPage()
    })
    await Promise.all(contexts.map((context) => context.close()))
  },

  shot: async ({ page }, use, testInfo) => {
    const dir = path.join(testInfo.project.outputDir, 'screenshots', testInfo.project.name)
    const prefix = slug(`${path.basename(testInfo.file, '.spec.ts')} ${testInfo.title}`)
    let count = 0
    mkdirSync(dir, { recursive: true })
    await use(async (label, target = page) => {
      count += 1
      const name = `${prefix}-${String(count).padStart(2, '0')}-${slug(label)}.png`
      await target.screenshot({ path: path.join(dir, name), fullPage: true })
    })
  },

  adminApi: [
    async ({ playwright }, use, workerInfo) => {
      const baseURL = workerInfo.project.use.baseURL
      const anonymous = await playwright.request.newContext({ baseURL })
      const login = await anonymous.post('/api/v1/login/access-token', {
        form: { username: ADMIN.email, password: ADMIN.password },
      })
      expect(login.status(), `the administrator cannot log in: ${await login.text()}`).toBe(200)
      const { access_token: token } = (await login.json()) as { access_token: string }
      await anonymous.dispose()
      const api = await playwright.request.newContext({
        baseURL,
        extraHTTPHeaders: { Authorization: `Bearer ${token}` },
      })
      await use(api)
      await api.dispose()
    },
    { scope: 'worker' },
  ],

  createUser: async ({ adminApi }, use) => {
    await use(async (prefix = 'user') => {
      const email = `${unique(prefix)}@example.com`
      const password = unique('password')
      const fullName = `Test ${prefix}`
      const response = await adminApi.post('/api/v1/users/', {
        data: { email, password, full_name: fullName },
      })
      expect(response.status(), `creating ${email}: ${await response.text()}`).toBe(201)
      const { id } = (await response.json()) as { id: number }
      return { id, email, password, fullName }
    })
  },

  user: async ({ createUser }, use) => {
    await use(await createUser('user'))
  },

  userPage: async ({ page, user }, use) => {
    await logIn(page, user.email, user.password)
    await use(page)
  },

  adminPage: async ({ page }, use) => {
    await logIn(page)
    await use(page)
  },
})
