// What the server refuses about one field is said at that field, not in a
// banner above the form.
import { expect, test } from './support/fixtures'

test('a wrong current password is shown at its field', async ({ userPage: page, shot }) => {
  await page.goto('/settings')
  const current = page.getByLabel('Current password')
  await current.fill('not-the-password')
  await page.getByLabel('New password', { exact: true }).fill('a-brand-new-password')
  await page.getByLabel('Confirm new password').fill('a-brand-new-password')
  await page.getByRole('button', { name: 'Change password' }).click()

  await expect(page.getByText('Incorrect password')).toBeVisible()
  await expect(current).toHaveAttribute('aria-invalid', 'true')
  await expect(current).toHaveAccessibleDescription(/Incorrect password/)
  // Focus goes to the field at fault; no banner repeats it.
  await expect(current).toBeFocused()
  await expect(page.getByRole('alert')).toHaveCount(0)
  await shot('field-error')
})
