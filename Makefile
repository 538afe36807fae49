# Two commands do everything: `make run` and `make test`. Both build .venv from uv.lock.
PYTHON ?= python3
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test check bench clean secret-key

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==0.13.9

$(BIN)/canone: $(UV) uv.lock pyproject.toml
	$(UV) sync --frozen --quiet
	touch $@

HOST ?= 127.0.0.1
PORT ?= 8000

# Migrate, seed the demo (once: later runs leave the data as it is), print the demo logins,
# then serve until Ctrl-C: `canone serve` says "serving on …" once the port is bound, or
# which port is taken and how to pick another.
run: $(BIN)/canone secret-key
	$(BIN)/canone db upgrade
	$(BIN)/canone demo --url http://$(HOST):$(PORT)
	$(BIN)/canone serve --host $(HOST) --port $(PORT)

# `canone serve` needs CANONE_SECRET_KEY: the first time, when neither the environment nor
# .env sets one, write a random one into .env (readable by its owner only).
secret-key:
	@if [ -z "$$CANONE_SECRET_KEY" ] && ! grep -qs '^CANONE_SECRET_KEY=.' .env; then \
	  umask 077; \
	  if [ -s .env ] && [ -n "$$(tail -c 1 .env)" ]; then echo >> .env; fi; \
	  echo "CANONE_SECRET_KEY=$$($(PYTHON) -c 'import secrets; print(secrets.token_urlsafe(32))')" >> .env; \
	  echo "wrote a new random CANONE_SECRET_KEY into .env"; \
	fi


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
	# the in-memory store of the tests implements every port (tests/memory_store.py)
	MYPYPATH=tests $(BIN)/mypy tests/memory_store.py tests/memory_repositories.py tests/memory_edges.py tests/memory_documents.py
	$(BIN)/lint-imports

bench: $(BIN)/canone
	$(BIN)/python bench/price.py

clean:
	rm -rf $(VENV) $(TOOLS)
