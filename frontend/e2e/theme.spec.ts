// The color theme: the system's by default, light or dark as chosen, remembered.
import type { Page } from '@playwright/test'

import { expect, mainNav, test } from './support/fixtures'

const background = (page: Page) => page.evaluate(() => getComputedStyle(document.body).backgroundColor)
const chosen = (page: Page) => page.evaluate(() => document.documentElement.dataset.theme ?? 'system')

test.use({ colorScheme: 'light' })

test('the theme chosen in the sidebar applies at once and is remembered', { tag: '@phone' }, async ({ adminPage: page, shot }) => {
  await mainNav(page)
  const themes = page.getByRole('group', { name: 'Theme' })
  await expect(themes.getByLabel('System')).toBeChecked()
  expect(await chosen(page)).toBe('system')
  const light = await background(page)

  await themes.getByLabel('Dark').check()
  await expect.poll(() => chosen(page)).toBe('dark')
  await expect.poll(() => background(page)).not.toBe(light)
  await shot('dark')

  // Remembered in this browser: after a reload, and in another tab.
  await page.reload()
  await mainNav(page)
  await expect(themes.getByLabel('Dark')).toBeChecked()
  await expect.poll(() => chosen(page)).toBe('dark')
  const tab = await page.context().newPage()
  await tab.goto('/items')
  await expect(tab.getByRole('heading', { name: 'Items', level: 1 })).toBeVisible()
  await expect.poll(() => chosen(tab)).toBe('dark')
  await expect.poll(() => background(tab)).not.toBe(light)
  await tab.close()

  // Back to the system's, which is light here.
  await themes.getByLabel('System').check()
  await expect.poll(() => chosen(page)).toBe('system')
  await expect.poll(() => background(page)).toBe(light)
})
