#!/usr/bin/env bash
# The frontend's tasks: `frontend.sh check|verify|lint|check-client|generate-client|dev|build|install|e2e`.
# verify is check less eslint and the client's check, which the linters run
# (scripts/lint.sh): make test runs verify after them.
# Installs its packages with `npm ci` whenever package-lock.json changed.
set -Eeuo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

FRONTEND_DIR="$ROOT_DIR/frontend"

# The packages of package-lock.json, installed unless they already are: the stamp
# holds the lock file's hash at the last install, so a checkout that touches the
# file without changing it costs nothing. npm's cache serves what it holds
# without asking the registry (--prefer-offline).
ensure_node_modules() {
  # Node.js 20.19+ (Vite's minimum).
  require_commands node:nodejs npm
  local stamp="$FRONTEND_DIR/node_modules/.installed" lock_hash
  lock_hash="$(cksum <"$FRONTEND_DIR/package-lock.json")"
  if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$lock_hash" ]]; then
    log "installing the frontend's packages (npm ci)"
    (cd "$FRONTEND_DIR" && npm ci --prefer-offline --no-audit --no-fund --loglevel=error)
    printf '%s\n' "$lock_hash" >"$stamp"
  fi
}

main() {
  local task="${1:-check}"
  case "$task" in
    # The dev server and the packages need nothing of the backend.
    dev | install) ;;
    *) ensure_venv ;; # the spec is exported from the backend's code
  esac
  ensure_node_modules
  cd "$FRONTEND_DIR"
  case "$task" in
    check)
      log "frontend: lint, type check, unit tests, build and bundle size"
      npm run --silent check
      log "frontend: the generated API client matches the backend's spec"
      npm run --silent check-client
      ;;
    verify)
      log "frontend: type check, unit tests, build and bundle size"
      npm run --silent verify
      ;;
    lint) npm run --silent lint ;;
    check-client) npm run --silent check-client ;;
    generate-client) npm run --silent generate-client ;;
    # Vite itself, not through npm: npm takes seconds to pass a SIGTERM on.
    dev) exec node_modules/.bin/vite --port "${FRONTEND_PORT:-5173}" --strictPort ;;
    build) npm run --silent build ;;
    install) ;;
    # The browser tests; further arguments go to Playwright (scripts/e2e.sh).
    e2e) shift && exec npx playwright test "$@" ;;
    *) die "unknown task: $task (check, verify, lint, check-client, generate-client, dev, build, install or e2e)" ;;
  esac
}

main "$@"
