#!/usr/bin/env bash
# The checks of .pre-commit-config.yaml that need more than one command: each
# runs from the right folder with the project's own tools.
#   scripts/hooks.sh uv-lock|mypy|import-linter|ansible-lint|eslint|api-client
set -Eeuo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

main() {
  local check="${1:-}"
  case "$check" in
    uv-lock)
      ensure_uv
      (cd "$ROOT_DIR" && "$UV" lock --check --quiet) ||
        die "uv.lock is stale: run make lock and commit it"
      ;;
    mypy)
      (cd "$ROOT_DIR/backend" && "$VENV_DIR/bin/mypy" app)
      (cd "$ROOT_DIR/worker" && "$VENV_DIR/bin/mypy" worker)
      # Each further module against its own environment's libraries.
      ensure_module_venvs
      local name
      for name in $(worker_modules); do
        (cd "$ROOT_DIR/worker-$name" && "$VENV_DIR/bin/mypy" \
          --python-executable "$ROOT_DIR/.venv-$name/bin/python" "worker_${name//-/_}" tests)
      done
      (cd "$ROOT_DIR/tools" && MYPYPATH=../backend "$VENV_DIR/bin/mypy" --config-file ../backend/pyproject.toml .)
      (cd "$ROOT_DIR/ansible" && "$VENV_DIR/bin/mypy" --strict tests roles/app_stack/files)
      ;;
    import-linter) (cd "$ROOT_DIR/backend" && "$VENV_DIR/bin/lint-imports") ;;
    ansible-lint)
      ensure_ansible_venv
      (cd "$ROOT_DIR/ansible" && PATH="$ANSIBLE_VENV_DIR/bin:$PATH" ansible-lint -q)
      ;;
    eslint) "$ROOT_DIR/scripts/frontend.sh" lint ;;
    api-client) "$ROOT_DIR/scripts/frontend.sh" check-client ;;
    *) die "unknown check: $check (uv-lock, mypy, import-linter, ansible-lint, eslint, api-client)" ;;
  esac
}

main "$@"
