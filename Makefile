# The two commands of the quick start:
#   make run    install everything, migrate, run all services (SQLite in var/, local RabbitMQ)
#   make test   install everything, make sure RabbitMQ and PostgreSQL are up, run all checks
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install run test lint services bench clean

NODE_DEPS := deploy/oidc-dev/node_modules/.package-lock.json

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade "pip>=24,<27"
	$(BIN)/python -m pip install -q -c constraints.txt -e ".[dev]"
	@touch $(STAMP)

# The development OpenID provider (deploy/oidc-dev), pinned by its package-lock.json.
$(NODE_DEPS): deploy/oidc-dev/package.json deploy/oidc-dev/package-lock.json
	npm ci --prefix deploy/oidc-dev --no-audit --no-fund --loglevel=error
	@touch $(NODE_DEPS)

install: $(STAMP) $(NODE_DEPS)

run: install
	$(BIN)/samspil run --migrate

services:
	@deploy/ensure-services.sh

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/samspil contracts check

test: install services lint
	$(BIN)/pytest -p no:cacheprovider

bench: install services
	$(BIN)/python bench/pipeline.py
	$(BIN)/python bench/slot_search.py
	$(BIN)/python bench/worklists.py

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache
