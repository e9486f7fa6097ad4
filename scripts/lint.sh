#!/usr/bin/env bash
# Linters and type checks, and the import rule that keeps Flask out of the core.
set -Eeuo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

main() {
  ensure_venv
  cd "$ROOT_DIR/backend"
  log "ruff"
  ruff check . ../worker
  ruff format --check . ../worker
  log "mypy"
  mypy app
  (cd ../worker && mypy worker)
  log "import rules: the core and the worker never import Flask"
  lint-imports
  log "shellcheck"
  (cd "$ROOT_DIR" && shellcheck -x scripts/*.sh .ci/run)
  log "container files: Dockerfiles, compose files, YAML, GitLab CI"
  "$ROOT_DIR/scripts/lint-containers.sh"
}

main "$@"
