#!/usr/bin/env bash
# The whole system for the browser tests, run natively as `make dev` runs it
# but on throwaway state: the built frontend (vite preview), the API (granian),
# the worker (from its Flask-free environment), each further worker module
# (worker-<name>/, from its own environment, as in its image), the mail sink
# a real OpenID provider (oidc-provider, backend/tests/sso/provider) that the API
# offers single sign-on with, and Traefik in front, with a fresh SQLite database
# and broker folder that are removed when it stops.
#
# A second API process on the same database issues access tokens that last one
# minute (the shortest the settings allow) and keeps the rate limits on, behind
# its own Traefik entry point: the test of the silent refresh waits for a real
# expiry there, and the test of a rate-limited login meets the real limit.
#
# Playwright starts it (frontend/playwright.config.ts, webServer), on the ports
# the config picked, and stops it with SIGTERM. Traefik starts last, once every
# other service answers, so its routed health check answering means the whole
# system is ready. Each service's log goes to E2E_LOG_DIR (default
# frontend/test-results/services/).
#
# Environment: HTTP_PORT, SHORT_HTTP_PORT (Traefik's two entry points), API_PORT,
# SHORT_API_PORT, FRONTEND_PORT, SMTP_PORT, MAIL_WEB_PORT, SSO_PROVIDER_PORT,
# FIRST_SUPERUSER and
# FIRST_SUPERUSER_PASSWORD (the account the tests log in with).
set -Eeuo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Set by frontend/playwright.config.ts (run npx playwright test, or scripts/e2e.sh).
: "${HTTP_PORT:?}" "${SHORT_HTTP_PORT:?}" "${API_PORT:?}" "${SHORT_API_PORT:?}"
: "${FRONTEND_PORT:?}" "${SMTP_PORT:?}" "${MAIL_WEB_PORT:?}" "${SSO_PROVIDER_PORT:?}"
: "${FIRST_SUPERUSER:?}" "${FIRST_SUPERUSER_PASSWORD:?}"

FRONTEND_DIR="$ROOT_DIR/frontend"
SERVICE_LOGS="${E2E_LOG_DIR:-$FRONTEND_DIR/test-results/services}"
STATE_DIR=""
# Each process started, by name: its process id, also its process group's.
declare -A PGID_OF=()

# Start a service in its own process group (so that stopping it reaches its
# children too), its output in SERVICE_LOGS/NAME.log: `start NAME DIR CMD...`.
start() {
  local name="$1" dir="$2"
  shift 2
  (cd "$dir" && exec setsid "$@") >"$SERVICE_LOGS/$name.log" 2>&1 &
  PGID_OF[$name]=$!
}

# Wait until URL answers 200, failing early when the service's process exits.
wait_for_url() {
  local name="$1" url="$2" timeout="${3:-60}" deadline
  deadline=$((SECONDS + timeout))
  until curl --noproxy '*' -fsS -o /dev/null --max-time 5 "$url" 2>/dev/null; do
    kill -0 "${PGID_OF[$name]}" 2>/dev/null || fail_service "$name" "it stopped"
    ((SECONDS < deadline)) || fail_service "$name" "$url did not answer within $timeout s"
    sleep 0.2
  done
}

# Wait until the service's log contains TEXT.
wait_for_log() {
  local name="$1" text="$2" timeout="${3:-60}" deadline
  deadline=$((SECONDS + timeout))
  until grep -qF "$text" "$SERVICE_LOGS/$name.log"; do
    kill -0 "${PGID_OF[$name]}" 2>/dev/null || fail_service "$name" "it stopped"
    ((SECONDS < deadline)) || fail_service "$name" "no \"$text\" within $timeout s"
    sleep 0.2
  done
}

fail_service() {
  local name="$1" why="$2"
  printf '\n--- last lines of %s\n' "$SERVICE_LOGS/$name.log" >&2
  tail -n 30 "$SERVICE_LOGS/$name.log" >&2 || true
  die "$name did not start: $why"
}

# shellcheck disable=SC2329  # run by cleanup
# Stop everything started: TERM to each process (which stops its own children),
# then KILL to whatever is left of each process group after 15 s.
stop_all() {
  local pid deadline alive
  ((${#PGID_OF[@]})) || return 0
  for pid in "${PGID_OF[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  deadline=$((SECONDS + 15))
  while ((SECONDS < deadline)); do
    alive=0
    for pid in "${PGID_OF[@]}"; do
      kill -0 -- "-$pid" 2>/dev/null && alive=1
    done
    ((alive)) || break
    sleep 0.2
  done
  for pid in "${PGID_OF[@]}"; do
    kill -KILL -- "-$pid" 2>/dev/null || true
  done
  wait 2>/dev/null || true
  PGID_OF=()
}

# shellcheck disable=SC2329  # run by the EXIT trap
cleanup() {
  stop_all
  if [[ -n "$STATE_DIR" ]]; then
    rm -rf "$STATE_DIR"
  fi
}

write_proxy_routes() {
  local file="$1"
  cat >"$file" <<YAML
# /api to the API, everything else to the frontend; the same frontend again
# on the "short" entry point, in front of the one-minute-token API.
http:
  routers:
    api:
      rule: "PathPrefix(\`/api/\`)"
      entryPoints: [web]
      service: api
    api-short-token:
      rule: "PathPrefix(\`/api/\`)"
      entryPoints: [short]
      service: api-short-token
    frontend:
      rule: "PathPrefix(\`/\`)"
      entryPoints: [web, short]
      priority: 1
      service: frontend
  services:
    api:
      loadBalancer:
        servers:
          - url: "http://127.0.0.1:$API_PORT"
    api-short-token:
      loadBalancer:
        servers:
          - url: "http://127.0.0.1:$SHORT_API_PORT"
    frontend:
      loadBalancer:
        servers:
          - url: "http://127.0.0.1:$FRONTEND_PORT"
YAML
}

# The settings every process shares: nothing from .env or the caller's broker,
# mail server or rate-limit store leaks in.
export_settings() {
  unset CELERY_BROKER_URL REDIS_URL RATE_LIMIT_STORAGE_URL SMTP_USER SMTP_PASSWORD SMTP_SSL \
    BACKEND_CORS_ORIGINS ACCESS_TOKEN_EXPIRE_MINUTES WEB_CONCURRENCY WEB_THREADS
  export ENV_FILE=/dev/null ENVIRONMENT=local LOG_LEVEL=INFO
  export DATABASE_URL="sqlite:///$STATE_DIR/app.db"
  export BROKER_DATA_DIR="$STATE_DIR/broker"
  SECRET_KEY="$(random_secret 48)"
  export SECRET_KEY FIRST_SUPERUSER FIRST_SUPERUSER_PASSWORD
  export USERS_OPEN_REGISTRATION=true
  export RATE_LIMIT_ENABLED=false  # the tests log in many times a minute
  export EMAIL_BACKEND=smtp SMTP_HOST=127.0.0.1 SMTP_PORT SMTP_TLS=false
  export MAIL_SINK_SMTP_PORT="$SMTP_PORT" MAIL_SINK_WEB_PORT="$MAIL_WEB_PORT"
  export MAIL_SINK_DIR="$STATE_DIR/mail"
  export FRONTEND_HOST="http://localhost:$HTTP_PORT"
  export PROXY_COUNT=1
  # Single sign-on with the test provider: its users' group "staff" is the local
  # group "SSO Staff" (e2e/sso.spec.ts).
  SSO_CLIENT_SECRET="$(random_secret 24)"
  export SSO_PROVIDERS="[{\"name\": \"test-idp\", \"title\": \"Test IdP\",
    \"issuer\": \"http://127.0.0.1:$SSO_PROVIDER_PORT\", \"client_id\": \"app\",
    \"client_secret\": \"$SSO_CLIENT_SECRET\", \"scopes\": [\"openid\", \"email\", \"groups\"],
    \"groups_claim\": \"groups\", \"group_mapping\": {\"staff\": \"SSO Staff\"},
    \"create_users\": true, \"allowed_domains\": [\"example.com\"]}]"
}

start_services() {
  local backend="$ROOT_DIR/backend" module
  log "preparing a fresh database in $STATE_DIR"
  (cd "$backend" && python -m app prestart) >"$SERVICE_LOGS/prestart.log" 2>&1 ||
    fail_service prestart "python -m app prestart failed"

  log "starting the services"
  start frontend "$FRONTEND_DIR" node_modules/.bin/vite preview --host 127.0.0.1 \
    --port "$FRONTEND_PORT" --strictPort
  start api "$backend" env WEB_CONCURRENCY=2 python -m app.web.server --host 127.0.0.1 \
    --port "$API_PORT"
  # One process, so the rate limits' in-memory counters are the whole truth.
  start api-short-token "$backend" env WEB_CONCURRENCY=1 ACCESS_TOKEN_EXPIRE_MINUTES=1 \
    RATE_LIMIT_ENABLED=true \
    FRONTEND_HOST="http://localhost:$SHORT_HTTP_PORT" python -m app.web.server \
    --host 127.0.0.1 --port "$SHORT_API_PORT"
  start worker "$STATE_DIR" "$WORKER_VENV_DIR/bin/celery" -A worker.main worker --loglevel=INFO \
    --concurrency=2
  for module in $(worker_modules); do
    start "worker-$module" "$STATE_DIR" "$ROOT_DIR/.venv-$module/bin/celery" \
      -A "worker_${module//-/_}.main" worker -n "$module@%h" --loglevel=INFO --concurrency=1
  done
  start mail "$STATE_DIR" python -m app.devtools.mailsink
  start sso-provider "$ROOT_DIR/backend/tests/sso/provider" env \
    SSO_TEST_PORT="$SSO_PROVIDER_PORT" SSO_TEST_CLIENT_SECRET="$SSO_CLIENT_SECRET" \
    SSO_TEST_REDIRECT_URIS="$FRONTEND_HOST/api/v1/login/sso/test-idp/callback" node provider.js

  wait_for_url frontend "http://127.0.0.1:$FRONTEND_PORT/"
  wait_for_url api "http://127.0.0.1:$API_PORT/api/v1/utils/health-check/"
  wait_for_url api-short-token "http://127.0.0.1:$SHORT_API_PORT/api/v1/utils/health-check/"
  wait_for_url mail "http://127.0.0.1:$MAIL_WEB_PORT/"
  wait_for_url sso-provider "http://127.0.0.1:$SSO_PROVIDER_PORT/.well-known/openid-configuration"
  wait_for_log worker "worker ready"
  for module in $(worker_modules); do
    wait_for_log "worker-$module" "worker ready"
  done

  write_proxy_routes "$STATE_DIR/routes.yml"
  start proxy "$STATE_DIR" traefik --global.checkNewVersion=false \
    --global.sendAnonymousUsage=false --log.level=WARN \
    --entryPoints.web.address="127.0.0.1:$HTTP_PORT" \
    --entryPoints.web.transport.lifeCycle.graceTimeOut=1s \
    --entryPoints.short.address="127.0.0.1:$SHORT_HTTP_PORT" \
    --entryPoints.short.transport.lifeCycle.graceTimeOut=1s \
    --providers.file.filename="$STATE_DIR/routes.yml"
  # Routes load shortly after Traefik listens: wait on routed addresses.
  wait_for_url proxy "http://127.0.0.1:$HTTP_PORT/login"
  wait_for_url proxy "http://127.0.0.1:$SHORT_HTTP_PORT/api/v1/utils/health-check/"
  wait_for_url proxy "http://127.0.0.1:$SHORT_HTTP_PORT/login"
}

main() {
  local started=$SECONDS
  # Each a no-op when already in line with uv.lock.
  ensure_venv
  ensure_worker_venv
  ensure_module_venvs
  ensure_sso_test_provider

  rm -rf "$SERVICE_LOGS"
  mkdir -p "$SERVICE_LOGS"
  STATE_DIR="$(mktemp -d "${TMPDIR:-/tmp}/e2e.XXXXXX")"
  trap cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM

  log "building the frontend"
  (cd "$FRONTEND_DIR" && npm run --silent build) >"$SERVICE_LOGS/build.log" 2>&1 ||
    fail_service build "npm run build failed"
  export_settings
  start_services
  log "services ready after $((SECONDS - started)) s; their logs in ${SERVICE_LOGS#"$ROOT_DIR"/}"
  # Until Playwright stops it (SIGTERM), or a service stops on its own.
  wait -n "${PGID_OF[@]}" || true
  die "a service stopped while the tests ran: see ${SERVICE_LOGS#"$ROOT_DIR"/}"
}

main "$@"
