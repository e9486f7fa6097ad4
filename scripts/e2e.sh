#!/usr/bin/env bash
# The browser tests (frontend/e2e/*.spec.ts, @playwright/test) against the whole
# system, which Playwright starts natively on free loopback ports and throwaway
# state (scripts/e2e-services.sh) and stops at the end. Chromium is Debian's,
# never a browser download. Failures leave their trace, screenshot and the
# services' logs in frontend/test-results/; screenshots of the pages visited go
# to frontend/test-results/screenshots/.
#
# Usage: scripts/e2e.sh [PLAYWRIGHT_ARGS...]   e.g. `scripts/e2e.sh auth`,
# `scripts/e2e.sh --project=phone`, `scripts/e2e.sh -g "an item"`.
set -Eeuo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ensure_chromium() {
  local chromium="${CHROMIUM_PATH:-/usr/bin/chromium}"
  [[ -x "$chromium" ]] && return 0
  if [[ "$(id -u)" -eq 0 ]] && command -v apt-get >/dev/null; then
    log "installing Chromium (apt-get)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  fi
  [[ -x "$chromium" ]] ||
    die "the browser tests need Chromium at $chromium: install it (apt-get install chromium) or set CHROMIUM_PATH"
}

main() {
  local started=$SECONDS
  ensure_chromium
  if ! "$ROOT_DIR/scripts/frontend.sh" e2e "$@"; then
    die "the browser tests failed after $((SECONDS - started)) s: traces, screenshots and service logs in frontend/test-results/ (npx playwright show-report in frontend/)"
  fi
  log "browser tests passed in $((SECONDS - started)) s"
}

main "$@"
