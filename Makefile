# Every target sets itself up: a machine with only python3 and make is enough.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PLUGIN_DIRS := $(patsubst %/pyproject.toml,%,$(wildcard plugins/*/pyproject.toml))
STAMP := $(VENV)/.installed

.PHONY: install test lint typecheck pytest demo bench clean

$(STAMP): pyproject.toml $(wildcard plugins/*/pyproject.toml)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]' $(addprefix -e ,$(PLUGIN_DIRS))
	touch $@

install: $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy --strict imbi_toolkit $(foreach dir,$(PLUGIN_DIRS),$(wildcard $(dir)/imbi_toolkit_*))

pytest: $(STAMP)
	$(BIN)/pytest

test: lint typecheck pytest

# The quickstart notebook, run in a real kernel against a fresh demo sandbox.
demo: $(STAMP)
	$(BIN)/python -m imbi_toolkit.magics.notebooks notebooks/quickstart.ipynb \
		--output notebooks/executed/quickstart.ipynb

# Extra command, not part of `make test`: the benchmarks (under 10 minutes).
BENCH_STAMP := $(VENV)/.bench-installed

$(BENCH_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[bench]'
	touch $@

bench: $(BENCH_STAMP)
	$(BIN)/python -m benchmarks.run

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
