#!/usr/bin/env bash
# Fail when the checked-in spec or generated client is stale: export the spec
# and generate the client into a temporary folder, then compare both with the
# checked-in files. Fix a failure with `npm run generate-client`. Then lint the
# document with Redocly CLI (redocly.yaml).
set -Eeuo pipefail

FRONTEND_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

main() {
  cd "$FRONTEND_DIR"
  local tmp
  tmp="$(mktemp -d)"
  # shellcheck disable=SC2064  # expand now: tmp is local
  trap "rm -rf '$tmp'" EXIT

  bash scripts/export-spec.sh "$tmp/openapi.json"
  if ! diff -u openapi/openapi.json "$tmp/openapi.json" >"$tmp/spec.diff"; then
    head -n 60 "$tmp/spec.diff" >&2
    echo "check-client: openapi/openapi.json differs from the backend's spec; run 'npm run generate-client'" >&2
    exit 1
  fi

  OPENAPI_INPUT="$tmp/openapi.json" OPENAPI_OUTPUT="$tmp/client" \
    npx --no-install openapi-ts --file openapi-ts.config.ts >/dev/null
  if ! diff -ru src/client "$tmp/client" >"$tmp/client.diff"; then
    head -n 60 "$tmp/client.diff" >&2
    echo "check-client: src/client differs from what the generator writes; run 'npm run generate-client' (never edit it by hand)" >&2
    exit 1
  fi
  echo "check-client: openapi/openapi.json and src/client are up to date"
  # The document itself, by Redocly's rules (redocly.yaml): errors fail, warnings show.
  npx --no-install redocly lint --config redocly.yaml --format=stylish openapi/openapi.json
}

main "$@"
