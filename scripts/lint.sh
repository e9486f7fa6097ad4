#!/usr/bin/env bash
# Linters and type checks: every hook of .pre-commit-config.yaml on every file,
# the same checks `git commit` runs on the files it changes (make hooks).
set -Eeuo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

main() {
  ensure_venv
  ensure_ansible_venv
  cd "$ROOT_DIR"
  pre-commit run --all-files --show-diff-on-failure --color "${PRE_COMMIT_COLOR:-auto}"
}

main "$@"
