#!/usr/bin/env bash
# Entrypoint of the API image. For the server (`python -m app.web.server ...`,
# the image's command): check the settings a container cannot do without, run
# `python -m app prestart` (wait for the database, migrate, create the first
# superuser) unless RUN_PRESTART=0, then exec the server. Any other command
# (`python -m app migrate`, a shell) runs as given.
set -Eeuo pipefail

log() { printf 'entrypoint: %s\n' "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}

# True when NAME or NAME_FILE (a Docker secret's path) is set, for any NAME given.
has_setting() {
  local name file
  for name in "$@"; do
    file="${name}_FILE"
    if [[ -n "${!name:-}" || -n "${!file:-}" ]]; then
      return 0
    fi
  done
  return 1
}

main() {
  if [[ "${1:-} ${2:-} ${3:-}" == "python -m app.web.server" ]]; then
    # Without them the app would fall back to a SQLite file and a broker made of
    # files, both inside this container: lost with it, and unseen by the worker.
    has_setting DATABASE_URL || die "set DATABASE_URL (or DATABASE_URL_FILE)"
    has_setting CELERY_BROKER_URL REDIS_URL ||
      die "set REDIS_URL or CELERY_BROKER_URL (or their *_FILE)"
    if [[ "${RUN_PRESTART:-1}" != 0 ]]; then
      log "prestart: wait for the database, migrate, create the first superuser"
      python -m app prestart
    fi
  fi
  exec "$@"
}

main "$@"
