#!/usr/bin/env bash
# Export the backend's spec to openapi/swagger.json, then generate the typed
# client in src/client/ from it. The generated files are never edited by hand.
set -Eeuo pipefail

FRONTEND_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

main() {
  cd "$FRONTEND_DIR"
  if [[ "${1:-}" != "--no-export" ]]; then
    bash scripts/export-spec.sh openapi/swagger.json
  fi
  OPENAPI_INPUT=openapi/swagger.json OPENAPI_OUTPUT=src/client \
    npx --no-install openapi-ts --file openapi-ts.config.ts
}

main "$@"
