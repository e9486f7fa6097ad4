#!/usr/bin/env bash
# Write the backend's OpenAPI (Swagger 2.0) spec to a file, without a server:
# the Flask app is built in-process on an in-memory SQLite database.
# Usage: scripts/export-spec.sh [OUTPUT]   (default: openapi/swagger.json)
set -Eeuo pipefail

FRONTEND_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ROOT="$(cd "$FRONTEND_DIR/.." && pwd)"

main() {
  local output="${1:-$FRONTEND_DIR/openapi/swagger.json}"
  local python="$ROOT/.venv/bin/python"
  if [[ ! -x "$python" ]]; then
    echo "export-spec: $python not found; run 'make install' at the repository root first" >&2
    exit 1
  fi
  mkdir -p "$(dirname "$output")"
  local tmp
  tmp="$(mktemp)"
  # Settings come only from here (no .env, no environment database), so the
  # spec is the same on every machine.
  (
    cd "$ROOT/backend"
    ENV_FILE=/dev/null "$python" - <<'PY'
import json

from app.core.config import Settings
from app.web import create_app

app = create_app(Settings(_env_file=None, DATABASE_URL="sqlite://"))
response = app.test_client().get("/api/v1/swagger.json")
if response.status_code != 200:
    raise SystemExit(f"swagger.json answered {response.status_code}")
print(json.dumps(response.get_json(), indent=2, sort_keys=True))
PY
  ) >"$tmp"
  mv "$tmp" "$output"
  echo "export-spec: wrote $output" >&2
}

main "$@"
