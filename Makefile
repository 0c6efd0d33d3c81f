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

.PHONY: all env lock test lab clean help

all: $(PROCESSED) ## Run the whole analysis (creates .venv first if missing)

env: $(ENV) ## Create .venv from requirements.lock and register the Jupyter kernel

$(ENV): requirements.lock pyproject.toml
	scripts/setup-env

lock: pyproject.toml | $(ENV) ## Regenerate requirements.lock and environment.yml from pyproject.toml
	$(VENV)/bin/uv pip compile pyproject.toml --extra dev --generate-hashes --python-version 3.11 \
	    -q -o requirements.lock
	$(PY) -m helpers.environment requirements.lock environment.yml

$(PROCESSED) &: notebooks/01_clean.ipynb $(RAW) $(HELPERS) | $(ENV)
	$(RUN) $<

test: | $(ENV) ## Run the unit tests and nbval on the committed notebooks
	$(PY) -m pytest

lab: | $(ENV) ## Open JupyterLab on the project kernel
	$(VENV)/bin/jupyter lab notebooks/

clean: ## Remove generated outputs (never data/raw); `make` regenerates them
	rm -f $(PROCESSED)
	rm -rf .make

help: ## List targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | \
	    awk 'BEGIN {FS = ":.*## "} {printf "  \033[1m%-10s\033[0m %s\n", $$1, $$2}'
