// What the server refuses about one field is said at that field, not in a
// banner above the form.
import assert from 'node:assert/strict'

import { createUser, e2e, logIn } from './lib.mjs'

e2e('a wrong current password is shown at its field', async ({ page, shot }) => {
  const user = await createUser('fielderror')
  await logIn(page, user.email, user.password)
  await page.goto('/settings')
  const current = page.getByLabel('Current password')
  await current.fill('not-the-password')
  await page.getByLabel('New password', { exact: true }).fill('a-brand-new-password')
  await page.getByLabel('Confirm new password').fill('a-brand-new-password')
  await page.getByRole('button', { name: 'Change password' }).click()

  await page.getByText('Incorrect password').waitFor()
  assert.equal(await current.getAttribute('aria-invalid'), 'true')
  const describedBy = (await current.getAttribute('aria-describedby')) ?? ''
  const message = await page.locator(`[id="${describedBy.split(' ').at(-1)}"]`).textContent()
  assert.equal(message?.trim(), 'Incorrect password')
  // Focus goes to the field at fault; no banner repeats it.
  assert.equal(await current.evaluate((element) => element === document.activeElement), true)
  assert.equal(await page.getByRole('alert').count(), 0)
  await shot('field-error')
})
