#!/usr/bin/env bash
# `make dev` in native mode, in the foreground: Traefik on HTTP_PORT routing
# /api to the API (reloading on change) and the rest to the frontend's dev
# server (hot reload), the worker with its scheduler (restarting on change) and
# the mail sink. Ctrl-C stops them all. Defaults: SQLite and the embedded broker.
set -Eeuo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

banner() {
  local port="$1" mail_web="$2"
  cat >&2 <<BANNER

  App            http://localhost:$port/
  API            http://localhost:$port/api/v1/
  API docs       http://localhost:$port/api/docs
  Mail sink      http://localhost:$mail_web/
  Broker         ${CELERY_BROKER_URL:-${REDIS_URL:-embedded (files in backend/data/broker)}}
  Superuser      ${FIRST_SUPERUSER:-admin@example.com}

BANNER
}

main() {
  load_dotenv
  ensure_venv
  export HTTP_PORT="${HTTP_PORT:-8000}"
  export API_PORT="${API_PORT:-8001}"
  export FRONTEND_PORT="${FRONTEND_PORT:-5173}"
  # The API sits behind the proxy: trust its X-Forwarded-* headers.
  export PROXY_COUNT="${PROXY_COUNT:-1}"
  export FRONTEND_HOST="${FRONTEND_HOST:-http://localhost:$HTTP_PORT}"
  export MAIL_SINK_SMTP_PORT="${MAIL_SINK_SMTP_PORT:-1025}"
  export MAIL_SINK_WEB_PORT="${MAIL_SINK_WEB_PORT:-8025}"
  export BEAT_SCHEDULE_FILE="$ROOT_DIR/backend/data/celerybeat-schedule"
  # Unless a real mail server is configured, every email goes to the sink.
  if [[ -z "${SMTP_HOST:-}" ]]; then
    export EMAIL_BACKEND=smtp SMTP_HOST=127.0.0.1 SMTP_PORT="$MAIL_SINK_SMTP_PORT" SMTP_TLS=false
  fi
  cd "$ROOT_DIR/backend"
  mkdir -p data
  python -m app prestart
  banner "$HTTP_PORT" "$MAIL_SINK_WEB_PORT"
  exec honcho --procfile "$ROOT_DIR/scripts/Procfile.dev" --app-root "$ROOT_DIR/backend" start
}

main "$@"
