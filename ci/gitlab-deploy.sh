#!/usr/bin/env bash
# The GitLab deploy jobs (.gitlab-ci.yml): turns the CI/CD variables its header
# lists into what `make deploy` reads, then runs it with BUILD=0 (the images the
# build job pushed):
#   SSH_PRIVATE_KEY         a key file (mode 600) Ansible connects with
#   SSH_KNOWN_HOSTS         ~/.ssh/known_hosts: required, host keys stay checked
#   INVENTORY               a committed path, or a File variable (copied to a .yml
#                           name: Ansible's YAML inventory reader goes by the suffix)
#   ANSIBLE_VAULT_PASSWORD  a password file (mode 600), ANSIBLE_VAULT_PASSWORD_FILE
#   CI_DEPLOY_USER, CI_DEPLOY_PASSWORD  (a deploy token's) the manager's login to
#                           $CI_REGISTRY, which the stack forwards to the nodes
# Everything secret goes into a private directory removed on exit.
set -Eeuo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"

SECRETS_DIR=""
cleanup() { [[ -z "$SECRETS_DIR" ]] || rm -rf "$SECRETS_DIR"; }

# VALUE into FILE, readable by this user alone.
write_private() {
  (umask 077 && printf '%s\n' "$2" | tr -d '\r' >"$1")
}

require_variables() {
  local name missing=()
  for name in "$@"; do
    [[ -n "${!name:-}" ]] || missing+=("$name")
  done
  ((${#missing[@]} == 0)) ||
    die "set the CI/CD variable(s) ${missing[*]} (the header of .gitlab-ci.yml says how)"
}

prepare_ssh() {
  mkdir -p "$HOME/.ssh"
  chmod 700 "$HOME/.ssh"
  write_private "$HOME/.ssh/known_hosts" "$SSH_KNOWN_HOSTS"
  write_private "$SECRETS_DIR/ssh_key" "$SSH_PRIVATE_KEY"
  export ANSIBLE_PRIVATE_KEY_FILE="$SECRETS_DIR/ssh_key"
  # Never accept a host key that SSH_KNOWN_HOSTS does not list.
  export ANSIBLE_HOST_KEY_CHECKING=True
}

prepare_inventory() {
  local inventory="$INVENTORY"
  [[ "$inventory" == /* ]] || inventory="$ROOT_DIR/$inventory"
  [[ -e "$inventory" ]] || die "INVENTORY: no file or directory at $inventory"
  if [[ -f "$inventory" && "$inventory" != *.yml && "$inventory" != *.yaml ]]; then
    cp "$inventory" "$SECRETS_DIR/inventory.yml"
    inventory="$SECRETS_DIR/inventory.yml"
  fi
  export INVENTORY="$inventory"
}

prepare_vault() {
  [[ -n "${ANSIBLE_VAULT_PASSWORD:-}" ]] || return 0
  write_private "$SECRETS_DIR/vault_password" "$ANSIBLE_VAULT_PASSWORD"
  export ANSIBLE_VAULT_PASSWORD_FILE="$SECRETS_DIR/vault_password"
}

# scripts/deploy.sh hands these to the app_stack role, which logs the manager in.
prepare_registry_login() {
  export REGISTRY_USER="$CI_DEPLOY_USER" REGISTRY_PASSWORD="$CI_DEPLOY_PASSWORD"
}

main() {
  require_variables DOMAIN SSH_PRIVATE_KEY SSH_KNOWN_HOSTS INVENTORY CI_DEPLOY_USER CI_DEPLOY_PASSWORD
  require_commands ssh:openssh-client make git
  SECRETS_DIR="$(mktemp -d)"
  trap cleanup EXIT
  prepare_ssh
  prepare_inventory
  prepare_vault
  prepare_registry_login
  log "deploying $DOMAIN from $INVENTORY, images ${REGISTRY:-?}:${TAG:-?} (BUILD=0)"
  BUILD=0 make deploy DOMAIN="$DOMAIN"
}

main "$@"
