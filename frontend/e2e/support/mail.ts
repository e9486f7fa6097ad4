// The mail sink's web page (MAIL_URL), as a person reads it: the list of
// messages, then one message.
import { expect, type Page } from '@playwright/test'

import { MAIL_URL } from './env'

/** Open the newest email to `address` whose subject matches, once it has arrived. */
export async function openEmail(page: Page, address: string, subject: RegExp): Promise<void> {
  const link = page.getByRole('row').filter({ hasText: address }).getByRole('link', { name: subject }).first()
  await expect(async () => {
    await page.goto(MAIL_URL)
    await expect(link).toBeVisible({ timeout: 500 })
  }, `the email to ${address} in the mail sink`).toPass({ timeout: 30_000 })
  await link.click()
}

/** Open the verification email to `address` and follow its link. */
export async function followVerificationLink(page: Page, address: string): Promise<void> {
  await openEmail(page, address, /verify your email address/)
  await page.getByRole('link', { name: /\/verify-email\?token=/ }).click()
}
