# shellcheck shell=sh
# Dumps or restores a PostgreSQL database wherever its tools are: on this machine,
# or in the db container, whose image may have no bash (hence POSIX sh). Run by
# app/ops/backups.py as `sh -c "$(cat postgres.sh)" sh ACTION [URI]`: ACTION is
# `dump` or `restore`; URI a connection URI (its password in PGPASSWORD), or nothing
# for the container's own database (its POSTGRES_* variables, over the local socket).
# The backup comes in on stdin or goes out on stdout: a container sees none of our
# files.
set -eu
action="$1"
uri="${2:-}"
if [ -n "$uri" ]; then
  set -- "--dbname=$uri"
else
  set --
  PGUSER="${POSTGRES_USER:-postgres}"
  PGDATABASE="${POSTGRES_DB:-$PGUSER}"
  if [ -n "${POSTGRES_PASSWORD_FILE:-}" ]; then
    PGPASSWORD="$(cat "$POSTGRES_PASSWORD_FILE")"
  else
    PGPASSWORD="${POSTGRES_PASSWORD:-}"
  fi
  export PGUSER PGDATABASE PGPASSWORD
fi
case "$action" in
  dump) exec pg_dump --format=custom "$@" ;;
  restore) ;;
  *) echo "unknown action: $action" >&2; exit 2 ;;
esac
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cat >"$work/backup"
if ! pg_restore --list "$work/backup" >/dev/null 2>"$work/errors"; then
  echo "not a readable PostgreSQL backup (truncated or corrupt?): $(cat "$work/errors")" >&2
  exit 3
fi
# One transaction: COMMIT is sent only once the whole backup has been read;
# without it psql ends, and the server rolls everything back.
if ! {
  printf "%s\n" "SET client_min_messages = warning;" "BEGIN;" \
    "DROP SCHEMA IF EXISTS public CASCADE;" "CREATE SCHEMA public;"
  if pg_restore --no-owner --no-privileges --file=- "$work/backup" 2>"$work/errors"; then
    printf "%s\n" "COMMIT;"
  else
    : >"$work/unreadable"
  fi
} | psql --no-psqlrc --quiet --set=ON_ERROR_STOP=1 "$@" >/dev/null; then
  exit 4
fi
if [ -e "$work/unreadable" ]; then
  echo "the backup could not be read to its end (truncated or corrupt?): $(cat "$work/errors")" >&2
  exit 3
fi
