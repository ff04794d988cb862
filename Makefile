# Two commands for a fresh machine:  `make run`  and  `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
# Every package, pinned with its hashes, for Python 3.11 on Linux x86_64 (`make lock` writes it).
LOCK := requirements.lock
# Test workers: most of a test's time is spent waiting on sockets and the database, so two
# workers on two cores take the suite from about 8 to under 5 minutes. WORKERS=0 runs in one.
WORKERS ?= 2
UV_VERSION := 0.13.9

.PHONY: run test lint bench browser install lock

# Installs exactly what the lock says (pip refuses any file whose hash differs), then
# Convene itself without letting pip pick anything more. Runs again when either file changes.
$(STAMP): pyproject.toml $(LOCK)
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q --require-hashes -r $(LOCK)
	$(BIN)/pip install -q --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

## After changing dependencies in pyproject.toml: re-lock (needs PyPI), then commit both files.
## Keeps the pinned versions that still fit; `make lock UPGRADE=1` takes the newest of each.
lock:
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q uv==$(UV_VERSION) packaging
	$(BIN)/uv pip compile pyproject.toml --all-extras --generate-hashes \
	  --python-version 3.11 --python-platform x86_64-unknown-linux-gnu \
	  --custom-compile-command "make lock" $(if $(UPGRADE),--upgrade) -o $(LOCK)
	$(BIN)/python scripts/check_lock.py

## Install and start Convene on SQLite at http://127.0.0.1:3978/ (demo data when empty).
run: $(STAMP)
	$(BIN)/convene serve --demo-if-empty

## Install and run the tests (SQLite; also PostgreSQL when TEST_DATABASE_URL is set).
test: $(STAMP) browser
	$(BIN)/pytest -n $(WORKERS) --dist loadgroup $(PYTEST_ARGS)

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
	$(BIN)/lint-imports

bench: $(STAMP)
	@for b in bench/*.py; do [ "$$(basename $$b)" = "__init__.py" ] || $(BIN)/python -m bench.$$(basename $$b .py); done
