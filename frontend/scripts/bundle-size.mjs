#!/usr/bin/env node
// Report the gzipped size of the JavaScript each route loads, from the build's
// manifest (run `npm run build` first), and fail when the login route's
// initial JavaScript is over the budget.
//
// Usage: node scripts/bundle-size.mjs [--budget-kb 70] [--dist dist]
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { gzipSync } from 'node:zlib'

function option(name, fallback) {
  const index = process.argv.indexOf(name)
  return index > 0 && process.argv[index + 1] ? process.argv[index + 1] : fallback
}

const dist = path.resolve(option('--dist', 'dist'))
const budgetKb = Number(option('--budget-kb', '70'))
const ENTRY = 'index.html'
const LOGIN = 'src/pages/LoginPage.vue'

let manifest
try {
  manifest = JSON.parse(readFileSync(path.join(dist, '.vite', 'manifest.json'), 'utf8'))
} catch {
  console.error(`bundle-size: ${dist}/.vite/manifest.json not found; run 'npm run build' first`)
  process.exit(1)
}

/** Every chunk a module loads before it runs: itself and its static imports, recursively. */
function staticClosure(key, seen = new Set()) {
  if (seen.has(key) || !manifest[key]) {
    return seen
  }
  seen.add(key)
  for (const imported of manifest[key].imports ?? []) {
    staticClosure(imported, seen)
  }
  return seen
}

const gzipCache = new Map()
function gzipBytes(file) {
  if (!gzipCache.has(file)) {
    gzipCache.set(file, gzipSync(readFileSync(path.join(dist, file))).length)
  }
  return gzipCache.get(file)
}

function jsFiles(keys) {
  return [...new Set([...keys].map((key) => manifest[key].file).filter((file) => file.endsWith('.js')))]
}

function cssFiles(keys) {
  return [...new Set([...keys].flatMap((key) => manifest[key].css ?? []))]
}

const sum = (files) => files.reduce((total, file) => total + gzipBytes(file), 0)
const kb = (bytes) => (bytes / 1024).toFixed(1)

const entryKeys = staticClosure(ENTRY)
if (!entryKeys.size || !manifest[LOGIN]) {
  console.error(`bundle-size: the manifest has no ${ENTRY} or ${LOGIN} entry`)
  process.exit(1)
}

// What the browser runs for each lazily loaded page, on top of the entry.
const pages = Object.keys(manifest)
  .filter((key) => key.startsWith('src/pages/') || key.startsWith('src/layouts/'))
  .sort()
const entryJs = jsFiles(entryKeys)
console.log(`entry (${ENTRY}): ${kb(sum(entryJs))} kB gzipped JS, ${kb(sum(cssFiles(entryKeys)))} kB gzipped CSS`)
console.log('each lazy chunk on top of the entry (gzipped JS):')
for (const key of pages) {
  const extra = jsFiles(staticClosure(key)).filter((file) => !entryJs.includes(file))
  console.log(`  ${key.padEnd(40)} ${kb(sum(extra)).padStart(6)} kB`)
}

const loginKeys = new Set([...entryKeys, ...staticClosure(LOGIN)])
const loginJs = jsFiles(loginKeys)
const loginBytes = sum(loginJs)
console.log(`login route initial JavaScript: ${kb(loginBytes)} kB gzipped in ${loginJs.length} files (budget ${budgetKb} kB)`)

if (loginBytes > budgetKb * 1024) {
  console.error(`bundle-size: the login route loads ${kb(loginBytes)} kB of gzipped JavaScript, over the ${budgetKb} kB budget`)
  process.exit(1)
}
