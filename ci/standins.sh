#!/usr/bin/env bash
# Local stand-ins for the official base images, for machines where no registry can
# be reached (CI runners, an air-gapped network): each built from a Debian
# root filesystem made with debootstrap, or from another stand-in, with what
# ci/standins/README.md says it keeps of the official image. scripts/images.sh
# sources this when it needs one (STANDIN_IMAGES=auto or always), after its own
# functions (logged_build, image_present); don't run it.
#
#   build_standin FOLDER IMAGE   build ci/standins/FOLDER as IMAGE, unless its
#                                inputs are unchanged since the last build

STANDIN_DIR="$ROOT_DIR/ci/standins"
DEBIAN_MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
DEBIAN_SECURITY_MIRROR="${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}"
# What builds trust; pip and npm inside the builds need it where a proxy signs
# with a CA of its own.
CA_BUNDLE="${CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}"
STANDIN_ROOTFS_IMAGE="standin/debian:$DEBIAN_SUITE"

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

