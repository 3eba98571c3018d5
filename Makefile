# Needs only Python 3.11+, make and git. Everything else goes into .venv; the tests run on
# PostgreSQL too when its server is installed (Debian: postgresql), and skip that otherwise.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
CONFIG ?= config.toml

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

serve: $(VENV)/.installed
	$(BIN)/fedchirp --config $(CONFIG) serve

demo: $(VENV)/.installed
	$(BIN)/fedchirp demo

test: $(VENV)/.installed-test
	$(BIN)/ruff check
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

# The suite without its PostgreSQL runs.
test-sqlite: $(VENV)/.installed-test
	$(BIN)/ruff check
	$(BIN)/python -m pytest -q -k "not postgresql and not postgres_url" $(PYTEST_ARGS)

lint: $(VENV)/.installed-test
	$(BIN)/ruff check

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info
