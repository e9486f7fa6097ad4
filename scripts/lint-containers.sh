#!/usr/bin/env bash
# Linters for the container files, offline and without a Docker engine:
#   - hadolint on every Dockerfile git tracks (.hadolint.yaml, when present, configures it),
#     and the stand-in images' scripts through shellcheck;
#   - yamllint on every YAML file git tracks (.yamllint.yaml);
#   - `docker-compose config` on every combination of compose files the project
#     documents (base, base+dev, base+test, the Swarm stack), with dummy values
#     for the required variables; and the same without them, which must fail;
#   - `docker stack config` on the Swarm stack, when a docker CLI that has it is
#     installed (Swarm reads compose files with a loader of its own);
#   - check-jsonschema: the compose files and every merged configuration
#     against the Compose Specification, .gitlab-ci.yml against GitLab's schema,
#     renovate.json against Renovate's.
set -Eeuo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# The compose files, as combined in the comment at the top of compose/compose.yaml.
COMBINATIONS=(
  "compose.yaml"
  "compose.yaml compose.dev.yaml"
  "compose.yaml compose.test.yaml"
  "stack.yaml"
)

# Values for the variables the compose files require: enough to render them,
# nothing real.
dummy_env() {
  cat <<'ENV'
STACK_NAME=lint
DOMAIN=example.com
TAG=lint
SECRET_KEY=lint-secret-key
FIRST_SUPERUSER=admin@example.com
FIRST_SUPERUSER_PASSWORD=lint-password
POSTGRES_PASSWORD=lint-password
FLOWER_BASIC_AUTH=admin:lint-password
BACKEND_IMAGE=registry.example.com/app/backend
WORKER_IMAGE=registry.example.com/app/worker
FRONTEND_IMAGE=registry.example.com/app/frontend
ENV
}

# Compose with the given file as its only source of variables: neither .env nor
# the caller's environment changes what gets checked.
compose() {
  local env_file="$1"
  shift
  env -i PATH="$PATH" HOME="$HOME" \
    "$VENV_DIR/bin/docker-compose" --project-directory "$ROOT_DIR" --env-file "$env_file" "$@"
}

# `-f compose/A -f compose/B ...` for a combination.
file_args() {
  local name
  for name in $1; do
    printf '%s\n' -f "compose/$name"
  done
}

# Renders a combination to JSON (which validates it); the warnings about Swarm
# settings that compose itself ignores are expected in the stack file.
render() {
  local env_file="$1" combination="$2" output="$3" errors
  local -a files
  mapfile -t files < <(file_args "$combination")
  errors="$(mktemp)"
  if ! compose "$env_file" "${files[@]}" config --format json >"$output" 2>"$errors"; then
    cat "$errors" >&2
    rm -f "$errors"
    die "compose refused: $combination"
  fi
  grep -v -e 'only applies to' -e 'only applied to' -e 'only honored by' "$errors" >&2 || true
  rm -f "$errors"
}

# Without the required variables, the combination must fail, naming them.
expect_refusal() {
  local combination="$1" output
  local -a files
  mapfile -t files < <(file_args "$combination")
  if output="$(compose /dev/null "${files[@]}" config --quiet 2>&1)"; then
    die "compose accepted $combination without the required variables"
  fi
  [[ "$output" == *"required variable"* ]] ||
    die "compose refused $combination, but not for a missing variable: $output"
}

check_stack_with_docker() {
  local -a vars
  if ! command -v docker >/dev/null || ! docker stack config --help >/dev/null 2>&1; then
    log "docker stack config: skipped (no docker CLI with it here)"
    return 0
  fi
  log "docker stack config: compose/stack.yaml"
  mapfile -t vars < <(dummy_env)
  env -i PATH="$PATH" HOME="$HOME" "${vars[@]}" \
    docker stack config --compose-file "$ROOT_DIR/compose/stack.yaml" >/dev/null
}

main() {
  local scratch combination rendered
  local -a dockerfiles
  ensure_venv
  cd "$ROOT_DIR"
  scratch="$(mktemp -d)"
  # shellcheck disable=SC2064  # expand now: the variable is local
  trap "rm -rf '$scratch'" EXIT
  dummy_env >"$scratch/lint.env"

  # The files git tracks (or has staged), as pre-commit's other hooks: not what
  # tools leave in the work tree (.gitlab-ci-local/, node_modules/, caches).
  mapfile -t dockerfiles < <(git ls-files -- '**/Dockerfile' Dockerfile '*.Dockerfile' 'Dockerfile.*' '**/Dockerfile.*')
  log "hadolint: ${dockerfiles[*]}"
  hadolint "${dockerfiles[@]}"
  log "shellcheck: the stand-in images' scripts"
  shellcheck ci/standins/*/*.sh

  log "yamllint"
  git ls-files -z -- '*.yml' '*.yaml' | xargs -0 yamllint --strict

  log "compose config: ${#COMBINATIONS[@]} combinations, and each without the required variables"
  for combination in "${COMBINATIONS[@]}"; do
    rendered="$scratch/${combination// /+}.json"
    render "$scratch/lint.env" "$combination" "$rendered"
    expect_refusal "$combination"
  done
  check_stack_with_docker

  log "check-jsonschema: compose files and merged configurations, .gitlab-ci.yml, renovate.json"
  # The test and dev overlays use compose's !reset and !override tags, which only
  # compose reads: they are checked within their merged configurations.
  check-jsonschema --builtin-schema vendor.compose-spec \
    compose/compose.yaml compose/stack.yaml "$scratch"/*.json
  check-jsonschema --builtin-schema vendor.gitlab-ci --data-transform gitlab-ci .gitlab-ci.yml
  check-jsonschema --builtin-schema vendor.renovate renovate.json
}

main "$@"
