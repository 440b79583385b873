# The two commands of the quick start:
#   make run    install everything, migrate, run all services (SQLite in var/, local RabbitMQ)
#   make test   install everything, make sure RabbitMQ and PostgreSQL are up, run all checks
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install run test lint services browser bench clean test-core test-reliability \
        test-system test-browser test-unit-313

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

# The newest Python the code supports, for the unit tests (pyenv has it on this machine).
PYTHON313 ?= $(firstword $(wildcard $(HOME)/.pyenv/versions/3.13*/bin/python3.13) \
                         $(shell command -v python3.13))
VENV313   := .venv313
$(VENV313)/.installed: pyproject.toml constraints.txt
	@test -x $(VENV313)/bin/python || $(PYTHON313) -m venv $(VENV313)
	$(VENV313)/bin/python -m pip install -q --upgrade "pip>=24,<27"
	$(VENV313)/bin/python -m pip install -q -c constraints.txt -e ".[dev]"
	@touch $@

run: install
	$(BIN)/samspil run --migrate

services:
	@deploy/ensure-services.sh
	@deploy/ensure-tools.sh

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/samspil contracts check

# Every test, in four pytest processes at once: most tests wait on a broker, a database,
# a child process or a browser rather than on the CPU, so on two cores the groups take
# about as long as the longest. Each group prints its own report when it ends. The browser
# suite needs a process of its own anyway (conftest.py says why). Besides, the unit tests
# run on Python 3.13 too (the whole suite runs on 3.11, the oldest supported).
PYTEST := $(BIN)/pytest -p no:cacheprovider --durations=5
test: install services browser lint
	@$(MAKE) --no-print-directory -j5 --output-sync=target test-core test-reliability \
		test-system test-browser test-unit-313

# The pure domain, the contracts and each service against the real broker and databases.
test-core:
	$(PYTEST) tests/unit tests/contracts tests/integration
# Kills, restarts and outages, upgrades, scale-out, backup and restore; the gateway's and
# the CLI's own end-to-end tests (in this group to even out the four).
E2E_EDGE := tests/e2e/test_gateway.py tests/e2e/test_cli.py
# The longest outages (a cluster losing nodes, a partner down for a day) run after the
# browser suite, in its group, to even out the four.
LONG_FAULTS := tests/reliability/test_cluster.py tests/reliability/test_partner_outage.py
test-reliability:
	$(PYTEST) tests/reliability $(addprefix --ignore=,$(LONG_FAULTS)) $(E2E_EDGE)
# The whole system started as documented: the docs' commands, end to end over HTTP.
test-system:
	$(PYTEST) tests/docs tests/e2e $(addprefix --ignore=,$(E2E_EDGE))
test-browser:
	SAMSPIL_BROWSER_TESTS=1 $(PYTEST) tests/browser
	$(PYTEST) $(LONG_FAULTS)
test-unit-313: $(VENV313)/.installed
	$(VENV313)/bin/pytest -p no:cacheprovider -q tests/unit

bench: install services
	$(BIN)/python bench/pipeline.py
	$(BIN)/python bench/slot_search.py
	$(BIN)/python bench/worklists.py
	$(BIN)/python bench/scale.py
	$(BIN)/python bench/intake_statistics.py --n 200000

clean:
	rm -rf $(VENV) $(VENV313) var .mypy_cache .ruff_cache .pytest_cache \
		deploy/oidc-dev/node_modules services/web/assets/node_modules
