# netmag_jax: the two commands of the README.
#   make run   - create .venv if missing, install, run the experiment gallery -> results/
#   make test  - create .venv if missing, install with the dev extras, lint, run the test suite
#   make lint  - ruff (lint + format check) and pyright (basic, on netmag_jax/)
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: run test lint quick bench browser clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade pip

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install -e ".[dev,plot]"
	touch $(STAMP)

run: $(STAMP)
	$(PY) -m netmag_jax.cli run --out results

quick: $(STAMP)
	$(PY) -m netmag_jax.cli run --quick --out results

test: lint browser
	$(PY) -m pytest -q -n 2

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/pyright

# Headless Chromium (Debian package) for the report's browser test. Installed when missing and
# the machine allows it (root with apt-get); otherwise that one test is skipped with a reason.
browser:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 \
	  && (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	      --no-install-recommends chromium >/dev/null) \
	  || echo "note: chromium not installed; the browser test will be skipped"; }

bench: $(STAMP)
	$(PY) -m pip install -e ".[bench]"
	$(PY) -m netmag_jax.cli bench

clean:
	rm -rf $(VENV) results .pytest_cache
