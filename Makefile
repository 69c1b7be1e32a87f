# Two commands for a fresh machine: `make demo` and `make test`.
# Both create .venv and install the project into it when pyproject.toml changes.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck suite unit bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/reclaim demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy
	$(BIN)/lint-imports

# the whole suite with coverage, which may not fall below the floor in pyproject.toml
suite: $(STAMP)
	$(BIN)/pytest -q --cov --cov-report=term:skip-covered

# the fast tier alone: pure code and the use cases on the in-memory unit of work (seconds)
unit: $(STAMP)
	$(BIN)/pytest -q -m unit

test: lint typecheck suite

bench: $(STAMP)
	$(BIN)/python bench/triage.py
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/ingest.py --whole
	$(BIN)/python bench/bot.py
	$(BIN)/python bench/latency.py
	$(BIN)/python bench/parse.py
	$(BIN)/python bench/cli.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
