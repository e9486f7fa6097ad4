#!/usr/bin/env bash
# Database backups: `backup.sh backup` writes one into BACKUP_DIR (./backups,
# git-ignored) under a timestamped name; `backup.sh restore FILE` replaces the
# database's whole contents with one, after asking (FORCE=1 skips the question;
# without a terminal to ask on, FORCE=1 is required).
#
# Which database, by BACKUP_TARGET:
#   native   (default) DATABASE_URL, resolved as the app does: the environment,
#            then the file DATABASE_URL_FILE names, then .env (or ENV_FILE),
#            then the embedded SQLite file.
#              PostgreSQL: pg_dump's custom format (.dump), with this machine's
#                pg_dump, pg_restore and psql (the server's major version or newer).
#              SQLite: a copy by SQLite's online backup API (.sqlite3), safe
#                while the app writes; needs python3.
#              MariaDB: mariadb-dump, gzipped (.sql.gz); needs mariadb-dump and mariadb.
#   compose  the db service of the local compose project (compose/compose.yaml,
#            which reads .env), through `docker compose exec`: the tools of the
#            db image itself, so always the server's version.
#   swarm    the db task of the Swarm stack STACK_NAME (from the environment or
#            .env; default app), through the Docker engine that DOCKER_HOST
#            (ssh://user@manager) or DOCKER_CONTEXT points at. When the task runs
#            on another node than that engine's, BACKUP_DB_DOCKER names that
#            node's engine: an ssh://, tcp:// or unix:// address, or a context.
#
# A restore replaces everything: on PostgreSQL the schema `public` is dropped
# and rebuilt from the backup in one transaction (a failure changes nothing);
# a missing database is created (native). Objects are owned by the account that
# restores, grants are not restored. A backup restores only into the same kind
# of database it came from.
set -Eeuo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

BACKUP_DIR="${BACKUP_DIR:-$ROOT_DIR/backups}"
BACKUP_TARGET="${BACKUP_TARGET:-native}"
# The native database's fields (parse_url), and the Swarm db task's engine and container.
DB=()
ENGINE=()
DB_CONTAINER=
# Any Python 3 will do (the standard library only): the project's, which
# starts fastest, else the machine's.
if [[ -x "$VENV_DIR/bin/python" ]]; then
  BACKUP_PYTHON="$VENV_DIR/bin/python"
else
  BACKUP_PYTHON="$PYTHON"
fi

# Runs wherever the PostgreSQL tools are: on this machine, or in the db
# container, whose image may have no bash (hence POSIX sh). Arguments: `dump`
# or `restore`, then a connection URI, or nothing for the container's own
# database (its POSTGRES_* variables, over the local socket). The backup comes
# in on stdin or goes out on stdout: the container sees none of our files.
# shellcheck disable=SC2016  # expanded by that shell, not this one
PG_SCRIPT='
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
trap "rm -rf \"$work\"" EXIT
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
'

usage() {
  cat >&2 <<'EOF'
usage: backup.sh backup
       backup.sh restore FILE      (FORCE=1: without asking)
BACKUP_TARGET=native (DATABASE_URL) | compose (local compose project) | swarm (STACK_NAME's db task)
EOF
  exit 2
}

is_true() { [[ "${1,,}" =~ ^(1|true|yes|y)$ ]]; }

# --- Where the database is ----------------------------------------------------

# DATABASE_URL as the app resolves it (app/core/config.py): the environment,
# then DATABASE_URL_FILE, then the .env file, then the default; empty values
# count as unset.
native_database_url() {
  local from_dotenv
  if [[ -n "${DATABASE_URL:-}" ]]; then
    printf '%s\n' "$DATABASE_URL"
  elif [[ -n "${DATABASE_URL_FILE:-}" ]]; then
    [[ -r "$DATABASE_URL_FILE" ]] || die "DATABASE_URL_FILE=$DATABASE_URL_FILE cannot be read"
    tr -d '\r\n' <"$DATABASE_URL_FILE"
    printf '\n'
  else
    from_dotenv="$(unset DATABASE_URL && load_dotenv "${ENV_FILE:-$ROOT_DIR/.env}" &&
      printf '%s' "${DATABASE_URL:-}")"
    printf '%s\n' "${from_dotenv:-sqlite:///$ROOT_DIR/backend/data/app.db}"
  fi
}

# Splits a database URL into the fields the tools need, one per line, then a
# line with a dot (an empty last field would otherwise be lost):
#   sqlite      PATH
#   postgresql  URI-WITHOUT-PASSWORD  PASSWORD  DATABASE  MAINTENANCE-URI
#   mariadb     HOST  PORT  USER  PASSWORD  DATABASE  SOCKET
# A relative SQLite path is relative to backend/, where the app runs.
parse_url() {
  "$BACKUP_PYTHON" -I - "$1" "$ROOT_DIR/backend" <<'PY'
import os, sys
from urllib.parse import unquote, urlsplit, urlunsplit, parse_qs

url, backend_dir = sys.argv[1], sys.argv[2]
scheme = url.split(":", 1)[0].split("+", 1)[0].lower()
if scheme == "sqlite":
    path = url.split("://", 1)[1][1:].split("?", 1)[0] if "://" in url else ""
    if not path or path == ":memory:":
        sys.exit(f"not a database file: {url}")
    print("sqlite", os.path.join(backend_dir, path), ".", sep="\n")
    sys.exit()
parts = urlsplit(url)
database = unquote(parts.path.lstrip("/"))
if not database:
    sys.exit("the URL names no database")
user = unquote(parts.username or "")
password = unquote(parts.password or "")
if scheme in ("postgresql", "postgres"):
    host = parts.netloc.rsplit("@", 1)[-1]
    login = parts.netloc.rsplit("@", 1)[0].split(":", 1)[0] + "@" if "@" in parts.netloc else ""
    uri = urlunsplit(("postgresql", login + host, parts.path, parts.query, ""))
    maintenance = urlunsplit(("postgresql", login + host, "/postgres", parts.query, ""))
    print("postgresql", uri, password, database, maintenance, ".", sep="\n")
elif scheme in ("mariadb", "mysql"):
    socket = parse_qs(parts.query).get("unix_socket", [""])[0]
    fields = [parts.hostname or "", parts.port or "", user, password, database, socket]
    print("mariadb", *fields, ".", sep="\n")
else:
    sys.exit(f"unsupported database: {scheme} (PostgreSQL, SQLite or MariaDB)")
PY
}

# Fills the global array DB (the parse_url fields) for the native target.
load_native_db() {
  local url fields
  url="$(native_database_url)"
  command -v "$BACKUP_PYTHON" >/dev/null || die "python3 is needed to read DATABASE_URL"
  fields="$(parse_url "$url")" || die "cannot use DATABASE_URL: see above"
  mapfile -t DB <<<"$fields"
  unset 'DB[-1]'
}

describe_native() {
  case "${DB[0]}" in
    sqlite) printf 'the SQLite database %s' "${DB[1]}" ;;
    postgresql) printf 'the PostgreSQL database %s' "${DB[1]}" ;;
    mariadb) printf 'the MariaDB database %s on %s' "${DB[5]}" "${DB[1]:-${DB[6]}}" ;;
  esac
}

need() {
  local tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null || die "$tool is needed here (or use BACKUP_TARGET=compose/swarm)"
  done
}

# `docker compose`, or the standalone docker-compose (the dev tools' venv has one).
compose() {
  local -a cmd
  if docker compose version >/dev/null 2>&1; then
    cmd=(docker compose)
  elif command -v docker-compose >/dev/null; then
    cmd=(docker-compose)
  elif [[ -x "$VENV_DIR/bin/docker-compose" ]]; then
    cmd=("$VENV_DIR/bin/docker-compose")
  else
    die "Docker Compose is needed for BACKUP_TARGET=compose"
  fi
  "${cmd[@]}" --project-directory "$ROOT_DIR" -f "$ROOT_DIR/compose/compose.yaml" "$@"
}

# Fills the global arrays ENGINE (docker's options for the engine that runs the
# stack's db task) and sets DB_CONTAINER, its container's id.
find_swarm_db() {
  local stack service task node state self where
  load_dotenv
  stack="${STACK_NAME:-app}"
  service="${stack}_db"
  need docker
  task="$(docker service ps "$service" --filter desired-state=running --no-trunc --quiet 2>&1 | head -n1)" ||
    true
  [[ "$task" =~ ^[a-z0-9]+$ ]] ||
    die "no running task of the service $service on the engine ${DOCKER_HOST:-${DOCKER_CONTEXT:-of the current context}}: $task"
  read -r node DB_CONTAINER state < <(docker inspect --type task \
    --format '{{.NodeID}} {{.Status.ContainerStatus.ContainerID}} {{.Status.State}}' "$task")
  [[ "$state" == running && -n "$DB_CONTAINER" ]] || die "the task $task of $service is $state, not running"
  ENGINE=()
  if [[ -n "${BACKUP_DB_DOCKER:-}" ]]; then
    if [[ "$BACKUP_DB_DOCKER" == *://* ]]; then
      ENGINE=(--host "$BACKUP_DB_DOCKER")
    else
      ENGINE=(--context "$BACKUP_DB_DOCKER")
    fi
  fi
  self="$(docker "${ENGINE[@]}" info --format '{{.Swarm.NodeID}}')"
  if [[ "$self" != "$node" ]]; then
    where="$(docker node inspect --format '{{.Description.Hostname}} (address {{.Status.Addr}})' "$node")"
    die "$service runs on the node $where, which this engine is not: set BACKUP_DB_DOCKER to that node's engine, e.g. ssh://USER@ADDRESS"
  fi
}

# --- Backup ------------------------------------------------------------------

# Runs the PostgreSQL script for the target: `pg_run ACTION`, stdin/stdout passed on.
pg_run() {
  local action="$1"
  case "$BACKUP_TARGET" in
    native)
      need pg_dump pg_restore psql
      PGPASSWORD="${DB[2]:-${PGPASSWORD:-}}" PGCONNECT_TIMEOUT="${PGCONNECT_TIMEOUT:-10}" \
        sh -c "$PG_SCRIPT" sh "$action" "${DB[1]}"
      ;;
    compose) compose exec -T db sh -c "$PG_SCRIPT" sh "$action" ;;
    swarm) docker "${ENGINE[@]}" exec -i "$DB_CONTAINER" sh -c "$PG_SCRIPT" sh "$action" ;;
  esac
}

mariadb_client() {
  local tool="$1"
  shift
  local -a args=(--user="${DB[3]}" --default-character-set=utf8mb4)
  if [[ -n "${DB[6]}" ]]; then
    args+=(--socket="${DB[6]}")
  else
    # As the app connects: over TCP, even to localhost (the client would
    # otherwise take the Unix socket, with another account's rights).
    args+=(--protocol=TCP --host="${DB[1]:-localhost}" --port="${DB[2]:-3306}")
  fi
  MYSQL_PWD="${DB[4]:-${MYSQL_PWD:-}}" "$tool" "${args[@]}" "$@"
}

# `sqlite_copy SOURCE TARGET backup|restore`: the whole database, page by page,
# by SQLite's online backup API, consistent while others write. A backup is
# left in the rollback-journal mode, so that reading it creates no -wal file;
# a restored database keeps its own mode.
sqlite_copy() {
  "$BACKUP_PYTHON" -I - "$@" <<'PY'
import sqlite3, sys
from urllib.parse import quote

source_path, target_path, purpose = sys.argv[1:4]
if purpose == "restore":
    source = sqlite3.connect(f"file:{quote(source_path)}?mode=ro", uri=True)
else:
    source = sqlite3.connect(source_path)
target = sqlite3.connect(target_path)
with target:
    source.backup(target)
if purpose == "backup":
    target.execute("PRAGMA journal_mode=DELETE")
source.close()
target.close()
PY
}

backup() {
  local name extension file partial what
  case "$BACKUP_TARGET" in
    native)
      load_native_db
      what="$(describe_native)"
      case "${DB[0]}" in
        sqlite) name="sqlite-$(basename "${DB[1]%.*}")" extension=sqlite3 ;;
        postgresql) name="postgresql-${DB[3]}" extension=dump ;;
        mariadb) name="mariadb-${DB[5]}" extension=sql.gz ;;
      esac
      ;;
    compose)
      load_dotenv
      name="compose-${STACK_NAME:-app}" extension=dump what="the compose project's db service"
      ;;
    swarm)
      find_swarm_db
      name="swarm-${STACK_NAME:-app}" extension=dump what="the db task of the stack ${STACK_NAME:-app}"
      ;;
    *) die "unknown BACKUP_TARGET: $BACKUP_TARGET (native, compose or swarm)" ;;
  esac
  mkdir -p "$BACKUP_DIR"
  file="$BACKUP_DIR/$name-$(date -u +%Y%m%dT%H%M%SZ).$extension"
  [[ ! -e "$file" ]] || die "$file already exists"
  # Written under another name, renamed when complete: a failed backup never
  # looks like one.
  partial="$file.partial"
  # shellcheck disable=SC2064  # expand now: the variable is local
  trap "rm -f '$partial'" EXIT
  log "backing up $what"
  case "${DB[0]:-postgresql}" in
    sqlite)
      [[ -f "${DB[1]}" ]] || die "no database at ${DB[1]}"
      sqlite_copy "${DB[1]}" "$partial" backup
      ;;
    postgresql)
      pg_run dump >"$partial" || die "pg_dump failed: see above"
      [[ "$(head -c 5 "$partial")" == PGDMP ]] || die "the dump is not a PostgreSQL archive"
      ;;
    mariadb)
      need mariadb-dump gzip
      # One consistent snapshot without locking the tables (InnoDB).
      mariadb_client mariadb-dump --single-transaction --hex-blob --no-tablespaces "${DB[5]}" |
        gzip >"$partial" || die "mariadb-dump failed: see above"
      ;;
  esac
  mv "$partial" "$file"
  trap - EXIT
  log "wrote ${file#"$ROOT_DIR"/} ($(du -h "$file" | cut -f1))"
}

# --- Restore -----------------------------------------------------------------

# The kind of backup a file holds, from its first bytes: postgresql, sqlite,
# mariadb, or nothing.
backup_kind() {
  local head
  head="$(head -c 16 "$1" | od -An -tx1 | tr -d ' \n')"
  case "$head" in
    5047444d50*) echo postgresql ;;                     # "PGDMP"
    53514c69746520666f726d6174203300) echo sqlite ;;   # "SQLite format 3\0"
    1f8b*) echo mariadb ;;                              # gzip
  esac
}

kind_name() {
  case "$1" in
    postgresql) echo PostgreSQL ;;
    sqlite) echo SQLite ;;
    mariadb) echo MariaDB ;;
  esac
}

confirm() {
  local answer
  is_true "${FORCE:-}" && return 0
  [[ -t 0 ]] || die "no terminal to confirm on: set FORCE=1 to restore without asking"
  read -r -p "Replace the whole contents of $1 with $2? [y/N] " answer
  [[ "${answer,,}" =~ ^(y|yes)$ ]] || die "nothing restored"
}

check_sqlite_backup() {
  "$BACKUP_PYTHON" -I - "$1" <<'PY' || die "$1 is not a readable SQLite backup (truncated or corrupt?): see above"
import sqlite3, sys
from urllib.parse import quote

try:
    connection = sqlite3.connect(f"file:{quote(sys.argv[1])}?mode=ro&immutable=1", uri=True)
    problems = [row[0] for row in connection.execute("PRAGMA integrity_check")]
except sqlite3.DatabaseError as exc:
    problems = [str(exc)]
if problems != ["ok"]:
    sys.exit("; ".join(problems[:5]))
PY
}

check_mariadb_backup() {
  gzip -t "$1" 2>/dev/null || die "$1 is not a readable gzip file (truncated or corrupt?)"
  # mariadb-dump's last line: a backup without it was cut short.
  gzip -dc "$1" | tail -n 1 | grep -q '^-- Dump completed' ||
    die "$1 is incomplete (truncated or corrupt?): it does not end as a finished mariadb-dump does"
}

# Empties the MariaDB database (creating it when missing), then loads the backup.
restore_mariadb() {
  local file="$1" drops
  need mariadb gzip
  mariadb_client mariadb --execute="CREATE DATABASE IF NOT EXISTS \`${DB[5]//\`/\`\`}\`
    CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci" || die "cannot reach or create the database"
  drops="$(mariadb_client mariadb --batch --skip-column-names --database="${DB[5]}" --execute="
    SELECT CONCAT('DROP ', IF(table_type = 'VIEW', 'VIEW', 'TABLE'), ' IF EXISTS \`',
                  REPLACE(table_name, '\`', '\`\`'), '\`;')
    FROM information_schema.tables WHERE table_schema = DATABASE()")"
  { printf 'SET FOREIGN_KEY_CHECKS = 0;\n%s\n' "$drops"; gzip -dc "$file"; } |
    mariadb_client mariadb --database="${DB[5]}" || die "the restore failed part-way: see above"
}

# Creates the PostgreSQL database when missing (native only: a container's
# database is made by its image), through the server's maintenance database.
ensure_pg_database() {
  local exists
  export PGPASSWORD="${DB[2]:-${PGPASSWORD:-}}"
  psql --no-psqlrc --quiet --dbname="${DB[1]}" --command='SELECT 1' >/dev/null 2>&1 && return 0
  exists="$(psql --no-psqlrc --quiet --tuples-only --no-align --dbname="${DB[4]}" \
    --set=name="${DB[3]}" 2>&1 <<<"SELECT count(*) FROM pg_database WHERE datname = :'name';")" ||
    die "cannot reach the server: $exists"
  [[ "$exists" == 0 ]] || return 0
  log "creating the database ${DB[3]}"
  psql --no-psqlrc --quiet --set=ON_ERROR_STOP=1 --dbname="${DB[4]}" --set=name="${DB[3]}" \
    <<<'CREATE DATABASE :"name";' >/dev/null || die "cannot create the database ${DB[3]}"
}

restore() {
  local file="${1:-}" kind expected target
  if [[ -z "$file" ]]; then
    local newest
    newest="$(find "$BACKUP_DIR" -maxdepth 1 -type f ! -name '*.partial' -printf '%T@ %p\n' 2>/dev/null |
      sort -rn | head -n 3 | cut -d' ' -f2- | sed "s|^$ROOT_DIR/|  |")"
    die "say which backup to restore: make restore FILE=backups/NAME${newest:+
newest in ${BACKUP_DIR#"$ROOT_DIR"/}:
$newest}"
  fi
  [[ -f "$file" ]] || die "no such backup file: $file"
  [[ -s "$file" ]] || die "$file is empty: not a backup"
  kind="$(backup_kind "$file")"
  [[ -n "$kind" ]] || die "$file is not a backup this script wrote (not a PostgreSQL archive, SQLite database or gzipped dump), or it is corrupt"
  case "$BACKUP_TARGET" in
    native)
      load_native_db
      expected="${DB[0]}"
      target="$(describe_native)"
      ;;
    compose)
      load_dotenv
      expected=postgresql target="the db service of the compose project ${STACK_NAME:-app}"
      ;;
    swarm)
      find_swarm_db
      expected=postgresql target="the db task of the stack ${STACK_NAME:-app}"
      ;;
    *) die "unknown BACKUP_TARGET: $BACKUP_TARGET (native, compose or swarm)" ;;
  esac
  [[ "$kind" == "$expected" ]] ||
    die "$file is a backup of a $(kind_name "$kind") database: it cannot be restored into $target"
  case "$kind" in
    sqlite) check_sqlite_backup "$file" ;;
    mariadb) check_mariadb_backup "$file" ;;
  esac
  confirm "$target" "$file"
  log "restoring $file into $target"
  case "$kind" in
    sqlite)
      mkdir -p "$(dirname "${DB[1]}")"
      sqlite_copy "$file" "${DB[1]}" restore
      ;;
    postgresql)
      [[ "$BACKUP_TARGET" != native ]] || ensure_pg_database
      pg_run restore <"$file" || die "nothing was restored: the database is unchanged"
      ;;
    mariadb) restore_mariadb "$file" ;;
  esac
  log "restored"
}

main() {
  case "${1:-}" in
    backup) backup ;;
    restore) restore "${2:-}" ;;
    *) usage ;;
  esac
}

main "$@"
