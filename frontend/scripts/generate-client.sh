#!/usr/bin/env bash
# Export the backend's OpenAPI 3.1 document to openapi/openapi.json, then generate the typed
# client in src/client/ from it. The generated files are never edited by hand.
set -Eeuo pipefail

FRONTEND_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

main() {
  cd "$FRONTEND_DIR"
  if [[ "${1:-}" != "--no-export" ]]; then
    bash scripts/export-spec.sh openapi/openapi.json
  fi
  OPENAPI_INPUT=openapi/openapi.json OPENAPI_OUTPUT=src/client \
    npx --no-install openapi-ts --file openapi-ts.config.ts
}

main "$@"
