#!/usr/bin/env bash
# Run the API alone with the production server: migrate, create the first
# superuser, then serve on API_PORT (default 8001).
set -Eeuo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

main() {
  load_dotenv
  ensure_venv
  cd "$ROOT_DIR/backend"
  python -m app prestart
  local port="${API_PORT:-8001}"
  log "API on http://localhost:$port/api/v1 - docs at http://localhost:$port/api/docs"
  exec python -m app.web.server --port "$port"
}

main "$@"
