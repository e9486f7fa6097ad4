// Items, the example resource: a user's own list, with create, edit and delete.
import { expect, mainNav, rowAction, test } from './support/fixtures'

test('a user creates, edits and deletes an item', { tag: '@phone' }, async ({ userPage: page, shot }) => {
  await (await mainNav(page)).getByRole('link', { name: 'Items' }).click()
  await expect(page.getByText('No items yet.')).toBeVisible()
  await shot('empty-list')

  await page.getByRole('button', { name: 'New item', exact: true }).click()
  const dialog = page.getByRole('dialog', { name: 'New item' })
  await dialog.getByRole('button', { name: 'Create item' }).click()
  await expect(dialog.getByText('Enter a title.')).toBeVisible()
  await dialog.getByLabel('Title').fill('Groceries')
  await dialog.getByLabel('Description').fill('Milk, bread and coffee')
  await shot('new-item')
  await dialog.getByRole('button', { name: 'Create item' }).click()
  await expect(dialog).toBeHidden()
  const row = page.getByRole('row', { name: /Groceries/ })
  await expect(row.getByRole('cell', { name: 'Milk, bread and coffee' })).toBeVisible()
  await shot('created')

  await rowAction(page, 'Groceries', 'Edit')
  const edit = page.getByRole('dialog', { name: 'Edit item' })
  await edit.getByLabel('Title').fill('Groceries for Sunday')
  await edit.getByRole('button', { name: 'Save' }).click()
  await expect(edit).toBeHidden()
  await expect(page.getByRole('cell', { name: /^Groceries for Sunday/ })).toBeVisible()
  // Saved on the server, not only on screen.
  await page.reload()
  await expect(page.getByRole('cell', { name: /^Groceries for Sunday/ })).toBeVisible()
  await shot('edited')

  await rowAction(page, 'Groceries for Sunday', 'Delete')
  const confirm = page.getByRole('dialog', { name: 'Delete item' })
  await shot('confirm-delete')
  await confirm.getByRole('button', { name: 'Delete' }).click()
  await expect(page.getByText('No items yet.')).toBeVisible()
  await page.reload()
  await expect(page.getByText('No items yet.')).toBeVisible()
})

test.describe(() => {
  test.use({ expectedErrors: /status of 503/ })

  test('a list that fails to load says why and offers to try again', async ({ userPage: page, shot }) => {
    // The API answers 503 for the list, as when its database is down.
    const itemsList = (url: URL) => url.pathname === '/api/v1/items/'
    await page.route(itemsList, (route) =>
      route.fulfill({ status: 503, json: { message: 'The database is unavailable, try again later' } }),
    )
    await (await mainNav(page)).getByRole('link', { name: 'Items' }).click()
    const failed = page.getByRole('alert').filter({ hasText: 'The database is unavailable' })
    await expect(failed).toBeVisible()
    await shot('failed')
    // Not "nothing here": the empty state stays away while the list is unknown.
    await expect(page.getByText('No items yet.')).toHaveCount(0)
    await page.unroute(itemsList)
    await failed.getByRole('button', { name: 'Try again' }).click()
    await expect(page.getByText('No items yet.')).toBeVisible()
    await expect(failed).toHaveCount(0)
  })
})
