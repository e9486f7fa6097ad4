// Background jobs: started in the browser from a form the page renders from
// each kind's params schema, run by the worker modules, followed live.
import type { Page } from '@playwright/test'

import { expect, logIn, mainNav, test } from './support/fixtures'

const JOBS_PATH = '/api/v1/jobs/'

/** Choose the kind of job to start, by its title. */
async function chooseKind(page: Page, title: string): Promise<void> {
  await page.getByRole('radio', { name: title }).check()
}

/** Submit the start form; the id of the job the API accepted. */
async function submitJob(page: Page): Promise<number> {
  const accepted = page.waitForResponse(
    (response) => response.request().method() === 'POST' && new URL(response.url()).pathname === JOBS_PATH,
  )
  await page.getByRole('button', { name: 'Start job' }).click()
  const response = await accepted
  expect(response.status(), `starting the job: ${await response.text()}`).toBe(202)
  return ((await response.json()) as { id: number }).id
}

/** Start a demo job of `seconds`; its id. */
async function startDemo(page: Page, seconds: number, { fail = false } = {}): Promise<number> {
  await chooseKind(page, 'Demo')
  await page.getByLabel('Seconds').fill(String(seconds))
  await page.getByRole('checkbox', { name: 'Fail', exact: true }).setChecked(fail)
  return submitJob(page)
}

/** The job's entry in the list (ids are matched whole: #1 is not #12). */
function jobEntry(page: Page, id: number) {
  return page.getByRole('listitem').filter({ hasText: new RegExp(`Job #${id}\\b`) })
}

function progressOf(page: Page, id: number) {
  return page.getByRole('progressbar', { name: `Job #${id} progress` })
}

async function openJobs(page: Page): Promise<void> {
  await (await mainNav(page)).getByRole('link', { name: 'Jobs' }).click()
  await expect(page.getByRole('heading', { name: 'Jobs', level: 1 })).toBeVisible()
  await expect(page.getByRole('button', { name: 'Start job' })).toBeVisible()
}

test('a demo job runs on the worker and reaches succeeded', async ({ adminPage: page, shot }) => {
  await openJobs(page)
  const id = await startDemo(page, 2)
  const entry = jobEntry(page, id)
  await expect(entry).toBeVisible()
  await shot('started')
  await expect(entry.getByText('Succeeded', { exact: true })).toBeVisible({ timeout: 45_000 })
  await expect(entry.getByText('Slept for 2 seconds.')).toBeVisible()
  await expect(progressOf(page, id)).toHaveAttribute('value', '100')
  await expect(entry.getByRole('button', { name: /^Cancel/ })).toHaveCount(0)
  await shot('succeeded')
})

test('a failing demo job shows its error, not a full progress bar', async ({ adminPage: page, shot }) => {
  await openJobs(page)
  // It reaches 100 % before it fails: the failure is what shows.
  const id = await startDemo(page, 1, { fail: true })
  const entry = jobEntry(page, id)
  await expect(entry.getByText('Failed', { exact: true })).toBeVisible({ timeout: 45_000 })
  await expect(entry.getByText('The demo job failed, as asked')).toBeVisible()
  await expect(progressOf(page, id)).toHaveCount(0)
  await shot('failed')
})

test('a classifier is trained by the ml worker and its scores shown', async ({ adminPage: page, shot }) => {
  await openJobs(page)
  await chooseKind(page, 'Train a classifier')
  // Required choices: the form says so before sending anything.
  await page.getByRole('button', { name: 'Start job' }).click()
  const dataset = page.getByLabel('Dataset')
  await expect(page.getByText('Choose one.').first()).toBeVisible()
  await expect(dataset).toHaveAttribute('aria-invalid', 'true')
  await expect(dataset, 'the first invalid field has focus').toBeFocused()
  await shot('choices required')

  await dataset.selectOption({ label: 'Iris' })
  await page.getByLabel('Model').selectOption({ label: 'Logistic regression' })
  await expect(page.getByLabel('Test size')).toHaveValue('0.25')
  const id = await submitJob(page)
  const entry = jobEntry(page, id)
  await expect(entry.getByText('Train a classifier')).toBeVisible()
  await expect(entry.getByText('Succeeded', { exact: true })).toBeVisible({ timeout: 60_000 })

  const stat = (name: string) => entry.locator('.result__stats div').filter({ hasText: name }).locator('dd')
  await expect(stat('Test accuracy')).toHaveText(/^\d{1,3}(\.\d)?%$/)
  const matrix = entry.getByRole('table', { name: /Confusion matrix/ })
  // Text as written (the axis names are styled in capitals).
  await expect(matrix.getByRole('rowheader')).toHaveText(['setosa', 'versicolor', 'virginica'], { useInnerText: false })
  await expect(matrix.getByRole('columnheader')).toHaveText(
    ['Predicted', 'Actual', 'setosa', 'versicolor', 'virginica'],
    { useInnerText: false },
  )
  // Every test sample is counted once: 3 classes of 50, a quarter held out.
  const counts = (await matrix.getByRole('cell').allTextContents())
    .map((text) => text.trim())
    .filter(Boolean)
    .map(Number)
  expect(counts).toHaveLength(9)
  expect(counts.reduce((total, count) => total + count, 0)).toBe(Number(await stat('Test samples').innerText()))
  await shot('trained')
})

test('on a phone a wide confusion matrix scrolls in its own box, not the page', { tag: '@phone-only' }, async ({
  adminPage: page,
  shot,
}) => {
  await openJobs(page)
  await chooseKind(page, 'Train a classifier')
  await page.getByLabel('Dataset').selectOption({ label: 'Digits' })
  await page.getByLabel('Model').selectOption({ label: 'Logistic regression' })
  await shot('phone form')
  const id = await submitJob(page)
  const entry = jobEntry(page, id)
  await expect(entry.getByText('Succeeded', { exact: true })).toBeVisible({ timeout: 60_000 })
  const matrix = entry.getByRole('table', { name: /Confusion matrix/ })
  await expect(matrix.getByRole('rowheader')).toHaveCount(10)

  const [pageWidth, windowWidth] = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth])
  expect(pageWidth, `the page is ${pageWidth} px wide in a ${windowWidth} px window`).toBeLessThanOrEqual(windowWidth!)
  const box = entry.getByRole('region', { name: /Confusion matrix/ })
  const [scrollWidth, clientWidth] = await box.evaluate((element) => [element.scrollWidth, element.clientWidth])
  expect(scrollWidth, `the matrix (${scrollWidth} px) scrolls in its ${clientWidth} px box`).toBeGreaterThan(clientWidth!)
  await shot('phone result')
})

test('a running job is cancelled from the list', async ({ adminPage: page, shot }) => {
  await openJobs(page)
  const id = await startDemo(page, 30)
  const entry = jobEntry(page, id)
  const progress = progressOf(page, id)
  await expect(entry.getByText('Running', { exact: true })).toBeVisible({ timeout: 45_000 })
  await expect
    .poll(async () => Number(await progress.getAttribute('value')), { timeout: 20_000 })
    .toBeGreaterThan(0)
  await shot('running')

  await entry.getByRole('button', { name: `Cancel job #${id}` }).click()
  await expect(entry.getByText('Cancelled', { exact: true })).toBeVisible()
  await expect(page.getByText(`Job #${id} cancelled.`)).toBeVisible()
  await expect(entry.getByRole('button', { name: /^Cancel/ })).toHaveCount(0)
  const stoppedAt = Number(await progress.getAttribute('value'))
  expect(stoppedAt, `progress stopped at ${stoppedAt}`).toBeLessThan(100)

  // The job stays cancelled: the worker stops at its next step and never finishes it.
  await page.reload()
  await expect(jobEntry(page, id).getByText('Cancelled', { exact: true })).toBeVisible()
  await shot('cancelled')
})

test('a value the server refuses is explained at its field', async ({ page, shot }) => {
  // The server has the last word: with the schema's bound loosened on its way to
  // the page, the form lets 100 seconds through and the API refuses them.
  await page.route('**/api/v1/jobs/kinds', async (route) => {
    const response = await route.fetch()
    const body = (await response.json()) as {
      data: { name: string; params_schema: { properties: Record<string, { maximum?: number }> } }[]
    }
    for (const kind of body.data) {
      if (kind.name === 'demo') kind.params_schema.properties.seconds!.maximum = 600
    }
    await route.fulfill({ response, json: body })
  })
  await logIn(page)
  await openJobs(page)
  await chooseKind(page, 'Demo')
  const seconds = page.getByLabel('Seconds')
  await seconds.fill('100')
  const refused = page.waitForResponse(
    (response) => response.request().method() === 'POST' && new URL(response.url()).pathname === JOBS_PATH,
  )
  await page.getByRole('button', { name: 'Start job' }).click()
  expect((await refused).status()).toBe(422)

  await expect(seconds, 'the field has focus').toBeFocused()
  await expect(seconds).toHaveAttribute('aria-invalid', 'true')
  await expect(seconds).toHaveAccessibleDescription(/60/)
  await shot('refused')
})

test('a kind that no worker runs now is pointed out to a superuser', async ({ page, shot }) => {
  // Every worker runs here: the answer is changed on its way to the page.
  let allRunning: boolean | null = null
  await page.route('**/api/v1/jobs/kinds', async (route) => {
    const response = await route.fetch()
    const body = (await response.json()) as { data: { name: string; worker_running: boolean }[] }
    allRunning = body.data.every((kind) => kind.worker_running === true)
    for (const kind of body.data) {
      if (kind.name === 'ml.train_classifier') kind.worker_running = false
    }
    await route.fulfill({ response, json: body })
  })
  await logIn(page)
  await openJobs(page)
  await expect.poll(() => allRunning, { message: 'a superuser is told the workers run' }).toBe(true)
  const warning = page.getByText(/No worker runs “Train a classifier” jobs right now/)
  await chooseKind(page, 'Demo')
  await expect(warning).toHaveCount(0)
  await chooseKind(page, 'Train a classifier')
  await expect(warning).toBeVisible()
  await shot('no worker')
})
