// The app's frame at a phone's size: the top bar takes its own height, however
// little the page holds.
import assert from 'node:assert/strict'

import { createUser, e2e, logIn } from './lib.mjs'

e2e('a phone shows a short page right under its top bar, without a blank header', async ({ page, shot }) => {
  const user = await createUser('phone')
  await page.setViewportSize({ width: 390, height: 844 })
  await logIn(page, user.email, user.password)
  for (const url of ['/items', '/no/such/page']) {
    await page.goto(url)
    await page.getByRole('heading', { level: 1 }).waitFor()
    const bar = await page.getByRole('banner').boundingBox()
    const main = await page.getByRole('main').boundingBox()
    assert.ok(bar && bar.height < 80, `${url}: the top bar is ${bar?.height} px tall`)
    assert.ok(main && Math.abs(main.y - (bar.y + bar.height)) <= 2, `${url}: the page starts under the bar`)
  }
  await shot('phone-short-page')
})
