#!/usr/bin/env bash
# Write the backend's OpenAPI 3.1 document to a file, without a server
# (python -m app.web.api.export: the app built in-process, settings from there only).
# Usage: scripts/export-spec.sh [OUTPUT]   (default: openapi/openapi.json)
set -Eeuo pipefail

FRONTEND_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ROOT="$(cd "$FRONTEND_DIR/.." && pwd)"

main() {
  local output="${1:-$FRONTEND_DIR/openapi/openapi.json}"
  local python="$ROOT/.venv/bin/python"
  if [[ ! -x "$python" ]]; then
    echo "export-spec: $python not found; run 'make install' at the repository root first" >&2
    exit 1
  fi
  mkdir -p "$(dirname "$output")"
  output="$(cd "$(dirname "$output")" && pwd)/$(basename "$output")"
  local tmp
  tmp="$(mktemp)"
  (cd "$ROOT/backend" && ENV_FILE=/dev/null "$python" -m app.web.api.export "$tmp")
  mv "$tmp" "$output"
  echo "export-spec: wrote $output" >&2
}

main "$@"
