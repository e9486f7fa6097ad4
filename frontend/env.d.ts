/// <reference types="vite/client" />

interface ImportMetaEnv {
  /** The project's name: PROJECT_NAME from the repository's .env (vite.config.ts). */
  readonly VITE_PROJECT_NAME: string
}
