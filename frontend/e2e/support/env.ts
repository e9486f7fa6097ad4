// Where the system under test is, from the environment: playwright.config.ts
// sets these when it starts the system itself; against one you started
// (`make dev`), set them yourself.

/** The account the tests log in with: the first superuser. */
export const ADMIN = {
  email: process.env.E2E_ADMIN_EMAIL ?? 'admin@example.com',
  password: process.env.E2E_ADMIN_PASSWORD ?? 'changethis',
}

/** The mail sink's web page (`make dev`: port 8025). */
export const MAIL_URL = process.env.E2E_MAIL_URL ?? 'http://localhost:8025'

/**
 * The same app in front of an API whose access tokens last one minute
 * (playwright.config.ts starts one); the test of the silent refresh needs it.
 */
export const SHORT_TOKEN_BASE_URL = process.env.E2E_SHORT_TOKEN_BASE_URL ?? ''
