// Lists: newest first, their page and search kept in the address, and owners
// named as the viewer may see them.
import type { APIRequestContext } from '@playwright/test'

import { expect, logIn, test, unique, type User } from './support/fixtures'

/** Create items as `user`, through the API, in this order. */
async function createItems(request: APIRequestContext, user: User, titles: string[]): Promise<void> {
  const login = await request.post('/api/v1/login/access-token', {
    form: { username: user.email, password: user.password },
  })
  expect(login.status(), await login.text()).toBe(200)
  const { access_token: token } = (await login.json()) as { access_token: string }
  for (const title of titles) {
    const created = await request.post('/api/v1/items/', {
      headers: { Authorization: `Bearer ${token}` },
      data: { title },
    })
    expect(created.status(), await created.text()).toBe(201)
  }
}

test('an items list keeps its search and page in the address across a reload', async ({
  page,
  request,
  user,
  shot,
}) => {
  const word = unique('needle')
  await createItems(
    request,
    user,
    Array.from({ length: 12 }, (_, index) => `${word} ${index + 1}`),
  )
  await createItems(request, user, ['Something else'])
  await logIn(page, user.email, user.password)
  await page.goto('/items')

  const search = page.getByLabel('Search titles and descriptions')
  await search.fill(word.toUpperCase())
  await page.getByRole('button', { name: 'Search', exact: true }).click()
  await expect(page).toHaveURL((url) => url.searchParams.get('q') === word.toUpperCase())
  // Newest first: the twelfth heads the first page.
  const titles = page.locator('tbody .table__strong')
  await expect(page.getByText('Showing 1–10 of 12')).toBeVisible()
  await expect(titles.first()).toHaveText(`${word} 12`)

  await page.getByRole('button', { name: 'Next page' }).click()
  await expect(page).toHaveURL((url) => url.searchParams.get('page') === '2')
  await expect(page.getByText('Showing 11–12 of 12')).toBeVisible()

  await page.reload()
  await expect(page.getByText('Showing 11–12 of 12')).toBeVisible()
  await expect(titles).toHaveText([`${word} 2`, `${word} 1`])
  await expect(search).toHaveValue(word.toUpperCase())
  await shot('search-page-2')

  // Back to the first page, then to the list before the search.
  await page.goBack()
  await expect(page.getByText('Showing 1–10 of 12')).toBeVisible()
  await page.getByRole('button', { name: 'Clear search' }).click()
  await expect(page).toHaveURL((url) => !url.search)
  await expect(page.getByRole('cell', { name: 'Something else', exact: true })).toBeVisible()
})

test('an owner the viewer may not look up is shown as another user', async ({
  page,
  request,
  adminApi,
  createUser,
  openPage,
  shot,
}) => {
  const reader = await createUser('reader')
  const owner = await createUser('owner')
  const group = await adminApi.post('/api/v1/groups/', {
    data: { name: unique('Item readers'), permissions: ['items:read_all'] },
  })
  expect(group.status(), await group.text()).toBe(201)
  const { id: groupId } = (await group.json()) as { id: number }
  const joined = await adminApi.put(`/api/v1/groups/${groupId}/members/${reader.id}`)
  expect(joined.status()).toBe(204)
  const theirs = unique('Theirs')
  const mine = unique('Mine')
  await createItems(request, owner, [theirs])
  await createItems(request, reader, [mine])

  await logIn(page, reader.email, reader.password)
  await page.goto(`/items?q=${theirs}`)
  await expect(page.getByRole('row', { name: new RegExp(theirs) }).getByRole('cell', { name: 'Another user' })).toBeVisible()
  await expect(page.getByText(`User #${owner.id}`)).toHaveCount(0)
  await shot('another-user')
  await page.goto(`/items?q=${mine}`)
  await expect(page.getByRole('row', { name: new RegExp(mine) }).getByRole('cell', { name: 'You', exact: true })).toBeVisible()

  // Someone who may read users sees the owner's name.
  const admin = await openPage()
  await logIn(admin)
  await admin.goto(`/items?q=${theirs}`)
  await expect(admin.getByRole('row', { name: new RegExp(theirs) }).getByRole('cell', { name: owner.fullName })).toBeVisible()
})
