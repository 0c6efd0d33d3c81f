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
RUN      := $(PY) -m helpers.notebooks run
HELPERS  := $(wildcard src/helpers/*.py)
RAW      := $(wildcard data/raw/*.csv) data/raw/SHA256SUMS

PROCESSED := $(addprefix data/processed/,patients.csv measurements.csv therapies.csv studies.csv)
PREPOST   := $(addprefix reports/tables/,cohort_summary.csv cohort_summary.md prepost.csv \
               prepost.md responders.csv responders.md responders_summary.csv)
FIGURES   := $(foreach f,slopes waterfall_das28 swimmer profile_heatmap,\
               reports/figures/$(f).png reports/figures/$(f).svg)
REVIEW    := $(addprefix reports/tables/,studies.csv studies.md meta_pooled.csv meta_pooled.md) \
             reports/figures/forest.png reports/figures/forest.svg
NOTEBOOKS := $(sort $(wildcard notebooks/0*.ipynb))
REPORT    := reports/report.html

.PHONY: all env lock test lab report clean help

all: $(PROCESSED) $(PREPOST) $(FIGURES) $(REVIEW) $(REPORT) ## Run the whole analysis (creates .venv first if missing)

report: $(REPORT) ## Write reports/report.html: every table and figure, narrative, provenance

env: $(ENV) ## Create .venv from requirements.lock and register the Jupyter kernel

$(ENV): requirements.lock pyproject.toml
	scripts/setup-env

lock: pyproject.toml | $(ENV) ## Regenerate requirements.lock and environment.yml from pyproject.toml
	$(VENV)/bin/uv pip compile pyproject.toml --extra dev --generate-hashes --python-version 3.11 \
	    -q -o requirements.lock
	$(PY) -m helpers.environment requirements.lock environment.yml

$(PROCESSED) &: notebooks/01_clean.ipynb $(RAW) $(HELPERS) | $(ENV)
	$(RUN) $<

# 02, 03 and 04 depend only on the processed tables: make -j runs them side by side.
$(PREPOST) &: notebooks/02_prepost.ipynb $(PROCESSED) $(HELPERS) | $(ENV)
	$(RUN) $<

$(FIGURES) &: notebooks/03_figures.ipynb $(PROCESSED) $(HELPERS) | $(ENV)
	$(RUN) $<

$(REVIEW) &: notebooks/04_review.ipynb $(PROCESSED) $(HELPERS) | $(ENV)
	$(RUN) $<

$(REPORT): $(NOTEBOOKS) $(PROCESSED) $(PREPOST) $(FIGURES) $(REVIEW) $(HELPERS) | $(ENV)
	$(PY) -m helpers.report --output $@ $(NOTEBOOKS)

test: | $(ENV) ## Run the unit tests and nbval on the committed notebooks
	$(PY) -m pytest

lab: | $(ENV) ## Open JupyterLab on the project kernel
	$(VENV)/bin/jupyter lab notebooks/

clean: ## Remove generated outputs (never data/raw); `make` regenerates them
	rm -f $(PROCESSED) $(PREPOST) $(FIGURES) $(REVIEW) $(REPORT)
	rm -rf .make

help: ## List targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | \
	    awk 'BEGIN {FS = ":.*## "} {printf "  \033[1m%-10s\033[0m %s\n", $$1, $$2}'
