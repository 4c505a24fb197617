# Two commands do everything on a fresh machine: `make serve` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: serve test test-sqlite test-postgres lint typecheck bench clean postgres-package node-deps browser-deps

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

serve: $(STAMP)
	$(BIN)/pga-gateway serve

# Debian's PostgreSQL server for the PostgreSQL half of the suite (installed only if missing).
postgres-package:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { \
	  echo "installing Debian postgresql"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null) \
	  || sudo sh -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql'; }

# Debian's Chromium for the review-page browser tests (Playwright drives it; installed only if
# missing; `playwright install` is never run).
browser-deps:
	@test -x /usr/bin/chromium || { \
	  echo "installing Debian chromium"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	  || sudo sh -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium'; }

# The npm package `soap` (node-soap) for the independent-client SOAP test, from the lock file;
# node_modules is not committed. Skipped quietly when npm is absent (the test then skips too).
NODE_TEST_DIR := tests/gateway/soap/node
node-deps:
	@if command -v npm >/dev/null 2>&1 && [ ! -d $(NODE_TEST_DIR)/node_modules ]; then \
	  npm ci --prefix $(NODE_TEST_DIR) --no-audit --no-fund; fi

lint: $(STAMP)
	$(BIN)/ruff check gateway agencies dis tests bench
	$(BIN)/ruff format --check gateway agencies dis tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

test-sqlite: $(STAMP) node-deps browser-deps
	PGA_TEST_DATABASE=sqlite $(BIN)/pytest -q -p no:cacheprovider

test-postgres: $(STAMP) postgres-package node-deps browser-deps
	PGA_TEST_DATABASE=postgres $(BIN)/pytest -q -p no:cacheprovider

test: lint typecheck test-sqlite test-postgres

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache
