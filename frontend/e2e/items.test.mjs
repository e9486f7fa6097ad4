// Items, the example resource: a user's own list, with create, edit and delete.
import assert from 'node:assert/strict'

import { createUser, e2e, logIn, rowAction } from './lib.mjs'

e2e('a user creates, edits and deletes an item', async ({ page, shot }) => {
  const user = await createUser('items')
  await logIn(page, user.email, user.password)
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Items' }).click()
  await page.getByText('No items yet.').waitFor()
  await shot('empty-list')

  await page.getByRole('button', { name: 'New item', exact: true }).click()
  const dialog = page.getByRole('dialog', { name: 'New item' })
  await dialog.getByRole('button', { name: 'Create item' }).click()
  await dialog.getByText('Enter a title.').waitFor()
  await dialog.getByLabel('Title').fill('Groceries')
  await dialog.getByLabel('Description').fill('Milk, bread and coffee')
  await shot('new-item')
  await dialog.getByRole('button', { name: 'Create item' }).click()
  await dialog.waitFor({ state: 'hidden' })
  const row = page.getByRole('row', { name: /Groceries/ })
  await row.getByRole('cell', { name: 'Milk, bread and coffee' }).waitFor()
  await shot('created')

  await rowAction(page, 'Groceries', 'Edit')
  const edit = page.getByRole('dialog', { name: 'Edit item' })
  await edit.getByLabel('Title').fill('Groceries for Sunday')
  await edit.getByRole('button', { name: 'Save' }).click()
  await edit.waitFor({ state: 'hidden' })
  await page.getByRole('cell', { name: 'Groceries for Sunday', exact: true }).waitFor()
  // Saved on the server, not only on screen.
  await page.reload()
  await page.getByRole('cell', { name: 'Groceries for Sunday', exact: true }).waitFor()
  await shot('edited')

  await rowAction(page, 'Groceries for Sunday', 'Delete')
  const confirm = page.getByRole('dialog', { name: 'Delete item' })
  await shot('confirm-delete')
  await confirm.getByRole('button', { name: 'Delete' }).click()
  await page.getByText('No items yet.').waitFor()
  await page.reload()
  await page.getByText('No items yet.').waitFor()
})

e2e('a list that fails to load says why and offers to try again', async ({ page, shot }) => {
  const user = await createUser('items-down')
  await logIn(page, user.email, user.password)
  // The API answers 503 for the list, as when its database is down.
  const down = (route) =>
    route.fulfill({
      status: 503,
      contentType: 'application/json',
      body: JSON.stringify({ message: 'The database is unavailable, try again later' }),
    })
  const itemsList = (url) => url.pathname === '/api/v1/items/'
  await page.route(itemsList, down)
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Items' }).click()
  const failed = page.getByRole('alert').filter({ hasText: 'The database is unavailable' })
  await failed.waitFor()
  await shot('failed')
  // Not "nothing here": the empty state stays away while the list is unknown.
  assert.equal(await page.getByText('No items yet.').count(), 0)
  await page.unroute(itemsList, down)
  await failed.getByRole('button', { name: 'Try again' }).click()
  await page.getByText('No items yet.').waitFor()
  assert.equal(await failed.count(), 0)
}, { expectedErrors: /status of 503/ })
