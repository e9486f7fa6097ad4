// A page whose code cannot be fetched (offline, or the version the tab was
// opened with is no longer deployed) must say so when its link is clicked.
import { expect, mainNav, test } from './support/fixtures'

test.describe(() => {
  test.use({ expectedErrors: /ERR_FAILED|dynamically imported module/ })

  test('a page whose code fails to load says so and leaves the user where they were', async ({
    userPage: page,
    shot,
  }) => {
    const itemsChunk = (url: URL) => /\/assets\/ItemsPage-[^/]+\.js$/.test(url.pathname)
    await page.route(itemsChunk, (route) => route.abort('failed'))
    const start = page.url()
    await (await mainNav(page)).getByRole('link', { name: 'Items' }).click()
    await expect(page.getByText('That page could not be loaded.')).toBeVisible()
    expect(page.url()).toBe(start)
    await shot('page-failed-to-load')

    // Once the network is back, the same link works.
    await page.unroute(itemsChunk)
    await (await mainNav(page)).getByRole('link', { name: 'Items' }).click()
    await expect(page.getByRole('heading', { name: 'Items', level: 1 })).toBeVisible()
  })
})
