#!/usr/bin/env bash
# The whole native test run: the linters, the backend and worker suite on SQLite
# and on PostgreSQL and MariaDB when TEST_POSTGRES_URL / TEST_MARIADB_URL are
# set, then the frontend's checks, then the browser tests against the whole
# system started natively. Arguments go to pytest.
set -Eeuo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# What ran and what was skipped, and why: printed last, also after a failure.
SUMMARY=()
JUNIT_XML=""
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
  [[ -z "$JUNIT_XML" ]] || rm -f "$JUNIT_XML"
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

# The brokers' tests skip when theirs cannot be reached (tests/utils/brokers.py):
# the same check, with the same defaults.
note_brokers() {
  local line
  while IFS= read -r line; do
    note "${line%%:*}" "${line#*: }"
  done < <(
    python - <<'PY'
import os

import redis
from kombu import Connection

urls = {
    "Redis": os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0"),
    "RabbitMQ": os.environ.get("TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672//"),
}
for name, url in urls.items():
    shown = url.split("@")[-1]
    try:
        if name == "Redis":
            redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=2).ping()
        else:
            with Connection(url, connect_timeout=2) as connection:
                connection.ensure_connection(max_retries=1)
        print(f"{name}: reachable at {shown}: its tests ran")
    except Exception as exc:  # noqa: BLE001 - any failure means the tests skipped
        print(f"{name}: unreachable at {shown}: its tests skipped ({type(exc).__name__})")
PY
  )
}

# "N passed, N skipped" of the backend suite, and the commonest skip reasons.
note_suite_counts() {
  local line
  [[ -s "$JUNIT_XML" ]] || return 0
  while IFS= read -r line; do
    note "" "$line"
  done < <(
    python - "$JUNIT_XML" <<'PY'
import collections
import sys
import xml.etree.ElementTree as ET

root = ET.parse(sys.argv[1]).getroot()
suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
count = {key: sum(int(s.get(key, 0)) for s in suites) for key in ("tests", "failures", "errors", "skipped")}
passed = count["tests"] - count["failures"] - count["errors"] - count["skipped"]
print(f"{passed} passed, {count['failures'] + count['errors']} failed, {count['skipped']} skipped")
reasons = collections.Counter(
    (element.get("message") or "no reason given").removeprefix("Skipped: ")
    for element in root.iter("skipped")
)
for reason, n in reasons.most_common(5):
    print(f"  {n} skipped: {reason}")
PY
  )
}

main() {
  trap print_summary EXIT
  "$ROOT_DIR/scripts/lint.sh"
  note "Linters" "ran: Python, shell, Dockerfiles, compose and CI files"
  ensure_venv
  # The Jupyter kernel (make jupyter-kernel) is tested too.
  ensure_notebook
  # The worker's tests run it from its own environment, which has no Flask.
  ensure_worker_venv
  cd "$ROOT_DIR/backend"
  local dbs="sqlite" status=0
  [[ -n "${TEST_POSTGRES_URL:-}" ]] && dbs+=", postgresql"
  [[ -n "${TEST_MARIADB_URL:-}" ]] && dbs+=", mariadb"
  log "backend tests on: $dbs"
  JUNIT_XML="$(mktemp)"
  # .env is for running the app; the suite sets what it needs itself.
  ENV_FILE=/dev/null python -m pytest --junitxml="$JUNIT_XML" "$@" || status=$?
  if ((status == 0)); then
    note "Backend" "ran on $dbs"
  else
    note "Backend" "FAILED (on $dbs)"
  fi
  note_suite_counts
  ((status == 0)) || exit "$status"
  note_database PostgreSQL TEST_POSTGRES_URL
  note_database MariaDB TEST_MARIADB_URL
  note_brokers
  "$ROOT_DIR/scripts/frontend.sh" check
  note "Frontend" "ran: lint, type check, unit tests, build, client up to date"
  "$ROOT_DIR/scripts/e2e.sh"
  note "Browser" "ran: the browser tests against the whole system (Chromium)"
}

main "$@"
