#!/usr/bin/env node
// Write the forms' copy of the common-password list, src/lib/common-passwords.txt,
// from the one the API enforces (backend/app/core/data/common-passwords.txt.gz,
// see its README.md for source and licence). Checked in rather than read at build
// time: the frontend's image is built from frontend/ alone.
//
// Usage: node scripts/common-passwords.mjs [--check]
//   --check  write nothing; fail when the copy differs (a pre-commit hook)
import { readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { gunzipSync } from 'node:zlib'

const source = fileURLToPath(new URL('../../backend/app/core/data/common-passwords.txt.gz', import.meta.url))
const target = fileURLToPath(new URL('../src/lib/common-passwords.txt', import.meta.url))

const wanted = gunzipSync(readFileSync(source)).toString('utf8')

if (process.argv.includes('--check')) {
  let current = ''
  try {
    current = readFileSync(target, 'utf8')
  } catch {
    // missing: reported as stale below
  }
  if (current !== wanted) {
    console.error(
      'common-passwords: src/lib/common-passwords.txt differs from the backend list; ' +
        "run 'npm run common-passwords'",
    )
    process.exit(1)
  }
} else {
  writeFileSync(target, wanted)
  console.log(`common-passwords: wrote ${wanted.split('\n').length - 1} entries to src/lib/common-passwords.txt`)
}
