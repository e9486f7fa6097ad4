#!/usr/bin/env bash
# The official redis image's start-up: flags alone go to redis-server; without a
# configuration file, protected mode is off (the container's network is what
# protects it); as root, own /data and drop to the redis user.
set -Eeuo pipefail

main() {
  if [[ "${1:-}" == -* || "${1:-}" == *.conf ]]; then
    set -- redis-server "$@"
  fi
  if [[ "${1:-}" == redis-server ]]; then
    if [[ "${2:-}" != *.conf ]]; then
      set -- "$@" --protected-mode no
    fi
    if [[ "$(id -u)" -eq 0 ]]; then
      chown -R redis:redis . 2>/dev/null || true
      exec setpriv --reuid=redis --regid=redis --init-groups "$@"
    fi
  fi
  exec "$@"
}

main "$@"
