#!/usr/bin/env bash
# Linters and type checks, and the import rule that keeps Flask out of the core.
set -Eeuo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

main() {
  ensure_venv
  log "uv.lock matches the pyproject.toml files (make lock updates it)"
  (cd "$ROOT_DIR" && "$UV" lock --check --quiet) ||
    die "uv.lock is stale: run make lock and commit it"
  cd "$ROOT_DIR/backend"
  log "ruff"
  ruff check . ../worker ../ansible
  ruff format --check . ../worker ../ansible
  log "mypy"
  mypy app
  (cd ../worker && mypy worker)
  (cd ../ansible && mypy --strict tests roles/app_stack/files)
  log "import rules: the core and the worker never import Flask"
  lint-imports
  log "shellcheck"
  # compose/*.sh: scripts the stack mounts into containers.
  (cd "$ROOT_DIR" && shellcheck -x scripts/*.sh compose/*.sh ansible/tests/*.sh .ci/run)
  log "container files: Dockerfiles, compose files, YAML, GitLab CI"
  "$ROOT_DIR/scripts/lint-containers.sh"
  log "ansible-lint (production profile): ansible/"
  ensure_ansible_venv
  (cd "$ROOT_DIR/ansible" && PATH="$ANSIBLE_VENV_DIR/bin:$PATH" ansible-lint -q)
}

main "$@"
