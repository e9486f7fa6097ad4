// The layout on a phone (the "phone" project, 390 × 844): the header is a bar
// no taller than its contents whatever the page, the navigation opens from the
// Menu button and closes on the way to the chosen page, and nothing is wider
// than the screen.
import type { Page } from '@playwright/test'

import { expect, mainNav, test, unique } from './support/fixtures'

const SIGNED_IN = [
  ['/', /^Good (morning|afternoon|evening)/],
  ['/items', 'Items'],
  ['/jobs', 'Jobs'],
  ['/admin/users', 'Users'],
  ['/admin/groups', 'Groups'],
  ['/settings', 'Settings'],
  ['/no/such/page', 'Page not found'],
] as const

const SIGNED_OUT = ['/login', '/signup', '/recover-password', '/reset-password?token=example'] as const

/** The page is no wider than the window: nothing to scroll sideways. */
async function expectNoSidewaysScroll(page: Page): Promise<void> {
  const [pageWidth, windowWidth] = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth])
  expect(pageWidth, `the page is ${pageWidth} px wide in a ${windowWidth} px window`).toBeLessThanOrEqual(windowWidth!)
}

test.describe('on a phone', { tag: '@phone-only' }, () => {
  test('every page has a header bar no taller than its contents and a heading in view', async ({
    adminPage: page,
  }) => {
    const header = page.getByRole('banner')
    const menu = page.getByRole('button', { name: 'Menu' })
    for (const [url, name] of SIGNED_IN) {
      await page.goto(url)
      await expect(page.getByRole('heading', { level: 1, name })).toBeInViewport()
      await expect(menu).toHaveAttribute('aria-expanded', 'false')
      // The bar holds the brand and the Menu button: a page with little
      // content must not stretch it into a blank band.
      const bar = (await header.boundingBox())!
      const button = (await menu.boundingBox())!
      expect(bar.height, `the header on ${url} is ${bar.height} px tall`).toBeLessThanOrEqual(button.height + 32)
      const main = (await page.getByRole('main').boundingBox())!
      expect(Math.abs(main.y - (bar.y + bar.height)), `${url}: the page starts right under the bar`).toBeLessThanOrEqual(2)
      await expectNoSidewaysScroll(page)
    }
  })

  test('the menu opens the navigation and closes on the way to the chosen page', async ({ adminPage: page, shot }) => {
    const menu = page.getByRole('button', { name: 'Menu' })
    const nav = page.getByRole('navigation', { name: 'Main' })
    await expect(nav).toBeHidden()
    await menu.click()
    await expect(menu).toHaveAttribute('aria-expanded', 'true')
    for (const name of ['Dashboard', 'Items', 'Jobs', 'Users', 'Groups', 'Settings']) {
      await expect(nav.getByRole('link', { name })).toBeVisible()
    }
    await expect(page.getByRole('button', { name: 'Log out' })).toBeVisible()
    await shot('menu-open')
    await nav.getByRole('link', { name: 'Items' }).tap()
    await expect(page.getByRole('heading', { name: 'Items', level: 1 })).toBeInViewport()
    await expect(nav).toBeHidden()
    await expect(menu).toHaveAttribute('aria-expanded', 'false')

    // And again from there, by keyboard.
    await menu.focus()
    await page.keyboard.press('Enter')
    await (await mainNav(page)).getByRole('link', { name: 'Settings' }).focus()
    await page.keyboard.press('Enter')
    await expect(page.getByRole('heading', { name: 'Settings', level: 1 })).toBeInViewport()
    await expect(nav).toBeHidden()
  })

  test('a long email in the users table wraps between its parts, never inside one', async ({
    adminPage: page,
    adminApi,
  }) => {
    const email = `${unique('rosalind.franklin.structural.biology')}@example.com`
    const created = await adminApi.post('/api/v1/users/', {
      data: { email, password: unique('password'), full_name: 'Rosalind Franklin' },
    })
    expect(created.status(), await created.text()).toBe(201)
    await page.goto(`/admin/users?q=${encodeURIComponent(email)}`)
    // The address itself (inside the cell's line that holds only it).
    const address = page.getByRole('table').getByText(email, { exact: true }).last()
    await expect(address).toBeVisible()
    // Each line's first character and the one before it, from where the browser
    // laid out each character.
    const breaks = await address.evaluate((element) => {
      const found: string[] = []
      let previous: { top: number; char: string } | undefined
      const walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT)
      for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        for (let index = 0; index < node.textContent!.length; index++) {
          const range = document.createRange()
          range.setStart(node, index)
          range.setEnd(node, index + 1)
          const top = range.getBoundingClientRect().top
          const char = node.textContent![index]!
          if (previous && top > previous.top + 1) found.push(previous.char + char)
          previous = { top, char }
        }
      }
      return found
    })
    expect(breaks.length, 'the address is long enough to wrap on a phone').toBeGreaterThan(0)
    for (const pair of breaks) {
      expect(pair, `a line starts at ${JSON.stringify(pair)}`).toMatch(/^.[@.]$|^-.$/)
    }
    await expectNoSidewaysScroll(page)
  })

  test('the pages for visitors fit the screen', async ({ page }) => {
    for (const url of SIGNED_OUT) {
      await page.goto(url)
      await expect(page.getByRole('heading', { level: 1 })).toBeInViewport()
      await expect(page.getByRole('button').last()).toBeVisible()
      await expectNoSidewaysScroll(page)
    }
  })
})
