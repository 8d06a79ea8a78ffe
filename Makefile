# Every target sets itself up: a machine with only python3 and make is enough.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PLUGIN_DIRS := $(patsubst %/pyproject.toml,%,$(wildcard plugins/*/pyproject.toml))
STAMP := $(VENV)/.installed

.PHONY: install install-browser chromium test lint typecheck docs pytest pytest-plain demo bench clean

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

# The browser test (tests/browser) runs the notebooks in JupyterLab in headless
# Chromium: Debian's package (installed with apt when missing: run as root, as
# CI does), driven by Playwright through its executable path.
BROWSER_STAMP := $(VENV)/.browser-installed

$(BROWSER_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[browser]'
	touch $@

chromium:
	@command -v chromium >/dev/null || { \
		echo 'Installing Debian chromium for the browser test (apt-get, needs root)'; \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
			--no-install-recommends chromium fonts-dejavu-core; }

install-browser: $(BROWSER_STAMP) chromium

pytest: $(STAMP) install-browser
	$(BIN)/pytest

# The documentation site, into site/ (gitignored); --strict makes a broken link,
# a missing page or an unresolved API reference fail the build.
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet --site-dir site

# The client's tests once more with the httpx shortcuts off, as with an httpx
# version they were not tested with (tests marked `lean` check the shortcuts).
pytest-plain: $(STAMP)
	IMBI_TOOLKIT_LEAN=0 $(BIN)/pytest tests/api -m 'not lean'

test: lint typecheck docs pytest pytest-plain

# The quickstart notebook, run in a real kernel against a fresh demo sandbox.
demo: $(STAMP)
	$(BIN)/imbi-toolkit notebook notebooks/quickstart.ipynb \
		--output notebooks/executed/quickstart.ipynb

# Extra command, not part of `make test`: the benchmarks (under 10 minutes).
BENCH_STAMP := $(VENV)/.bench-installed

$(BENCH_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[bench]'
	touch $@

bench: $(BENCH_STAMP)
	$(BIN)/python -m benchmarks.run

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache site

# Extra command, not part of `make test`: the toolkit against the real imbi-api
# 2.41.0 run by the harness in REAL_IMBI_HARNESS (state in REAL_IMBI_DIR;
# `run.sh setup` must have been run once, see its README). See
# docs/conformance.md. Both parts run even when the first fails; the target
# fails when either did.
#
# conformance-recording: starts the server if it is down, makes organisation
# CONFORMANCE_ORG once, records the scenario of scripts/record_exchanges.py
# afresh, checks the fresh recording against the committed one (has the real
# server or the scenario drifted?), prints how the sandbox's highest API line
# differs from it, and runs tests/conformance on it.
#
# conformance-e2e: starts the server if it is down, makes a fresh organisation
# (E2E_ORG, unique per run), and runs tests/e2e_real against it: every notebook
# of notebooks/ in a kernel, bulk runs, the plugin layer with the first-party
# plugins, and every %imbi magic. The executed notebooks, the JUnit files and
# the summary go to CONFORMANCE_OUT; the summary also replaces the "last run"
# section of docs/conformance.md (commit it).
REAL_IMBI_HARNESS ?= $(abspath ../shared/tools/real-imbi)
REAL_IMBI_DIR ?= /var/tmp/real-imbi
CONFORMANCE_ORG ?= conformance
CONFORMANCE_OUT ?= build/conformance
ifndef E2E_ORG
E2E_ORG := e2e-$(shell date -u +%y%m%d%H%M%S)-$(shell od -An -N2 -tx2 /dev/urandom | tr -d ' ')
endif
# The sandbox line to report on; the test itself picks 2.41 once it exists.
CONFORMANCE_SANDBOX ?= $(shell $(BIN)/python -c 'from imbi_toolkit.sandbox._config import API_VERSIONS as v; print(max(v, key=lambda s: tuple(map(int, s.split(".")))))' 2>/dev/null)
REAL_IMBI_UP = export REAL_IMBI_DIR='$(REAL_IMBI_DIR)'; \
	'$(REAL_IMBI_HARNESS)/run.sh' status >/dev/null 2>&1 || '$(REAL_IMBI_HARNESS)/run.sh' start || exit 1

.PHONY: conformance conformance-recording conformance-e2e
conformance: $(STAMP)
	@status=0; \
	$(MAKE) --no-print-directory conformance-recording || status=1; \
	$(MAKE) --no-print-directory conformance-e2e || status=1; \
	exit $$status

conformance-recording: $(STAMP)
	mkdir -p $(CONFORMANCE_OUT)
	$(REAL_IMBI_UP); \
	env_file='$(REAL_IMBI_DIR)/orgs/$(CONFORMANCE_ORG).env'; \
	test -f "$$env_file" || '$(REAL_IMBI_HARNESS)/run.sh' org '$(CONFORMANCE_ORG)' \
		>/dev/null 2>$(CONFORMANCE_OUT)/org.log || exit 1; \
	set -a; . "$$env_file"; set +a; \
	$(BIN)/python scripts/record_exchanges.py --out $(CONFORMANCE_OUT)/recording-real.json
	$(BIN)/python tests/conformance/comparison.py tests/conformance/recording-2.41.json \
		$(CONFORMANCE_OUT)/recording-real.json
	@echo '--- the sandbox ($(CONFORMANCE_SANDBOX)) against the real server, minus the allow-list:'
	$(BIN)/python scripts/record_exchanges.py --sandbox $(CONFORMANCE_SANDBOX) \
		--out $(CONFORMANCE_OUT)/recording-sandbox.json
	-$(BIN)/python tests/conformance/comparison.py $(CONFORMANCE_OUT)/recording-real.json \
		$(CONFORMANCE_OUT)/recording-sandbox.json \
		--allow tests/conformance/allowed-differences.toml --version $(CONFORMANCE_SANDBOX)
	IMBI_CONFORMANCE_RECORDING=$(CONFORMANCE_OUT)/recording-real.json \
		$(BIN)/pytest tests/conformance -q -rxX -p no:cacheprovider

conformance-e2e: $(STAMP)
	mkdir -p $(CONFORMANCE_OUT)
	rm -f $(CONFORMANCE_OUT)/e2e.xml
	$(REAL_IMBI_UP); \
	echo 'making organisation $(E2E_ORG) (progress in $(CONFORMANCE_OUT)/org.log)'; \
	'$(REAL_IMBI_HARNESS)/run.sh' org '$(E2E_ORG)' >/dev/null 2>$(CONFORMANCE_OUT)/org.log || \
		{ tail -3 $(CONFORMANCE_OUT)/org.log; exit 1; }; \
	env_file='$(REAL_IMBI_DIR)/orgs/$(E2E_ORG).env'; \
	status=0; \
	IMBI_E2E_REAL_ENV="$$env_file" IMBI_E2E_OUT=$(CONFORMANCE_OUT)/notebooks \
		$(BIN)/pytest tests/e2e_real -q -rfE -p no:cacheprovider \
		--junitxml=$(CONFORMANCE_OUT)/e2e.xml || status=$$?; \
	base_url=$$(sed -n 's/^IMBI_CLIENT_API_BASE_URL=//p' "$$env_file"); \
	$(BIN)/python scripts/conformance_report.py $(CONFORMANCE_OUT)/e2e.xml \
		--server "$$base_url" --org '$(E2E_ORG)' \
		--out $(CONFORMANCE_OUT)/e2e-result.md --docs docs/conformance.md || status=1; \
	exit $$status
