# Baladiya — two commands: `make run` and `make test`. Everything else is a helper.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PG_URL ?= postgresql://postgres@127.0.0.1:5432/test

.PHONY: run test test-sqlite test-pg test-new-year install system-deps lint format typecheck bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## Debian packages the tests need: Chromium (driven by Playwright, never downloaded), GNU
## gettext (the translation test checks the Arabic catalog against the code) and libfaketime
## (the partition tests run a center node whose clock is hours off).
system-deps:
	@missing=""; [ -x /usr/bin/chromium ] || missing="$$missing chromium"; \
	command -v msgfmt >/dev/null || missing="$$missing gettext"; \
	command -v faketime >/dev/null || missing="$$missing faketime"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
	  $$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; fi

## Set up, migrate, seed the Homs demo (first time) and start web server + task worker.
run: install
	BALADIYA_DEMO=1 $(BIN)/baladiya run

## Both databases: SQLite (embedded default) and PostgreSQL (the central node's engine).
test: install system-deps test-sqlite test-pg

test-sqlite: install
	BALADIYA_TESTING=1 $(BIN)/pytest -q -n 2 --dist loadfile

test-pg: install
	@bash scripts/ensure-postgres.sh
	BALADIYA_TESTING=1 DATABASE_URL=$(PG_URL) $(BIN)/pytest -q -n 2 --dist loadfile

## The suite on SQLite at 22:30 UTC on 31 December (already New Year's Day in Homs); not in CI.
test-new-year: install system-deps
	bash scripts/test-new-year.sh

lint: install
	$(BIN)/ruff check src bench
	$(BIN)/ruff format --check src bench

format: install
	$(BIN)/ruff format src bench
	$(BIN)/ruff check --fix src bench

typecheck: install
	BALADIYA_TESTING=1 $(BIN)/mypy src/baladiya

## Documents/s and counter applications/s on SQLite and PostgreSQL -> bench/results.md (~3 min).
bench: install
	@bash scripts/ensure-postgres.sh
	BALADIYA_TESTING=1 $(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) var/*.sqlite3*
