# FlowQ: `make demo` and `make test` work on a fresh machine with nothing but Python 3.11.
PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: venv demo test test-slow test-all bench clean experiments experiments-full

$(STAMP): setup.cfg pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "need $(PYTHON) on PATH"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# torch pinned first so that this machine gets its local CPU build, never the CUDA wheels
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[test]'
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/flowq demo --out runs/demo

# the README's test command: every test not marked slow (< 10 min on 2 cores)
test: $(STAMP)
	$(PY) -m pytest -q -x -m "not slow" tests

# the long tests (float-network training, --quick experiment runs, learning curves, the 300-case oracle); CI runs both
test-slow: $(STAMP)
	$(PY) -m pytest -q -x -m slow tests

test-all: test test-slow

bench: $(STAMP)
	$(PY) benchmarks/run.py

# every experiment script into experiments/results/<script>/, then EXPERIMENTS.md's generated blocks refilled
# (experiments/assemble.py). `make -j2 experiments` runs two scripts at a time. Full: DATA_DIR=cifar-10-batches-py
EXPERIMENTS := codesign_mid_proxy validate_eyeriss fig5_validation fig6_levels table5_dataflows table3_hw_dims \
               table4_bit_serial fig7_nsga2_budget fig9_bitwidths table2_codesign_flow table6_sota codesign \
               psum_reram benq_tables
EXPERIMENT_ARGS ?= --quick
# the Mid co-design claim needs more than 4 x 1: issue 14's budget (one seed), in --quick only
experiment-codesign_mid_proxy: EXTRA_ARGS = $(if $(findstring --quick,$(EXPERIMENT_ARGS)),--pop 16 --gens 8)
experiments: $(STAMP)
	$(MAKE) --no-print-directory $(addprefix experiment-,$(EXPERIMENTS))
	$(PY) experiments/assemble.py

experiments-full: $(STAMP)
	$(MAKE) --no-print-directory experiments EXPERIMENT_ARGS="--full --data-dir $(DATA_DIR)"

experiment-%: $(STAMP)
	$(PY) experiments/$*.py $(EXPERIMENT_ARGS) $(EXTRA_ARGS)

clean:
	rm -rf $(VENV) build *.egg-info runs
