#!/usr/bin/env bash
# `migrate.sh up` upgrades the schema; `migrate.sh new "message"` writes a new
# revision by comparing the models with the database.
set -Eeuo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

main() {
  local action="${1:-up}"
  load_dotenv
  ensure_venv
  cd "$ROOT_DIR/backend"
  case "$action" in
    up) python -m app migrate ;;
    new)
      [[ -n "${2:-}" ]] || die 'give a message: make migration MSG="add a column"'
      python -m app migrate
      alembic revision --autogenerate -m "$2"
      ;;
    *) die "unknown action: $action (up or new)" ;;
  esac
}

main "$@"
