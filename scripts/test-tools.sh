#!/usr/bin/env bash
# The tools tier: the backend suite's tests marked `tools`, which run one of
# the project's tools end to end in a copy of the project or on free ports:
# make dev from start to Ctrl-C, make new-project, make new-worker, make
# update-from-upstream and the docs' walkthrough of adding a resource (on every
# database the suite runs on). Minutes of subprocesses that exercise the
# tooling, not the app: make test leaves them out, CI runs them (.ci/run).
# Arguments go to pytest.
set -Eeuo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

main() {
  ensure_venv
  ensure_worker_venv
  ensure_module_venvs
  # make dev and the walkthrough's page need the frontend's packages.
  "$ROOT_DIR/scripts/frontend.sh" install
  cd "$ROOT_DIR/backend"
  log "the tools tier (tests marked tools)"
  ENV_FILE=/dev/null python -m pytest -p no:cacheprovider -m tools "$@"
}

main "$@"
