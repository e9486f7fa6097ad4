#!/usr/bin/env bash
# Scheduled database backups: the Swarm stack's `backup` service runs this in
# the postgres image (its pg_dump always matches the server), mounted as a
# Docker config. Every day at BACKUP_TIME (UTC) it dumps the database in
# pg_dump's custom format into BACKUP_DIR, then deletes the backups older than
# BACKUP_KEEP_DAYS days. `scripts/backup.sh restore FILE` restores one.
#
#   backup-service.sh [run]   forever: the service's command
#   backup-service.sh once    one backup and the pruning, now
#   backup-service.sh prune   the pruning alone
#
# The connection: the libpq variables (PGHOST, PGPORT, PGUSER, PGDATABASE),
# with the password read from the file POSTGRES_PASSWORD_FILE names (a Docker
# secret), or PGPASSWORD.
set -Eeuo pipefail

BACKUP_DIR="${BACKUP_DIR:-/backups}"
BACKUP_TIME="${BACKUP_TIME:-03:00}"
BACKUP_KEEP_DAYS="${BACKUP_KEEP_DAYS:-7}"
# After a failed backup (the database restarting, a full disk), the next try.
BACKUP_RETRY_SECONDS="${BACKUP_RETRY_SECONDS:-600}"

log() { printf '%s backup: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}

check_settings() {
  [[ "$BACKUP_TIME" =~ ^([01][0-9]|2[0-3]):[0-5][0-9]$ ]] ||
    die "BACKUP_TIME=$BACKUP_TIME: expected HH:MM, in UTC"
  [[ "$BACKUP_KEEP_DAYS" =~ ^[1-9][0-9]*$ ]] ||
    die "BACKUP_KEEP_DAYS=$BACKUP_KEEP_DAYS: expected a whole number of days, 1 or more"
  [[ "$BACKUP_RETRY_SECONDS" =~ ^[1-9][0-9]*$ ]] ||
    die "BACKUP_RETRY_SECONDS=$BACKUP_RETRY_SECONDS: expected a whole number of seconds"
  [[ -d "$BACKUP_DIR" && -w "$BACKUP_DIR" ]] || die "BACKUP_DIR=$BACKUP_DIR is not a writable directory"
}

backup_once() {
  local file partial
  if [[ -n "${POSTGRES_PASSWORD_FILE:-}" ]]; then
    PGPASSWORD="$(<"$POSTGRES_PASSWORD_FILE")" || return 1
    export PGPASSWORD
  fi
  file="$BACKUP_DIR/${PGDATABASE:-${PGUSER:-postgres}}-$(date -u +%Y%m%dT%H%M%SZ).dump"
  # Complete or absent: a dump cut short keeps its .partial name.
  partial="$file.partial"
  if ! pg_dump --format=custom --file="$partial"; then
    rm -f "$partial"
    log "pg_dump failed"
    return 1
  fi
  mv "$partial" "$file"
  log "wrote $file ($(du -h "$file" | cut -f1))"
}

# Deletes this service's files (finished dumps, and parts of interrupted ones)
# last modified more than BACKUP_KEEP_DAYS days ago, to the minute.
prune() {
  local file
  find "$BACKUP_DIR" -maxdepth 1 -type f \( -name '*.dump' -o -name '*.dump.partial' \) \
    -mmin "+$((BACKUP_KEEP_DAYS * 24 * 60))" -print | sort | while IFS= read -r file; do
    rm -f -- "$file"
    log "deleted $file, older than $BACKUP_KEEP_DAYS days"
  done
}

# Seconds from now to the next BACKUP_TIME, UTC (plain arithmetic: the image's
# date may not understand "tomorrow").
seconds_to_next() {
  local now hours minutes next
  now="$(date -u +%s)"
  hours="${BACKUP_TIME%%:*}"
  minutes="${BACKUP_TIME#*:}"
  next=$((now - now % 86400 + 10#$hours * 3600 + 10#$minutes * 60))
  ((next > now)) || next=$((next + 86400))
  echo $((next - now))
}

# Sleeps in the background, so that a signal's trap runs at once.
pause() {
  sleep "$1" &
  SLEEPER=$!
  wait "$SLEEPER"
}

run() {
  local wait
  SLEEPER=
  # PID 1 gets no default signal handling: stop at once on `docker stop`.
  trap 'log "stopping"; [[ -z "$SLEEPER" ]] || kill "$SLEEPER" 2>/dev/null; exit 0' TERM INT
  log "every day at $BACKUP_TIME UTC into $BACKUP_DIR, keeping $BACKUP_KEEP_DAYS days"
  while true; do
    wait="$(seconds_to_next)"
    log "next backup in ${wait}s"
    pause "$wait"
    until backup_once; do
      log "retrying in ${BACKUP_RETRY_SECONDS}s"
      pause "$BACKUP_RETRY_SECONDS"
    done
    prune
  done
}

main() {
  check_settings
  case "${1:-run}" in
    run) run ;;
    once) backup_once && prune ;;
    prune) prune ;;
    *) die "unknown command: $1 (run, once or prune)" ;;
  esac
}

main "$@"
