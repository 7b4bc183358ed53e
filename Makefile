# Two entry points: `make demo` runs every protocol demo end to end, `make test` runs the suite.
# `make fuzz` runs every fuzz harness for FUZZ_SECONDS (default 60) each.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
BENCH_STAMP := $(VENV)/.installed-bench

FUZZ_SECONDS ?= 60

.PHONY: demo test lint typecheck unit bench fuzz clean

# The first run creates .venv and installs from the package index, showing pip's progress.
$(STAMP): pyproject.toml aauth-signing/pyproject.toml
	@echo "installing dependencies (first run only)…"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install -e './aauth-signing[dev]' -e '.[dev]'
	@touch $(STAMP)

$(BENCH_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	touch $(BENCH_STAMP)

demo: $(STAMP)
	$(BIN)/aauth demo all

test: lint typecheck unit

lint: $(STAMP)
	$(BIN)/ruff check aauth-signing src tests bench fuzz
	$(BIN)/ruff format --check aauth-signing src tests bench fuzz

typecheck: $(STAMP)
	$(BIN)/mypy --strict aauth-signing/src/aauth_signing src/aauth

unit: $(STAMP)
	$(BIN)/pytest

bench: $(BENCH_STAMP)
	$(BIN)/python bench/run.py

fuzz: $(STAMP)
	$(BIN)/python fuzz/run.py --seconds $(FUZZ_SECONDS)

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis
