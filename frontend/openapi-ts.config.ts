// Generator settings for the typed API client (`npm run generate-client`).
// Input and output are overridable so `npm run check-client` can generate
// into a temporary folder and compare.
import path from 'node:path'

import { defineConfig } from '@hey-api/openapi-ts'

export default defineConfig({
  // An absolute path: a bare relative one reads as a registry shorthand.
  input: path.resolve(process.env.OPENAPI_INPUT ?? 'openapi/openapi.json'),
  output: {
    path: path.resolve(process.env.OPENAPI_OUTPUT ?? 'src/client'),
  },
  plugins: [
    '@hey-api/client-fetch',
    '@hey-api/typescript',
    { name: '@hey-api/sdk', operations: { strategy: 'flat' } },
  ],
})
