# The two commands of the quick start:
#   make run    install everything, migrate, run all services (SQLite in var/, local RabbitMQ)
#   make test   install everything, make sure RabbitMQ and PostgreSQL are up, run all checks
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install run test lint services browser bench clean

NODE_DEPS := deploy/oidc-dev/node_modules/.package-lock.json \
             services/web/assets/node_modules/.package-lock.json

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade "pip>=24,<27"
	$(BIN)/python -m pip install -q -c constraints.txt -e ".[dev]"
	@touch $(STAMP)

# Node packages, pinned by their package-lock.json: the development OpenID provider
# (deploy/oidc-dev) and the web app's assets (DKFDS, htmx, axe-core).
%/node_modules/.package-lock.json: %/package.json %/package-lock.json
	npm ci --prefix $* --no-audit --no-fund --loglevel=error
	@touch $@

# The browser tests drive Debian's Chromium (Playwright's own download cannot work here).
browser:
	@command -v chromium >/dev/null || { apt-get update -q && apt-get install -y -q chromium; }

install: $(STAMP) $(NODE_DEPS)

run: install
	$(BIN)/samspil run --migrate

services:
	@deploy/ensure-services.sh
	@deploy/ensure-tools.sh

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/samspil contracts check

# The main suite and the browser suite run in separate processes (conftest.py says why).
test: install services browser lint
	$(BIN)/pytest -p no:cacheprovider
	SAMSPIL_BROWSER_TESTS=1 $(BIN)/pytest -p no:cacheprovider tests/browser

bench: install services
	$(BIN)/python bench/pipeline.py
	$(BIN)/python bench/slot_search.py
	$(BIN)/python bench/worklists.py
	$(BIN)/python bench/scale.py

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache \
		deploy/oidc-dev/node_modules services/web/assets/node_modules
