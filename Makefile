# spamops — `make up` runs the system, `make test` runs every check CI runs.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SHARED_DATA := ../shared/data/sms_spam_collection
BENCHES := $(filter-out harness __init__,$(basename $(notdir $(wildcard bench/*.py))))

.PHONY: help up demo test lint types unit bench bench-quick data venv clean schemas

help:
	@echo "make up     - install, get the data, train if needed, start everything"
	@echo "make demo   - the same, plus demo traffic that walks the whole loop"
	@echo "make test   - lint, type-check and test (what CI runs)"
	@echo "make bench  - run the benchmarks in bench/ (make bench-quick: under a minute each)"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $(STAMP)

venv: $(STAMP)

# The corpus is never committed: link the shared copy when it is beside the checkout,
# else download and verify it (`spamops data fetch`).
data: $(STAMP)
	@mkdir -p data
	@if [ -f data/sms_spam_collection/SMSSpamCollection ]; then :; \
	elif [ -d $(SHARED_DATA) ]; then ln -sfn "$$(cd $(SHARED_DATA) && pwd)" data/sms_spam_collection; \
	else $(BIN)/spamops data fetch; fi

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

types: $(STAMP)
	$(BIN)/mypy .

schemas: $(STAMP)
	$(BIN)/spamops schemas export docs/events

test: $(STAMP) data lint types
	$(BIN)/python -m pytest --cov --cov-report=term $(PYTEST_ARGS)

unit: $(STAMP) data
	$(BIN)/python -m pytest -m "not redis and not e2e and not faults and not browser" $(PYTEST_ARGS)

bench: $(STAMP) data
	@for b in $(BENCHES); do echo "== bench.$$b"; $(BIN)/python -m bench.$$b || exit 1; done

bench-quick: $(STAMP) data
	@for b in $(BENCHES); do echo "== bench.$$b"; $(BIN)/python -m bench.$$b --quick || exit 1; done

# Everything on this machine, supervised; Ctrl-C stops it all. UP_ARGS=--simulate adds
# demo traffic that walks the whole loop (or `make demo`).
up: $(STAMP) data
	exec $(BIN)/spamops up $(UP_ARGS)

demo: $(STAMP) data
	exec $(BIN)/spamops up --simulate $(UP_ARGS)

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .coverage .coverage.* htmlcov
