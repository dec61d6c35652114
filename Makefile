# netmag_jax: the two commands of the README.
#   make run   - create .venv if missing, install, run the experiment gallery -> results/
#   make test  - create .venv if missing, install with the dev extras, run the test suite
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: run test quick bench clean

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

test: $(STAMP)
	$(PY) -m pytest -q

bench: $(STAMP)
	$(PY) -m pip install -e ".[bench]"
	$(PY) -m netmag_jax.cli bench

clean:
	rm -rf $(VENV) results .pytest_cache
