// A table's row actions sit behind one "Actions" button per row: a menu in the
// WAI-ARIA menu button pattern, by keyboard as by pointer.
import type { Page } from '@playwright/test'

import { expect, test, type User } from './support/fixtures'

/** The users list, searched down to `user`; the button of their row's menu and the menu. */
async function findUser(page: Page, user: User) {
  await page.goto('/admin/users')
  await page.getByLabel('Search by email').fill(user.email)
  await page.getByRole('button', { name: 'Search', exact: true }).click()
  return {
    button: page.getByRole('button', { name: `Actions for ${user.email}`, exact: true }),
    menu: page.getByRole('menu', { name: `Actions for ${user.email}` }),
  }
}

test('a row action menu works by keyboard', async ({ adminPage: page, user, shot }) => {
  const { button, menu } = await findUser(page, user)
  const focused = (name: string) => expect(menu.getByRole('menuitem', { name, exact: true })).toBeFocused()

  // Enter opens the menu on its first item; the arrows move and wrap.
  await button.focus()
  await page.keyboard.press('Enter')
  await expect(menu).toBeVisible()
  await expect(button).toHaveAttribute('aria-expanded', 'true')
  await focused('Edit')
  await page.keyboard.press('ArrowDown')
  await focused('Deactivate')
  await page.keyboard.press('End')
  await focused('Delete')
  await page.keyboard.press('ArrowDown')
  await focused('Edit')
  await page.keyboard.press('ArrowUp')
  await focused('Delete')
  await shot('menu-open')

  // Escape closes it and gives the focus back to its button.
  await page.keyboard.press('Escape')
  await expect(menu).toBeHidden()
  await expect(button).toHaveAttribute('aria-expanded', 'false')
  await expect(button).toBeFocused()

  // Tab closes it and moves on, out of the menu.
  await page.keyboard.press('Space')
  await expect(menu).toBeVisible()
  await page.keyboard.press('Tab')
  await expect(menu).toBeHidden()
  await expect(button).not.toBeFocused()

  // Up opens it on its last item; Enter picks the focused one.
  await button.focus()
  await page.keyboard.press('ArrowUp')
  await focused('Delete')
  await page.keyboard.press('ArrowUp')
  await focused('Make superuser')
  await page.keyboard.press('Enter')
  const confirm = page.getByRole('dialog', { name: 'Make superuser' })
  await expect(confirm.getByText(`Make ${user.email} a superuser?`)).toBeVisible()
  await confirm.getByRole('button', { name: 'Cancel' }).click()
})

test('a row action menu opens by touch on a phone and stays on screen', { tag: '@phone-only' }, async ({
  adminPage: page,
  user,
  viewport,
  shot,
}) => {
  const width = viewport!.width
  const { button, menu } = await findUser(page, user)
  const box = (await button.boundingBox())!
  expect(box.x + box.width, `the actions button is on screen: ${JSON.stringify(box)}`).toBeLessThanOrEqual(width)

  await button.tap()
  await expect(menu).toBeVisible()
  const menuBox = (await menu.boundingBox())!
  expect(menuBox.x, `the menu fits: ${JSON.stringify(menuBox)}`).toBeGreaterThanOrEqual(0)
  expect(menuBox.x + menuBox.width, `the menu fits: ${JSON.stringify(menuBox)}`).toBeLessThanOrEqual(width)
  await shot('phone-menu')
  // A tap elsewhere closes it.
  await page.getByRole('heading', { name: 'Users', level: 1 }).tap()
  await expect(menu).toBeHidden()
})
