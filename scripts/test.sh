#!/usr/bin/env bash
# The whole native test run: the linters, the backend and worker suite on SQLite
# and on PostgreSQL and MariaDB when TEST_POSTGRES_URL / TEST_MARIADB_URL are
# set, then the frontend's checks, then the browser tests against the whole
# system started natively. Arguments go to pytest.
set -Eeuo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

main() {
  "$ROOT_DIR/scripts/lint.sh"
  ensure_venv
  # The worker's tests run it from its own environment, which has no Flask.
  ensure_worker_venv
  cd "$ROOT_DIR/backend"
  local dbs="sqlite"
  [[ -n "${TEST_POSTGRES_URL:-}" ]] && dbs+=", postgresql"
  [[ -n "${TEST_MARIADB_URL:-}" ]] && dbs+=", mariadb"
  log "backend tests on: $dbs"
  # .env is for running the app; the suite sets what it needs itself.
  ENV_FILE=/dev/null python -m pytest "$@"
  "$ROOT_DIR/scripts/frontend.sh" check
  "$ROOT_DIR/scripts/e2e.sh"
}

main "$@"
