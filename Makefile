# anifrolumab-arthritis: the analysis as a DAG of files; make rebuilds only what is stale.
#   make          set up .venv if needed and run the whole analysis
#   make test     prove it (unit tests, nbval on the committed notebooks)
#   make help     list every target

SHELL := /bin/bash
.DEFAULT_GOAL := all
.DELETE_ON_ERROR:
.SUFFIXES:
MAKEFLAGS += --no-builtin-rules

VENV     := .venv
PY       := $(VENV)/bin/python
ENV      := $(VENV)/.installed
# make env compiles the bytecode of what the analysis imports; the development tools'
# (JupyterLab, pytest, ...) is compiled once, before the first target that needs them.
DEV      := $(VENV)/.bytecode-dev
RUN      := $(PY) -m helpers.pipeline.notebooks run
# The analysis depends on the package's own sources only: editing the benchmarks (benchmarks/)
# or the tests never makes the analysis stale.
HELPERS  := $(wildcard src/helpers/*.py src/helpers/*/*.py)
RAW      := $(wildcard data/raw/*.csv) data/raw/SHA256SUMS

PROCESSED := $(addprefix data/processed/,patients.csv measurements.csv therapies.csv studies.csv)
PREPOST   := $(addprefix reports/tables/,cohort_summary.csv cohort_summary.md prepost.csv \
               prepost.md responders.csv responders.md responders_summary.csv)
FIGURES   := $(foreach f,slopes waterfall_das28 swimmer profile_heatmap,\
               reports/figures/$(f).png reports/figures/$(f).svg)
REVIEWED  := $(addprefix reports/tables/,studies.csv studies.md meta_pooled.csv meta_pooled.md \
               meta_bayes.csv meta_bayes.md meta_leave1out.csv meta_leave1out.md) \
             $(foreach f,forest leave1out bayes_posterior,reports/figures/$(f).png reports/figures/$(f).svg)
POWER     := reports/tables/power.csv reports/tables/power.md \
             reports/figures/power.png reports/figures/power.svg
NOTEBOOKS := $(sort $(wildcard notebooks/0*.ipynb))
REPORT    := reports/report.html
# What this site shares for pooling across centres (make pool): no patient-level data.
SUMMARY   := reports/summary.json
ANALYSIS  := $(PROCESSED) $(PREPOST) $(SUMMARY) $(FIGURES) $(REVIEWED) $(POWER)
# Beside the report (not committed): report.pdf, printed by the system's Chromium
# (apt-get install -y chromium; without it the run says so in one line and goes on), and
# tables.docx, the main tables as Word tables (helpers.pipeline.printing and .word).
# chromium on PATH, looked up by make itself (no shell: `make` with nothing to do stays fast)
CHROMIUM  := $(firstword $(wildcard $(addsuffix /chromium,$(subst :, ,$(PATH)))))
PDF       := $(if $(CHROMIUM),reports/report.pdf)
DOCX      := reports/tables.docx
DOCX_FROM := $(addprefix reports/tables/,cohort_summary.csv prepost.csv responders_summary.csv \
               meta_pooled.csv meta_bayes.csv)
FINISH    := $(PY) -m helpers.pipeline.printing
# What make last wrote, by content (scripts/outputs.py): make judges files by date, and
# an interactive run can rewrite an output unseen. Before make decides what to rebuild,
# each output whose content is not what it wrote is removed, so that make rebuilds it
# (and `git status` is clean again). Standard library only: it runs before .venv exists
# (then on python3; after, on the environment's interpreter, not a slow shim of pyenv's).
MANIFEST  := reports/outputs.sha256
ifneq (,$(filter all report,$(or $(MAKECMDGOALS),all)))
$(shell $(firstword $(wildcard $(PY)) python3) -I scripts/outputs.py --check $(MANIFEST))
endif

.PHONY: all env lock test test-fast lab report screenshot analysis pool power bench clean help

all: $(ANALYSIS) $(REPORT) $(PDF) $(DOCX) ## Run the whole analysis (creates .venv first if missing)

report: $(REPORT) $(PDF) ## Write reports/report.html (and .pdf): every table and figure, narrative, provenance

env: $(ENV) ## Create .venv from requirements.lock, register the Jupyter kernel, quiet JupyterLab

$(ENV): requirements.lock pyproject.toml etc/jupyterlab/overrides.json
	scripts/setup-env

$(DEV): $(ENV)
	$(PY) scripts/compile_bytecode.py --dev
	touch $@

lock: pyproject.toml | $(ENV) ## Regenerate requirements.lock and environment.yml from pyproject.toml
	$(VENV)/bin/uv pip compile pyproject.toml --extra dev --generate-hashes --python-version 3.11 \
	    -q -o requirements.lock
	$(PY) scripts/environment_yml.py requirements.lock environment.yml

# The five notebooks run in order in one shared Jupyter kernel (helpers.pipeline.notebooks):
# a kernel and the scientific imports are paid once, not four times, which matters more
# than rerunning a notebook that was not stale (the whole analysis takes seconds).
# Alongside, FINISH passes the runner's progress on, starts Chromium and its imports once
# the second notebook runs (the kernel's start-up, on both cores, is over), and writes
# report.pdf and tables.docx as soon as the runner has written the report (the line
# `done` on its input; nothing when the run fails): half a second after the report
# rather than three. A failed print is left to the rule for $(PDF) below, which says why.
$(ANALYSIS) $(MANIFEST) &: $(NOTEBOOKS) $(RAW) $(HELPERS) | $(ENV)
	set -o pipefail; { $(RUN) $(NOTEBOOKS) --report $(REPORT) 2>&1 && echo done; } \
	    | $(FINISH) --folder reports --after-input --quiet-failure
	@$(PY) -I scripts/outputs.py --write $(MANIFEST) $(ANALYSIS)

# The runner writes every file atomically, one notebook at a time: an interrupted run
# leaves complete files, so make must not delete them (it would on a signal or an error).
.PRECIOUS: $(ANALYSIS) $(MANIFEST) $(REPORT)

$(REPORT): | $(ANALYSIS)
	$(PY) -m helpers.pipeline.report --output $@ $(NOTEBOOKS)

# Where the run above did not write them (deleted since, or a failed print).
reports/report.pdf: $(REPORT)
	$(FINISH) $< --output $@

$(DOCX): $(DOCX_FROM)
	$(PY) -m helpers.pipeline.word reports/tables $@

# The README's picture of the report, taken in the system's Chromium (apt-get install -y
# chromium). Not part of `make`: font rendering differs between machines, so the picture
# is not covered by the byte-for-byte promise; rerun this when the report's look changes.
screenshot: $(REPORT) | $(DEV) ## Picture of the report's first screen for the README (needs chromium)
	$(PY) scripts/screenshot.py $(REPORT) docs/report-screenshot.png

test: | $(DEV) ## Run every test: unit, reference values, nbval, end-to-end (~2.5 min)
	$(PY) -m pytest

# Paths are data, not shell: $(value ...) keeps make from expanding a '$' in them, single
# quotes (a ' written as '\'') keep the shell out, and Python reads them from the
# environment. Any character works, but a line break, which is refused.
# Not exported either: make would expand them (a $(shell ...) in a path) to export them.
unexport DATA OUT PATIENTS CODEBOOK MEASURES SHEET UNITS BASELINE START SITE SITES REVIEW
shell-quote = '$(subst ','\'',$(value $(1)))'
define newline


endef
analysis: | $(ENV) ## Your cohort: make analysis DATA=cohort.{csv,xlsx,parquet} OUT=folder [PATIENTS= CODEBOOK= MEASURES= SHEET= UNITS= BASELINE= START= SITE=]
ifneq (,$(findstring $(newline),$(value DATA)$(value OUT)$(value PATIENTS)$(value CODEBOOK)$(value MEASURES)$(value SHEET)$(value UNITS)$(value BASELINE)$(value START)$(value SITE)))
	@echo "error: DATA, OUT, PATIENTS, CODEBOOK, MEASURES, SHEET, UNITS, BASELINE, START or SITE contains a line break" >&2; exit 2
else
	@set -o pipefail; export ANALYSIS_OUT=$(call shell-quote,OUT); \
	{ ANALYSIS_DATA=$(call shell-quote,DATA) \
	    ANALYSIS_PATIENTS=$(call shell-quote,PATIENTS) ANALYSIS_CODEBOOK=$(call shell-quote,CODEBOOK) \
	    ANALYSIS_MEASURES=$(call shell-quote,MEASURES) ANALYSIS_SHEET=$(call shell-quote,SHEET) \
	    ANALYSIS_UNITS=$(call shell-quote,UNITS) ANALYSIS_BASELINE=$(call shell-quote,BASELINE) \
	    ANALYSIS_START=$(call shell-quote,START) ANALYSIS_SITE=$(call shell-quote,SITE) \
	    $(PY) -m helpers.pipeline.cohort 2>&1 && echo done; } \
	    | $(FINISH) --folder-from ANALYSIS_OUT --after-input
endif

pool: | $(ENV) ## Many centres: make pool SITES="a/summary.json b/summary.json" OUT=folder [REVIEW=yes]
ifneq (,$(findstring $(newline),$(value SITES)$(value OUT)$(value REVIEW)))
	@echo "error: SITES, OUT or REVIEW contains a line break" >&2; exit 2
else
	@set -o pipefail; export POOL_OUT=$(call shell-quote,OUT); \
	{ POOL_SITES=$(call shell-quote,SITES) POOL_REVIEW=$(call shell-quote,REVIEW) \
	    $(PY) -m helpers.pipeline.pool 2>&1 && echo done; } \
	    | $(FINISH) --folder-from POOL_OUT --after-input
endif

REPS ?= 100000
power: | $(ENV) ## The power grid at full size (REPS=100000) into out/power; DASK_SCHEDULER_ADDRESS for a cluster
	$(RUN) notebooks/05_power.ipynb --output-dir out/power -p reps $(REPS) --report report.html

bench: | $(DEV) ## Check the benchmark (smoke run), then measure speed and memory; writes docs/benchmarks.md
	$(PY) -m pytest -q -n 0 -m bench tests/test_bench.py
	$(PY) -m benchmarks.bench --output docs/benchmarks.md

test-fast: | $(DEV) ## The unit tests only (~20 s): skips nbval and the end-to-end runs
	$(PY) -m pytest -m "not slow and not bench"

# The project's server configuration (etc/jupyter) normalises notebooks on save, so opening
# and saving one changes no byte. The server listens on localhost with a token; jupyter's
# own JUPYTER_PORT and JUPYTER_TOKEN choose them. As root (containers, CI images, cloud
# notebooks) Jupyter refuses to start without --allow-root.
LAB_OPTIONS ?=
lab: | $(DEV) ## Open JupyterLab on the project kernel (JUPYTER_PORT, JUPYTER_TOKEN honoured)
	JUPYTER_CONFIG_PATH="$(CURDIR)/etc/jupyter$${JUPYTER_CONFIG_PATH:+:$$JUPYTER_CONFIG_PATH}" \
	    $(VENV)/bin/jupyter lab --ServerApp.root_dir="$(CURDIR)" \
	    --LabApp.default_url=/lab/tree/notebooks \
	    $(if $(filter 0,$(shell id -u)),--allow-root) $(LAB_OPTIONS)

clean: ## Remove generated outputs (never data/raw); `make` regenerates them
	rm -f $(PROCESSED) $(PREPOST) $(SUMMARY) $(FIGURES) $(REVIEWED) $(POWER) $(REPORT) reports/report.pdf \
	    $(DOCX) $(MANIFEST)
	rm -rf .make

help: ## List targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | \
	    awk 'BEGIN {FS = ":.*## "} {printf "  \033[1m%-10s\033[0m %s\n", $$1, $$2}'
