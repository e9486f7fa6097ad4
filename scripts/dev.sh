#!/usr/bin/env bash
# `make dev` in native mode: the API (reloading on change), the worker with its
# scheduler (restarting on change) and the mail sink, in the foreground.
# Ctrl-C stops them all. Defaults: SQLite and the embedded broker.
set -Eeuo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

banner() {
  local port="$1" mail_web="$2"
  cat >&2 <<BANNER

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
  export API_PORT="${API_PORT:-8001}"
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
  banner "$API_PORT" "$MAIL_SINK_WEB_PORT"
  exec honcho --procfile "$ROOT_DIR/scripts/Procfile.dev" --app-root "$ROOT_DIR/backend" start
}

main "$@"
