// The audit log: an administrator sees sign-ins, failed ones included, and
// narrows the list by action.
import { ADMIN } from './support/env'
import { expect, mainNav, test, unique } from './support/fixtures'

test('the audit log shows failed and successful logins and filters by action @phone', async ({
  adminPage: page,
  openPage,
  shot,
}) => {
  // Someone fails to log in, with an address no other test uses.
  const stranger = `${unique('stranger')}@example.com`
  const other = await openPage()
  await other.goto('/login')
  await other.getByLabel('Email').fill(stranger)
  await other.getByLabel('Password', { exact: true }).fill('not-the-password-1')
  await other.getByRole('button', { name: 'Log in' }).click()
  await expect(other.getByText('Incorrect email or password')).toBeVisible()

  // The administrator opens the log: both kinds of login are there.
  await (await mainNav(page)).getByRole('link', { name: 'Audit log' }).click()
  await expect(page.getByRole('heading', { name: 'Audit log', level: 1 })).toBeVisible()
  const events = page.getByRole('region', { name: 'Audit events' })
  const failed = events.locator('tr[data-action="login.failed"]').filter({ hasText: stranger })
  await expect(failed).toHaveCount(1)
  await expect(events.locator('tr[data-action="login.succeeded"]').first()).toBeVisible()
  await shot('audit-log')

  // Only failed logins: the successful ones are gone, the stranger's stays.
  await page.getByLabel('Action').selectOption('login.failed')
  await page.getByRole('button', { name: 'Filter', exact: true }).click()
  await expect(page).toHaveURL(/action=login\.failed/)
  await expect(events.locator('tr[data-action="login.succeeded"]')).toHaveCount(0)
  await expect(failed).toHaveCount(1)
  const actions = await events.locator('tbody tr').evaluateAll((rows) =>
    rows.map((row) => row.getAttribute('data-action')),
  )
  expect(new Set(actions)).toEqual(new Set(['login.failed']))

  // The administrator's own logins, by actor.
  await page.getByLabel('Action').selectOption('login.succeeded')
  await page.getByLabel('Actor').fill(ADMIN.email)
  await page.getByRole('button', { name: 'Filter', exact: true }).click()
  await expect(failed).toHaveCount(0)
  await expect(events.locator('tr[data-action="login.succeeded"]').first()).toBeVisible()
  await shot('audit-log-filtered')

  // Nothing wider than the screen, on a phone too.
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
  expect(overflow).toBeLessThanOrEqual(0)

  // The filters are kept in the URL: a reload shows the same rows.
  await page.reload()
  await expect(page.getByLabel('Action')).toHaveValue('login.succeeded')
  await expect(page.getByLabel('Actor')).toHaveValue(ADMIN.email)
})
