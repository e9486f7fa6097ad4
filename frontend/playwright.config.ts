// The browser tests (e2e/*.spec.ts) with @playwright/test and the system's
// Chromium (no browser download). `npx playwright test` starts the whole system
// on free loopback ports and throwaway state (scripts/e2e-services.sh) unless
// E2E_BASE_URL points at one already running (`make dev`).
import { randomBytes } from 'node:crypto'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

import { defineConfig } from '@playwright/test'

import { freePorts } from './e2e/support/ports'

const here = path.dirname(fileURLToPath(import.meta.url))

// The config is read again by every worker process, which inherits this
// process's environment: the ports and password are chosen once, here, and
// reach the tests as E2E_* variables (e2e/support/env.ts).
let services: Record<string, string> | null = null
if (!process.env.E2E_BASE_URL) {
  const [http, shortHttp, api, shortApi, frontend, smtp, mailWeb, sso] = await freePorts(8)
  services = {
    HTTP_PORT: String(http),
    SHORT_HTTP_PORT: String(shortHttp),
    API_PORT: String(api),
    SHORT_API_PORT: String(shortApi),
    FRONTEND_PORT: String(frontend),
    SMTP_PORT: String(smtp),
    MAIL_WEB_PORT: String(mailWeb),
    SSO_PROVIDER_PORT: String(sso),
    FIRST_SUPERUSER: 'admin@example.com',
    FIRST_SUPERUSER_PASSWORD: randomBytes(18).toString('base64url'),
    E2E_LOG_DIR: path.join(here, 'test-results', 'services'),
  }
  Object.assign(process.env, {
    E2E_BASE_URL: `http://localhost:${http}`,
    E2E_SHORT_TOKEN_BASE_URL: `http://localhost:${shortHttp}`,
    E2E_MAIL_URL: `http://localhost:${mailWeb}`,
    E2E_ADMIN_EMAIL: services.FIRST_SUPERUSER,
    E2E_ADMIN_PASSWORD: services.FIRST_SUPERUSER_PASSWORD,
  })
}

const PHONE = { width: 390, height: 844 }

export default defineConfig({
  testDir: 'e2e',
  outputDir: 'test-results',
  // Two at a time, as many as the cores: the services share them.
  workers: 2,
  fullyParallel: true,
  forbidOnly: Boolean(process.env.CI),
  // Generous for two busy cores, and the expiry test waits a minute and more.
  timeout: 90_000,
  expect: { timeout: 10_000 },
  reporter: [['list'], ['html', { open: 'never', outputFolder: 'playwright-report' }]],
  use: {
    baseURL: process.env.E2E_BASE_URL,
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    // Long enough for a busy machine, short enough that a stuck step fails with
    // its locator named well inside the test's timeout.
    actionTimeout: 15_000,
    navigationTimeout: 30_000,
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--disable-quic',
        '--no-first-run',
      ],
    },
  },
  projects: [
    {
      name: 'desktop',
      use: { browserName: 'chromium', viewport: { width: 1280, height: 800 } },
      grepInvert: /@phone-only/,
    },
    {
      // The tests tagged @phone (the layout-sensitive ones) again on a phone.
      name: 'phone',
      use: { browserName: 'chromium', viewport: PHONE, screen: PHONE, isMobile: true, hasTouch: true },
      grep: /@phone/,
    },
  ],
  webServer: services ? {
    command: '../scripts/e2e-services.sh',
    // Traefik starts last: its routed health check answers once all is ready.
    url: `http://127.0.0.1:${services.HTTP_PORT}/api/v1/utils/health-check/`,
    env: services,
    // A cold start creates the Python environments first.
    timeout: 300_000,
    // SIGTERM lets the script stop every service and remove its state.
    gracefulShutdown: { signal: 'SIGTERM', timeout: 30_000 },
    stdout: 'ignore',
    stderr: 'pipe',
  } : undefined,
})
