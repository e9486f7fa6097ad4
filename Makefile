# The one entry point for people and CI. `make` alone lists the targets.
SHELL := /usr/bin/env bash
.DEFAULT_GOAL := help
MSG ?=

##@ General

.PHONY: help
help: ## Show this help
	@awk 'BEGIN {FS = ":.*##"; printf "Usage: make \033[36m<target>\033[0m\n"} \
		/^[a-zA-Z0-9_-]+:.*?##/ { printf "  \033[36m%-21s\033[0m %s\n", $$1, $$2 } \
		/^##@/ { printf "\n\033[1m%s\033[0m\n", substr($$0, 5) }' $(MAKEFILE_LIST)

.PHONY: install
install: ## Create .venv and install the backend and the worker with their tools (from uv.lock)
	@source scripts/lib.sh && ensure_venv

.PHONY: lock
lock: ## Update uv.lock after a dependency changed in a pyproject.toml [UPGRADE=1: every package to its newest allowed]
	@source scripts/lib.sh && ensure_uv && "$$UV" lock $(if $(filter 1,$(UPGRADE)),--upgrade)

##@ Run

.PHONY: dev
dev: ## Run the system for development: in containers when Docker answers, else natively (DEV_MODE=native|docker)
	@scripts/dev.sh

.PHONY: api
api: ## Run the API alone with the production server on API_PORT (default 8001)
	@scripts/api.sh

.PHONY: worker
worker: ## Run a background worker alone
	@scripts/worker.sh worker

.PHONY: beat
beat: ## Run the periodic task scheduler alone (one per deployment)
	@scripts/worker.sh beat

.PHONY: flower
flower: ## Run Flower, the worker monitor, on FLOWER_PORT (default 5555) behind FLOWER_BASIC_AUTH
	@scripts/worker.sh flower

.PHONY: frontend
frontend: ## Run the frontend's dev server alone (FRONTEND_PORT, default 5173; /api proxied to API_PORT)
	@scripts/frontend.sh dev

.PHONY: generate-client
generate-client: ## Regenerate the frontend's typed API client from the backend's spec
	@scripts/frontend.sh generate-client

.PHONY: shell
shell: ## Open a Python shell with the app, a database session and the models loaded (IPython when installed)
	@scripts/shell.sh

.PHONY: jupyter-kernel
jupyter-kernel: ## Install IPython and ipykernel, and register a Jupyter kernel on .venv with the shell's names loaded
	@scripts/shell.sh kernel

##@ Database

.PHONY: migrate
migrate: ## Upgrade the database schema to the newest revision
	@scripts/migrate.sh up

.PHONY: migration
migration: ## Write a new migration from the models: make migration MSG="add a column"
	@scripts/migrate.sh new "$(MSG)"

.PHONY: backup
backup: ## Back up the database into backups/ (BACKUP_TARGET=native, compose or swarm: docs/deployment.md)
	@source scripts/lib.sh && ensure_venv && python -m app backup

.PHONY: restore
restore: ## Replace the database's contents with a backup: make restore FILE=backups/... [FORCE=1]
	@source scripts/lib.sh && ensure_venv && python -m app restore $(if $(FILE),"$(FILE)") \
		$(if $(filter 1 true yes,$(FORCE)),--yes)

##@ Quality

.PHONY: test
test: ## Run linters, type checks and the tests but the tools tier (PostgreSQL/MariaDB too when TEST_*_URL are set) [SKIP_LINT=1: no linters]
	@scripts/test.sh

.PHONY: test-tools
test-tools: ## Run the tools tier make test leaves out: make dev's lifecycle, new-project, new-worker, update-from-upstream, the docs' walkthrough
	@scripts/test-tools.sh

.PHONY: test-fuzz
test-fuzz: ## Run the property-based API tests deeper: 150 examples per operation, role and database
	@source scripts/lib.sh && ensure_venv && cd backend && ENV_FILE=/dev/null FUZZ_EXAMPLES=150 \
		python -m pytest -p no:cacheprovider tests/web/test_openapi_fuzz.py

.PHONY: e2e
e2e: ## Run the browser tests against the whole system, started natively on throwaway state
	@scripts/e2e.sh

.PHONY: lint
lint: ## Run the linters and type checks only
	@scripts/lint.sh

.PHONY: hooks
hooks: ## Run the linters before each commit, on the files it changes (pre-commit install)
	@source scripts/lib.sh && ensure_venv && pre-commit install

.PHONY: format
format: ## Format and fix the Python code
	@source scripts/lib.sh && ensure_venv && cd backend && ruff check --fix . && ruff format .

.PHONY: bench
bench: ## Benchmark the API under load against PostgreSQL and print the figures
	@scripts/bench.sh

.PHONY: test-docker
test-docker: ## Build the images and run the live API suite against the compose stack (a private Docker engine if none answers)
	@scripts/test-docker.sh

.PHONY: test-pipeline
test-pipeline: ## Run the GitLab pipeline of a new project with gitlab-ci-local: its rules, and the lint and test jobs for real
	@scripts/test-pipeline.sh

.PHONY: test-deploy
test-deploy: ## Test the Ansible deployment for real: 3 local hosts (network namespaces), a Swarm, 2 sites (root)
	@scripts/test-deploy.sh

##@ Containers

.PHONY: images
images: ## Build the backend, worker and frontend images (named in project.env) [TAG=...] [REGISTRY=...] (stand-ins for base images no registry gives)
	@scripts/images.sh build

.PHONY: docker-stop
docker-stop: ## Stop the private Docker engine that make test-docker/images started (its images stay)
	@source ci/docker-engine.sh && stop_private_docker_engine

##@ Deployment

.PHONY: provision
provision: ## Bare servers to a hardened Swarm with Traefik (ansible/site.yml) [INVENTORY=...] [ANSIBLE_ARGS=...]
	@scripts/deploy.sh provision $(ANSIBLE_ARGS)

.PHONY: deploy
deploy: ## Build, push and deploy a site: make deploy DOMAIN=example.com [REGISTRY=...] [TAG=...] [BUILD=0] [STACK_NAME=...]
	@scripts/deploy.sh deploy $(ANSIBLE_ARGS)

##@ Project

# Only values given on the command line count: NAME, DOMAIN or REF in the
# environment (WSL sets NAME) must not slip in.
given = $(filter command line,$(origin $(1)))

.PHONY: new-project
new-project: ## Generate a project from this one: make new-project NAME="Acme Portal" DOMAIN=acme.example [DEST=../acme-portal] [SLUG=...]
	@$${PYTHON:-python3} tools/new_project.py $(if $(call given,NAME),--name "$$NAME") \
		$(if $(call given,DOMAIN),--domain "$$DOMAIN") \
		$(if $(call given,DEST),--dest "$$DEST") $(if $(call given,SLUG),--slug "$$SLUG")

.PHONY: new-worker
new-worker: ## Add a worker module (its own project, image, queue and a sample job kind): make new-worker NAME=nlp
	@$${PYTHON:-python3} tools/new_worker.py "$(NAME)" && $(MAKE) --no-print-directory lock

.PHONY: update-from-upstream
update-from-upstream: ## Merge the newest version of the base this project was generated from (.upstream) [REF=branch-or-tag] [UPSTREAM=url-or-path]
	@UPSTREAM=$(if $(call given,UPSTREAM),"$$UPSTREAM") scripts/update-from-upstream.sh $(if $(call given,REF),"$$REF")

##@ Housekeeping

.PHONY: clean
clean: ## Remove caches and the embedded database (keeps .venv)
	rm -rf backend/data .cache
	find . -name __pycache__ -prune -exec rm -rf {} + -o -name '.*_cache' -prune -exec rm -rf {} +
