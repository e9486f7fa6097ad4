#!/usr/bin/env bash
# The service manager of the deployment test's hosts: network namespaces that
# share this machine's filesystem and have no systemd. The roles call it where a
# real host runs systemctl (their *_service_manager "command"):
#
#   hostctl.sh HOST_DIR SERVICE ACTION     SERVICE: ssh, docker, chrony
#                                          ACTION: start, restart, reload, stop
#
# Every file a daemon uses lives in HOST_DIR, at the paths the test inventory
# gives the roles (ansible/tests/inventory/group_vars/all.yml). It prints
# "started", "restarted", "reloaded", "stopped" when it changed something and
# "running" or "stopped" when nothing needed doing, which the roles read as
# changed or not. The daemons inherit the caller's network namespace: the host's.
set -Eeuo pipefail

die() { printf 'hostctl: %s\n' "$*" >&2; exit 1; }

running() {
  local pidfile="$1" pid
  [[ -s "$pidfile" ]] || return 1
  pid="$(<"$pidfile")"
  kill -0 "$pid" 2>/dev/null
}

stop_pidfile() {
  local pidfile="$1" pid tries=120
  running "$pidfile" || return 0
  pid="$(<"$pidfile")"
  kill -TERM "$pid"
  while kill -0 "$pid" 2>/dev/null; do
    ((tries-- > 0)) || die "pid $pid ($pidfile) did not stop"
    sleep 0.25
  done
  rm -f "$pidfile"
}

docker_answers() {
  timeout 10 docker -H "unix://$HOST_DIR/docker.sock" version >/dev/null 2>&1
}

start_docker() {
  local tries=240
  # setsid and no terminal: it outlives the SSH session that started it.
  setsid dockerd --config-file "$HOST_DIR/docker/daemon.json" \
    </dev/null >>"$HOST_DIR/dockerd.log" 2>&1 &
  until docker_answers; do
    ((tries-- > 0)) || die "dockerd did not answer (log: $HOST_DIR/dockerd.log)"
    sleep 0.25
  done
}

start_sshd() {
  /usr/sbin/sshd -f "$HOST_DIR/sshd_config"
}

start_chrony() {
  # -x: never touch the clock, which is this machine's, shared by every host.
  /usr/sbin/chronyd -x -u root -f "$HOST_DIR/chrony/chrony.conf"
}

# service ACTION PIDFILE START_FUNCTION
control() {
  local action="$1" pidfile="$2" start="$3"
  case "$action" in
    start)
      if running "$pidfile"; then echo running; else "$start"; echo started; fi ;;
    restart)
      stop_pidfile "$pidfile"
      "$start"
      echo restarted ;;
    reload)
      if running "$pidfile"; then
        kill -HUP "$(<"$pidfile")"
        echo reloaded
      else
        "$start"
        echo started
      fi ;;
    stop)
      if running "$pidfile"; then stop_pidfile "$pidfile"; echo stopped; else echo stopped; fi ;;
    *) die "unknown action: $action" ;;
  esac
}

main() {
  [[ $# -eq 3 ]] || die "usage: hostctl.sh HOST_DIR SERVICE ACTION"
  HOST_DIR="$1"
  local service="$2" action="$3"
  [[ -d "$HOST_DIR" ]] || die "no such host directory: $HOST_DIR"
  case "$service" in
    ssh) control "$action" "$HOST_DIR/sshd.pid" start_sshd ;;
    docker)
      # dockerd reloads only some settings on SIGHUP: a reload is a restart.
      [[ "$action" == reload ]] && action=restart
      control "$action" "$HOST_DIR/dockerd.pid" start_docker ;;
    chrony) control "$action" "$HOST_DIR/chrony/chronyd.pid" start_chrony ;;
    *) die "unknown service: $service" ;;
  esac
}

main "$@"
