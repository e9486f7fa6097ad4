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

# pip, without the warnings about this machine's unused local package indexes.
quiet_pip() {
  local venv="$1"
  shift
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$@" \
    2> >(grep -v '^WARNING: Location' >&2)
}

# Install into a virtualenv (created when missing) when its inputs changed since
# the last install: `install_into VENV STAMP_NAME PIP_ARGS...`.
install_into() {
  local venv="$1" stamp="$1/.installed-$2" inputs
  shift 2
  inputs="$ROOT_DIR/backend/pyproject.toml $ROOT_DIR/worker/pyproject.toml $ROOT_DIR/backend/constraints.txt"
  if [[ ! -x "$venv/bin/python" ]]; then
    log "creating the virtualenv ${venv#"$ROOT_DIR"/}"
    "$PYTHON" -m venv "$venv"
  fi
  # shellcheck disable=SC2086
  if [[ ! -f "$stamp" ]] || [[ -n "$(find $inputs -newer "$stamp" 2>/dev/null)" ]]; then
    log "installing into ${venv#"$ROOT_DIR"/}"
    quiet_pip "$venv" --upgrade pip
    quiet_pip "$venv" -c "$ROOT_DIR/backend/constraints.txt" "$@"
    touch "$stamp"
  fi
}

# The development environment: the backend with its web and dev extras, and the
# worker with Flower. Puts its bin/ first on PATH.
ensure_venv() {
  install_into "$VENV_DIR" dev \
    -e "$ROOT_DIR/backend[web,dev]" -e "$ROOT_DIR/worker[flower]"
  export PATH="$VENV_DIR/bin:$PATH"
}

# IPython and ipykernel (the backend's `notebook` extra) in the development
# environment: for `make jupyter-kernel`, and the test of its kernel.
ensure_notebook() {
  ensure_venv
  install_into "$VENV_DIR" notebook -e "$ROOT_DIR/backend[notebook]"
}

# The worker's own environment, as in its image: the backend's core and the
# worker, without Flask. The tests run the worker from here to prove it.
WORKER_VENV_DIR="${WORKER_VENV_DIR:-$ROOT_DIR/.venv-worker}"
export WORKER_VENV_DIR
ensure_worker_venv() {
  install_into "$WORKER_VENV_DIR" worker -e "$ROOT_DIR/backend" -e "$ROOT_DIR/worker"
}

# Ansible and ansible-lint (ansible/requirements.txt), in an environment of
# their own: the deployment's tools (ansible/), apart from the app's.
ANSIBLE_VENV_DIR="${ANSIBLE_VENV_DIR:-$ROOT_DIR/.venv-ansible}"
export ANSIBLE_VENV_DIR
ensure_ansible_venv() {
  local stamp="$ANSIBLE_VENV_DIR/.installed"
  if [[ ! -x "$ANSIBLE_VENV_DIR/bin/python" ]]; then
    log "creating the virtualenv ${ANSIBLE_VENV_DIR#"$ROOT_DIR"/}"
    "$PYTHON" -m venv "$ANSIBLE_VENV_DIR"
  fi
  if [[ ! -f "$stamp" || "$ROOT_DIR/ansible/requirements.txt" -nt "$stamp" ||
    "$ROOT_DIR/ansible/constraints.txt" -nt "$stamp" ]]; then
    log "installing Ansible into ${ANSIBLE_VENV_DIR#"$ROOT_DIR"/}"
    quiet_pip "$ANSIBLE_VENV_DIR" --upgrade pip
    quiet_pip "$ANSIBLE_VENV_DIR" -c "$ROOT_DIR/ansible/constraints.txt" \
      -r "$ROOT_DIR/ansible/requirements.txt"
    touch "$stamp"
  fi
}
