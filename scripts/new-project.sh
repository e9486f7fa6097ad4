#!/usr/bin/env bash
# Generate a new project from this one:
#   scripts/new-project.sh --name "Acme Portal" [--domain acme.example]
#                          [--dest ../acme-portal] [--slug acme-portal]
# (or `make new-project NAME="Acme Portal" DOMAIN=acme.example [DEST=...]`).
#
# It copies the committed tree (HEAD; uncommitted changes stay behind, so the
# result depends on the commit alone), names the project in .env.example and
# README.md, writes a .env with fresh secrets, and makes the first commit of a
# new repository. .upstream and the `upstream` remote record where it came
# from, for `make update-from-upstream`.
# UPSTREAM_URL overrides the recorded address (default: origin's, else this
# checkout's path); UPSTREAM_BRANCH the branch followed (default: the current).
set -Eeuo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
  cat >&2 <<'USAGE'
usage: scripts/new-project.sh --name NAME [--domain DOMAIN] [--dest DIR] [--slug SLUG]
       make new-project NAME="Acme Portal" DOMAIN=acme.example [DEST=../acme-portal] [SLUG=acme]
USAGE
  exit 2
}

# The slug names the compose project, the Swarm stack and the images:
# lowercase ASCII letters, digits and dashes.
slugify() {
  "$PYTHON" - "$1" <<'PY'
import re, sys, unicodedata
ascii_name = unicodedata.normalize("NFKD", sys.argv[1]).encode("ascii", "ignore").decode()
print(re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-"))
PY
}

check_name() {
  local name="$1"
  [[ -n "$name" ]] || die 'give the project a name: make new-project NAME="Acme Portal" DOMAIN=acme.example'
  # .env files are read by compose, python-dotenv and scripts/lib.sh: these
  # characters mean something to at least one of them.
  if [[ "$name" == *[\"\$\\\`]* || "$name" =~ [[:cntrl:]] ]]; then
    die "the name \"$name\" has a character that .env files cannot hold as is (\" \$ \\ \` or a control character)"
  fi
}

check_slug() {
  local slug="$1" name="$2"
  if [[ ! "$slug" =~ ^[a-z0-9][a-z0-9-]{0,39}$ || "$slug" == *--* || "$slug" == *- ]]; then
    die "\"$name\" makes the slug \"$slug\", which is not valid: a slug is 1 to 40 lowercase ASCII letters, digits and single dashes, starting with a letter or digit; pick another name or give a slug with SLUG=..."
  fi
}

check_domain() {
  local domain="$1" label='[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?'
  if [[ ${#domain} -gt 253 || ! "$domain" =~ ^($label\.)*$label$ ]]; then
    die "\"$domain\" is not a domain name (lowercase labels of letters, digits and dashes, separated by dots)"
  fi
}

# The destination must be new, or an empty directory, and outside this checkout.
check_dest() {
  local dest="$1" parent
  if [[ -e "$dest" ]]; then
    [[ -d "$dest" ]] || die "$dest exists and is not a directory"
    [[ -z "$(ls -A "$dest")" ]] || die "$dest exists and is not empty: choose another DEST"
  fi
  parent="$(cd "$(dirname "$dest")" 2>/dev/null && pwd -P)" || die "the parent of $dest does not exist"
  case "$parent/" in
    "$(cd "$ROOT_DIR" && pwd -P)"/*) die "$dest is inside this repository: choose a folder outside it" ;;
  esac
}

# The names go into .env.example (so that a fresh clone's .env has them too),
# then .env is .env.example with fresh random secrets: URL-safe, because
# POSTGRES_PASSWORD goes into DATABASE_URL and FLOWER_BASIC_AUTH is user:password.
write_env_files() {
  "$PYTHON" - "$@" <<'PY'
import re, secrets, sys
from pathlib import Path

dest, name, slug, domain = sys.argv[1:]

def set_values(text: str, values: dict[str, str]) -> str:
    for key, value in values.items():
        text, found = re.subn(rf"^{key}=.*$", lambda _: f"{key}={value}", text, 1, re.M)
        if not found:
            sys.exit(f"new-project: .env.example has no {key}= line")
    return text

example = Path(dest, ".env.example")
text = set_values(example.read_text(encoding="utf-8"), {
    "PROJECT_NAME": f'"{name}"',
    "STACK_NAME": slug,
    "DOMAIN": domain,
    "BACKEND_IMAGE": f"{slug}-backend",
    "WORKER_IMAGE": f"{slug}-worker",
    "FRONTEND_IMAGE": f"{slug}-frontend",
})
example.write_text(text, encoding="utf-8")
env = Path(dest, ".env")
env.touch(mode=0o600)
env.write_text(set_values(text, {
    "SECRET_KEY": secrets.token_urlsafe(48),
    "FIRST_SUPERUSER_PASSWORD": secrets.token_urlsafe(18),
    "POSTGRES_PASSWORD": secrets.token_urlsafe(24),
    "FLOWER_BASIC_AUTH": f"admin:{secrets.token_urlsafe(18)}",
}), encoding="utf-8")
PY
}

clean_up_on_failure() {
  local status=$? dest="$1" existed="$2"
  ((status != 0)) || return 0
  if [[ "$existed" == yes ]]; then
    find "$dest" -mindepth 1 -delete
  else
    rm -rf "$dest"
  fi
  log "nothing was created in $dest"
}

# The README's first line is its title.
set_title() {
  local file="$1" name="$2" rest
  rest="$(tail -n +2 "$file")"
  printf '# %s\n%s\n' "$name" "$rest" >"$file"
}

write_upstream_file() {
  local file="$1" url="$2" branch="$3" commit="$4"
  cat >"$file" <<EOF
# The base this project was generated from, and the newest commit of it merged
# here. \`make update-from-upstream\` fetches UPSTREAM_BRANCH from UPSTREAM_URL,
# merges it, and moves UPSTREAM_COMMIT (docs/development.md, "Updating from
# the base"). Generation changed only the title of README.md and the names in
# .env.example (PROJECT_NAME, STACK_NAME, DOMAIN, *_IMAGE).
UPSTREAM_URL=$url
UPSTREAM_BRANCH=$branch
UPSTREAM_COMMIT=$commit
EOF
}

main() {
  local name="" domain="localhost" dest="" slug=""
  while (($#)); do
    case "$1" in
      --name) name="${2-}"; shift 2 || usage ;;
      --domain) domain="${2:-localhost}"; shift 2 || usage ;;
      --dest) dest="${2-}"; shift 2 || usage ;;
      --slug) slug="${2-}"; shift 2 || usage ;;
      -h | --help) usage ;;
      *) usage ;;
    esac
  done
  check_name "$name"
  [[ -n "$slug" ]] || slug="$(slugify "$name")"
  check_slug "$slug" "$name"
  domain="${domain,,}"
  check_domain "$domain"
  [[ -n "$dest" ]] || dest="$(dirname "$ROOT_DIR")/$slug"
  check_dest "$dest"
  git var GIT_COMMITTER_IDENT >/dev/null ||
    die "git needs your name and email for the first commit: git config --global user.name ...; git config --global user.email ..."

  local commit url branch
  commit="$(git -C "$ROOT_DIR" rev-parse --verify "HEAD^{commit}")" || die "this checkout has no commit to copy"
  url="${UPSTREAM_URL:-$(git -C "$ROOT_DIR" remote get-url origin 2>/dev/null || echo "$ROOT_DIR")}"
  branch="${UPSTREAM_BRANCH:-$(git -C "$ROOT_DIR" symbolic-ref -q --short HEAD || echo HEAD)}"
  if [[ -n "$(git -C "$ROOT_DIR" status --porcelain --untracked-files=no)" ]]; then
    log "uncommitted changes in $ROOT_DIR are not copied: generating from commit ${commit:0:12}"
  fi

  log "creating $name ($slug, $domain) in $dest"
  # Leave nothing half-made behind when a step fails.
  local existed=no
  [[ -d "$dest" ]] && existed=yes
  # shellcheck disable=SC2064  # expand now: dest is local
  trap "clean_up_on_failure $(printf %q "$dest") $existed" EXIT
  mkdir -p "$dest"
  dest="$(cd "$dest" && pwd)"
  git -C "$ROOT_DIR" archive --format=tar "$commit" | tar -x -C "$dest"

  # The names live in .env: the backend, compose, the stack and the frontend
  # all read them there.
  write_env_files "$dest" "$name" "$slug" "$domain"
  set_title "$dest/README.md" "$name"
  write_upstream_file "$dest/.upstream" "$url" "$branch" "$commit"

  git -C "$dest" init -q -b main
  git -C "$dest" add -A
  # .gitignore keeps .env out; a repository that lost that line must not get it.
  if git -C "$dest" ls-files --error-unmatch .env >/dev/null 2>&1; then
    die ".env would be committed: .gitignore in $dest no longer ignores it"
  fi
  git -C "$dest" commit -q -m "Create $name" \
    -m "Generated from $url at ${commit:0:12} ($branch) by make new-project."
  git -C "$dest" remote add --no-tags upstream "$url"

  cat >&2 <<DONE

  $name is ready in $dest
    cd $dest && make dev
  Its secrets are in .env (never committed): the first superuser is
  $(grep -m1 '^FIRST_SUPERUSER=' "$dest/.env" | cut -d= -f2), with FIRST_SUPERUSER_PASSWORD from there.
  Take later changes of the base with: make update-from-upstream

DONE
}

main "$@"
