#!/usr/bin/env bash
# Run one background process in the foreground: `worker.sh worker|beat|flower`.
set -Eeuo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

main() {
  local what="${1:-worker}"
  load_dotenv
  ensure_venv
  cd "$ROOT_DIR/backend"
  mkdir -p data
  case "$what" in
    worker)
      exec celery -A worker.main worker --loglevel=INFO
      ;;
    beat)
      exec celery -A worker.main beat --loglevel=INFO --schedule data/celerybeat-schedule
      ;;
    flower)
      [[ -n "${FLOWER_BASIC_AUTH:-}" ]] ||
        die "set FLOWER_BASIC_AUTH=user:password (in .env): Flower never runs without a login"
      log "Flower on http://localhost:${FLOWER_PORT:-5555}/"
      exec celery -A worker.main flower --port="${FLOWER_PORT:-5555}" \
        --basic-auth="$FLOWER_BASIC_AUTH"
      ;;
    *) die "unknown process: $what (worker, beat or flower)" ;;
  esac
}

main "$@"
