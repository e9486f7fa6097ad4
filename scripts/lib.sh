#!/usr/bin/env bash
# Shared helpers for the scripts the Makefile calls. Source it; don't run it.

ROOT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV_DIR="${VENV_DIR:-$ROOT_DIR/.venv}"
PYTHON="${PYTHON:-python3}"
export ROOT_DIR VENV_DIR

log() { printf '\033[1;34m==>\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31merror:\033[0m %s\n' "$*" >&2; exit 1; }

# Export the variables of .env that the environment does not already set:
# environment variables always win over the file.
load_dotenv() {
  local file="${1:-$ROOT_DIR/.env}" line key value
  [[ -f "$file" ]] || return 0
  while IFS= read -r line || [[ -n "$line" ]]; do
    [[ "$line" =~ ^[[:space:]]*(#|$) ]] && continue
    [[ "$line" =~ ^[[:space:]]*(export[[:space:]]+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$ ]] || continue
    key="${BASH_REMATCH[2]}"
    value="${BASH_REMATCH[3]}"
    [[ -n "${!key+set}" ]] && continue
    if [[ "$value" =~ ^\"(.*)\"$ || "$value" =~ ^\'(.*)\'$ ]]; then
      value="${BASH_REMATCH[1]}"
    fi
    export "$key=$value"
  done <"$file"
}

# Create the virtualenv and install the backend (with its web and dev extras)
# when missing or when its dependencies changed.
ensure_venv() {
  local stamp="$VENV_DIR/.installed" inputs
  inputs="$ROOT_DIR/backend/pyproject.toml $ROOT_DIR/backend/constraints.txt"
  if [[ ! -x "$VENV_DIR/bin/python" ]]; then
    log "creating the virtualenv in ${VENV_DIR#"$ROOT_DIR"/}"
    "$PYTHON" -m venv "$VENV_DIR"
  fi
  # shellcheck disable=SC2086
  if [[ ! -f "$stamp" ]] || [[ -n "$(find $inputs -newer "$stamp" 2>/dev/null)" ]]; then
    log "installing the backend and its tools"
    "$VENV_DIR/bin/python" -m pip install --quiet --upgrade pip
    "$VENV_DIR/bin/python" -m pip install --quiet \
      -c "$ROOT_DIR/backend/constraints.txt" -e "$ROOT_DIR/backend[web,dev]"
    touch "$stamp"
  fi
  export PATH="$VENV_DIR/bin:$PATH"
}
