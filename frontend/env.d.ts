/// <reference types="vite/client" />

interface ImportMetaEnv {
  /** The project's name: PROJECT_NAME of the repository's project.env, or .env (vite.config.ts). */
  readonly VITE_PROJECT_NAME: string
}
