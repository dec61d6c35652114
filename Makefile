# netmag_jax: the two commands of the README.
#   make run   - create .venv if missing, install, run the experiment gallery -> results/
#   make test  - create .venv if missing, install with the dev extras, lint, run the test suite
#   make lint  - ruff (lint + format check) and pyright (basic, on netmag_jax/)
#   make docs  - the documentation site (Sphinx, warnings are errors) -> docs/_build/html
#   make examples - run examples/[0-9]*.py --quick -> docs/_build/examples (shown by make docs)
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: run test lint quick bench browser clean docs examples

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade pip

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install -e ".[dev,plot,docs]"
	touch $(STAMP)

run: $(STAMP)
	$(PY) -m netmag_jax.cli run --out results

quick: $(STAMP)
	$(PY) -m netmag_jax.cli run --quick --out results

# the example test writes each example's output and figures where the docs pick them up
test: lint browser
	NETMAG_EXAMPLES_OUT=docs/_build/examples $(PY) -m pytest -q -n 2
	$(MAKE) docs

docs: $(STAMP)
	$(PY) -m sphinx -E -b html -W --keep-going -q docs docs/_build/html
	@echo "docs: docs/_build/html/index.html"

examples: $(STAMP)
	@for f in examples/[0-9]*.py; do n=$$(basename $$f .py); d=docs/_build/examples/$$n; \
	  mkdir -p $$d; echo "== $$n"; $(PY) $$f --quick --out $$d > $$d/output.txt 2> $$d/stderr.txt; \
	  rc=$$?; cat $$d/output.txt; [ $$rc = 0 ] || { cat $$d/stderr.txt; exit 1; }; done

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
	rm -rf $(VENV) results .pytest_cache docs/_build docs/api docs/examples
