// A table's row actions sit behind one "Actions" button per row: a menu in the
// WAI-ARIA menu button pattern, by keyboard as by pointer.
import assert from 'node:assert/strict'

import { createUser, e2e, logIn } from './lib.mjs'

/** The accessible name of the focused element, or its text. */
function focusedName(page) {
  return page.evaluate(() => {
    const element = document.activeElement
    return element?.getAttribute('aria-label') ?? element?.textContent?.trim() ?? ''
  })
}

e2e('a row action menu works by keyboard', async ({ page, shot }) => {
  const user = await createUser('menu')
  await logIn(page)
  await page.goto(`/admin/users`)
  await page.getByLabel('Search by email').fill(user.email)
  await page.getByRole('button', { name: 'Search', exact: true }).click()
  const button = page.getByRole('button', { name: `Actions for ${user.email}`, exact: true })
  const menu = page.getByRole('menu', { name: `Actions for ${user.email}` })

  // Enter opens the menu on its first item; the arrows move and wrap.
  await button.focus()
  await page.keyboard.press('Enter')
  await menu.waitFor()
  assert.equal(await button.getAttribute('aria-expanded'), 'true')
  assert.equal(await focusedName(page), 'Edit')
  await page.keyboard.press('ArrowDown')
  assert.equal(await focusedName(page), 'Deactivate')
  await page.keyboard.press('End')
  assert.equal(await focusedName(page), 'Delete')
  await page.keyboard.press('ArrowDown')
  assert.equal(await focusedName(page), 'Edit')
  await page.keyboard.press('ArrowUp')
  assert.equal(await focusedName(page), 'Delete')
  await shot('menu-open')

  // Escape closes it and gives the focus back to its button.
  await page.keyboard.press('Escape')
  await menu.waitFor({ state: 'hidden' })
  assert.equal(await button.getAttribute('aria-expanded'), 'false')
  assert.equal(await button.evaluate((element) => element === document.activeElement), true)

  // Tab closes it and moves on, out of the menu.
  await page.keyboard.press('Space')
  await menu.waitFor()
  await page.keyboard.press('Tab')
  await menu.waitFor({ state: 'hidden' })
  assert.equal(await button.evaluate((element) => element === document.activeElement), false)

  // Up opens it on its last item; Enter picks the focused one.
  await button.focus()
  await page.keyboard.press('ArrowUp')
  assert.equal(await focusedName(page), 'Delete')
  await page.keyboard.press('ArrowUp')
  assert.equal(await focusedName(page), 'Make superuser')
  await page.keyboard.press('Enter')
  const confirm = page.getByRole('dialog', { name: 'Make superuser' })
  await confirm.getByText(`Make ${user.email} a superuser?`).waitFor()
  await confirm.getByRole('button', { name: 'Cancel' }).click()
})

e2e('a row action menu opens by touch on a phone and stays on screen', async ({ page, shot }) => {
  const user = await createUser('touch')
  await page.setViewportSize({ width: 390, height: 844 })
  await logIn(page)
  await page.goto('/admin/users')
  await page.getByLabel('Search by email').fill(user.email)
  await page.getByRole('button', { name: 'Search', exact: true }).click()
  const button = page.getByRole('button', { name: `Actions for ${user.email}`, exact: true })
  const box = await button.boundingBox()
  assert.ok(box && box.x + box.width <= 390, `the actions button is on screen: ${JSON.stringify(box)}`)

  await button.click()
  const menu = page.getByRole('menu', { name: `Actions for ${user.email}` })
  const menuBox = await menu.boundingBox()
  assert.ok(menuBox && menuBox.x >= 0 && menuBox.x + menuBox.width <= 390, `the menu fits: ${JSON.stringify(menuBox)}`)
  await shot('phone-menu')
  // A tap elsewhere closes it.
  await page.getByRole('heading', { name: 'Users', level: 1 }).click()
  await menu.waitFor({ state: 'hidden' })
})
