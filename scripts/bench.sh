#!/usr/bin/env bash
# Benchmark the API under load against PostgreSQL, then background jobs through
# the API and a worker on Redis, then the frontend's bundle, and print the figures
# (docs/performance.md explains them). A throwaway database is created on the
# server BENCH_POSTGRES_URL names (default postgresql://postgres@127.0.0.1:5432/postgres)
# and dropped at the end. BENCH_COMPARE=1 also measures every server contender.
# Arguments go to `python -m bench` (--help lists them).
set -Eeuo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# wrk, the load generator, from Debian's packages.
ensure_wrk() {
  command -v wrk >/dev/null && return 0
  local sudo=()
  [[ "$(id -u)" -eq 0 ]] || sudo=(sudo)
  log "installing wrk"
  if ! "${sudo[@]}" apt-get install -y -qq wrk >/dev/null 2>&1; then
    "${sudo[@]}" apt-get update -qq
    "${sudo[@]}" apt-get install -y -qq wrk >/dev/null
  fi
}

main() {
  ensure_venv
  ensure_wrk
  ensure_worker_venv
  ensure_module_venvs
  cd "$ROOT_DIR/tools"
  # The drivers stop their servers and drop their databases however they end
  # (Ctrl-C, SIGTERM, a failure).
  python -m bench "$@"
  # Jobs: round trips and throughput through the API and one worker on Redis
  # (BENCH_REDIS_URL, default redis://127.0.0.1:6379/11, emptied first).
  python -m bench.jobs
  # The frontend: the JavaScript the login route loads, gzipped (budget 70 kB).
  "$ROOT_DIR/scripts/frontend.sh" build
}

main "$@"
