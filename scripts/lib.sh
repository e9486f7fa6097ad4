#!/usr/bin/env bash
# Shared helpers for the scripts the Makefile calls. Source it; don't run it.

ROOT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV_DIR="${VENV_DIR:-$ROOT_DIR/.venv}"
PYTHON="${PYTHON:-python3}"
export ROOT_DIR VENV_DIR

log() { printf '\033[1;34m==>\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31merror:\033[0m %s\n' "$*" >&2; exit 1; }

# The commands a script calls, each as COMMAND or COMMAND:PACKAGE (the Debian
# package that installs it, when its name differs): stops at once, naming what
# is missing and where it comes from, rather than failing later and obscurely.
# The CI test (backend/tests/ops/test_gitlab_ci_commands.py) reads these lines to
# check that each job's image provides them.
require_commands() {
  local spec command missing=()
  for spec in "$@"; do
    command="${spec%%:*}"
    command -v "$command" >/dev/null 2>&1 || missing+=("$command (package ${spec#*:})")
  done
  ((${#missing[@]} == 0)) || die "missing command(s): ${missing[*]}"
}

# The project's settings, exported where the environment does not set them
# already: .env (this machine's secrets and overrides), then project.env (the
# committed identity: name, stack, domain, images). The environment wins over
# both, .env over project.env. Given FILEs, those instead, in that order.
load_dotenv() {
  local file
  if (($# == 0)); then
    set -- "$ROOT_DIR/.env" "$ROOT_DIR/project.env"
  fi
  for file in "$@"; do
    load_env_file "$file"
  done
}

# Export the variables of FILE (KEY=value lines) that are not set already.
load_env_file() {
  local file="$1" line key value
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

# A random URL-safe secret from BYTES random bytes (default 32).
random_secret() {
  head -c "${1:-32}" /dev/urandom | base64 -w0 | tr '+/' '-_' | tr -d '='
}

# Local development signs tokens with a random key of this checkout's own, written
# once into FILE (default .env), rather than the example's `changethis`, which is
# public and too short for HS256. Left alone: a key of the environment's or
# .env's own, and anything outside ENVIRONMENT=local.
ensure_local_secret_key() {
  local file="${1:-$ROOT_DIR/.env}" key
  [[ "${ENVIRONMENT:-local}" == local ]] || return 0
  [[ -z "${SECRET_KEY:-}" || "$SECRET_KEY" == changethis ]] || return 0
  key="$(random_secret 48)"
  if [[ -f "$file" ]] && grep -q '^SECRET_KEY=' "$file"; then
    sed -i "s|^SECRET_KEY=.*|SECRET_KEY=$key|" "$file"
  else
    printf '# Signs the tokens of local development: random, made by make dev.\nSECRET_KEY=%s\n' \
      "$key" >>"$file"
  fi
  export SECRET_KEY="$key"
  log "wrote a random SECRET_KEY to ${file#"$ROOT_DIR"/} (local development's own)"
}

# pip, without the warnings about this machine's unused local package indexes.
quiet_pip() {
  local venv="$1"
  shift
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$@" \
    2> >(grep -v '^WARNING: Location' >&2)
}

# uv (https://docs.astral.sh/uv/) installs every Python environment from the one
# lock file, uv.lock. The machine's own uv when it has one of the version the
# workspace asks for (pyproject.toml); otherwise this one, installed once with pip
# (uv is on PyPI) into the user's cache, where every checkout finds it: a fresh
# clone does not spend 20 s installing it again.
UV_VERSION=0.13.9
UV_TOOL_DIR="${UV_TOOL_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/uv-tool/$UV_VERSION}"
uv_tool_ready() {
  [[ -x "$UV_TOOL_DIR/bin/uv" ]] && [[ "$("$UV_TOOL_DIR/bin/uv" --version)" == "uv $UV_VERSION"* ]]
}
ensure_uv() {
  if [[ -n "${UV:-}" ]]; then
    return 0
  fi
  if command -v uv >/dev/null && [[ "$(uv --version 2>/dev/null)" == "uv 0.13."* ]]; then
    UV="$(command -v uv)"
  else
    if ! uv_tool_ready; then
      # Two first runs at once (make dev and make test in two terminals, say)
      # share this directory: one installs while the other waits for it.
      mkdir -p "${UV_TOOL_DIR%/*}"
      exec {uv_lock}>"$UV_TOOL_DIR.lock"
      flock "$uv_lock"
      if ! uv_tool_ready; then
        log "installing uv $UV_VERSION into $UV_TOOL_DIR"
        "$PYTHON" -m venv --clear "$UV_TOOL_DIR"
        quiet_pip "$UV_TOOL_DIR" "uv==$UV_VERSION"
      fi
      exec {uv_lock}>&-
    fi
    UV="$UV_TOOL_DIR/bin/uv"
  fi
  export UV
}

# Bring the environment ENV in line with uv.lock (a no-op when it already is):
# `uv_sync ENV UV_SYNC_ARGS...`. --frozen: the lock is the truth; changing a
# dependency is `make lock`, which lint then checks.
#
# The libraries are compiled to bytecode as they are installed: with
# PYTHONDONTWRITEBYTECODE set, Python would otherwise compile them again at every
# start (the API's imports: 3.9 s instead of 1.2 s). Compiling looks at the whole
# environment (0.5 s even when nothing changed), so it runs only when what is
# installed may have changed: a new environment, the lock or a pyproject.toml.
uv_sync() {
  local venv="$1"
  shift
  ensure_uv
  if [[ ! -x "$venv/bin/python" ]]; then
    log "creating the environment ${venv#"$ROOT_DIR"/}"
  fi
  local stamp="$venv/.compiled" want compile=()
  want="$(cat "$ROOT_DIR/uv.lock" "$ROOT_DIR"/pyproject.toml "$ROOT_DIR"/*/pyproject.toml | cksum) $*"
  [[ -f "$stamp" && "$(<"$stamp")" == "$want" ]] || compile=(--compile-bytecode)
  (cd "$ROOT_DIR" && UV_PROJECT_ENVIRONMENT="$venv" "$UV" sync --quiet --frozen \
    --python "$PYTHON" "${compile[@]}" "$@")
  [[ -f "$stamp" && "$(<"$stamp")" == "$want" ]] || printf '%s\n' "$want" >"$stamp"
}

# The development environment: the backend and the default worker module with
# every extra (the API, the dev tools, Flower, gunicorn for the benchmark, IPython
# and a Jupyter kernel). The other worker modules have environments of their own
# (ensure_module_venvs). Puts its bin/ first on PATH.
ensure_venv() {
  uv_sync "$VENV_DIR" --package app-backend --package app-worker --all-extras
  export PATH="$VENV_DIR/bin:$PATH"
}

# The OpenID provider the single sign-on tests sign in at (panva's oidc-provider,
# backend/tests/sso/provider): its packages, installed with `npm ci` whenever its
# package-lock.json changed (the stamp holds the lock file's hash).
ensure_sso_test_provider() {
  local dir="$ROOT_DIR/backend/tests/sso/provider" stamp lock_hash
  stamp="$dir/node_modules/.installed"
  require_commands node:nodejs npm
  lock_hash="$(cksum <"$dir/package-lock.json")"
  if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$lock_hash" ]]; then
    log "installing the single sign-on tests' OpenID provider (npm ci)"
    (cd "$dir" && npm ci --prefer-offline --no-audit --no-fund --loglevel=error)
    printf '%s\n' "$lock_hash" >"$stamp"
  fi
}

# The worker modules beside the default one: worker-<name>/, one per line.
worker_modules() {
  local dir
  for dir in "$ROOT_DIR"/worker-*/; do
    [[ -f "$dir/pyproject.toml" ]] && basename "$dir" | sed 's/^worker-//'
  done
  return 0
}

# Each further module's own environment, .venv-<name>, as in its image: the
# backend's core, the module and its libraries (and its tests' tools), no Flask.
ensure_module_venvs() {
  local name
  for name in $(worker_modules); do
    uv_sync "$ROOT_DIR/.venv-$name" --package "app-worker-$name" --all-extras
  done
}

# IPython and ipykernel (`make jupyter-kernel`, the kernel's test) are in it.
ensure_notebook() {
  ensure_venv
}

# The worker's own environment, as in its image: the backend's core and the
# worker, without Flask. The tests run the worker from here to prove it.
WORKER_VENV_DIR="${WORKER_VENV_DIR:-$ROOT_DIR/.venv-worker}"
export WORKER_VENV_DIR
ensure_worker_venv() {
  uv_sync "$WORKER_VENV_DIR" --package app-worker
}

# Ansible and ansible-lint (the `deploy` group of pyproject.toml), in an
# environment of their own: the deployment's tools (ansible/), apart from the app's.
ANSIBLE_VENV_DIR="${ANSIBLE_VENV_DIR:-$ROOT_DIR/.venv-ansible}"
export ANSIBLE_VENV_DIR
ensure_ansible_venv() {
  uv_sync "$ANSIBLE_VENV_DIR" --only-group deploy
}
