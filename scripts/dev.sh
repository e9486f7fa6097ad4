#!/usr/bin/env bash
# `make dev`, in the foreground until Ctrl-C, in one of two modes:
#   docker  when a Docker engine answers (DOCKER_HOST or the default socket):
#           compose.yaml + compose.dev.yaml, the code mounted into the containers
#           (API reloading, worker and scheduler restarting on change, Vite with
#           hot reload), Traefik on HTTP_PORT, PostgreSQL, Redis, Mailpit, Flower,
#           pgAdmin and Prometheus; the images are built first.
#   native  otherwise: Traefik on HTTP_PORT routing /api to the API (reloading on
#           change) and the rest to the frontend's dev server (hot reload), the
#           worker with its scheduler (restarting on change), the mail sink, and
#           Flower when a real broker is configured, Prometheus when its binary
#           is here; SQLite and the embedded broker by default.
# DEV_MODE=native|docker chooses; DEV_MODE=docker starts the project's private
# engine when none answers (ci/docker-engine.sh). The official base images are
# used, or stand-ins built before; STANDIN_IMAGES=auto builds the missing ones
# (ci/standins.sh): both are the container tests' machinery, used here when asked.
set -Eeuo pipefail
STANDIN_IMAGES="${STANDIN_IMAGES:-ask}"
# shellcheck source=scripts/images.sh
source "$(dirname "${BASH_SOURCE[0]}")/images.sh"

# The lines every mode prints once it is up: `banner MODE LABEL=VALUE...`.
banner() {
  local mode="$1" line
  shift
  printf '\n  %-14s %s\n' "Mode" "$mode" >&2
  for line in "$@"; do
    printf '  %-14s %s\n' "${line%%=*}" "${line#*=}" >&2
  done
  printf '\n' >&2
}

common_urls() {
  printf '%s\n' \
    "App=http://localhost:$HTTP_PORT/" \
    "API=http://localhost:$HTTP_PORT/api/v1/" \
    "API docs=http://localhost:$HTTP_PORT/api/docs" \
    "Mail sink=http://localhost:$MAIL_SINK_WEB_PORT/"
}

choose_mode() {
  case "${DEV_MODE:-auto}" in
    native | docker) printf '%s\n' "$DEV_MODE" ;;
    auto)
      if docker_engine_reachable; then
        printf 'docker\n'
      else
        log "no Docker engine answers (DOCKER_HOST or the default socket): native mode (DEV_MODE=docker to use containers)"
        printf 'native\n'
      fi
      ;;
    *) die "DEV_MODE=$DEV_MODE: use native or docker" ;;
  esac
}

# Whether something answers on 127.0.0.1:PORT.
port_taken() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Every port the native processes will listen on, checked before anything starts:
# each one taken is named with the variable that moves it.
check_native_ports() {
  local variable taken=()
  for variable in "$@"; do
    if port_taken "${!variable}"; then
      taken+=("port ${!variable} ($variable)")
    fi
  done
  ((${#taken[@]} == 0)) && return 0
  variable="${taken[0]##*(}"
  die "already in use: $(IFS=,; printf '%s' "${taken[*]}" | sed 's/,/, /g'). Stop what uses it," \
    "or move make dev: ${variable%)}=<a free port> make dev (or set it in .env)"
}

# The frontend's packages install in the background (FRONTEND_INSTALL_PID), their
# output in a log shown if it fails, while the Python environments are made: the
# two longest steps of a first start, side by side.
start_frontend_install() {
  FRONTEND_INSTALL_LOG="$ROOT_DIR/.cache/frontend-install.log"
  mkdir -p "${FRONTEND_INSTALL_LOG%/*}"
  "$ROOT_DIR/scripts/frontend.sh" install >"$FRONTEND_INSTALL_LOG" 2>&1 &
  FRONTEND_INSTALL_PID=$!
}

wait_frontend_install() {
  if ! wait "$FRONTEND_INSTALL_PID"; then
    cat "$FRONTEND_INSTALL_LOG" >&2
    die "installing the frontend's packages failed (log: ${FRONTEND_INSTALL_LOG#"$ROOT_DIR"/})"
  fi
  # Its "installing" line, when it installed anything.
  grep -a '==>' "$FRONTEND_INSTALL_LOG" >&2 || true
}

# Prometheus natively is optional: the binary on PATH, or the one
# scripts/prometheus.sh unpacked for make test's checks (never fetched here).
prometheus_binary() {
  if command -v prometheus 2>/dev/null; then
    return 0
  fi
  if [[ -x "$ROOT_DIR/.cache/prometheus/usr/bin/prometheus" ]]; then
    printf '%s\n' "$ROOT_DIR/.cache/prometheus/usr/bin/prometheus"
    return 0
  fi
  return 1
}

# Prometheus's configuration for make dev (native): the API on API_PORT, and the
# default worker module on WORKER_METRICS_PORT when that is set (Procfile.dev:
# natively the other modules serve no metrics unless their line gives a port),
# with the rules of compose/prometheus/rules.yml.
write_native_prometheus_config() {
  local file="$1"
  mkdir -p "${file%/*}"
  {
    printf '%s\n' "# Written by scripts/dev.sh at each start of make dev (native): do not edit." \
      "global:" "  scrape_interval: 15s" "  evaluation_interval: 15s" \
      "rule_files:" "  - $ROOT_DIR/compose/prometheus/rules.yml" "scrape_configs:" \
      "  - job_name: api" "    static_configs:" "      - targets: [\"127.0.0.1:$API_PORT\"]"
    if ((${WORKER_METRICS_PORT:-0} > 0)); then
      printf '%s\n' "  - job_name: worker-default" "    static_configs:" \
        "      - targets: [\"127.0.0.1:$WORKER_METRICS_PORT\"]"
    fi
  } >"$file"
}

native_dev() {
  local -a processes=(proxy frontend api) lines ready pings
  export API_PORT="${API_PORT:-8001}" FRONTEND_PORT="${FRONTEND_PORT:-5173}"
  local -a ports=(HTTP_PORT API_PORT FRONTEND_PORT MAIL_SINK_SMTP_PORT MAIL_SINK_WEB_PORT)
  local flower=0
  if [[ -n "${CELERY_BROKER_URL:-}${REDIS_URL:-}" && -n "${FLOWER_BASIC_AUTH:-}" ]]; then
    flower=1
    ports+=(FLOWER_PORT)
  fi
  local prometheus_bin=""
  if prometheus_bin="$(prometheus_binary)"; then
    ports+=(PROMETHEUS_PORT)
  fi
  check_native_ports "${ports[@]}"
  start_frontend_install
  ensure_venv
  # Every worker module runs, each from its own environment (Procfile.dev: worker-<name>).
  ensure_module_venvs
  # The Celery node each worker process runs (Procfile.dev: -n <module>@%h).
  processes+=(worker)
  pings=(--ping worker=celery)
  local module
  for module in $(worker_modules); do
    processes+=("worker-$module")
    pings+=(--ping "worker-$module=$module")
  done
  processes+=(mail)
  # The API sits behind the proxy: trust its X-Forwarded-* headers.
  export PROXY_COUNT="${PROXY_COUNT:-1}"
  export FRONTEND_HOST="${FRONTEND_HOST:-http://localhost:$HTTP_PORT}"
  export MAIL_SINK_SMTP_PORT
  export BEAT_SCHEDULE_FILE="${BEAT_SCHEDULE_FILE:-$ROOT_DIR/backend/data/celerybeat-schedule}"
  # Unless a real mail server is configured, every email goes to the sink.
  if [[ -z "${SMTP_HOST:-}" ]]; then
    export EMAIL_BACKEND=smtp SMTP_HOST=127.0.0.1 SMTP_PORT="$MAIL_SINK_SMTP_PORT" SMTP_TLS=false
  fi
  # Ready once the page and the API answer through the proxy, the mail sink
  # answers and every worker answers a ping.
  ready=(
    --ready "app page=http://127.0.0.1:$HTTP_PORT/"
    --ready "API=http://127.0.0.1:$HTTP_PORT/api/v1/utils/health-check/"
    --ready "mail sink=http://127.0.0.1:$MAIL_SINK_WEB_PORT/"
  )
  mapfile -t lines < <(common_urls)
  # Flower watches a broker's events: the embedded one has none to show.
  if ((flower)); then
    processes+=(flower)
    ready+=(--ready "Flower=http://127.0.0.1:$FLOWER_PORT/healthcheck")
    lines+=("Flower=http://localhost:$FLOWER_PORT/ (login: FLOWER_BASIC_AUTH)")
  else
    lines+=("Flower=off (needs REDIS_URL or CELERY_BROKER_URL, and FLOWER_BASIC_AUTH)")
  fi
  if [[ -n "$prometheus_bin" ]]; then
    export PROMETHEUS_BIN="$prometheus_bin" PROMETHEUS_CONFIG="$ROOT_DIR/.cache/prometheus-dev.yml"
    write_native_prometheus_config "$PROMETHEUS_CONFIG"
    processes+=(prometheus)
    ready+=(--ready "Prometheus=http://127.0.0.1:$PROMETHEUS_PORT/-/ready")
    if ((${WORKER_METRICS_PORT:-0} > 0)); then
      lines+=("Prometheus=http://localhost:$PROMETHEUS_PORT/ (the API and the worker's port $WORKER_METRICS_PORT)")
    else
      lines+=("Prometheus=http://localhost:$PROMETHEUS_PORT/ (the API; WORKER_METRICS_PORT=<a port> adds the worker)")
    fi
  else
    lines+=("Prometheus=off (no prometheus binary: apt-get install prometheus, or run make test once)")
  fi
  lines+=(
    "Broker=${CELERY_BROKER_URL:-${REDIS_URL:-embedded (files in backend/data/broker)}}"
    "Superuser=$FIRST_SUPERUSER"
  )
  cd "$ROOT_DIR/backend"
  mkdir -p data
  wait_frontend_install
  local line process banner=(--banner "Mode=native")
  for line in "${lines[@]}"; do
    banner+=(--banner "$line")
  done
  # The database is prepared (migrations, the first superuser) while the proxy,
  # the frontend and the mail sink start, and the API imports its code (it serves
  # once that is done); what else uses it starts after. Of its log, only what it
  # changed.
  local setup=(--setup "prestart=python -m app prestart"
    --show-setup "Running upgrade|created first superuser")
  for process in "${processes[@]}"; do
    case "$process" in
      api) setup+=(--during-setup "$process") ;;
      worker | worker-* | flower) setup+=(--after-setup "$process") ;;
    esac
  done
  exec python -m app.devtools.supervisor --procfile "$ROOT_DIR/scripts/Procfile.dev" \
    --cwd "$ROOT_DIR/backend" --started "$DEV_STARTED" "${setup[@]}" "${ready[@]}" \
    "${pings[@]}" "${banner[@]}" "${processes[@]}"
}

# The settings compose requires, when .env does not give them: the values of
# .env.example, which ENVIRONMENT=local accepts.
export_dev_defaults() {
  export FIRST_SUPERUSER_PASSWORD="${FIRST_SUPERUSER_PASSWORD:-changethis}"
  export POSTGRES_PASSWORD="${POSTGRES_PASSWORD:-changethis}"
  export FLOWER_BASIC_AUTH="${FLOWER_BASIC_AUTH:-admin:changethis}"
  # Traefik reads the engine's API through this socket, mounted into its container.
  if [[ "${DOCKER_HOST:-}" == unix://* ]]; then
    export DOCKER_SOCKET="${DOCKER_SOCKET:-${DOCKER_HOST#unix://}}"
  fi
}

# Build each image of the stack once (the worker's serves the worker, the
# scheduler and Flower: one build per image, not per service), quietly: the full
# output in a log, shown when a build fails.
build_images() {
  local logfile="$ROOT_DIR/.cache/compose-build.log" started=$SECONDS
  local -a builds
  mkdir -p "${logfile%/*}"
  # For each image, the first service with a build section: "service image" lines.
  mapfile -t builds < <("$@" config --format json | python3 -c '
import json, sys
seen = set()
for name, service in json.load(sys.stdin)["services"].items():
    if "build" in service and service.get("image") not in seen:
        seen.add(service.get("image"))
        print(name, service.get("image"))')
  log "building ${builds[*]#* } (log: ${logfile#"$ROOT_DIR"/})"
  builds=("${builds[@]%% *}")
  if ! "$@" --progress plain build "${builds[@]}" >"$logfile" 2>&1; then
    tail -n 40 "$logfile" >&2
    die "building the images failed (log: ${logfile#"$ROOT_DIR"/})"
  fi
  log "images built in $((SECONDS - started)) s"
}

# Wait up to two minutes for URL to answer 2xx or 3xx.
wait_for_url() {
  local url="$1" deadline=$((SECONDS + 120))
  until curl --noproxy '*' -fsS -o /dev/null --max-time 5 "$url" 2>/dev/null; do
    ((SECONDS < deadline)) || die "$url did not answer within 2 minutes"
    sleep 0.5
  done
}

docker_dev() {
  local pgadmin_image="${PGADMIN_IMAGE:-dpage/pgadmin4:9}" pgadmin_line engine_line stop_line
  local -a compose services lines
  local started=$SECONDS
  ensure_docker_engine
  ensure_base_images
  export_dev_defaults
  # Email links point at the port the site is on (compose.dev.yaml passes it on).
  export FRONTEND_HOST="${FRONTEND_HOST:-http://localhost:$HTTP_PORT}"
  compose=(docker compose --project-directory "$ROOT_DIR"
    -f "$ROOT_DIR/compose/compose.yaml" -f "$ROOT_DIR/compose/compose.dev.yaml")
  mapfile -t services < <("${compose[@]}" config --services)
  # pgAdmin has no stand-in: without its image, the rest runs without it.
  pgadmin_line="http://localhost:${PGADMIN_PORT:-5050}/ (login: ${PGADMIN_DEFAULT_EMAIL:-admin@example.com})"
  if [[ "$STANDIN_IMAGES" == always ]] ||
    { ! image_present "$pgadmin_image" && ! pull_official "$pgadmin_image"; }; then
    mapfile -t services < <(printf '%s\n' "${services[@]}" | grep -vx pgadmin)
    pgadmin_line="off ($pgadmin_image is not here and cannot be pulled)"
  fi
  build_images "${compose[@]}"
  log "starting the stack; ready once every service is healthy"
  "${compose[@]}" up --no-build --detach --wait --wait-timeout 600 --quiet-pull "${services[@]}" \
    >/dev/null 2>"$ROOT_DIR/.cache/compose-up.log" || {
    cat "$ROOT_DIR/.cache/compose-up.log" >&2
    die "the development stack did not come up: ${compose[*]} logs"
  }
  # The API's check is its port (compose.dev.yaml): ask it, and the page, as a
  # browser would.
  wait_for_url "http://127.0.0.1:$HTTP_PORT/api/v1/utils/health-check/"
  wait_for_url "http://127.0.0.1:$HTTP_PORT/"
  mapfile -t lines < <(common_urls)
  # A new shell talks to the engine the default socket names: the stop command
  # names this one when it is another (the project's private one, say).
  stop_line="${compose[*]} down -v"
  if [[ -n "${DOCKER_HOST:-}" ]]; then
    stop_line="DOCKER_HOST=$DOCKER_HOST $stop_line"
  fi
  engine_line="${DOCKER_HOST:-the default socket}"
  if [[ "$(type -t using_private_docker_engine)" == function ]] && using_private_docker_engine; then
    engine_line="the project's private engine, DOCKER_HOST=$DOCKER_HOST (make docker-stop stops it)"
  fi
  lines+=(
    "Flower=http://localhost:$FLOWER_PORT/ (login: FLOWER_BASIC_AUTH)"
    "Prometheus=http://localhost:$PROMETHEUS_PORT/ (targets: /targets)"
    "pgAdmin=$pgadmin_line"
    "PostgreSQL=127.0.0.1:${POSTGRES_PORT:-5432} (${POSTGRES_USER:-app}, database ${POSTGRES_DB:-app})"
    "Superuser=$FIRST_SUPERUSER"
    "Engine=$engine_line"
    "Stop=Ctrl-C stops the containers; $stop_line removes them and their data"
  )
  banner "docker (compose project ${STACK_NAME:-app})" "${lines[@]}"
  log "ready in $((SECONDS - started)) s"
  # The logs in the foreground; Ctrl-C ends them, then the containers stop.
  trap ':' INT
  "${compose[@]}" logs --follow --since 1s "${services[@]}" || true
  log "stopping the containers"
  "${compose[@]}" stop 2>/dev/null
}

main() {
  # When the start began, for the "ready in N s" line.
  export DEV_STARTED="${DEV_STARTED:-$EPOCHREALTIME}"
  load_dotenv
  ensure_local_secret_key
  export HTTP_PORT="${HTTP_PORT:-8000}"
  export MAIL_SINK_SMTP_PORT="${MAIL_SINK_SMTP_PORT:-1025}"
  export MAIL_SINK_WEB_PORT="${MAIL_SINK_WEB_PORT:-8025}"
  export FLOWER_PORT="${FLOWER_PORT:-5555}"
  export PROMETHEUS_PORT="${PROMETHEUS_PORT:-9090}"
  export FIRST_SUPERUSER="${FIRST_SUPERUSER:-admin@example.com}"
  case "$(choose_mode)" in
    docker) docker_dev ;;
    native) native_dev ;;
  esac
}

main "$@"
