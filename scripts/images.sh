#!/usr/bin/env bash
# The project's images, and local stand-ins for the official base images where
# a registry cannot be reached (scripts/standins/README.md lists them).
#
#   scripts/images.sh bases         build the stand-ins for the official images absent here
#   scripts/images.sh build [TAG]   build the backend, worker and frontend images, tagged
#                                   $BACKEND_IMAGE:TAG, $WORKER_IMAGE:TAG, $FRONTEND_IMAGE:TAG
#                                   (defaults app-backend, app-worker, app-frontend; TAG
#                                   defaults to $TAG, else latest)
#   scripts/images.sh push [TAG]    push those three images (after `docker login`)
#   scripts/images.sh env           print the image variables as KEY=VALUE lines
#
# Each image variable (PYTHON_IMAGE, NODE_IMAGE, NGINX_IMAGE, TRAEFIK_IMAGE,
# POSTGRES_IMAGE, REDIS_IMAGE, MAILPIT_IMAGE) keeps the value the environment or
# .env gives it; unset, it names the official image when that is present
# locally or can be pulled, else its stand-in (built when missing).
# STANDIN_IMAGES=never always names the official images; =always, the
# stand-ins. Builds run with --network=$BUILD_NETWORK (host on the private
# engine, whose containers reach no registry otherwise).
#
# Sourced, it defines the functions without running anything.
set -Eeuo pipefail
# shellcheck source=scripts/docker-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/docker-lib.sh"

STANDIN_DIR="$ROOT_DIR/scripts/standins"
STANDIN_IMAGES="${STANDIN_IMAGES:-auto}"
# Set to 1 by the first pull that fails: the others are not tried.
REGISTRY_UNREACHABLE=0
DEBIAN_SUITE=bookworm
DEBIAN_MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
DEBIAN_SECURITY_MIRROR="${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}"
# What builds trust; pip and npm inside the builds need it where a proxy signs
# with a CA of its own.
CA_BUNDLE="${CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}"
STANDIN_ROOTFS_IMAGE="standin/debian:$DEBIAN_SUITE"
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

# debootstrap --variant=minbase, imported as STANDIN_ROOTFS_IMAGE: once, since
# the engine keeps it. Services never start inside it (policy-rc.d), as in
# Debian's own images.
ensure_standin_rootfs() {
  local scratch rootfs
  image_present "$STANDIN_ROOTFS_IMAGE" && return 0
  as_root_or_die "debootstrap makes the stand-ins' root filesystem"
  command -v debootstrap >/dev/null || apt_install debootstrap
  scratch="$(mktemp -d /var/tmp/standin-rootfs.XXXXXX)"
  rootfs="$scratch/rootfs"
  log "debootstrap --variant=minbase $DEBIAN_SUITE (about a minute, once)"
  if ! debootstrap --variant=minbase "$DEBIAN_SUITE" "$rootfs" "$DEBIAN_MIRROR" \
    >"$scratch/debootstrap.log" 2>&1; then
    tail -n 20 "$scratch/debootstrap.log" >&2
    rm -rf "$scratch"
    die "debootstrap failed"
  fi
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
  printf '#!/bin/sh\nexit 101\n' >"$rootfs/usr/sbin/policy-rc.d"
  chmod 0755 "$rootfs/usr/sbin/policy-rc.d"
  rm -f "$rootfs/etc/apt/sources.list"
  cat >"$rootfs/etc/apt/sources.list.d/debian.sources" <<SOURCES
Types: deb
URIs: $DEBIAN_MIRROR
Suites: $DEBIAN_SUITE $DEBIAN_SUITE-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $DEBIAN_SECURITY_MIRROR
Suites: $DEBIAN_SUITE-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
  tar -C "$rootfs" --numeric-owner -c . |
    docker import \
      --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
      --change 'CMD ["bash"]' \
      - "$STANDIN_ROOTFS_IMAGE" >/dev/null
  rm -rf "$scratch"
}

# Copy into the build context what a stand-in takes from this machine.
standin_extras() {
  local name="$1" context="$2" node npm_dir
  case "$name" in
    python)
      cp "$CA_BUNDLE" "$context/ca-certificates.crt"
      ;;
    node)
      node="$(command -v node)" || die "the Node.js stand-in copies this machine's node: install Node.js 20"
      npm_dir="$(dirname "$(readlink -f "$(command -v npm)")")/.."
      cp "$(readlink -f "$node")" "$context/node"
      cp -a "$npm_dir" "$context/npm"
      cp "$CA_BUNDLE" "$context/ca-certificates.crt"
      ;;
    traefik)
      ensure_venv
      cp "$VENV_DIR/bin/traefik" "$context/traefik"
      ;;
    mailpit)
      cp "$ROOT_DIR/backend/app/devtools/mailsink.py" "$context/"
      # Its one dependency, pinned by the lock (the `mailsink` group).
      ensure_uv
      (cd "$ROOT_DIR" && "$UV" export --quiet --frozen --only-group mailsink --no-header \
        --output-file "$context/requirements.txt")
      ;;
    *) ;;
  esac
}

# A digest of everything a stand-in is built from: unchanged inputs, no build.
context_digest() {
  local context="$1" base="$2"
  {
    printf '%s\n' "$base" "$(docker image inspect -f '{{.Id}}' "$base" 2>/dev/null)"
    (cd "$context" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum)
  } | sha256sum | cut -c1-16
}

# Run a build, its output in BUILD_LOG_DIR/NAME.log, shown when it fails.
logged_build() {
  local name="$1" logfile
  shift
  mkdir -p "$BUILD_LOG_DIR"
  logfile="$BUILD_LOG_DIR/$name.log"
  if ! docker build --network="${BUILD_NETWORK:-default}" "$@" >"$logfile" 2>&1; then
    tail -n 40 "$logfile" >&2
    die "building $name failed (log: ${logfile#"$ROOT_DIR"/})"
  fi
}

build_standin() {
  local name="$1" image="$2" base context digest
  case "$name" in
    mailpit) base="$PYTHON_IMAGE" ;;
    *)
      ensure_standin_rootfs
      base="$STANDIN_ROOTFS_IMAGE"
      ;;
  esac
  context="$(mktemp -d)"
  cp -a "$STANDIN_DIR/$name/." "$context/"
  standin_extras "$name" "$context"
  digest="$(context_digest "$context" "$base")"
  if [[ "$(docker image inspect -f '{{index .Config.Labels "standin.inputs"}}' "$image" 2>/dev/null)" == "$digest" ]]; then
    rm -rf "$context"
    return 0
  fi
  log "building the stand-in $image"
  logged_build "standin-$name" --build-arg "BASE_IMAGE=$base" --label "standin.inputs=$digest" \
    -t "$image" "$context"
  rm -rf "$context"
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
    else
      build_standin "$folder" "$standin"
      chosen="$standin"
      why="stand-in: $official is neither here nor pullable"
    fi
    export "$variable=$chosen"
    log "$(printf '%-15s %s (%s)' "$variable" "$chosen" "$why")"
  done
}

print_image_env() {
  local entry variable
  for entry in "${BASE_IMAGES[@]}"; do
    variable="${entry%%|*}"
    printf '%s=%s\n' "$variable" "${!variable}"
  done
}

# --build-arg VAR=VALUE for each build argument whose value is not the
# Dockerfile's default (the official image).
base_build_args() {
  local variable entry
  for variable in "$@"; do
    for entry in "${BASE_IMAGES[@]}"; do
      if [[ "$entry" == "$variable|"* && "$entry" != "$variable|${!variable}|"* ]]; then
        printf '%s\n' --build-arg "$variable=${!variable}"
      fi
    done
  done
}

# The production images, as compose builds them (the same targets and contexts).
build_app_images() {
  local tag="$1" started=$SECONDS
  local -a python_args frontend_args
  mapfile -t python_args < <(base_build_args PYTHON_IMAGE)
  mapfile -t frontend_args < <(base_build_args NODE_IMAGE NGINX_IMAGE)
  # As compose passes it (the name in the page's title), when set.
  if [[ -n "${PROJECT_NAME:-}" ]]; then
    frontend_args+=(--build-arg "PROJECT_NAME=$PROJECT_NAME")
  fi
  log "building ${BACKEND_IMAGE:-app-backend}:$tag"
  logged_build backend "${python_args[@]}" --target production -f "$ROOT_DIR/backend/Dockerfile" \
    -t "${BACKEND_IMAGE:-app-backend}:$tag" "$ROOT_DIR"
  log "building ${WORKER_IMAGE:-app-worker}:$tag"
  logged_build worker "${python_args[@]}" --target production -f "$ROOT_DIR/worker/Dockerfile" \
    -t "${WORKER_IMAGE:-app-worker}:$tag" "$ROOT_DIR"
  log "building ${FRONTEND_IMAGE:-app-frontend}:$tag"
  logged_build frontend "${frontend_args[@]}" -t "${FRONTEND_IMAGE:-app-frontend}:$tag" "$ROOT_DIR/frontend"
  log "images built in $((SECONDS - started))s"
}

push_app_images() {
  local tag="$1" image
  for image in "${BACKEND_IMAGE:-app-backend}" "${WORKER_IMAGE:-app-worker}" "${FRONTEND_IMAGE:-app-frontend}"; do
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
