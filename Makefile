# Two commands for a fresh machine:  `make run`  and  `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run test lint bench browser install

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

## Install and start Convene on SQLite at http://127.0.0.1:3978/ (demo data when empty).
run: $(STAMP)
	$(BIN)/convene serve --demo-if-empty

## Install and run the tests (SQLite; also PostgreSQL when TEST_DATABASE_URL is set).
test: $(STAMP) browser
	$(BIN)/pytest $(PYTEST_ARGS)

## Headless Chromium for the browser tests, from Debian's packages when we can install it.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "chromium is not installed: the browser tests will be skipped"; fi; }

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check bot handlers storage
	$(BIN)/mypy bot handlers storage

bench: $(STAMP)
	@for b in bench/*.py; do [ "$$(basename $$b)" = "__init__.py" ] || $(BIN)/python -m bench.$$(basename $$b .py); done
