# The one entry point for people and CI. `make` alone lists the targets.
SHELL := /usr/bin/env bash
.DEFAULT_GOAL := help
MSG ?=

##@ General

.PHONY: help
help: ## Show this help
	@awk 'BEGIN {FS = ":.*##"; printf "Usage: make \033[36m<target>\033[0m\n"} \
		/^[a-zA-Z0-9_-]+:.*?##/ { printf "  \033[36m%-18s\033[0m %s\n", $$1, $$2 } \
		/^##@/ { printf "\n\033[1m%s\033[0m\n", substr($$0, 5) }' $(MAKEFILE_LIST)

.PHONY: install
install: ## Create .venv and install the backend with its tools
	@source scripts/lib.sh && ensure_venv

##@ Run

.PHONY: dev
dev: ## Run the system for development: API, worker with scheduler, mail sink (SQLite and an embedded broker by default)
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

##@ Database

.PHONY: migrate
migrate: ## Upgrade the database schema to the newest revision
	@scripts/migrate.sh up

.PHONY: migration
migration: ## Write a new migration from the models: make migration MSG="add a column"
	@scripts/migrate.sh new "$(MSG)"

##@ Quality

.PHONY: test
test: ## Run linters, type checks and every test (PostgreSQL/MariaDB too when TEST_*_URL are set)
	@scripts/test.sh

.PHONY: e2e
e2e: ## Run the browser tests against the whole system, started natively on throwaway state
	@scripts/e2e.sh

.PHONY: lint
lint: ## Run the linters and type checks only
	@scripts/lint.sh

.PHONY: format
format: ## Format and fix the Python code
	@source scripts/lib.sh && ensure_venv && cd backend && ruff check --fix . && ruff format .

.PHONY: bench
bench: ## Benchmark the API under load against PostgreSQL and print the figures
	@scripts/bench.sh

##@ Housekeeping

.PHONY: clean
clean: ## Remove caches and the embedded database (keeps .venv)
	rm -rf backend/data .cache
	find . -name __pycache__ -prune -exec rm -rf {} + -o -name '.*_cache' -prune -exec rm -rf {} +
