# Two commands set everything up: `make repro` and `make test` (see README.md).
PYTHON ?= python3
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
export PATH := $(BIN):$(PATH)
STAMP := $(VENV)/.installed

.PHONY: repro test test-fast lint report predict bench bench-repro bench-peers

$(STAMP): requirements.txt constraints.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $(STAMP)

repro: $(STAMP)
	dvc repro

# Every test (what CI runs); test-fast: the unit tests only, no reproduced project or DVC run
test: $(STAMP)
	python -m pytest -q

test-fast: $(STAMP)
	python -m pytest -q -m "not pipeline and not slow"

lint: $(STAMP)
	ruff check .
	ruff format --check .

# Reviewer tooling (oneclick/review/, the `oneclick` command): offline plots and the pull-request
# report, both git-ignored.
# make plots            -> plots_offline/index.html (workspace)   make plots BASE=main -> main vs workspace
# make report BASE=main -> report.md + report/*.png
.PHONY: plots
plots: $(STAMP)
	oneclick plots $(if $(BASE),--base $(BASE))

report: $(STAMP)
	oneclick report --base $(or $(BASE),main)

# Score a new period's four files with the pipeline's model (run `make repro` first):
# make predict INPUT=path/to/dir OUTPUT=../scores.csv [ARGS="--drivers shap --chunk-size 50000"]
predict: $(STAMP)
	oneclick predict --input $(or $(INPUT),$(error set INPUT=dir)) \
		--output $(or $(OUTPUT),$(error set OUTPUT=file.csv)) $(ARGS)

# Scoring at 10k / 100k / 1M generated customers: wall, CPU, peak RSS -> bench/RESULTS.md
bench: $(STAMP)
	python -m bench.bench_scale --markdown bench/RESULTS.md $(ARGS)

# Cold `dvc repro` on the real files, forced shap, segment-only rerun: wall seconds
bench-repro: $(STAMP)
	python -m bench.bench_repro $(ARGS)

# Our procedure vs the published configurations on the protocol's folds (real files)
bench-peers: $(STAMP)
	python -m bench.bench_peers --markdown bench/PEERS.md $(ARGS)
