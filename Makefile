# Needs only Python 3.11+, make and git. Everything else goes into .venv; the tests run on
# PostgreSQL too when its server is installed (Debian: postgresql), and skip that otherwise.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
CONFIG ?= config.toml
# Test processes: one per core (most tests wait on real servers; 2 cores halve the time).
TEST_WORKERS ?= auto
JS := tests/js

.PHONY: serve test test-sqlite lint demo clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

# masto.js for tests/test_masto_js.py, from its lock file into tests/js/node_modules (never
# global); again only when the lock file changes. Without npm that test skips (fails in CI).
$(JS)/node_modules/.installed: $(JS)/package-lock.json $(JS)/package.json
	@if command -v npm >/dev/null 2>&1; then \
		cd $(JS) && npm ci --no-audit --no-fund --loglevel=error && touch node_modules/.installed; \
	else \
		echo "npm not found: tests/test_masto_js.py will be skipped (Debian: nodejs npm)"; \
	fi

serve: $(VENV)/.installed
	$(BIN)/fedchirp --config $(CONFIG) serve

demo: $(VENV)/.installed
	$(BIN)/fedchirp demo

test: $(VENV)/.installed-test $(JS)/node_modules/.installed
	$(BIN)/ruff check
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) $(PYTEST_ARGS)

# The suite without its PostgreSQL runs.
test-sqlite: $(VENV)/.installed-test $(JS)/node_modules/.installed
	$(BIN)/ruff check
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) -k "not postgresql and not postgres_url" $(PYTEST_ARGS)

lint: $(VENV)/.installed-test
	$(BIN)/ruff check

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info $(JS)/node_modules
