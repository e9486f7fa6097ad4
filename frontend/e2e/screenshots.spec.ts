// Screenshots of every page, light and dark, at the project's size (desktop
// 1280 × 800, phone 390 × 844), for a person to look at:
// test-results/screenshots/pages/<project>-<scheme>-<page>.png. Each page must
// render its heading without a console error on the way.
import path from 'node:path'

import type { Page, TestInfo } from '@playwright/test'

import { expect, logIn, test, unique } from './support/fixtures'

const SIGNED_OUT = [
  ['login', '/login'],
  ['signup', '/signup'],
  ['recover-password', '/recover-password'],
  ['reset-password', '/reset-password?token=example'],
] as const

const SIGNED_IN = [
  ['dashboard', '/'],
  ['items', '/items'],
  ['jobs', '/jobs'],
  ['users', '/admin/users'],
  ['groups', '/admin/groups'],
  ['settings', '/settings'],
  ['not-found', '/no/such/page'],
] as const

for (const scheme of ['light', 'dark'] as const) {
  test.describe(`${scheme} theme`, () => {
    test.use({ colorScheme: scheme })

    test(`screenshots of every page (${scheme})`, { tag: '@phone' }, async ({ page, adminApi }, testInfo) => {
      const groupName = unique('Reviewers')
      const created = await adminApi.post('/api/v1/groups/', {
        data: { name: groupName, description: 'Reads every account', permissions: ['users:read'] },
      })
      expect(created.status(), await created.text()).toBe(201)
      const loading = page.getByRole('status').filter({ hasText: 'Loading' })
      const save = (label: string, fullPage = true) => screenshot(page, testInfo, `${scheme}-${label}`, fullPage)
      for (const [label, url] of SIGNED_OUT) {
        await page.goto(url)
        await expect(page.getByRole('heading', { level: 1 })).toBeVisible()
        await save(label)
      }
      // The login form showing its validation messages.
      await page.goto('/login')
      await page.getByRole('button', { name: 'Log in' }).click()
      await expect(page.getByText('Enter your email address.')).toBeVisible()
      await save('login-invalid')

      await logIn(page)
      for (const [label, url] of SIGNED_IN) {
        await page.goto(url)
        await expect(page.getByRole('heading', { level: 1 })).toBeVisible()
        await expect(loading).toHaveCount(0)
        await save(label)
      }
      await page.goto('/admin/groups')
      await page.getByRole('link', { name: new RegExp(groupName) }).click()
      await expect(page.getByRole('heading', { name: /Members/ })).toBeVisible()
      await expect(loading).toHaveCount(0)
      await save('group')
      await page.goto('/items')
      await page.getByRole('button', { name: 'New item', exact: true }).click()
      await expect(page.getByRole('dialog').getByLabel('Title')).toBeVisible()
      await save('item-dialog', false)
    })
  })
}

async function screenshot(page: Page, testInfo: TestInfo, label: string, fullPage: boolean): Promise<void> {
  const file = path.join(testInfo.project.outputDir, 'screenshots', 'pages', `${testInfo.project.name}-${label}.png`)
  await page.screenshot({ path: file, fullPage })
}
