#!/usr/bin/env bash
# The official postgres image's start-up, as far as this project relies on it:
# as root, own the data directory and drop to the postgres user; on an empty
# data directory, initdb with POSTGRES_USER and its password, create
# POSTGRES_DB and run /docker-entrypoint-initdb.d/*.sql and *.sh on a server
# that listens on the Unix socket only; then run the server on every address.
set -Eeuo pipefail

log() { printf 'entrypoint: %s\n' "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}

# VAR from the file VAR_FILE names (a Docker secret), as the official image does.
file_env() {
  local var="$1" file_var="$1_FILE" default="${2:-}"
  if [[ -n "${!var:-}" && -n "${!file_var:-}" ]]; then
    die "both $var and $file_var are set; set only one"
  fi
  if [[ -n "${!file_var:-}" ]]; then
    export "$var=$(<"${!file_var}")"
    unset "$file_var"
  elif [[ -z "${!var:-}" ]]; then
    export "$var=$default"
  fi
}

# Run SQL on the temporary server.
psql_run() {
  psql -v ON_ERROR_STOP=1 --no-psqlrc --username "$POSTGRES_USER" --dbname postgres "$@"
}

init_database() {
  local pwfile auth="${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}" script
  if [[ -z "$POSTGRES_PASSWORD" && "$auth" != trust ]]; then
    die "set POSTGRES_PASSWORD (or POSTGRES_PASSWORD_FILE), or POSTGRES_HOST_AUTH_METHOD=trust"
  fi
  local -a extra_args=()
  # Words, as the official image splits them: POSTGRES_INITDB_ARGS="--data-checksums".
  read -r -a extra_args <<<"${POSTGRES_INITDB_ARGS:-}"
  pwfile="$(mktemp)"
  printf '%s\n' "$POSTGRES_PASSWORD" >"$pwfile"
  initdb --username="$POSTGRES_USER" --pwfile="$pwfile" --auth-local=trust \
    --auth-host="$auth" --encoding=UTF8 "${extra_args[@]}" >/dev/null
  rm -f "$pwfile"
  printf 'host all all all %s\n' "$auth" >>"$PGDATA/pg_hba.conf"
  printf "listen_addresses = '*'\n" >>"$PGDATA/postgresql.conf"
  pg_ctl -D "$PGDATA" -o "-c listen_addresses=''" -w start >/dev/null
  if [[ "$POSTGRES_DB" != postgres ]]; then
    psql_run --set db="$POSTGRES_DB" <<<'CREATE DATABASE :"db";' >/dev/null
  fi
  for script in /docker-entrypoint-initdb.d/*; do
    case "$script" in
      *.sql) psql_run --dbname "$POSTGRES_DB" -f "$script" ;;
      *.sh) bash "$script" ;;
      *) ;;
    esac
  done
  pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
  log "database $POSTGRES_DB initialised for $POSTGRES_USER"
}

main() {
  if [[ "${1:-}" == -* ]]; then
    set -- postgres "$@"
  fi
  if [[ "${1:-}" != postgres ]]; then
    exec "$@"
  fi
  if [[ "$(id -u)" -eq 0 ]]; then
    mkdir -p "$PGDATA" /var/run/postgresql
    chown postgres:postgres "$PGDATA" /var/run/postgresql
    chmod 700 "$PGDATA"
    chmod 3777 /var/run/postgresql
    exec setpriv --reuid=postgres --regid=postgres --init-groups "$0" "$@"
  fi
  file_env POSTGRES_PASSWORD
  file_env POSTGRES_USER postgres
  file_env POSTGRES_DB "$POSTGRES_USER"
  if [[ ! -s "$PGDATA/PG_VERSION" ]]; then
    init_database
  fi
  exec "$@"
}

main "$@"
