// The color theme: the system's by default, light or dark as chosen, remembered.
import assert from 'node:assert/strict'

import { e2e, logIn } from './lib.mjs'

const background = (page) => page.evaluate(() => getComputedStyle(document.body).backgroundColor)
const chosen = (page) => page.evaluate(() => document.documentElement.dataset.theme ?? 'system')

e2e('the theme chosen in the sidebar applies at once and after a reload', async ({ page, shot }) => {
  await page.emulateMedia({ colorScheme: 'light' })
  await logIn(page)
  const themes = page.getByRole('group', { name: 'Theme' })
  assert.equal(await chosen(page), 'system')
  const light = await background(page)

  await themes.getByLabel('Dark').check()
  assert.equal(await chosen(page), 'dark')
  assert.notEqual(await background(page), light)
  await shot('dark')
  await page.reload()
  await themes.getByLabel('Dark').waitFor()
  assert.equal(await chosen(page), 'dark')
  assert.ok(await themes.getByLabel('Dark').isChecked())

  // Back to the system's, which is light here.
  await themes.getByLabel('System').check()
  assert.equal(await chosen(page), 'system')
  assert.equal(await background(page), light)
})
