#!/usr/bin/env bash
# make provision / make deploy: the Ansible side of production (ansible/,
# docs/deployment.md).
#
#   scripts/deploy.sh provision [ANSIBLE_ARGS...]   bare servers to a Swarm with Traefik (site.yml)
#   scripts/deploy.sh deploy [ANSIBLE_ARGS...]      build and push the images tagged with the
#                                                   commit, then deploy DOMAIN's stack (deploy.yml)
#   scripts/deploy.sh vault ARGS...                 ansible-vault (encrypt FILE, edit FILE, ...)
#
# Settings, from the environment (make's variables), .env or project.env:
#   INVENTORY    the inventory (default ansible/inventories/production)
#   DOMAIN       the site to deploy, one of the inventory's app_sites (deploy;
#                default: project.env's)
#   REGISTRY     where the images are pushed and the nodes pull them from
#                (default: the inventory's app_stack_registry)
#   TAG          the images' tag (default: the commit, with -dirty for local changes)
#   BUILD=0      deploy the images already pushed as TAG, without building (a rollback)
#   STACK_NAME   the stack's name, from the environment only (default: the domain
#                with dots as dashes; project.env's names the compose project)
#   REGISTRY_USER, REGISTRY_PASSWORD
#                the manager's login to REGISTRY, forwarded to the nodes that pull
#                (a read-only token; unset: the manager's own login, if any)
# Further arguments go to ansible-playbook (e.g. --ask-vault-pass, --check).
set -Eeuo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

inventory() {
  local inventory="${INVENTORY:-ansible/inventories/production}"
  [[ "$inventory" == /* ]] || inventory="$ROOT_DIR/$inventory"
  [[ -e "$inventory" ]] ||
    die "no inventory at $inventory: copy ansible/inventories/example there (docs/deployment.md), or set INVENTORY"
  printf '%s\n' "$inventory"
}

playbook() {
  ensure_ansible_venv
  (cd "$ROOT_DIR/ansible" && "$ANSIBLE_VENV_DIR/bin/ansible-playbook" "$@")
}

# The commit, marked when the work tree differs from it.
default_tag() {
  local tag
  tag="$(git -C "$ROOT_DIR" rev-parse --short=12 HEAD)"
  if [[ -n "$(git -C "$ROOT_DIR" status --porcelain --untracked-files=no)" ]]; then
    log "the work tree has uncommitted changes: tagging the images $tag-dirty"
    tag+="-dirty"
  fi
  printf '%s\n' "$tag"
}

# The inventory's app_stack_registry, as the first manager sees it.
inventory_registry() {
  ensure_ansible_venv
  (cd "$ROOT_DIR/ansible" &&
    "$ANSIBLE_VENV_DIR/bin/ansible" -i "$1" 'managers[0]' -m ansible.builtin.debug \
      -a 'msg=registry={{ app_stack_registry | default("") }}' 2>/dev/null |
    sed -n 's/^ *msg: registry=//p')
}

# The app's images from the official base images (never the local stand-ins
# of scripts/images.sh), pushed under REGISTRY, where the nodes pull from.
build_and_push() {
  local tag="$1"
  export STANDIN_IMAGES="${STANDIN_IMAGES:-never}"
  "$ROOT_DIR/scripts/images.sh" build "$tag"
  "$ROOT_DIR/scripts/images.sh" push "$tag"
}

# The registry login as Ansible variables into FILE, which only this user reads
# (not on the command line, where every process would see the password).
write_registry_login_vars() {
  (umask 077 && REGISTRY_USER="$REGISTRY_USER" REGISTRY_PASSWORD="$REGISTRY_PASSWORD" python3 -c '
import json, os
print(json.dumps({"app_stack_registry_username": os.environ["REGISTRY_USER"],
                  "app_stack_registry_password": os.environ["REGISTRY_PASSWORD"]}))' >"$1")
}

provision() {
  playbook -i "$(inventory)" site.yml "$@"
}

deploy() {
  local inventory domain="${DOMAIN:-}" registry tag names line
  local -a extra=()
  [[ -n "$domain" ]] || die "set DOMAIN: make deploy DOMAIN=example.com"
  inventory="$(inventory)"
  registry="${REGISTRY:-$(inventory_registry "$inventory")}"
  registry="${registry%/}"
  [[ -n "$registry" ]] ||
    die "set REGISTRY (or app_stack_registry in the inventory): the nodes pull the images from there"
  tag="${TAG:-$(default_tag)}"
  # The images' names (project.env's) under the registry: what is pushed, and
  # what the stack runs.
  export REGISTRY="$registry"
  names="$("$ROOT_DIR/scripts/images.sh" names)"
  while IFS= read -r line; do
    export "${line?}"
  done <<<"$names"

  if [[ "${BUILD:-1}" != 0 ]]; then
    build_and_push "$tag"
  else
    log "BUILD=0: deploying the images already pushed as $tag"
  fi

  [[ -n "$STACK_NAME_GIVEN" ]] && extra+=(-e "app_stack_name=$STACK_NAME_GIVEN")
  if [[ -n "${REGISTRY_USER:-}" && -n "${REGISTRY_PASSWORD:-}" ]]; then
    LOGIN_VARS="$(mktemp)"
    trap 'rm -f "$LOGIN_VARS"' EXIT
    write_registry_login_vars "$LOGIN_VARS"
    extra+=(-e "@$LOGIN_VARS")
  fi
  log "deploying $domain ($tag)"
  playbook -i "$inventory" deploy.yml -e "app_domain=$domain" -e "app_stack_image_tag=$tag" \
    -e "app_stack_registry=$registry" -e "app_stack_backend_image=$BACKEND_IMAGE" \
    -e "app_stack_worker_image=$WORKER_IMAGE" -e "app_stack_frontend_image=$FRONTEND_IMAGE" \
    "${extra[@]}" "$@"
}

# The stack's name as given for this deployment, before project.env's (one
# name for every site) is loaded.
STACK_NAME_GIVEN="${STACK_NAME:-}"

main() {
  local command="${1:-}"
  shift || true
  load_dotenv
  case "$command" in
    provision) provision "$@" ;;
    deploy) deploy "$@" ;;
    vault)
      ensure_ansible_venv
      "$ANSIBLE_VENV_DIR/bin/ansible-vault" "$@"
      ;;
    *) die "usage: scripts/deploy.sh provision|deploy [ANSIBLE_ARGS...] | vault ARGS..." ;;
  esac
}

main "$@"
