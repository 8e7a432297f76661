# Two commands on a fresh machine: `make demo` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-dev

.PHONY: demo test fuzz lint bench clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "labwright needs Python >= 3.11"'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

# The redox_kinetics workflow end to end, offline, on the SYNTHETIC example CVs; --approve all is the explicit
# non-interactive approval rule (recorded in the run's audit log). Prints a summary table and the report path.
demo: $(STAMP)
	$(VENV)/bin/labwright run examples/workflows/redox_kinetics.yaml --approve all --no-input

test: $(STAMP)
	$(PY) -m pytest

# Property-based fuzzing of every registered tool (not part of `make test`, which runs 200 examples per tool):
# FUZZ_EXAMPLES calls per tool, a table of outcomes and the slowest call in fuzz-report.md and on stdout.
FUZZ_EXAMPLES ?= 10000
fuzz: $(STAMP)
	$(PY) tests/fuzz/fuzz_report.py --examples $(FUZZ_EXAMPLES) --out fuzz-report.md

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

bench: $(STAMP)
	$(PY) -m pip install --quiet -e ".[dev,benchmark]"
	for b in benchmarks/*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
