# Kestrel — every developer and CI entry point. `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help
export UV_LINK_MODE ?= copy

# uv is the one installer; fetched from PyPI with pip the first time (its path is then python's scripts dir).
UV := $(shell command -v uv 2>/dev/null || { python3 -m pip install --quiet uv >&2 && \
        python3 -c 'import os, sysconfig; print(os.path.join(sysconfig.get_path("scripts"), "uv"))'; })
RUN := $(UV) run --frozen
INFRA := $(RUN) python infra/local/kestrel_infra.py
PYTEST := $(RUN) pytest

.PHONY: help install lint format typecheck proto proto-check infra-up infra-down infra-status topics \
        migrate test test-unit test-integration test-e2e demo bench clean

help: ## Show this help
	@awk 'BEGIN {FS = ":.*## "}; /^[a-zA-Z0-9_-]+:.*## / {printf "  \033[36m%-18s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.venv/.synced: uv.lock pyproject.toml $(wildcard libs/*/pyproject.toml services/*/pyproject.toml)
	$(UV) sync --frozen --all-packages --all-groups
	@touch $@

install: .venv/.synced ## Install Python 3.11 dependencies of every package (uv workspace)

lint: install ## ruff lint + format check, mypy strict
	$(RUN) ruff check .
	$(RUN) ruff format --check .
	$(RUN) mypy libs services bench tests-e2e tests infra/local conftest.py

format: install ## Apply ruff formatting and safe fixes
	$(RUN) ruff format .
	$(RUN) ruff check --fix .

proto: install ## Regenerate the Python code of proto/kestrel/v1 into libs/contracts
	$(RUN) python -m kestrel_contracts.codegen

proto-check: install ## Fail when regenerating the contracts would change the committed code
	$(RUN) python -m kestrel_contracts.codegen --check

infra-up: install ## Start Kafka (KRaft), PostgreSQL, Redis, Prometheus and MLflow locally (no Docker)
	$(INFRA) up

infra-down: install ## Stop exactly the local infrastructure processes infra-up started
	$(INFRA) down

infra-status: install ## Show the local infrastructure: pid, port, state
	$(INFRA) status

topics: install ## Create every Kafka topic and Redis stream of the registry (idempotent)
	$(RUN) python -m kestrel_messaging.topics create

migrate: install ## Apply the SQL migrations to KESTREL_DATABASE_URL (idempotent)
	$(RUN) python -m kestrel_store.migrate

test: install ## Install, bring infrastructure up, run unit + integration + e2e tests, tear down what it started
	UV=$(UV) bash scripts/run-tests.sh

test-unit: install ## Unit tests only (no server needed)
	$(PYTEST) -m "not integration and not e2e"

test-integration: install ## Integration tests on real Kafka, PostgreSQL, Redis and MLflow
	$(PYTEST) -m "integration and not e2e"

test-e2e: install ## End-to-end tests of the whole system
	$(PYTEST) -m e2e

demo: install ## The main job: the live loop on replayed sample data (paper trading), summary and URLs; Ctrl-C stops it
	UV=$(UV) bash scripts/demo.sh $(DEMO_ARGS)

bench: install ## Benchmarks that print figures (messaging latency/throughput)
	UV=$(UV) bash scripts/bench.sh

clean: ## Remove caches (not the local infrastructure data: see infra-down)
	rm -rf .mypy_cache .ruff_cache .pytest_cache bench/results
