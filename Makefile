# Two commands do everything: `make run` and `make test`. Both build .venv from uv.lock.
PYTHON ?= python3
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test check bench clean

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==0.13.9

$(BIN)/canone: $(UV) uv.lock pyproject.toml
	$(UV) sync --frozen --quiet
	touch $@

HOST ?= 127.0.0.1
PORT ?= 8000

# Migrate, seed the demo (once: later runs leave the data as it is), print the address and
# the demo logins, then serve until Ctrl-C.
run: $(BIN)/canone
	$(BIN)/canone db upgrade
	$(BIN)/canone demo --url http://$(HOST):$(PORT)
	@echo "serving on http://$(HOST):$(PORT) (Ctrl-C stops)"
	$(BIN)/canone serve --host $(HOST) --port $(PORT)

# axe-core, which the browser tests inject into pages (tests/e2e/package-lock.json).
AXE := tests/e2e/node_modules/axe-core/axe.min.js
$(AXE): tests/e2e/package-lock.json
	cd tests/e2e && npm ci --no-audit --no-fund --silent
	touch $@

test: $(BIN)/canone $(AXE)
	$(BIN)/pytest -n 2 -q

check: $(BIN)/canone
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

bench: $(BIN)/canone
	$(BIN)/python bench/price.py

clean:
	rm -rf $(VENV) $(TOOLS)
