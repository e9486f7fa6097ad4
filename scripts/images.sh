#!/usr/bin/env bash
# The project's images, and the base images they run with: the official ones, or
# local stand-ins where a registry cannot be reached (ci/standins.sh builds them;
# ci/standins/README.md lists them).
#
#   scripts/images.sh bases         build the stand-ins for the official images absent here
#   scripts/images.sh build [TAG]   build the backend, worker and frontend images, tagged
#                                   $BACKEND_IMAGE:TAG, $WORKER_IMAGE:TAG, $FRONTEND_IMAGE:TAG
#                                   (TAG defaults to $TAG, else latest), and each further
#                                   worker module's, $WORKER_IMAGE-<name>:TAG
#   scripts/images.sh push [TAG]    push those images (after `docker login`)
#   scripts/images.sh plan [TAG]    print the commands build and push would run (the
#                                   images' names, their build arguments), running none
#   scripts/images.sh names         print the app's images' names as KEY=VALUE lines
#   scripts/images.sh env           print the image variables as KEY=VALUE lines
#
# The images' names and the project's name (a build argument of the frontend's:
# its page title) are project.env's, unless .env or the environment say
# otherwise. REGISTRY, when set, is the registry path they go under:
# REGISTRY=registry.example.com/team makes registry.example.com/team/app-backend.
#
# Each image variable (PYTHON_IMAGE, NODE_IMAGE, NGINX_IMAGE, TRAEFIK_IMAGE,
# POSTGRES_IMAGE, REDIS_IMAGE, MAILPIT_IMAGE, PROMETHEUS_IMAGE) keeps the value the environment or
# .env gives it; unset, it names the official image when that is present
# locally or can be pulled, else its stand-in (built when missing).
# STANDIN_IMAGES=never always names the official images; =always, the
# stand-ins; =ask (make dev's default) uses a stand-in only when one was built
# already, and otherwise says how to build it. Builds run with
# --network=$BUILD_NETWORK (host on the private engine, whose containers reach no
# registry otherwise).
#
# Sourced, it defines the functions without running anything.
set -Eeuo pipefail
# shellcheck source=scripts/docker-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/docker-lib.sh"

STANDIN_IMAGES="${STANDIN_IMAGES:-auto}"
# Set to 1 by the first pull that fails: the others are not tried.
REGISTRY_UNREACHABLE=0
DEBIAN_SUITE=bookworm
BUILD_LOG_DIR="$ROOT_DIR/.cache/images"

# VARIABLE|official image (the default in the compose files and Dockerfiles)|stand-in|its folder
BASE_IMAGES=(
  "PYTHON_IMAGE|python:3.11-slim-bookworm|standin/python:3.11|python"
  "NODE_IMAGE|node:20-bookworm-slim|standin/node:20|node"
  "NGINX_IMAGE|nginx:1.27-alpine|standin/nginx:$DEBIAN_SUITE|nginx"
  "TRAEFIK_IMAGE|traefik:v3.7|standin/traefik:v3.7|traefik"
  "POSTGRES_IMAGE|postgres:15|standin/postgres:15|postgres"
  "REDIS_IMAGE|redis:7-alpine|standin/redis:7|redis"
  "MAILPIT_IMAGE|axllent/mailpit:v1.31|standin/mailpit:dev|mailpit"
  "PROMETHEUS_IMAGE|prom/prometheus:v3.5.0|standin/prometheus:2.42|prometheus"
)

image_present() { docker image inspect "$1" >/dev/null 2>&1; }

# Pull an official image; after one failure, no more tries (no registry here).
pull_official() {
  local image="$1"
  ((REGISTRY_UNREACHABLE == 0)) || return 1
  log "pulling $image"
  if timeout 900 docker pull --quiet "$image" >/dev/null 2>&1; then
    return 0
  fi
  log "$image cannot be pulled: stand-ins for the official images that are not here"
  REGISTRY_UNREACHABLE=1
  return 1
}

# The official default must be the one the compose files or Dockerfiles name:
# a stand-in for an image nobody uses any more would go unnoticed.
check_official_default() {
  local variable="$1" official="$2"
  grep -rqF -e "\${$variable:-$official}" -e "ARG $variable=$official" \
    "$ROOT_DIR/compose" "$ROOT_DIR/backend/Dockerfile" "$ROOT_DIR/worker/Dockerfile" \
    "$ROOT_DIR/frontend/Dockerfile" ||
    die "scripts/images.sh: $variable's default is no longer $official in compose/ or the Dockerfiles"
}

# Set to 1 by `plan`: the docker commands are printed, not run.
PLAN_ONLY=0

# A docker command printed as a shell would read it (PLAN_ONLY).
print_command() {
  local word line="docker"
  for word in "$@"; do
    line+=" $(printf '%q' "$word")"
  done
  printf '%s\n' "$line"
}

# What is being done, unless it is only printed (PLAN_ONLY).
announce() {
  ((PLAN_ONLY)) || log "$@"
}

# Run a build, its output in BUILD_LOG_DIR/NAME.log, shown when it fails.
logged_build() {
  local name="$1" logfile
  shift
  if ((PLAN_ONLY)); then
    print_command build --network="${BUILD_NETWORK:-default}" "$@"
    return 0
  fi
  mkdir -p "$BUILD_LOG_DIR"
  logfile="$BUILD_LOG_DIR/$name.log"
  if ! docker build --network="${BUILD_NETWORK:-default}" "$@" >"$logfile" 2>&1; then
    tail -n 40 "$logfile" >&2
    die "building $name failed (log: ${logfile#"$ROOT_DIR"/})"
  fi
}

# Decide every image variable (see the top), building the stand-ins needed, and
# export them; say which image each one names.
ensure_base_images() {
  local entry variable official standin folder chosen why
  for entry in "${BASE_IMAGES[@]}"; do
    IFS='|' read -r variable official standin folder <<<"$entry"
    check_official_default "$variable" "$official"
    if [[ -n "${!variable:-}" ]]; then
      chosen="${!variable}"
      why="as set"
    elif [[ "$STANDIN_IMAGES" == never ]]; then
      chosen="$official"
      why="official"
    elif [[ "$STANDIN_IMAGES" != always ]] && image_present "$official"; then
      chosen="$official"
      why="official, present here"
    elif [[ "$STANDIN_IMAGES" != always ]] && pull_official "$official"; then
      chosen="$official"
      why="official, pulled"
    elif [[ "$STANDIN_IMAGES" == ask ]] && image_present "$standin"; then
      chosen="$standin"
      why="stand-in, built before: $official is neither here nor pullable"
    elif [[ "$STANDIN_IMAGES" == ask ]]; then
      die "$official is neither here nor pullable: STANDIN_IMAGES=auto builds a local stand-in (ci/standins/README.md), or set $variable to an image you have"
    else
      # shellcheck source=/dev/null  # ci/standins.sh, linted on its own
      source "$ROOT_DIR/ci/standins.sh"
      build_standin "$folder" "$standin"
      chosen="$standin"
      why="stand-in: $official is neither here nor pullable"
    fi
    export "$variable=$chosen"
    log "$(printf '%-16s %s (%s)' "$variable" "$chosen" "$why")"
  done
}

print_image_env() {
  local entry variable
  for entry in "${BASE_IMAGES[@]}"; do
    variable="${entry%%|*}"
    printf '%s=%s\n' "$variable" "${!variable}"
  done
}

# --build-arg VAR=VALUE for each build argument set to another value than the
# Dockerfile's default (the official image).
base_build_args() {
  local variable entry
  for variable in "$@"; do
    [[ -n "${!variable:-}" ]] || continue
    for entry in "${BASE_IMAGES[@]}"; do
      if [[ "$entry" == "$variable|"* && "$entry" != "$variable|${!variable}|"* ]]; then
        printf '%s\n' --build-arg "$variable=${!variable}"
      fi
    done
  done
}

# The app's images' names, exported: BACKEND_IMAGE, WORKER_IMAGE and
# FRONTEND_IMAGE as set (project.env names them), under REGISTRY's path when
# that is set. Run it again, it changes nothing.
resolve_app_images() {
  local variable name
  for variable in BACKEND_IMAGE WORKER_IMAGE FRONTEND_IMAGE; do
    name="${!variable:-}"
    [[ -n "$name" ]] || die "$variable is not set: project.env names the images"
    if [[ -n "${REGISTRY:-}" ]]; then
      name="${REGISTRY%/}/${name##*/}"
    fi
    export "$variable=$name"
  done
}

# The production images, as compose builds them (the same targets and contexts).
build_app_images() {
  local tag="$1" started=$SECONDS
  local -a python_args frontend_args
  resolve_app_images
  [[ -n "${PROJECT_NAME:-}" ]] || die "PROJECT_NAME is not set: project.env names the project"
  mapfile -t python_args < <(base_build_args PYTHON_IMAGE)
  mapfile -t frontend_args < <(base_build_args NODE_IMAGE NGINX_IMAGE)
  # As compose passes it: the name in the page's title and header.
  frontend_args+=(--build-arg "PROJECT_NAME=$PROJECT_NAME")
  # Error tracking in the browser: off while VITE_SENTRY_DSN is empty; the release
  # is the tag built.
  frontend_args+=(
    --build-arg "VITE_SENTRY_DSN=${VITE_SENTRY_DSN:-}"
    --build-arg "VITE_SENTRY_ENVIRONMENT=${VITE_SENTRY_ENVIRONMENT:-${SENTRY_ENVIRONMENT:-${ENVIRONMENT:-}}}"
    --build-arg "VITE_SENTRY_RELEASE=${VITE_SENTRY_RELEASE:-$tag}"
  )
  announce "building $BACKEND_IMAGE:$tag"
  logged_build backend "${python_args[@]}" --target production -f "$ROOT_DIR/backend/Dockerfile" \
    -t "$BACKEND_IMAGE:$tag" "$ROOT_DIR"
  announce "building $WORKER_IMAGE:$tag"
  logged_build worker "${python_args[@]}" --target production -f "$ROOT_DIR/worker/Dockerfile" \
    -t "$WORKER_IMAGE:$tag" "$ROOT_DIR"
  local module
  for module in $(worker_modules); do
    announce "building $WORKER_IMAGE-$module:$tag"
    logged_build "worker-$module" "${python_args[@]}" --target production \
      -f "$ROOT_DIR/worker-$module/Dockerfile" -t "$WORKER_IMAGE-$module:$tag" "$ROOT_DIR"
  done
  announce "building $FRONTEND_IMAGE:$tag"
  logged_build frontend "${frontend_args[@]}" -t "$FRONTEND_IMAGE:$tag" "$ROOT_DIR/frontend"
  announce "images built in $((SECONDS - started))s"
}

push_app_images() {
  local tag="$1" image module
  resolve_app_images
  local -a images=("$BACKEND_IMAGE" "$WORKER_IMAGE" "$FRONTEND_IMAGE")
  for module in $(worker_modules); do
    images+=("$WORKER_IMAGE-$module")
  done
  for image in "${images[@]}"; do
    if ((PLAN_ONLY)); then
      print_command push "$image:$tag"
      continue
    fi
    log "pushing $image:$tag"
    docker push --quiet "$image:$tag" >/dev/null
  done
}

usage() {
  awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}" >&2
  exit 2
}

main() {
  local command="${1:-}"
  load_dotenv
  case "$command" in
    bases)
      ensure_docker_engine
      ensure_base_images
      ;;
    build)
      ensure_docker_engine
      ensure_base_images
      build_app_images "${2:-${TAG:-latest}}"
      ;;
    push)
      ensure_docker_engine
      push_app_images "${2:-${TAG:-latest}}"
      ;;
    names)
      resolve_app_images
      printf '%s\n' "BACKEND_IMAGE=$BACKEND_IMAGE" "WORKER_IMAGE=$WORKER_IMAGE" \
        "FRONTEND_IMAGE=$FRONTEND_IMAGE"
      ;;
    plan)
      PLAN_ONLY=1
      build_app_images "${2:-${TAG:-latest}}"
      push_app_images "${2:-${TAG:-latest}}"
      ;;
    env)
      ensure_docker_engine
      ensure_base_images
      print_image_env
      ;;
    *) usage ;;
  esac
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  main "$@"
fi
