#!/usr/bin/env bash
# The whole native test run: the linters, the backend and worker suite on SQLite
# and on PostgreSQL and MariaDB when TEST_POSTGRES_URL / TEST_MARIADB_URL are
# set, then the frontend's checks, then the browser tests against the whole
# system started natively. Arguments go to pytest.
# The tests marked `tools` (make dev's lifecycle, the project generators, the
# docs' walkthrough: minutes of subprocesses) are the tools tier, left out here
# and run by make test-tools, as CI does (.ci/run, .gitlab-ci.yml).
# SKIP_LINT=1 leaves the linters out, for a pipeline whose lint job already ran
# them on the same commit (.gitlab-ci.yml).
set -Eeuo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# What ran and what was skipped, and why: printed last, also after a failure.
SUMMARY=()
SUITE_SUMMARY=""
note() { SUMMARY+=("$(printf '%-13s %s' "$1" "$2")"); }

print_summary() {
  local status=$? line
  printf '\n\033[1mSummary\033[0m\n' >&2
  for line in "${SUMMARY[@]}"; do
    printf '  %s\n' "$line" >&2
  done
  if ((status != 0)); then
    printf '  \033[1;31mstopped: the step after the last one above failed (exit %s)\033[0m\n' "$status" >&2
  fi
  [[ -z "$SUITE_SUMMARY" ]] || rm -f "$SUITE_SUMMARY"
}

# A database server's tests run when its TEST_*_URL is set (tests/utils/databases.py).
note_database() {
  local name="$1" variable="$2"
  if [[ -n "${!variable:-}" ]]; then
    note "$name" "ran ($variable is set)"
  else
    note "$name" "skipped ($variable unset)"
  fi
}

# "N passed, N failed, N skipped" of the backend suite, and the commonest skip
# reasons (a broker or server that cannot be reached among them), as pytest
# wrote them (tests/utils/summary.py).
note_suite_counts() {
  local line
  [[ -s "$SUITE_SUMMARY" ]] || return 0
  while IFS= read -r line; do
    note "" "$line"
  done <"$SUITE_SUMMARY"
}

# Each further worker module's own tests, in its own environment (its libraries
# are only there).
test_worker_modules() {
  local name ran=()
  for name in $(worker_modules); do
    log "worker module $name: its tests, in .venv-$name"
    (cd "$ROOT_DIR/worker-$name" && ENV_FILE=/dev/null "$ROOT_DIR/.venv-$name/bin/python" -m pytest -q -p no:cacheprovider)
    ran+=("$name")
  done
  note "Modules" "ran: the tests of ${ran[*]:-no further module} in their own environments"
}

main() {
  trap print_summary EXIT
  if [[ "${SKIP_LINT:-0}" == 1 ]]; then
    note "Linters" "skipped (SKIP_LINT=1)"
  else
    "$ROOT_DIR/scripts/lint.sh"
    note "Linters" "ran: Python, shell, Dockerfiles, compose and CI files"
  fi
  ensure_venv
  # The Jupyter kernel (make jupyter-kernel) is tested too.
  ensure_notebook
  # The worker's tests run it from its own environment, which has no Flask; so
  # do the other worker modules', each from its own (.venv-<name>).
  ensure_worker_venv
  ensure_module_venvs
  # The single sign-on tests sign in at a real OpenID provider, run by Node.
  ensure_sso_test_provider
  cd "$ROOT_DIR/backend"
  local dbs="sqlite" status=0
  [[ -n "${TEST_POSTGRES_URL:-}" ]] && dbs+=", postgresql"
  [[ -n "${TEST_MARIADB_URL:-}" ]] && dbs+=", mariadb"
  log "backend tests on: $dbs"
  SUITE_SUMMARY="$(mktemp)"
  # .env is for running the app; the suite sets what it needs itself.
  ENV_FILE=/dev/null TEST_SUMMARY_FILE="$SUITE_SUMMARY" python -m pytest -m "not tools" "$@" ||
    status=$?
  if ((status == 0)); then
    note "Backend" "ran on $dbs"
  else
    note "Backend" "FAILED (on $dbs)"
  fi
  note_suite_counts
  ((status == 0)) || exit "$status"
  note "Tools tier" "left out: make test-tools runs it (make dev, new-project, new-worker, walkthrough)"
  note_database PostgreSQL TEST_POSTGRES_URL
  note_database MariaDB TEST_MARIADB_URL
  test_worker_modules
  # eslint and the client's check are linters: they ran with them (or in the
  # pipeline's lint job under SKIP_LINT=1), not again here.
  "$ROOT_DIR/scripts/frontend.sh" verify
  note "Frontend" "ran: type check, unit tests, build (eslint and the client's check: Linters)"
  "$ROOT_DIR/scripts/e2e.sh"
  note "Browser" "ran: the browser tests against the whole system (Chromium)"
}

main "$@"
