/**
 * Every page is a chunk of its own, fetched on its first visit. When that
 * fetch fails (the network is down, or a new version was deployed and the old
 * chunk is gone), the navigation fails: the user must be told, not left
 * clicking a link that does nothing.
 */

// What browsers and Vite's preloader say when a chunk cannot be fetched.
const PAGE_LOAD_ERRORS = [
  /Failed to fetch dynamically imported module/i, // Chromium
  /error loading dynamically imported module/i, // Firefox
  /Importing a module script failed/i, // Safari
  /Unable to preload CSS/i, // Vite, for a page's stylesheet
]

export const PAGE_LOAD_MESSAGE =
  'That page could not be loaded. Check your connection and try again, or reload to get the latest version.'

export function isPageLoadError(error: unknown): boolean {
  const message = error instanceof Error ? error.message : String(error)
  return PAGE_LOAD_ERRORS.some((pattern) => pattern.test(message))
}
