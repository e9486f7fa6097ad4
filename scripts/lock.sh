#!/usr/bin/env bash
# Re-pin backend/constraints.txt: install the newest versions the ranges in
# backend/pyproject.toml allow into a scratch virtualenv and record them.
set -Eeuo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

main() {
  local scratch
  scratch="$(mktemp -d)"
  trap 'rm -rf "$scratch"' EXIT
  "$PYTHON" -m venv "$scratch/venv"
  "$scratch/venv/bin/pip" install --quiet --upgrade pip
  "$scratch/venv/bin/pip" install --quiet "$ROOT_DIR/backend[web,dev,notebook]"
  {
    echo "# Pinned versions of every Python dependency, for reproducible installs."
    echo "# Refresh: scripts/lock.sh (reinstalls from backend/pyproject.toml and re-pins)."
    "$scratch/venv/bin/pip" freeze --exclude-editable | grep -v '^app-backend'
  } >"$ROOT_DIR/backend/constraints.txt"
  log "backend/constraints.txt updated"
}

main "$@"
