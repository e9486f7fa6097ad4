#!/usr/bin/env bash
# `make test-docker`: the images and the compose files, for real. On a Docker
# engine (DOCKER_HOST, the default socket, else a private one started here):
#   - builds the stand-in base images for the official ones absent here, then the
#     backend, worker and frontend images (scripts/images.sh);
#   - runs the live API suite (backend/tests/live) in its container against the
#     whole stack of compose.yaml + compose.test.yaml, through Traefik;
#   - while that stack is up: a job goes through Redis to the worker and back,
#     the frontend answers through Traefik, every container with a healthcheck
#     is healthy, the app's containers run as a user other than root, and the
#     worker's image has no Flask;
#   - removes the stack and its volumes (`down -v`), whatever happened.
# The private engine stays up for the next run (`make docker-stop` stops it),
# except under CI. KEEP_STACK=1 leaves the test stack up for a look.
set -Eeuo pipefail
# shellcheck source=scripts/images.sh
source "$(dirname "${BASH_SOURCE[0]}")/images.sh"

HEALTH_TIMEOUT="${HEALTH_TIMEOUT:-120}"
# The services whose processes must not run as root.
NON_ROOT_SERVICES=(backend worker beat flower)
COMPOSE=()
FAILURES=()

random_secret() {
  python3 -c 'import secrets; print(secrets.token_urlsafe(32))'
}

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

cleanup() {
  local status=$?
  if ((${#COMPOSE[@]})); then
    if [[ "${KEEP_STACK:-0}" == 1 ]]; then
      log "the test stack stays up (KEEP_STACK=1): ${COMPOSE[*]} down -v"
    else
      log "removing the test stack"
      "${COMPOSE[@]}" down --volumes --remove-orphans --timeout 10 >/dev/null 2>&1 || true
    fi
  fi
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

# The worker's image holds the Flask-free core: importing Flask fails there
# (while Celery's app imports, or the failure would prove nothing).
check_worker_without_flask() {
  local image="${WORKER_IMAGE:-app-worker}:${TAG:-latest}" output
  if output="$(docker run --rm --network none --entrypoint python "$image" -c 'import flask' 2>&1)"; then
    fail "the worker's image imports Flask"
  elif [[ "$output" != *"No module named 'flask'"* ]]; then
    fail "importing Flask in the worker's image failed otherwise: $output"
  elif ! docker run --rm --network none --entrypoint python -e CELERY_BROKER_URL=memory:// \
    "$image" -c 'import worker.main' >/dev/null; then
    fail "the worker's Celery app does not import in its image"
  else
    log "the worker's image: Celery's app imports, Flask does not"
  fi
}

# Through Traefik, from inside the stack's network: the single-page app at /,
# and a job that the API queues in Redis, the worker runs and records.
check_through_proxy() {
  local script
  script="$(
    cat <<'PY'
import os, time, requests
base = "http://proxy"
page = requests.get(base + "/", timeout=10)
assert page.status_code == 200 and "<div id=\"app\"" in page.text, (page.status_code, page.text[:200])
token = requests.post(
    base + "/api/v1/login/access-token",
    data={"username": os.environ["FIRST_SUPERUSER"], "password": os.environ["FIRST_SUPERUSER_PASSWORD"]},
    timeout=10,
).json()["access_token"]
headers = {"Authorization": f"Bearer {token}"}
created = requests.post(base + "/api/v1/jobs/", json={"kind": "demo"}, headers=headers, timeout=10)
assert created.status_code == 202, (created.status_code, created.text)
job_id = created.json()["id"]
deadline = time.monotonic() + 60
while time.monotonic() < deadline:
    job = requests.get(f"{base}/api/v1/jobs/{job_id}", headers=headers, timeout=10).json()
    if job["state"] in ("succeeded", "failed"):
        break
    time.sleep(0.5)
assert job["state"] == "succeeded", job
print(f"job {job_id} {job['state']}")
PY
  )"
  if "${COMPOSE[@]}" run --rm --no-deps --entrypoint python backend-tests -c "$script"; then
    log "through Traefik: the frontend at /, and a job run by the worker"
  else
    fail "the frontend or a job through Traefik"
  fi
}

main() {
  local started=$SECONDS phase
  local -a services
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
  check_health
  check_non_root
  check_worker_without_flask

  if ((${#FAILURES[@]})); then
    "${COMPOSE[@]}" ps >&2 || true
    die "test-docker: ${#FAILURES[@]} check(s) failed: ${FAILURES[*]}"
  fi
  log "test-docker passed in $((SECONDS - started))s"
}

main "$@"
