#!/usr/bin/env bash
# `shell.sh`: a Python shell with the app, a session and the models loaded
# (IPython when installed). `shell.sh kernel`: install IPython and ipykernel
# (the `notebook` extra), then register a Jupyter kernel on .venv that starts
# with the same names, for JupyterLab, Notebook or an editor.
set -Eeuo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

main() {
  local task="${1:-shell}"
  load_dotenv
  ensure_venv
  cd "$ROOT_DIR/backend"
  case "$task" in
    shell) exec python -m app.shell ;;
    kernel)
      ensure_notebook
      python -m app.shell --install-kernel --kernel-name "${STACK_NAME:-app}"
      ;;
    *) die "unknown task: $task (shell or kernel)" ;;
  esac
}

main "$@"
