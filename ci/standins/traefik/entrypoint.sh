#!/bin/sh
# As the official image's: flags alone, or a first word that is one of
# Traefik's subcommands, go to traefik; anything else runs as given.
set -eu
if [ "${1#-}" != "$1" ]; then
  set -- traefik "$@"
elif [ "$1" != traefik ] && traefik "$1" --help >/dev/null 2>&1; then
  set -- traefik "$@"
fi
exec "$@"
