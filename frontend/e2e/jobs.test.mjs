// Background jobs: started in the browser, run by the worker, followed live.
import assert from 'node:assert/strict'

import { e2e, logIn } from './lib.mjs'

/** Submit the start form; the id of the job the API accepted. */
async function startJob(page, seconds, { fail = false } = {}) {
  await page.getByLabel('Seconds').fill(String(seconds))
  await page.getByLabel('Fail on purpose').setChecked(fail)
  const accepted = page.waitForResponse(
    (response) => response.request().method() === 'POST' && new URL(response.url()).pathname === '/api/v1/jobs/',
  )
  await page.getByRole('button', { name: 'Start job' }).click()
  const response = await accepted
  assert.equal(response.status(), 202)
  return (await response.json()).id
}

/** The job's entry in the list (ids are matched whole: #1 is not #12). */
function jobEntry(page, id) {
  return page.getByRole('listitem').filter({ hasText: new RegExp(`Job #${id}\\b`) })
}

e2e('a demo job runs on the worker and reaches succeeded', async ({ page, shot }) => {
  await logIn(page)
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Jobs' }).click()
  await page.getByRole('heading', { name: 'Jobs', level: 1 }).waitFor()
  const id = await startJob(page, 2)
  const entry = jobEntry(page, id)
  await entry.waitFor()
  await shot('started')
  await entry.getByText('Succeeded', { exact: true }).waitFor({ timeout: 45_000 })
  await entry.getByText('{"slept":2}').waitFor()
  assert.equal(await page.getByRole('progressbar', { name: `Job #${id} progress` }).getAttribute('value'), '100')
  await shot('succeeded')
})

e2e('a failing demo job shows its error', async ({ page, shot }) => {
  await logIn(page)
  await page.goto('/jobs')
  const id = await startJob(page, 0, { fail: true })
  const entry = jobEntry(page, id)
  await entry.getByText('Failed', { exact: true }).waitFor({ timeout: 45_000 })
  await entry.getByText('The demo job failed, as asked').waitFor()
  await shot('failed')
})
