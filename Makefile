# kubesift — two commands: `make demo` and `make test`. Each installs what it needs.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export KUBESIFT_HOME ?= $(CURDIR)/data
DATASETS := $(or $(KUBESIFT_DATASETS),$(wildcard ../shared/datasets))
NOTES_DIR := $(DATASETS)/k8s-release-notes
# Used only when no local datasets exist (needs network access to GitHub).
NOTES_URL := https://raw.githubusercontent.com/kubernetes-sigs/release-notes/master/src/assets
NOTES_VERSIONS := 1.14.0 1.15.0 1.16.0 1.17.0 1.18.0 1.19.0 1.20.0 1.21.0 1.22.0 1.23.0 \
                  1.24.0 1.25.0 1.26.0 1.27.0 1.28.0

.PHONY: install demo test lint typecheck unit docs bench clean test-postgres screenshots

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit("kubesift needs Python >= 3.11, found " + sys.version.split()[0]) if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,serve,pipeline]'
	@touch $(STAMP)

install: $(STAMP)

demo: install
	@echo "== importing Kubernetes release notes into $(KUBESIFT_HOME)"
ifneq ($(strip $(DATASETS)),)
	$(BIN)/kubesift import release-notes $(NOTES_DIR)
else
	$(BIN)/kubesift import release-notes $(foreach v,$(NOTES_VERSIONS),$(NOTES_URL)/release-notes-$(v).json)
endif
	@echo "== what the store holds"
	$(BIN)/kubesift status
	@echo "== training kind/bug and the kind and sig families, beside seed-mlp (reference split)"
	$(BIN)/kubesift train --label kind/bug --family kind --family sig
	$(BIN)/kubesift predict --test
	@echo "== the report"
	$(BIN)/kubesift report
	@echo "== one reconcile pass: is production still what kubesift.toml [reconcile] asks for?"
	$(BIN)/kubesift reconcile --once
	$(BIN)/kubesift reconcile status --runs 1

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

# The README's dashboard picture, taken by the browser test (needs /usr/bin/chromium).
screenshots: install
	KUBESIFT_SCREENSHOTS=$(CURDIR)/docs $(BIN)/python -m pytest -q tests/web/test_browser.py

bench: install
	$(BIN)/python bench/export.py --quick

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache
