# Two commands set everything up: `make repro` and `make test` (see README.md); `make help` lists all.
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
export PATH := $(BIN):$(PATH)
STAMP := $(VENV)/.installed

# The interpreter .venv is built from: PYTHON=... when given, else the one the stamp recorded at the
# last build, else python3. The stamp holds "<implementation-version> <path>" of that interpreter;
# when .venv's own Python is not that one (another PYTHON, a broken or hand-made venv), .venv is
# rebuilt from scratch.
PY_ID := import sys; print(f"{sys.implementation.name}-{sys.version.split()[0]} {sys.executable}")
BUILT_WITH := $(shell cat $(STAMP) 2>/dev/null)
PYTHON ?= $(or $(word 2,$(BUILT_WITH)),python3)
WANT := $(shell $(PYTHON) -c '$(PY_ID)' 2>/dev/null)
HAVE := $(shell $(BIN)/python -c '$(PY_ID)' 2>/dev/null)
ifeq ($(WANT),)
.PHONY: $(STAMP)
else ifneq ($(word 1,$(WANT)),$(word 1,$(HAVE)))
.PHONY: $(STAMP)
endif

.PHONY: help repro test test-fast lint report predict bench bench-scale bench-repro bench-peers exps queue clean

help:  ## list the targets
	@awk -F':.*## ' '/^[a-z-]+:.*## / {printf "  make %-12s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(STAMP): requirements.txt constraints.txt pyproject.toml
	@test -n "$(WANT)" || { echo "make: PYTHON=$(PYTHON) does not run (need Python 3.11-3.13)" >&2; exit 2; }
	@if [ -e $(VENV) ] && [ "$(word 1,$(WANT))" != "$(word 1,$(HAVE))" ]; then \
		echo "make: rebuilding $(VENV) with $(word 2,$(WANT)) ($(word 1,$(WANT)); it had $(or $(word 1,$(HAVE)),no working Python))"; \
		rm -rf $(VENV); fi
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	echo '$(WANT)' > $(STAMP)

# a dvc.lock left empty by a run killed mid-write: one line on how to recover, not a traceback
repro: $(STAMP)  ## install .venv if needed, then dvc repro (the pipeline)
	python -m oneclick.core.provenance
	dvc repro

# Every test (what CI runs); test-fast: the unit tests only, no reproduced project or DVC run.
# Two processes (pytest-xdist; worksteal: the suite's tests differ in cost by 1000x); a single
# file is quicker alone: python -m pytest -q tests/x/test_y.py
TEST_WORKERS ?= 2
test: $(STAMP)  ## the test suite
	python -m pytest -q -n $(TEST_WORKERS) --dist worksteal

test-fast: $(STAMP)  ## the unit tests only (no reproduced project, no slow tests)
	python -m pytest -q -n $(TEST_WORKERS) --dist worksteal -m "not pipeline and not slow"

lint: $(STAMP)  ## ruff check, format check and mypy (config: pyproject.toml)
	ruff check .
	ruff format --check .
	mypy

# Reviewer tooling (oneclick/review/, the `oneclick` command): offline plots and the pull-request
# report, both git-ignored.
# make plots            -> plots_offline/index.html (workspace)   make plots BASE=main -> main vs workspace
# make report BASE=main -> report.md + report/*.png
.PHONY: plots
plots: $(STAMP)  ## offline page of every plot: plots_offline/ [BASE=rev]
	oneclick plots $(if $(BASE),--base $(BASE))

report: $(STAMP)  ## pull-request report: report.md + report/ [BASE=main]
	oneclick report --base $(or $(BASE),main)

# Score a new period's four files with the pipeline's model (run `make repro` first):
# make predict INPUT=path/to/dir OUTPUT=../scores.csv [ARGS="--drivers shap --chunk-size 50000"]
predict: $(STAMP)  ## score a period: INPUT=dir OUTPUT=file [ARGS=...]
	oneclick predict --input $(or $(INPUT),$(error set INPUT=dir)) \
		--output $(or $(OUTPUT),$(error set OUTPUT=file.csv)) $(ARGS)

# Scoring at 10k / 100k / 1M generated customers: wall, CPU, peak RSS -> bench/RESULTS.md
bench: $(STAMP)  ## scoring at 10k/100k/1M customers -> bench/RESULTS.md
	python -m bench.bench_scale --markdown bench/RESULTS.md $(ARGS)

# Every stage on 1,300 / 5,000 / 20,000 / 65,000 generated customers: CPU, wall, peak RSS, growth
bench-scale: $(STAMP)  ## each stage's growth with customers, 65k estimate -> bench/SCALE.md
	python -m bench.bench_scale --pipeline --markdown bench/SCALE.md $(ARGS)

# The pipeline on the real files: import floor, cold/no-op repro, forced shap/evaluate, experiments
bench-repro: $(STAMP)  ## pipeline cost on the real files -> bench/REPRO.md
	python -m bench.bench_repro --markdown bench/REPRO.md $(ARGS)

# Our procedure vs the published configurations on the protocol's folds (real files)
bench-peers: $(STAMP)  ## our procedure vs published ones and large-store candidates -> bench/PEERS.md
	python -m bench.bench_peers --markdown bench/PEERS.md $(ARGS)

# Every experiment (`dvc exp show`), headline columns only: fits a 120-column terminal.
exps: $(STAMP)  ## experiments table: name, changed params, ROC-AUC ± SE, log-loss, segment
	oneclick exps $(ARGS)

# Only what make, the review commands and the tools write, and only where git ignores it: never a
# tracked file, never the pipeline's outputs (`dvc checkout` manages those) or the DVC cache.
CLEANABLE := report.md report plots_offline dvc_plots .pytest_cache .ruff_cache \
	oneclick stages tests bench
clean:  ## remove report, offline plots, caches (git-ignored files only); not .venv, data, models
	git clean -fdX -q -- $(CLEANABLE)

# A queued experiment runs on a snapshot of the workspace as it is when queued, so it would inherit
# whatever an earlier `dvc exp run` left applied in params.yaml: queue only from the committed one.
queue: $(STAMP)  ## queue an experiment from the committed params: ARGS="-S key=value -n name"
	@git diff --quiet HEAD -- params.yaml || { echo "make: params.yaml differs from the last commit (an earlier exp run left its params applied?): git checkout -- params.yaml, or commit it" >&2; exit 2; }
	dvc exp run --queue $(ARGS)
