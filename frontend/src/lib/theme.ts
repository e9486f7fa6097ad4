/**
 * The color theme: the system's (the default), or light or dark as the user chose,
 * remembered in this browser. It sets data-theme on <html>, which main.css reads.
 */
import { ref } from 'vue'

export type Theme = 'system' | 'light' | 'dark'

export const THEMES: readonly Theme[] = ['system', 'light', 'dark']
const KEY = 'theme'

function stored(): Theme {
  try {
    const value = localStorage.getItem(KEY)
    return value === 'light' || value === 'dark' ? value : 'system'
  } catch {
    return 'system'
  }
}

/** The chosen theme; set it with setTheme(). */
export const theme = ref<Theme>(stored())

function apply(value: Theme): void {
  if (value === 'system') delete document.documentElement.dataset.theme
  else document.documentElement.dataset.theme = value
}

export function setTheme(value: Theme): void {
  theme.value = value
  apply(value)
  try {
    if (value === 'system') localStorage.removeItem(KEY)
    else localStorage.setItem(KEY, value)
  } catch {
    // No storage: the choice lasts until the page is reloaded.
  }
}

/** At start-up, before the first paint of the app. */
export function applyStoredTheme(): void {
  apply(theme.value)
}
