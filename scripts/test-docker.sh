#!/usr/bin/env bash
# `make test-docker`: the images and the compose files, for real. On a Docker
# engine (DOCKER_HOST, the default socket, else a private one started here):
#   - builds the stand-in base images for the official ones absent here, then the
#     backend, worker and frontend images (scripts/images.sh);
#   - runs the live API suite (backend/tests/live) in its container against the
#     whole stack of compose.yaml + compose.test.yaml, through Traefik;
#   - while that stack is up: a job goes through Redis to the worker and back,
#     and an ML job to the ml module, the frontend answers through Traefik (the
#     app at its routes, robots.txt, 404 for a missing file), every
#     container with a healthcheck is healthy, the app's containers run as a user
#     other than root, no worker module's image has Flask, and scikit-learn is in
#     the ml module's image only, and Prometheus scrapes the API and every
#     worker module (each target up in its /api/v1/targets);
#   - removes the stack and its volumes (`down -v`);
#   - deploys compose/stack.yaml (with ansible/tests/stack.override.yaml: no
#     IPVS here) to a one-node Swarm on the same engine, behind the cluster's
#     Traefik rendered from the traefik role's template, with its network, node
#     labels and secrets, and fetches the API's health check and the app's page
#     through Traefik by host name over HTTPS, and HTTP's redirect, and that
#     Prometheus scrapes every task of the API and of each worker module;
#   - removes what it made there (stacks, volumes, secrets, network, labels,
#     the Swarm itself when it made it), whatever happened.
# The private engine stays up for the next run (`make docker-stop` stops it),
# except under CI. KEEP_STACK=1 leaves the test stack up for a look.
set -Eeuo pipefail
# shellcheck source=scripts/images.sh
source "$(dirname "${BASH_SOURCE[0]}")/images.sh"
# The private engine, where no engine answers (CI): its clean-up is this script's.
# shellcheck source=ci/docker-engine.sh
source "$ROOT_DIR/ci/docker-engine.sh"

HEALTH_TIMEOUT="${HEALTH_TIMEOUT:-120}"
# The services whose processes must not run as root.
NON_ROOT_SERVICES=(backend worker worker-ml beat flower frontend prometheus)
# Seconds Prometheus has to scrape every target once they run (its scrape
# interval is 15 s: compose/prometheus/).
SCRAPE_TIMEOUT="${SCRAPE_TIMEOUT:-90}"
COMPOSE=()
FAILURES=()
# The Swarm test: the app's stack and the cluster's Traefik, under names of their own.
SWARM_STACK=test-docker
SWARM_TRAEFIK_STACK=test-docker-traefik
SWARM_DOMAIN=stack.example.com
SWARM_NETWORK=traefik-public
SWARM_SECRETS=(secret_key first_superuser_password postgres_password database_url smtp_password flower_basic_auth)
# Set as each is made, for the clean-up: only what this run made is removed.
SWARM_INITIALISED=0
SWARM_NETWORK_CREATED=0
SWARM_NODE=""
SWARM_NODE_LABELS=()
SWARM_DIR=""

# The settings compose requires: fresh values for a throwaway stack, whatever
# .env holds (a strong password passes any ENVIRONMENT's checks).
export_test_settings() {
  SECRET_KEY="$(random_secret)"
  FIRST_SUPERUSER_PASSWORD="$(random_secret)"
  POSTGRES_PASSWORD="$(random_secret)"
  FLOWER_BASIC_AUTH="admin:$(random_secret)"
  export SECRET_KEY FIRST_SUPERUSER_PASSWORD POSTGRES_PASSWORD FLOWER_BASIC_AUTH
  # Traefik reads the engine's API through this socket, mounted into its container.
  if [[ "${DOCKER_HOST:-}" == unix://* ]]; then
    export DOCKER_SOCKET="${DOCKER_HOST#unix://}"
  fi
}

fail() {
  printf '\033[1;31mFAILED:\033[0m %s\n' "$*" >&2
  FAILURES+=("$*")
}

# The compose test stack, once (KEEP_STACK=1 leaves it up).
remove_compose_stack() {
  ((${#COMPOSE[@]})) || return 0
  if [[ "${KEEP_STACK:-0}" == 1 ]]; then
    log "the test stack stays up (KEEP_STACK=1): ${COMPOSE[*]} down -v"
  else
    log "removing the test stack"
    "${COMPOSE[@]}" down --volumes --remove-orphans --timeout 10 >/dev/null 2>&1 || true
  fi
  COMPOSE=()
}

cleanup() {
  local status=$?
  remove_compose_stack
  remove_swarm_stack
  if [[ "${CI:-}" == true ]] && using_private_docker_engine; then
    # Images left untagged by rebuilds would pile up from run to run.
    docker image prune --force >/dev/null 2>&1 || true
    if [[ "${PRIVATE_DOCKER_STARTED:-0}" == 1 ]]; then
      stop_private_docker_engine
    fi
  fi
  exit "$status"
}

# The containers of a service in the test project.
containers_of() {
  "${COMPOSE[@]}" ps --quiet "$1" 2>/dev/null
}

# Every container of the project that has a healthcheck becomes healthy.
check_health() {
  local deadline=$((SECONDS + HEALTH_TIMEOUT)) id name status pending
  while :; do
    pending=()
    while read -r id; do
      [[ -n "$id" ]] || continue
      name="$(docker inspect -f '{{.Name}}' "$id")"
      status="$(docker inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}' "$id")"
      case "$status" in
        healthy | none) ;;
        *) pending+=("${name#/}:$status") ;;
      esac
    done < <("${COMPOSE[@]}" ps --quiet)
    ((${#pending[@]} == 0)) && break
    if ((SECONDS >= deadline)); then
      fail "not healthy within ${HEALTH_TIMEOUT}s: ${pending[*]}"
      return 0
    fi
    sleep 2
  done
  log "healthy: every container with a healthcheck ($("${COMPOSE[@]}" ps --format '{{.Service}}' | sort | paste -sd ' ' -))"
}

check_non_root() {
  local service id uid seen=()
  for service in "${NON_ROOT_SERVICES[@]}"; do
    id="$(containers_of "$service" | head -n 1)"
    if [[ -z "$id" ]]; then
      fail "$service: no running container"
      continue
    fi
    uid="$(docker exec "$id" id -u)"
    if [[ "$uid" == 0 ]]; then
      fail "$service runs as root"
    fi
    seen+=("$service:$uid")
  done
  log "non-root: ${seen[*]} (service:uid)"
}

# Each worker module's image holds the Flask-free core: importing Flask fails there
# (while its Celery app imports, or the failure would prove nothing).
# `check_module_image IMAGE CELERY_APP LABEL`
check_module_image() {
  local image="$1" app="$2" label="$3" output
  if output="$(docker run --rm --network none --entrypoint python "$image" -c 'import flask' 2>&1)"; then
    fail "$label: the image imports Flask"
  elif [[ "$output" != *"No module named 'flask'"* ]]; then
    fail "$label: importing Flask in the image failed otherwise: $output"
  elif ! docker run --rm --network none --entrypoint python -e CELERY_BROKER_URL=memory:// \
    "$image" -c "import $app" >/dev/null; then
    fail "$label: its Celery app does not import in its image"
  else
    log "$label: its Celery app imports, Flask does not"
  fi
}

# A module's libraries are in its image only: scikit-learn is in the ml image,
# neither in the API's nor in the default worker's.
check_module_libraries() {
  local tag="${TAG:-latest}" image
  for image in "$BACKEND_IMAGE" "$WORKER_IMAGE"; do
    if docker run --rm --network none --entrypoint python "$image:$tag" -c 'import sklearn' >/dev/null 2>&1; then
      fail "$image has scikit-learn, the ml module's library"
    fi
  done
  if ! docker run --rm --network none --entrypoint python "$WORKER_IMAGE-ml:$tag" \
    -c 'import sklearn' >/dev/null 2>&1; then
    fail "the ml module's image has no scikit-learn"
  fi
  log "scikit-learn: in the ml image only"
}

check_worker_images() {
  local tag="${TAG:-latest}" module
  check_module_image "$WORKER_IMAGE:$tag" worker.main "the worker's image"
  for module in $(worker_modules); do
    check_module_image "$WORKER_IMAGE-$module:$tag" "worker_${module//-/_}.main" \
      "the $module module's image"
  done
  check_module_libraries
}

# Through Traefik, from inside the stack's network (backend/tests/live/through_proxy.py).
check_through_proxy() {
  if "${COMPOSE[@]}" run --rm --no-deps --entrypoint python backend-tests -m tests.live.through_proxy; then
    log "through Traefik: the frontend (its routes, robots.txt, 404 for missing files), and a job run by each worker module"
  else
    fail "the frontend or a job through Traefik"
  fi
}

# `make backup`, a change, `make restore` (python -m app backup/restore) on a
# stack's database, through BACKUP_TARGET: the change is gone, the rows are back.
# `check_backup_round_trip LABEL SQL-FUNCTION SETTING=VALUE...`, the function
# running one statement in the db container and printing its result.
check_backup_round_trip() {
  local label="$1" sql="$2" dir file users
  shift 2
  dir="$(mktemp -d)"
  users="$("$sql" 'SELECT count(*) FROM users')"
  if ! env "$@" BACKUP_DIR="$dir" "$VENV_DIR/bin/python" -m app backup 2>"$dir/log"; then
    cat "$dir/log" >&2
    fail "$label: make backup"
  else
    file="$(find "$dir" -name '*.dump')"
    "$sql" 'CREATE TABLE after_backup (x int)' >/dev/null
    if ! env "$@" BACKUP_DIR="$dir" "$VENV_DIR/bin/python" -m app restore --yes "$file" 2>"$dir/log"; then
      cat "$dir/log" >&2
      fail "$label: make restore"
    elif [[ "$("$sql" "SELECT to_regclass('after_backup') IS NULL")" != t ||
      "$("$sql" 'SELECT count(*) FROM users')" != "$users" ]]; then
      fail "$label: the restore did not bring back the backup's contents"
    else
      log "$label: make backup, then make restore, brought the database back (users: $users rows)"
    fi
  fi
  rm -rf "$dir"
}

# One statement in a postgres container, as its own superuser over the local socket.
psql_in() {
  docker exec -i "$1" sh -c 'psql -qtAX -U "$POSTGRES_USER" -d "${POSTGRES_DB:-$POSTGRES_USER}" -c "$1"' sh "$2"
}

compose_sql() { psql_in "$(containers_of db | head -n 1)" "$1"; }

check_compose_backups() {
  ensure_venv >/dev/null
  check_backup_round_trip "compose" compose_sql BACKUP_TARGET=compose \
    COMPOSE_FILE="$ROOT_DIR/compose/compose.yaml:$ROOT_DIR/compose/compose.test.yaml"
}

# Prometheus's own view: every scrape job (api, worker-default, worker-<module>)
# has targets, all of them up, in its /api/v1/targets, asked inside its
# container (it is published nowhere). `check_prometheus_targets CONTAINER LABEL`
check_prometheus_targets() {
  local container="$1" label="$2" deadline=$((SECONDS + SCRAPE_TIMEOUT)) report module
  local -a jobs=(api worker-default)
  for module in $(worker_modules); do
    jobs+=("worker-$module")
  done
  if [[ -z "$container" ]]; then
    fail "$label: no Prometheus container"
    return 0
  fi
  while :; do
    if report="$(docker exec "$container" wget -q -O - http://127.0.0.1:9090/api/v1/targets 2>&1 |
      python3 -c '
import json, sys
expected = set(sys.argv[1:])
try:
    targets = json.load(sys.stdin)["data"]["activeTargets"]
except ValueError as exc:
    sys.exit(f"no answer from /api/v1/targets ({exc})")
found = {}
for target in targets:
    found.setdefault(target["labels"]["job"], []).append(target)
bad = [f"{job}: no target" for job in sorted(expected - found.keys())]
bad += ["%s: %s %s %s" % (job, t["scrapeUrl"], t["health"], t["lastError"])
        for job, ts in sorted(found.items()) for t in ts if t["health"] != "up"]
if bad:
    sys.exit("; ".join(bad))
print(" ".join(f"{job}:{len(ts)}" for job, ts in sorted(found.items())))
' "${jobs[@]}" 2>&1)"; then
      log "$label: Prometheus scrapes every target, all up (job:targets $report)"
      return 0
    fi
    if ((SECONDS >= deadline)); then
      fail "$label: Prometheus's targets not all up within ${SCRAPE_TIMEOUT}s: $report"
      return 0
    fi
    sleep 3
  done
}

# --- the Swarm stack ---------------------------------------------------------------

# Redis holds counters of the rate limits after requests that count (a login):
# in memory instead, each server process would count its own.
rate_limit_counters() {
  local container="$1"
  docker exec "$container" redis-cli --scan --pattern '*ratelimit*' 2>/dev/null | head -n 1
}

check_rate_limits_in_redis() {
  local redis_id logs
  # Read whole, then matched: `logs | grep -q` would fail under pipefail whenever
  # grep stops reading before compose stops writing.
  logs="$("${COMPOSE[@]}" logs --no-color backend 2>&1)"
  if [[ "$logs" != *'rate limits: counted in redis'* ]]; then
    fail "the backend's start-up log does not say the rate limits are counted in Redis"
  fi
  redis_id="$(containers_of redis | head -n 1)"
  if [[ -z "$redis_id" || -z "$(rate_limit_counters "$redis_id")" ]]; then
    fail "no rate-limit counter in Redis after the live suite's logins"
    return 0
  fi
  log "rate limits: counted in Redis, shared by every backend process"
}

# Where the engine's published ports answer: its host under DOCKER_HOST=tcp://
# (Docker in Docker), else this machine.
engine_address() {
  local host="${DOCKER_HOST:-}"
  if [[ "$host" == tcp://* ]]; then
    host="${host#tcp://}"
    printf '%s\n' "${host%%:*}"
  else
    printf '127.0.0.1\n'
  fi
}

# The cluster's Traefik as the traefik role deploys it: its template, rendered by
# Ansible's template module with the role's defaults and the given settings:
# `render_traefik_stack DEST name=value...` (no dashboard).
render_traefik_stack() {
  local dest="$1" role="$ROOT_DIR/ansible/roles/traefik" pair
  shift
  local -a settings=(-e "@$role/defaults/main.yml" -e "ansible_python_interpreter=$ANSIBLE_VENV_DIR/bin/python")
  for pair in "$@"; do
    settings+=(-e "$pair")
  done
  ensure_ansible_venv
  ANSIBLE_LOCALHOST_WARNING=false ANSIBLE_INVENTORY_UNPARSED_WARNING=false \
    "$ANSIBLE_VENV_DIR/bin/ansible" localhost --connection=local --inventory=localhost, \
    -m ansible.builtin.template -a "src=$role/templates/traefik-stack.yml.j2 dest=$dest" \
    "${settings[@]}" >"$dest.log" 2>&1 || { cat "$dest.log" >&2; die "the traefik role's stack did not render"; }
}

# A one-node Swarm on this engine (unless it is in one already), the network,
# node labels and secrets the stacks expect from the cluster.
prepare_swarm() {
  local state label
  state="$(docker info --format '{{.Swarm.LocalNodeState}}')"
  if [[ "$state" == inactive ]]; then
    docker swarm init --advertise-addr 127.0.0.1 >/dev/null
    SWARM_INITIALISED=1
  elif [[ "$(docker info --format '{{.Swarm.ControlAvailable}}')" != true ]]; then
    die "the engine is in a Swarm ($state) but not a manager of it"
  fi
  SWARM_NODE="$(docker info --format '{{.Swarm.NodeID}}')"
  if ! docker network inspect "$SWARM_NETWORK" >/dev/null 2>&1; then
    docker network create --driver overlay "$SWARM_NETWORK" >/dev/null
    SWARM_NETWORK_CREATED=1
  fi
  # The database's node, Traefik's certificates' (the role's default label), and
  # the ml worker module's.
  for label in "$SWARM_STACK.db" traefik-public.certificates ml; do
    if [[ "$(docker node inspect --format "{{index .Spec.Labels \"$label\"}}" "$SWARM_NODE")" != true ]]; then
      docker node update --label-add "$label=true" "$SWARM_NODE" >/dev/null
      SWARM_NODE_LABELS+=("$label")
    fi
  done
  create_swarm_secrets
}

create_swarm_secrets() {
  local name postgres_password value
  postgres_password="$(random_secret)"
  for name in "${SWARM_SECRETS[@]}"; do
    case "$name" in
      postgres_password) value="$postgres_password" ;;
      database_url) value="postgresql://app:$postgres_password@db:5432/app" ;;
      flower_basic_auth) value="admin:$(random_secret)" ;;
      *) value="$(random_secret)" ;;
    esac
    printf %s "$value" | docker secret create "${SWARM_STACK}_$name" - >/dev/null
  done
}

# A command whose chatter is shown only when it fails.
quietly() {
  local output
  output="$("$@" 2>&1)" || die "failed: $*"$'\n'"$output"
}

deploy_swarm_stacks() {
  local variable client_env=()
  SWARM_DIR="$(mktemp -d)"
  { read -r SWARM_HTTP_PORT && read -r SWARM_HTTPS_PORT; } < <("$VENV_DIR/bin/python" -m app.devtools.ports 2)
  # No certificate is asked for (nothing answers at caServer): Traefik serves
  # its default one. Routes are read every second. ($$: a literal $ for
  # docker stack deploy.)
  render_traefik_stack "$SWARM_DIR/traefik.yml" \
    "traefik_image=${TRAEFIK_IMAGE:-traefik:v3.7}" \
    "traefik_stack_name=$SWARM_TRAEFIK_STACK" \
    "traefik_network=$SWARM_NETWORK" \
    "traefik_constraint_label_regex=^$SWARM_STACK\$\$" \
    "traefik_refresh_seconds=1" \
    "traefik_acme_email=ops@example.com" \
    "traefik_acme_ca_server=https://127.0.0.1:9/directory" \
    "traefik_http_port=$SWARM_HTTP_PORT" \
    "traefik_https_port=$SWARM_HTTPS_PORT" \
    "traefik_docker_socket=${DOCKER_SOCKET:-/var/run/docker.sock}"
  quietly docker stack deploy --resolve-image never -c "$SWARM_DIR/traefik.yml" "$SWARM_TRAEFIK_STACK"
  # The stack's variables from here only, not .env's (exported by load_dotenv);
  # the client's own (DOCKER_HOST, DOCKER_TLS_VERIFY, ...) kept.
  for variable in $(compgen -e | grep '^DOCKER_'); do
    client_env+=("$variable=${!variable}")
  done
  quietly env -i PATH="$PATH" HOME="$HOME" "${client_env[@]}" \
    STACK_NAME="$SWARM_STACK" DOMAIN="$SWARM_DOMAIN" TAG="$TAG" \
    TRAEFIK_NETWORK="$SWARM_NETWORK" FIRST_SUPERUSER=admin@example.com \
    BACKEND_IMAGE="$BACKEND_IMAGE" WORKER_IMAGE="$WORKER_IMAGE" \
    FRONTEND_IMAGE="$FRONTEND_IMAGE" \
    POSTGRES_IMAGE="${POSTGRES_IMAGE:-postgres:15}" REDIS_IMAGE="${REDIS_IMAGE:-redis:7-alpine}" \
    PROMETHEUS_IMAGE="${PROMETHEUS_IMAGE:-prom/prometheus:v3.5.0}" \
    BACKEND_REPLICAS=1 FRONTEND_REPLICAS=1 WEB_CONCURRENCY=1 \
    docker stack deploy --resolve-image never \
    -c "$ROOT_DIR/compose/stack.yaml" -c "$ROOT_DIR/ansible/tests/stack.override.yaml" \
    "$SWARM_STACK"
}

# Every replica of both stacks runs (Swarm counts a task with a healthcheck as
# running only once it is healthy).
wait_for_swarm_stacks() {
  local deadline=$((SECONDS + HEALTH_TIMEOUT)) name replicas pending
  while :; do
    pending=()
    while read -r name replicas; do
      [[ "${replicas%%/*}" == "${replicas#*/}" ]] || pending+=("$name:$replicas")
    done < <(docker service ls --format '{{.Name}} {{.Replicas}}' \
      --filter "label=com.docker.stack.namespace=$SWARM_STACK" &&
      docker service ls --format '{{.Name}} {{.Replicas}}' \
        --filter "label=com.docker.stack.namespace=$SWARM_TRAEFIK_STACK")
    ((${#pending[@]} == 0)) && return 0
    if ((SECONDS >= deadline)); then
      fail "Swarm: not running within ${HEALTH_TIMEOUT}s: ${pending[*]}"
      docker stack ps --no-trunc --format '{{.Name}} {{.CurrentState}} {{.Error}}' "$SWARM_STACK" >&2 || true
      return 1
    fi
    sleep 2
  done
}

# GET https://SWARM_DOMAIN PATH through Traefik (its default certificate: -k);
# prints the status and the body.
swarm_get() {
  swarm_curl -sk --max-time 10 --resolve "$SWARM_DOMAIN:$SWARM_HTTPS_PORT:$SWARM_ADDRESS" \
    -w '\n%{http_code}' "https://$SWARM_DOMAIN:$SWARM_HTTPS_PORT$1"
}

# curl ARGS..., where a stack still starting is no failure: curl then reports
# status 000 and the caller tries again. Anything else (curl missing, a bad
# option) stops the run at once, rather than looking like a stack that never
# answers.
swarm_curl() {
  local status=0
  curl "$@" 2>/dev/null || status=$?
  case "$status" in
    # Fine, no such host yet, refused, timed out, TLS handshake, empty reply, reset.
    0 | 6 | 7 | 28 | 35 | 52 | 56) ;;
    127) die "curl is missing (package curl): the Swarm checks need it" ;;
    *) die "curl failed with exit status $status: curl $*" ;;
  esac
}

# Through Traefik by host name, once its routes are read: the API's health
# check, the app's page, and plain HTTP sent to HTTPS.
check_swarm_routes() {
  local deadline=$((SECONDS + 60)) health page redirect
  while :; do
    health="$(swarm_get /api/v1/utils/health-check/)"
    page="$(swarm_get /)"
    [[ "${health##*$'\n'}" == 200 && "${page##*$'\n'}" == 200 ]] && break
    if ((SECONDS >= deadline)); then
      fail "Swarm: through Traefik, /api/v1/utils/health-check/ answered ${health##*$'\n'}, / ${page##*$'\n'}"
      return 0
    fi
    sleep 1
  done
  [[ "${health%$'\n'*}" == *'"status":"ok"'* ]] || fail "Swarm: the health check said ${health%$'\n'*}"
  [[ "$page" == *'<div id="app"'* ]] || fail "Swarm: / is not the app's page"
  redirect="$(swarm_curl -s --max-time 10 --resolve "$SWARM_DOMAIN:$SWARM_HTTP_PORT:$SWARM_ADDRESS" \
    -o /dev/null -w '%{http_code} %{redirect_url}' "http://$SWARM_DOMAIN:$SWARM_HTTP_PORT/")"
  [[ "$redirect" =~ ^30[18]\ https://${SWARM_DOMAIN}[:/] ]] ||
    fail "Swarm: HTTP is not sent to HTTPS ($redirect)"
  log "Swarm: through Traefik by host name, the API's health check, the app's page, HTTP to HTTPS"
  check_swarm_rate_limits
}

check_swarm_rate_limits() {
  local redis_id status
  status="$(swarm_curl -sk --max-time 10 --resolve "$SWARM_DOMAIN:$SWARM_HTTPS_PORT:$SWARM_ADDRESS" \
    -o /dev/null -w '%{http_code}' -d 'username=nobody@example.com&password=wrong-password' \
    "https://$SWARM_DOMAIN:$SWARM_HTTPS_PORT/api/v1/login/access-token")"
  redis_id="$(docker ps -q --filter "label=com.docker.swarm.service.name=${SWARM_STACK}_redis" | head -n 1)"
  if [[ "$status" != 401 ]]; then
    fail "Swarm: a wrong login answered $status, not 401"
  elif [[ -z "$redis_id" || -z "$(rate_limit_counters "$redis_id")" ]]; then
    fail "Swarm: no rate-limit counter in Redis after a login"
  else
    log "Swarm: rate limits counted in Redis"
  fi
}

swarm_sql() {
  psql_in "$(docker ps -q --filter "label=com.docker.swarm.service.name=${SWARM_STACK}_db" | head -n 1)" "$1"
}

check_swarm_stack() {
  local phase=$SECONDS
  log "compose/stack.yaml on a one-node Swarm, behind the cluster's Traefik"
  ensure_venv >/dev/null
  SWARM_ADDRESS="$(engine_address)"
  prepare_swarm
  deploy_swarm_stacks
  if wait_for_swarm_stacks; then
    log "Swarm: every service running in $((SECONDS - phase))s"
    check_swarm_routes
    check_prometheus_targets \
      "$(docker ps -q --filter "label=com.docker.swarm.service.name=${SWARM_STACK}_prometheus" | head -n 1)" \
      "Swarm"
    check_backup_round_trip "Swarm" swarm_sql BACKUP_TARGET=swarm STACK_NAME="$SWARM_STACK"
  fi
  remove_swarm_stack
  log "Swarm test done in $((SECONDS - phase))s"
}

# Everything the Swarm test made, in reverse; each step whatever the others did.
remove_swarm_stack() {
  local stack name label started=$SECONDS deadline=$((SECONDS + 10))
  [[ -n "$SWARM_NODE" ]] || return 0
  log "removing the Swarm test's stacks"
  docker stack rm "$SWARM_STACK" "$SWARM_TRAEFIK_STACK" >/dev/null 2>&1 || true
  # Volumes and networks go once the containers are gone. A worker whose Redis
  # stopped first waits for it up to its grace period (2 minutes): the
  # containers still there after a few seconds are removed by force.
  for stack in "$SWARM_STACK" "$SWARM_TRAEFIK_STACK"; do
    while [[ -n "$(docker ps -q --filter "label=com.docker.stack.namespace=$stack")" ]] &&
      ((SECONDS < deadline)); do
      sleep 1
    done
    docker ps -aq --filter "label=com.docker.stack.namespace=$stack" |
      xargs -r docker rm --force --volumes >/dev/null 2>&1 || true
    docker volume ls -q --filter "label=com.docker.stack.namespace=$stack" |
      xargs -r docker volume rm >/dev/null 2>&1 || true
    docker network ls -q --filter "label=com.docker.stack.namespace=$stack" |
      xargs -r docker network rm >/dev/null 2>&1 || true
  done
  for name in "${SWARM_SECRETS[@]}"; do
    docker secret rm "${SWARM_STACK}_$name" >/dev/null 2>&1 || true
  done
  if ((SWARM_NETWORK_CREATED)); then
    docker network rm "$SWARM_NETWORK" >/dev/null 2>&1 || true
  fi
  for label in "${SWARM_NODE_LABELS[@]}"; do
    docker node update --label-rm "$label" "$SWARM_NODE" >/dev/null 2>&1 || true
  done
  if ((SWARM_INITIALISED)); then
    docker swarm leave --force >/dev/null 2>&1 || true
    # The bridge of the host-mode ports, which the Swarm leaves behind.
    docker network rm docker_gwbridge >/dev/null 2>&1 || true
  fi
  [[ -z "$SWARM_DIR" ]] || rm -rf "$SWARM_DIR"
  SWARM_NODE=""
  log "removed in $((SECONDS - started))s"
}

main() {
  local started=$SECONDS phase
  local -a services
  # curl: the Swarm checks; python3 and git: the virtualenvs and the images' tag.
  require_commands curl python3 git
  load_dotenv
  ensure_docker_engine
  trap cleanup EXIT
  ensure_base_images
  build_app_images "${TAG:=latest}"
  export TAG
  export_test_settings
  COMPOSE=(docker compose --project-directory "$ROOT_DIR"
    -f "$ROOT_DIR/compose/compose.yaml" -f "$ROOT_DIR/compose/compose.test.yaml")
  # Leftovers of an interrupted run would be reused with other passwords.
  "${COMPOSE[@]}" down --volumes --remove-orphans --timeout 10 >/dev/null 2>&1 || true

  phase=$SECONDS
  log "compose build (the test image too)"
  mkdir -p "$BUILD_LOG_DIR"
  if ! "${COMPOSE[@]}" build >"$BUILD_LOG_DIR/compose-test.log" 2>&1; then
    tail -n 40 "$BUILD_LOG_DIR/compose-test.log" >&2
    die "compose build failed (log: ${BUILD_LOG_DIR#"$ROOT_DIR"/}/compose-test.log)"
  fi
  log "built in $((SECONDS - phase))s"

  phase=$SECONDS
  log "the stack up, every service healthy"
  mapfile -t services < <("${COMPOSE[@]}" config --services | grep -vx backend-tests)
  if ! "${COMPOSE[@]}" up --detach --wait --wait-timeout "$HEALTH_TIMEOUT" "${services[@]}"; then
    "${COMPOSE[@]}" ps >&2 || true
    "${COMPOSE[@]}" logs --no-color --tail 50 >&2 || true
    die "the stack did not come up healthy"
  fi
  log "up in $((SECONDS - phase))s"

  phase=$SECONDS
  log "the live API suite against the stack, through Traefik"
  if ! "${COMPOSE[@]}" run --rm backend-tests; then
    fail "the live API suite"
    "${COMPOSE[@]}" logs --no-color --tail 50 >&2 || true
  fi
  log "suite run in $((SECONDS - phase))s"

  check_through_proxy
  check_compose_backups
  check_rate_limits_in_redis
  check_health
  check_non_root
  check_prometheus_targets "$(containers_of prometheus | head -n 1)" "compose"
  check_worker_images

  if ((${#FAILURES[@]})); then
    "${COMPOSE[@]}" ps >&2 || true
  fi
  # Its resources are the Swarm's now.
  remove_compose_stack
  check_swarm_stack

  if ((${#FAILURES[@]})); then
    die "test-docker: ${#FAILURES[@]} check(s) failed: ${FAILURES[*]}"
  fi
  log "test-docker passed in $((SECONDS - started))s"
}

main "$@"
