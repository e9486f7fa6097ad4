#!/usr/bin/env bash
# make test-pipeline: the GitLab pipeline (.gitlab-ci.yml) of a project fresh
# from `make new-project`, run by gitlab-ci-local, a GitLab runner for one
# machine:
#   1. generate the project into a temporary directory: a git repository whose
#      main branch is origin's default branch too, as a team's clone has it;
#   2. check which jobs each kind of pipeline holds (gitlab-ci-local evaluates
#      the `rules:` as GitLab does): a push to main, to another branch, a tag;
#   3. run the lint and test jobs for real, each with its before_script and
#      script, on the shell executor, in the project's directory: this machine
#      stands in for the jobs' image, and its PostgreSQL, MariaDB and Redis for
#      the test job's `services:` (the job's TEST_*_URL are given this
#      machine's addresses). gitlab-ci-local starts a job's services in Docker
#      even on the shell executor, so it reads the pipeline from a copy of
#      .gitlab-ci.yml without them; nothing else of the file changes. The
#      before_scripts run here too: apt-get installs what the jobs need when
#      it is missing.
#      The test job runs the whole `make test`: it has no variable that narrows
#      it, and a narrower run would not be the job a team's pipeline runs.
# The test-tools job is not run here: .ci/run runs its make test-tools directly.
# The Docker jobs (test-docker, build) and the deploy jobs are not run here:
# docs/deployment.md ("What `make test-pipeline` runs, and what it cannot run
# here") says why, and which other test covers each of them. Arguments are job
# names to run instead of lint and test. The project is removed at the end.
set -Eeuo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# The jobs it runs (docs/deployment.md says why not the others).
DEFAULT_JOBS=(lint test)
# The last release that runs on Node.js 20 (4.74 needs Node.js 22).
GITLAB_CI_LOCAL_VERSION="4.73.0"
GITLAB_CI_LOCAL_DIR="$ROOT_DIR/.cache/gitlab-ci-local/$GITLAB_CI_LOCAL_VERSION"
GITLAB_CI_LOCAL="$GITLAB_CI_LOCAL_DIR/node_modules/.bin/gitlab-ci-local"
# What GitLab's `cache:` keeps between pipelines (keyed by uv.lock): kept here
# too, so that each run does not download every Python package again.
PIPELINE_CACHE_DIR="$ROOT_DIR/.cache/pipeline"
# This machine's servers, in place of the test job's services.
TEST_POSTGRES_URL="${TEST_POSTGRES_URL:-postgresql://postgres@127.0.0.1:5432/postgres}"
TEST_MARIADB_URL="${TEST_MARIADB_URL:-mariadb://root@127.0.0.1:3306/test}"
TEST_REDIS_URL="${TEST_REDIS_URL:-redis://127.0.0.1:6379/0}"

# The machine's PATH, before ensure_venv puts this checkout's .venv first.
JOB_PATH="$PATH"

WORK=""
PROJECT=""
# The copy of the project's .gitlab-ci.yml the jobs run from.
PIPELINE_FILE=""

cleanup() {
  local status=$?
  trap - EXIT INT TERM
  [[ -z "$WORK" ]] || rm -rf "$WORK"
  exit "$status"
}

# Pinned, into the project's cache: nothing is installed on the machine.
ensure_gitlab_ci_local() {
  require_commands node:nodejs npm git
  [[ -x "$GITLAB_CI_LOCAL" ]] && return 0
  log "installing gitlab-ci-local $GITLAB_CI_LOCAL_VERSION into ${GITLAB_CI_LOCAL_DIR#"$ROOT_DIR"/}"
  mkdir -p "$GITLAB_CI_LOCAL_DIR"
  npm install --prefix "$GITLAB_CI_LOCAL_DIR" --no-audit --no-fund --loglevel=error \
    "gitlab-ci-local@$GITLAB_CI_LOCAL_VERSION" >/dev/null
}

# The project as a team has it after its first push: origin/main is its default
# branch (gitlab-ci-local reads CI_DEFAULT_BRANCH from origin's HEAD).
generate_project() {
  WORK="$(mktemp -d "${TMPDIR:-/tmp}/pipeline.XXXXXX")"
  PROJECT="$WORK/pipeline-check"
  log "generating a project into $PROJECT"
  make --no-print-directory -C "$ROOT_DIR" new-project NAME="Pipeline Check" \
    DOMAIN=pipeline-check.example DEST="$PROJECT" >"$WORK/new-project.log" 2>&1 ||
    { cat "$WORK/new-project.log" >&2; die "make new-project failed"; }
  git -C "$PROJECT" remote add origin https://gitlab.example.com/team/pipeline-check.git
  git -C "$PROJECT" update-ref refs/remotes/origin/main HEAD
  git -C "$PROJECT" symbolic-ref refs/remotes/origin/HEAD refs/remotes/origin/main
}

# The project's pipeline without `services:` (the test job's, the Docker
# template's), which this machine's servers replace.
write_pipeline_file() {
  PIPELINE_FILE="$WORK/gitlab-ci.yml"
  "$VENV_DIR/bin/python" - "$PROJECT/.gitlab-ci.yml" "$PIPELINE_FILE" <<'PYTHON'
import sys

import yaml

with open(sys.argv[1], encoding="utf-8") as source:
    pipeline = yaml.safe_load(source)
for job in pipeline.values():
    if isinstance(job, dict):
        job.pop("services", None)
with open(sys.argv[2], "w", encoding="utf-8") as target:
    yaml.safe_dump(pipeline, target, sort_keys=False)
PYTHON
}

# --file is relative to the project (the copy is beside it). The predefined
# variables set here on purpose are named, or each run warns about them.
gitlab_ci_local() {
  (cd "$PROJECT" && job_env "$GITLAB_CI_LOCAL" --file "../${PIPELINE_FILE##*/}" \
    --ignore-predefined-vars CI_COMMIT_BRANCH,CI_COMMIT_REF_NAME,CI_COMMIT_TAG,CI_PROJECT_DIR "$@")
}

# The jobs of a pipeline that would start, as "name:when" (manual ones need a click).
pipeline_jobs() {
  gitlab_ci_local --list-json "$@" 2>"$WORK/list.log" |
    "$VENV_DIR/bin/python" -c 'import json, sys
jobs = json.load(sys.stdin)
print(" ".join(job["name"] + ":" + job["when"] for job in jobs if job["when"] != "never"))'
}

expect_pipeline() {
  local kind="$1" expected="$2" got
  shift 2
  got="$(pipeline_jobs "$@")" ||
    { cat "$WORK/list.log" >&2; die "gitlab-ci-local could not read the pipeline of $kind"; }
  [[ "$got" == "$expected" ]] ||
    die "the pipeline of $kind holds: $got"$'\n'"       expected: $expected"
  log "the pipeline of $kind: $got"
}

check_pipelines() {
  local always="lint:on_success test:on_success test-tools:on_success test-docker:on_success"
  expect_pipeline "a push to main" "$always build:on_success deploy-staging:manual"
  expect_pipeline "a push to another branch" "$always" \
    --variable CI_COMMIT_BRANCH=feature --variable CI_COMMIT_REF_NAME=feature
  expect_pipeline "a tag" "$always build:on_success deploy-production:manual" \
    --variable CI_COMMIT_TAG=v1.0.0 --unset-variable CI_COMMIT_BRANCH
}

# The jobs' environment: this machine's, which a shell runner passes on, without
# what make and scripts/lib.sh added here (they would point the job's own make
# at this checkout's environments).
job_env() {
  env -u ROOT_DIR -u VENV_DIR -u WORKER_VENV_DIR -u ANSIBLE_VENV_DIR -u UV \
    -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u MAKEOVERRIDES PATH="$JOB_PATH" "$@"
}

# Runs the jobs, one after the other, each as the runner would: its output on
# the terminal with timestamps, in stage order.
run_jobs() {
  local started=$SECONDS
  mkdir -p "$PIPELINE_CACHE_DIR"
  log "running the jobs $* (shell executor)"
  # A shell runner's CI_PROJECT_DIR is the job's directory (gitlab-ci-local
  # gives a container's path), where the job's own variables put its caches.
  gitlab_ci_local --force-shell-executor --timestamps --concurrency 1 \
    --variable "CI_PROJECT_DIR=$PROJECT" \
    --variable "UV_CACHE_DIR=$PIPELINE_CACHE_DIR/uv-cache" \
    --variable "PIP_CACHE_DIR=$PIPELINE_CACHE_DIR/pip" \
    --variable "TEST_POSTGRES_URL=$TEST_POSTGRES_URL" \
    --variable "TEST_MARIADB_URL=$TEST_MARIADB_URL" \
    --variable "TEST_REDIS_URL=$TEST_REDIS_URL" \
    "$@"
  log "the jobs $* passed in $((SECONDS - started))s"
}

main() {
  local started=$SECONDS
  local -a jobs=("$@")
  ((${#jobs[@]})) || jobs=("${DEFAULT_JOBS[@]}")
  trap cleanup EXIT
  trap 'exit 130' INT TERM
  ensure_venv
  ensure_gitlab_ci_local
  generate_project
  write_pipeline_file
  check_pipelines
  run_jobs "${jobs[@]}"
  log "pipeline test passed in $((SECONDS - started))s"
}

main "$@"
