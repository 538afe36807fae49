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

# Migrate, seed the demo (once: later runs leave the data as it is), print the demo logins,
# then serve until Ctrl-C: `canone serve` says "serving on …" once the port is bound, or
# which port is taken and how to pick another.
run: $(BIN)/canone
	$(BIN)/canone db upgrade
	$(BIN)/canone demo --url http://$(HOST):$(PORT)
	$(BIN)/canone serve --host $(HOST) --port $(PORT)

test: $(BIN)/canone
	$(BIN)/pytest -n 2 -q

check: $(BIN)/canone
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

bench: $(BIN)/canone
	$(BIN)/python bench/price.py

clean:
	rm -rf $(VENV) $(TOOLS)
