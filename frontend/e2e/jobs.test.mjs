// Background jobs: started in the browser from a form the page renders from
// each kind's params schema, run by the worker modules, followed live.
import assert from 'node:assert/strict'

import { e2e, logIn } from './lib.mjs'

const JOBS_PATH = '/api/v1/jobs/'

/** Choose the kind of job to start, by its title. */
async function chooseKind(page, title) {
  await page.getByRole('radio', { name: title }).check()
}

/** Submit the start form; the id of the job the API accepted. */
async function submitJob(page) {
  const accepted = page.waitForResponse(
    (response) => response.request().method() === 'POST' && new URL(response.url()).pathname === JOBS_PATH,
  )
  await page.getByRole('button', { name: 'Start job' }).click()
  const response = await accepted
  assert.equal(response.status(), 202, `starting the job: ${await response.text()}`)
  return (await response.json()).id
}

/** Start a demo job of `seconds`; its id. */
async function startDemo(page, seconds, { fail = false } = {}) {
  await chooseKind(page, 'Demo')
  await page.getByLabel('Seconds').fill(String(seconds))
  await page.getByRole('checkbox', { name: 'Fail', exact: true }).setChecked(fail)
  return submitJob(page)
}

/** The job's entry in the list (ids are matched whole: #1 is not #12). */
function jobEntry(page, id) {
  return page.getByRole('listitem').filter({ hasText: new RegExp(`Job #${id}\\b`) })
}

async function openJobs(page) {
  await logIn(page)
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Jobs' }).click()
  await page.getByRole('heading', { name: 'Jobs', level: 1 }).waitFor()
  await page.getByRole('button', { name: 'Start job' }).waitFor()
}

e2e('a demo job runs on the worker and reaches succeeded', async ({ page, shot }) => {
  await openJobs(page)
  const id = await startDemo(page, 2)
  const entry = jobEntry(page, id)
  await entry.waitFor()
  await shot('started')
  await entry.getByText('Succeeded', { exact: true }).waitFor({ timeout: 45_000 })
  await entry.getByText('Slept for 2 seconds.').waitFor()
  assert.equal(await page.getByRole('progressbar', { name: `Job #${id} progress` }).getAttribute('value'), '100')
  assert.equal(await entry.getByRole('button', { name: /^Cancel/ }).count(), 0)
  await shot('succeeded')
})

e2e('a failing demo job shows its error, not a full progress bar', async ({ page, shot }) => {
  await openJobs(page)
  // It reaches 100 % before it fails: the failure is what shows.
  const id = await startDemo(page, 1, { fail: true })
  const entry = jobEntry(page, id)
  await entry.getByText('Failed', { exact: true }).waitFor({ timeout: 45_000 })
  await entry.getByText('The demo job failed, as asked').waitFor()
  assert.equal(await page.getByRole('progressbar', { name: `Job #${id} progress` }).count(), 0)
  await shot('failed')
})

e2e('a classifier is trained by the ml worker and its scores shown', async ({ page, shot }) => {
  await openJobs(page)
  await chooseKind(page, 'Train a classifier')
  // Required choices: the form says so before sending anything.
  await page.getByRole('button', { name: 'Start job' }).click()
  const dataset = page.getByLabel('Dataset')
  await page.getByText('Choose one.').first().waitFor()
  assert.equal(await dataset.getAttribute('aria-invalid'), 'true')
  assert.ok(await dataset.evaluate((element) => element === document.activeElement), 'the first invalid field has focus')
  await shot('choices required')

  await dataset.selectOption({ label: 'Iris' })
  await page.getByLabel('Model').selectOption({ label: 'Logistic regression' })
  assert.equal(await page.getByLabel('Test size').inputValue(), '0.25')
  const id = await submitJob(page)
  const entry = jobEntry(page, id)
  await entry.getByText('Train a classifier').waitFor()
  await entry.getByText('Succeeded', { exact: true }).waitFor({ timeout: 60_000 })

  const accuracy = entry.locator('.result__stats div').filter({ hasText: 'Test accuracy' }).locator('dd')
  assert.match(await accuracy.innerText(), /^\d{1,3}(\.\d)?%$/)
  const matrix = entry.getByRole('table', { name: /Confusion matrix/ })
  await matrix.waitFor()
  // Text as written (the axis names are styled in capitals).
  const texts = async (locator) => (await locator.allTextContents()).map((text) => text.trim())
  assert.deepEqual(await texts(matrix.getByRole('rowheader')), ['setosa', 'versicolor', 'virginica'])
  assert.deepEqual(await texts(matrix.getByRole('columnheader')), [
    'Predicted',
    'Actual',
    'setosa',
    'versicolor',
    'virginica',
  ])
  // Every test sample is counted once: 3 classes of 50, a quarter held out.
  const counts = (await texts(matrix.getByRole('cell'))).filter(Boolean).map(Number)
  assert.equal(counts.length, 9)
  assert.equal(
    counts.reduce((total, count) => total + count, 0),
    Number(await entry.locator('.result__stats div').filter({ hasText: 'Test samples' }).locator('dd').innerText()),
  )
  await shot('trained')
})

e2e('on a phone a wide confusion matrix scrolls in its own box, not the page', async ({ page, shot }) => {
  await page.setViewportSize({ width: 390, height: 844 })
  await logIn(page)
  await page.goto('/jobs')
  await chooseKind(page, 'Train a classifier')
  await page.getByLabel('Dataset').selectOption({ label: 'Digits' })
  await page.getByLabel('Model').selectOption({ label: 'Logistic regression' })
  await shot('phone form')
  const id = await submitJob(page)
  const entry = jobEntry(page, id)
  await entry.getByText('Succeeded', { exact: true }).waitFor({ timeout: 60_000 })
  const matrix = entry.getByRole('table', { name: /Confusion matrix/ })
  await matrix.waitFor()
  assert.equal(await matrix.getByRole('rowheader').count(), 10)

  const pageWidth = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth])
  assert.ok(pageWidth[0] <= pageWidth[1], `the page is ${pageWidth[0]} px wide in a ${pageWidth[1]} px window`)
  const box = entry.getByRole('region', { name: /Confusion matrix/ })
  const [scrollWidth, clientWidth] = await box.evaluate((element) => [element.scrollWidth, element.clientWidth])
  assert.ok(scrollWidth > clientWidth, `the matrix (${scrollWidth} px) scrolls in its ${clientWidth} px box`)
  await shot('phone result')
})

e2e('a running job is cancelled from the list', async ({ page, shot }) => {
  await openJobs(page)
  const id = await startDemo(page, 30)
  const entry = jobEntry(page, id)
  const progress = page.getByRole('progressbar', { name: `Job #${id} progress` })
  await entry.getByText('Running', { exact: true }).waitFor({ timeout: 45_000 })
  await page.waitForFunction(
    (name) => Number(document.querySelector(`progress[aria-label="${name}"]`)?.getAttribute('value')) > 0,
    `Job #${id} progress`,
    { timeout: 20_000 },
  )
  await shot('running')

  await entry.getByRole('button', { name: `Cancel job #${id}` }).click()
  await entry.getByText('Cancelled', { exact: true }).waitFor()
  await page.getByText(`Job #${id} cancelled.`).waitFor()
  assert.equal(await entry.getByRole('button', { name: /^Cancel/ }).count(), 0)
  const stoppedAt = Number(await progress.getAttribute('value'))
  assert.ok(stoppedAt < 100, `progress stopped at ${stoppedAt}`)

  // The job stays cancelled: the worker stops at its next step and never finishes it.
  await page.reload()
  await jobEntry(page, id).getByText('Cancelled', { exact: true }).waitFor()
  await shot('cancelled')
})

e2e('a value the server refuses is explained at its field', async ({ page, shot }) => {
  // The server has the last word: with the schema's bound loosened on its way to
  // the page, the form lets 100 seconds through and the API refuses them.
  await page.route('**/api/v1/jobs/kinds', async (route) => {
    const response = await route.fetch()
    const body = await response.json()
    for (const kind of body.data) {
      if (kind.name === 'demo') kind.params_schema.properties.seconds.maximum = 600
    }
    await route.fulfill({ response, json: body })
  })
  await openJobs(page)
  await chooseKind(page, 'Demo')
  const seconds = page.getByLabel('Seconds')
  await seconds.fill('100')
  const refused = page.waitForResponse(
    (response) => response.request().method() === 'POST' && new URL(response.url()).pathname === JOBS_PATH,
  )
  await page.getByRole('button', { name: 'Start job' }).click()
  assert.equal((await refused).status(), 422)

  await page.waitForFunction(() => document.activeElement?.getAttribute('aria-invalid') === 'true')
  assert.equal(await seconds.getAttribute('aria-invalid'), 'true')
  assert.ok(await seconds.evaluate((element) => element === document.activeElement), 'the field has focus')
  const described = await seconds.evaluate((element) =>
    (element.getAttribute('aria-describedby') ?? '')
      .split(' ')
      .map((id) => document.getElementById(id)?.textContent ?? '')
      .join(' | '),
  )
  assert.match(described, /60/, `the field's description: ${described}`)
  await shot('refused')
})

e2e('a kind that no worker runs now is pointed out to a superuser', async ({ page, shot }) => {
  // Every worker runs here: the answer is changed on its way to the page.
  await page.route('**/api/v1/jobs/kinds', async (route) => {
    const response = await route.fetch()
    const body = await response.json()
    assert.ok(body.data.every((kind) => kind.worker_running === true), 'a superuser is told the workers run')
    for (const kind of body.data) {
      if (kind.name === 'ml.train_classifier') kind.worker_running = false
    }
    await route.fulfill({ response, json: body })
  })
  await openJobs(page)
  const warning = page.getByText(/No worker runs “Train a classifier” jobs right now/)
  await chooseKind(page, 'Demo')
  assert.equal(await warning.count(), 0)
  await chooseKind(page, 'Train a classifier')
  await warning.waitFor()
  await shot('no worker')
})
