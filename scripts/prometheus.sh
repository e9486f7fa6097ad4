#!/usr/bin/env bash
# Prometheus's own programs for the checks and for `make dev`: Debian's package
# `prometheus` (the version the stand-in image runs, ci/standins/prometheus),
# unpacked into .cache/prometheus rather than installed. Installing it would
# start a Prometheus service on this machine (port 9090) and bring its
# recommended exporters, and it would need root: `apt-get download` needs
# neither, and the binaries run from anywhere. A `promtool` or `prometheus`
# already on PATH (a machine without apt, say) is used instead.
#
#   scripts/prometheus.sh promtool ARGS...   run promtool (fetched first when missing)
#   scripts/prometheus.sh bin NAME           print the path of promtool or prometheus
#
# Sourced, it defines the functions without running anything.
set -Eeuo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PROMETHEUS_TOOLS_DIR="${PROMETHEUS_TOOLS_DIR:-$ROOT_DIR/.cache/prometheus}"

# Debian's package, unpacked into PROMETHEUS_TOOLS_DIR once.
fetch_prometheus_package() {
  local scratch deb
  [[ -x "$PROMETHEUS_TOOLS_DIR/usr/bin/promtool" ]] && return 0
  require_commands apt-get dpkg-deb:dpkg
  scratch="$(mktemp -d)"
  log "fetching Debian's prometheus package (promtool) into ${PROMETHEUS_TOOLS_DIR#"$ROOT_DIR"/}"
  # apt-get download writes into the current directory; the package lists may
  # be missing on a fresh machine (CI images delete them): update them as root.
  if ! (cd "$scratch" && apt-get download -qq prometheus >/dev/null 2>&1); then
    [[ "$(id -u)" -eq 0 ]] || die "apt-get download prometheus failed: run apt-get update (as root) first"
    apt-get update -qq
    (cd "$scratch" && apt-get download -qq prometheus >/dev/null 2>&1) ||
      die "apt-get download prometheus failed (is it in this machine's package sources?)"
  fi
  deb="$(find "$scratch" -name 'prometheus_*.deb' | head -n 1)"
  mkdir -p "$PROMETHEUS_TOOLS_DIR"
  dpkg-deb -x "$deb" "$PROMETHEUS_TOOLS_DIR"
  rm -rf "$scratch"
}

# The path of NAME (promtool or prometheus): PATH's, else Debian's unpacked.
prometheus_bin() {
  local name="$1"
  if command -v "$name" >/dev/null 2>&1; then
    command -v "$name"
    return 0
  fi
  fetch_prometheus_package
  printf '%s\n' "$PROMETHEUS_TOOLS_DIR/usr/bin/$name"
}

main() {
  case "${1:-}" in
    promtool)
      shift
      exec "$(prometheus_bin promtool)" "$@"
      ;;
    bin)
      [[ "${2:-}" == promtool || "${2:-}" == prometheus ]] || die "usage: scripts/prometheus.sh bin promtool|prometheus"
      prometheus_bin "$2"
      ;;
    *)
      awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}" >&2
      exit 2
      ;;
  esac
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  main "$@"
fi
