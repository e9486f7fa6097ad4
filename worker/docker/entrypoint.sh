#!/usr/bin/env bash
# Entrypoint of the worker image, which runs the worker, the scheduler (beat)
# and Flower. Reads FLOWER_BASIC_AUTH from the file FLOWER_BASIC_AUTH_FILE
# names (a Docker secret), checks the settings the Celery command cannot do
# without, then execs the command.
set -Eeuo pipefail

log() { printf 'entrypoint: %s\n' "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}

# VAR from the file that VAR_FILE names, as docker-library's images do. The
# settings read *_FILE themselves; Flower does not, and it takes every FLOWER_*
# variable for one of its options, refusing to start on one it does not know:
# so VAR_FILE is removed once read.
file_env() {
  local var="$1" file_var="$1_FILE" value
  if [[ -n "${!var:-}" && -n "${!file_var:-}" ]]; then
    die "both $var and $file_var are set; set only one"
  fi
  if [[ -n "${!file_var:-}" ]]; then
    [[ -r "${!file_var}" ]] || die "$file_var=${!file_var} cannot be read"
    value="$(<"${!file_var}")"
    export "$var=$value"
    unset "$file_var"
  fi
}

# True when NAME or NAME_FILE is set, for any NAME given.
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
  file_env FLOWER_BASIC_AUTH
  if [[ "${1:-}" == celery ]]; then
    # Without a broker, the settings fall back to one made of files inside this
    # container, which no other container sees.
    has_setting CELERY_BROKER_URL REDIS_URL ||
      die "set REDIS_URL or CELERY_BROKER_URL (or their *_FILE)"
    case " $* " in
      *" worker "*)
        has_setting DATABASE_URL || die "set DATABASE_URL (or DATABASE_URL_FILE)"
        ;;
      *" flower "*)
        [[ -n "${FLOWER_BASIC_AUTH:-}" ]] ||
          die "set FLOWER_BASIC_AUTH=user:password (or FLOWER_BASIC_AUTH_FILE): Flower never runs without a login"
        ;;
    esac
  fi
  exec "$@"
}

main "$@"
