// Error tracking in the browser (src/lib/errorTracking.ts): a build given a DSN
// reports an error thrown in the app to it, with the build's environment and
// release, and without the access token or a secret in the page's address.
//
// The suite's frontend is built without a DSN (the default), so this test builds
// one of its own, serves it with `vite preview` in front of the suite's API, and
// points the DSN at a stand-in for Sentry's ingestion endpoint: a small HTTP
// server here that keeps the envelopes the SDK posts (cross-origin: it answers
// CORS as Sentry does).
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

import { expect, test } from './support/fixtures'
import { ADMIN } from './support/env'
import { freePorts } from './support/ports'

const FRONTEND_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const VITE = path.join(FRONTEND_DIR, 'node_modules', '.bin', 'vite')
const ENVIRONMENT = 'e2e'
const RELEASE = `e2e-${Date.now().toString(36)}`
const RESET_SECRET = 'reset-secret-e2e-0123456789'
const THROWN = 'thrown on purpose by the error tracking test'

interface Envelope {
  raw: string
  events: Record<string, unknown>[]
}

const envelopes: Envelope[] = []
let receiver: Server
let preview: ChildProcess | undefined
let previewURL = ''
let outDir = ''

function parse(raw: string): Envelope {
  // A header line, then per item: its header line and its payload line.
  const lines = raw.split('\n')
  const events = []
  for (let i = 1; i + 1 < lines.length; i += 2) {
    const [header, payload] = [lines[i] ?? '{}', lines[i + 1] ?? '{}']
    if ((JSON.parse(header) as { type?: string }).type === 'event') {
      events.push(JSON.parse(payload) as Record<string, unknown>)
    }
  }
  return { raw, events }
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  return spawn(command, args, { cwd: FRONTEND_DIR, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] })
}

function finished(child: ChildProcess): Promise<void> {
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  return new Promise((resolve, reject) =>
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`exit ${code}: ${stderr}`)))),
  )
}

test.describe('error tracking', () => {
  test.use({ expectedErrors: new RegExp(THROWN) })

  test.beforeAll(async () => {
    test.setTimeout(180_000)
    const [receiverPort, previewPort] = await freePorts(2)
    receiver = createServer((request, response) => {
      response.setHeader('Access-Control-Allow-Origin', '*')
      response.setHeader('Access-Control-Allow-Headers', '*')
      response.setHeader('Access-Control-Allow-Methods', 'POST, OPTIONS')
      if (request.method === 'POST' && /\/api\/1\/envelope\/?/.test(request.url ?? '')) {
        let body = ''
        request.on('data', (chunk: Buffer) => (body += chunk.toString()))
        request.on('end', () => {
          envelopes.push(parse(body))
          response.end('{}')
        })
        return
      }
      response.end()
    })
    await new Promise<void>((resolve) => receiver.listen(receiverPort, '127.0.0.1', resolve))

    outDir = mkdtempSync(path.join(tmpdir(), 'frontend-sentry-'))
    await finished(
      run(VITE, ['build', '--outDir', outDir, '--emptyOutDir'], {
        VITE_SENTRY_DSN: `http://public@127.0.0.1:${receiverPort}/1`,
        VITE_SENTRY_ENVIRONMENT: ENVIRONMENT,
        VITE_SENTRY_RELEASE: RELEASE,
      }),
    )
    // Its /api goes to the suite's API, through the suite's proxy.
    preview = run(VITE, ['preview', '--outDir', outDir, '--host', '127.0.0.1', '--port', String(previewPort), '--strictPort'], {
      VITE_API_PROXY_TARGET: process.env.E2E_BASE_URL,
    })
    previewURL = `http://localhost:${previewPort}`
    await expect
      .poll(() => fetch(previewURL).then((answer) => answer.ok, () => false), { timeout: 30_000 })
      .toBe(true)
  })

  test.afterAll(async () => {
    preview?.kill('SIGTERM')
    await new Promise((resolve) => receiver.close(resolve))
    if (outDir) rmSync(outDir, { recursive: true, force: true })
  })

  /** The events received whose exception is `message`. */
  function eventsThrowing(message: string) {
    return envelopes.flatMap((envelope) =>
      envelope.events.filter((event) => JSON.stringify(event.exception ?? '').includes(message)),
    )
  }

  test('an error thrown in the app reaches the DSN, without secrets', async ({ page }) => {
    // Signed out, on a page whose address holds a secret.
    await page.goto(`${previewURL}/reset-password?token=${RESET_SECRET}`)
    // The app mounts once error tracking has started (main.ts); the page's load
    // event comes before the SDK's chunk does.
    await expect(page.getByRole('heading', { name: 'Reset password' })).toBeVisible()
    await page.evaluate((message) => setTimeout(() => { throw new Error(message) }), `${THROWN} (1)`)
    await expect.poll(() => eventsThrowing(`${THROWN} (1)`).length, { timeout: 15_000 }).toBe(1)
    const signedOut = eventsThrowing(`${THROWN} (1)`)[0] ?? {}
    expect(signedOut.environment).toBe(ENVIRONMENT)
    expect(signedOut.release).toBe(RELEASE)
    expect(JSON.stringify(signedOut.request)).toContain('token=[Filtered]')

    // Signed in: the app holds an access token and sends it with every API call.
    await page.goto(`${previewURL}/login`)
    await page.getByLabel('Email').fill(ADMIN.email)
    await page.getByLabel('Password', { exact: true }).fill(ADMIN.password)
    const login = page.waitForResponse((answer) => answer.url().includes('/login/access-token'))
    await page.getByRole('button', { name: 'Log in' }).click()
    const { access_token: accessToken } = (await (await login).json()) as { access_token: string }
    await page.waitForURL((url) => !url.pathname.startsWith('/login'))
    // An error whose message quotes a request's Authorization header: the SDK
    // filters headers and URLs, but only the app's scrubbing finds it in free text.
    await page.evaluate(
      ([message, token]) => setTimeout(() => { throw new Error(`${message}: Authorization: Bearer ${token}`) }),
      [`${THROWN} (2)`, accessToken],
    )
    await expect.poll(() => eventsThrowing(`${THROWN} (2)`).length, { timeout: 15_000 }).toBe(1)

    const everything = envelopes.map((envelope) => envelope.raw).join('\n')
    expect(accessToken.length).toBeGreaterThan(20)
    expect(everything).not.toContain(accessToken)
    expect(everything).not.toContain(RESET_SECRET)
    expect(everything).not.toMatch(/Bearer\s+[A-Za-z0-9]/)
  })
})
