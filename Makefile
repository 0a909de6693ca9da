# The two commands a user needs: `make site` and `make test`. Everything else is set up
# on demand in .venv/ (Python packages) -- nothing has to be installed by hand.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
SB     := $(BIN)/site-builder

.PHONY: help venv ingest site build serve test lint typecheck unit check bench golden clean e2e-deps

help:
	@echo "make site    ingest the dumps (curator edits kept) and build the site into _site/"
	@echo "make serve   preview at http://127.0.0.1:8000/ with live reload"
	@echo "make test    lint, type-check and run the test suite"
	@echo "make check   verify the built site (feeds, links, HTML, sitemap)"
	@echo "make bench   benchmark ingest and builds on synthetic digests"
	@echo "make golden  regenerate the golden test site after an intended change"

# Debian's python3 needs python3-venv for `-m venv`; install it when we are allowed to.
$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import venv, ensurepip' 2>/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && apt-get install -y -qq python3-venv; \
	  else echo "error: $(PYTHON) cannot create a venv; install python3-venv (sudo apt-get install python3-venv)"; exit 1; fi; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $@

venv: $(STAMP)

ingest: $(STAMP)
	$(SB) ingest

build: $(STAMP)
	$(SB) build

# BASE_URL=https://user.github.io/repo/ overrides site.base_url (the Pages workflow sets it).
site: ingest
	$(SB) build $(if $(BASE_URL),--base-url $(BASE_URL))

serve: ingest
	$(SB) serve

lint: $(STAMP)
	$(BIN)/ruff check site_builder tests

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest

test: lint typecheck unit

check: $(STAMP)
	$(SB) check _site

golden: $(STAMP)
	$(BIN)/python -m tests.golden_site --regenerate

clean:
	rm -rf _site _site.* .cache

bench: $(STAMP)
	$(BIN)/python -m tests.bench.run_bench $(if $(SIZES),--sizes $(SIZES))
