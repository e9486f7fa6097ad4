#!/usr/bin/env bash
# The project's private Docker engine, for machines without one (CI runners, a
# bare server): what `make test-docker`, `make test-deploy` and `make images` start
# when no engine answers, and `make dev` only with DEV_MODE=docker. Source it
# (scripts/docker-lib.sh does, when no engine answers); don't run it.
#
#   use_private_docker_engine    start it unless it answers; export DOCKER_HOST (its
#                                socket) and BUILD_NETWORK=host
#   using_private_docker_engine  true when the docker CLI talks to it
#   stop_private_docker_engine   stop it, when it runs (make docker-stop)
#
# It coexists with any other dockerd on the machine: its own data and exec roots,
# socket, containerd namespace, bridge and address pool. It starts with
# --iptables=false (it must not rewrite the machine's firewall), so its containers
# reach nothing outside the machine: builds that download packages run with
# `docker build --network=host`.

if [[ "$(type -t ensure_docker_cli)" != function ]]; then
  # shellcheck source=scripts/docker-lib.sh
  source "$(dirname "${BASH_SOURCE[0]}")/../scripts/docker-lib.sh"
fi

# The project's name for its engine: PROJECT_SLUG of the committed project.env
# (make new-project writes the project's slug there); full-stack-flask, the
# base's, when the file has none.
private_docker_name() {
  local name
  name="$(sed -n 's/^PROJECT_SLUG=\([a-z0-9][a-z0-9-]*\)$/\1/p' "$ROOT_DIR/project.env" 2>/dev/null | head -n 1)"
  printf '%s\n' "${name:-full-stack-flask}"
}
PRIVATE_DOCKER_NAME="${PRIVATE_DOCKER_NAME:-$(private_docker_name)}"

# The private engine's home: its data survives between runs (the image cache),
# and every checkout of the project on the machine shares it when run as root;
# each project has its own.
if [[ "$(id -u)" -eq 0 ]]; then
  PRIVATE_DOCKER_DIR="${PRIVATE_DOCKER_DIR:-/var/lib/$PRIVATE_DOCKER_NAME/docker}"
else
  PRIVATE_DOCKER_DIR="${PRIVATE_DOCKER_DIR:-$ROOT_DIR/.cache/docker}"
fi
# Its default bridge and the pool its networks' subnets come from: outside the
# ranges a dockerd picks by default (172.17.0.0/16 onwards, 192.168.0.0/16).
# Every project's engine uses the same ones, so one runs at a time on a machine
# (start_private_docker_engine says which one to stop), unless these are set.
PRIVATE_DOCKER_BRIDGE="${PRIVATE_DOCKER_BRIDGE:-ffdocker0}"
PRIVATE_DOCKER_BRIDGE_CIDR="${PRIVATE_DOCKER_BRIDGE_CIDR:-10.213.0.1/24}"
PRIVATE_DOCKER_POOL="${PRIVATE_DOCKER_POOL:-10.213.128.0/17}"
# Its containerd namespace: apart from another dockerd's, should one share a containerd.
PRIVATE_DOCKER_NAMESPACE="${PRIVATE_DOCKER_NAMESPACE:-$PRIVATE_DOCKER_NAME}"
PRIVATE_DOCKER_READY_TIMEOUT="${PRIVATE_DOCKER_READY_TIMEOUT:-60}"
PRIVATE_DOCKER_STARTED="${PRIVATE_DOCKER_STARTED:-0}"
export PRIVATE_DOCKER_DIR

private_docker_socket() { printf '%s\n' "$PRIVATE_DOCKER_DIR/docker.sock"; }
private_docker_pidfile() { printf '%s\n' "$PRIVATE_DOCKER_DIR/dockerd.pid"; }

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

# Another project's private engine on the same bridge would hand out the same
# addresses: stop rather than start a second one beside it.
refuse_another_private_engine() {
  local pid args
  for pid in $(pgrep -x dockerd || true); do
    args="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)" || continue
    if [[ "$args" == *"--bridge $PRIVATE_DOCKER_BRIDGE "* &&
      "$args" != *"--data-root $PRIVATE_DOCKER_DIR/data "* ]]; then
      args="${args#*--data-root }"
      die "another project's private Docker engine (${args%%/data *}) runs on bridge $PRIVATE_DOCKER_BRIDGE: \
stop it from that project (make docker-stop), or give this one PRIVATE_DOCKER_BRIDGE, \
PRIVATE_DOCKER_BRIDGE_CIDR and PRIVATE_DOCKER_POOL of its own"
    fi
  done
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
    refuse_another_private_engine
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

# The private engine, started now unless it already runs, in DOCKER_HOST. Sets
# PRIVATE_DOCKER_STARTED=1 when this call started it, for the caller's clean-up.
use_private_docker_engine() {
  if ! private_docker_answers; then
    start_private_docker_engine
  fi
  DOCKER_HOST="unix://$(private_docker_socket)"
  # Its containers reach no package registry: builds use the machine's network.
  BUILD_NETWORK="${BUILD_NETWORK:-host}"
  export DOCKER_HOST BUILD_NETWORK
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
