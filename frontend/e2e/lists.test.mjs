// Lists: newest first, their page and search kept in the address, and owners
// named as the viewer may see them.
import assert from 'node:assert/strict'

import { ADMIN_EMAIL, ADMIN_PASSWORD, api, createUser, e2e, logIn, unique } from './lib.mjs'

async function tokenOf(email, password) {
  const { status, body } = await api('POST', '/api/v1/login/access-token', { form: { username: email, password } })
  assert.equal(status, 200, JSON.stringify(body))
  return body.access_token
}

async function createItems(token, titles) {
  for (const title of titles) {
    const { status, body } = await api('POST', '/api/v1/items/', { token, json: { title } })
    assert.equal(status, 201, JSON.stringify(body))
  }
}

e2e('an items list keeps its search and page in the address across a reload', async ({ page, shot }) => {
  const user = await createUser('lists')
  const word = unique('needle')
  await createItems(
    await tokenOf(user.email, user.password),
    Array.from({ length: 12 }, (_, index) => `${word} ${index + 1}`),
  )
  await createItems(await tokenOf(user.email, user.password), ['Something else'])
  await logIn(page, user.email, user.password)
  await page.goto('/items')

  await page.getByLabel('Search titles and descriptions').fill(word.toUpperCase())
  await page.getByRole('button', { name: 'Search', exact: true }).click()
  await page.waitForURL((url) => url.searchParams.get('q') === word.toUpperCase())
  // Newest first: the twelfth heads the first page.
  const titles = page.locator('tbody .table__strong')
  await page.getByText('Showing 1–10 of 12').waitFor()
  assert.equal(await titles.first().textContent(), `${word} 12`)

  await page.getByRole('button', { name: 'Next page' }).click()
  await page.waitForURL((url) => url.searchParams.get('page') === '2')
  await page.getByText('Showing 11–12 of 12').waitFor()

  await page.reload()
  await page.getByText('Showing 11–12 of 12').waitFor()
  assert.deepEqual(await titles.allTextContents(), [`${word} 2`, `${word} 1`])
  assert.equal(await page.getByLabel('Search titles and descriptions').inputValue(), word.toUpperCase())
  await shot('search-page-2')

  // Back to the first page, then to the list before the search.
  await page.goBack()
  await page.getByText('Showing 1–10 of 12').waitFor()
  await page.getByRole('button', { name: 'Clear search' }).click()
  await page.waitForURL((url) => !url.search)
  await page.getByRole('cell', { name: 'Something else', exact: true }).waitFor()
})

e2e('an owner the viewer may not look up is shown as another user', async ({ page, shot, openPage }) => {
  const reader = await createUser('reader')
  const owner = await createUser('owner')
  const adminToken = await tokenOf(ADMIN_EMAIL, ADMIN_PASSWORD)
  const group = await api('POST', '/api/v1/groups/', {
    token: adminToken,
    json: { name: unique('Item readers'), permissions: ['items:read_all'] },
  })
  assert.equal(group.status, 201, JSON.stringify(group.body))
  const joined = await api('PUT', `/api/v1/groups/${group.body.id}/members/${reader.id}`, { token: adminToken })
  assert.equal(joined.status, 204)
  const theirs = unique('Theirs')
  const mine = unique('Mine')
  await createItems(await tokenOf(owner.email, owner.password), [theirs])
  await createItems(await tokenOf(reader.email, reader.password), [mine])

  await logIn(page, reader.email, reader.password)
  await page.goto(`/items?q=${theirs}`)
  await page.getByRole('row', { name: new RegExp(theirs) }).getByRole('cell', { name: 'Another user' }).waitFor()
  assert.equal(await page.getByText(`User #${owner.id}`).count(), 0)
  await shot('another-user')
  await page.goto(`/items?q=${mine}`)
  await page.getByRole('row', { name: new RegExp(mine) }).getByRole('cell', { name: 'You', exact: true }).waitFor()

  // Someone who may read users sees the owner's name.
  const admin = await openPage()
  await logIn(admin)
  await admin.goto(`/items?q=${theirs}`)
  await admin.getByRole('row', { name: new RegExp(theirs) }).getByRole('cell', { name: owner.fullName }).waitFor()
})
