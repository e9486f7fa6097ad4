#!/usr/bin/env node
// Screenshots of every page, desktop and phone, light and dark, for a person
// to look at: node e2e/screenshots.mjs [OUTPUT_DIR] (default $SCREENSHOTS_DIR or
// ./screenshots).
import { mkdirSync } from 'node:fs'
import path from 'node:path'

import { BASE_URL, launch, logIn, newPage } from './lib.mjs'

const outDir = path.resolve(process.argv[2] ?? process.env.SCREENSHOTS_DIR ?? 'screenshots')
mkdirSync(outDir, { recursive: true })

const variants = [
  { name: 'desktop-light', viewport: { width: 1280, height: 800 }, colorScheme: 'light' },
  { name: 'desktop-dark', viewport: { width: 1280, height: 800 }, colorScheme: 'dark' },
  { name: 'phone-light', viewport: { width: 390, height: 844 }, colorScheme: 'light', isMobile: true, hasTouch: true },
  { name: 'phone-dark', viewport: { width: 390, height: 844 }, colorScheme: 'dark', isMobile: true, hasTouch: true },
]

const signedOut = [
  ['login', '/login'],
  ['signup', '/signup'],
  ['recover-password', '/recover-password'],
  ['reset-password', '/reset-password?token=example'],
]
const signedIn = [
  ['dashboard', '/'],
  ['items', '/items'],
  ['jobs', '/jobs'],
  ['users', '/admin/users'],
  ['groups', '/admin/groups'],
  ['settings', '/settings'],
  ['not-found', '/no/such/page'],
]

const browser = await launch()
console.log(`screenshots of ${BASE_URL} into ${outDir}`)
for (const { name, ...options } of variants) {
  const { page, context } = await newPage(browser, options)
  for (const [label, url] of signedOut) {
    await page.goto(url)
    await page.getByRole('heading', { level: 1 }).waitFor()
    await page.screenshot({ path: path.join(outDir, `${name}-${label}.png`), fullPage: true })
  }
  // The login form showing its validation messages.
  await page.goto('/login')
  await page.getByRole('button', { name: 'Log in' }).click()
  await page.getByText('Enter your email address.').waitFor()
  await page.screenshot({ path: path.join(outDir, `${name}-login-invalid.png`), fullPage: true })

  await logIn(page)
  for (const [label, url] of signedIn) {
    await page.goto(url)
    await page.getByRole('heading', { level: 1 }).waitFor()
    await page.waitForLoadState('networkidle')
    await page.screenshot({ path: path.join(outDir, `${name}-${label}.png`), fullPage: true })
  }
  const groupLink = page.locator('.group-card').first()
  await page.goto('/admin/groups')
  await page.waitForLoadState('networkidle')
  if (await groupLink.count()) {
    await groupLink.click()
    await page.getByRole('heading', { name: /Members/ }).waitFor()
    await page.waitForLoadState('networkidle')
    await page.screenshot({ path: path.join(outDir, `${name}-group.png`), fullPage: true })
  }
  await page.goto('/items')
  await page.getByRole('button', { name: 'New item', exact: true }).click()
  await page.getByRole('dialog').getByLabel('Title').waitFor()
  await page.screenshot({ path: path.join(outDir, `${name}-item-dialog.png`) })
  if (options.isMobile) {
    await page.keyboard.press('Escape')
    await page.getByRole('button', { name: 'Menu' }).click()
    await page.screenshot({ path: path.join(outDir, `${name}-menu.png`) })
  }
  await context.close()
}
await browser.close()
console.log('done')
