# The two commands a user needs: `make site` and `make test`. Everything else is set up
# on demand in .venv/ (Python packages) -- nothing has to be installed by hand.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
SB     := $(BIN)/site-builder

.PHONY: help venv ingest site build serve test lint typecheck unit check bench golden clean e2e-deps

# End-to-end tests need Debian's Chromium, Java and the W3C Nu checker (npm vnu-jar).
VNU_VERSION := 26.9.27
VNU_JAR     := .cache/e2e/node_modules/vnu-jar/build/dist/vnu.jar
APT_NEEDS   := $(if $(wildcard /usr/bin/chromium),,chromium) \
               $(if $(shell command -v java),,default-jre-headless) \
               $(if $(shell command -v npm),,npm)

help:
	@echo "make site    ingest the dumps (curator edits kept) and build the site into _site/"
	@echo "make serve   preview at http://127.0.0.1:8000/ with live reload"
	@echo "make test    lint, type-check and run the test suite"
	@echo "make check   verify the built site (feeds, links, HTML, sitemap)"
	@echo "make bench   benchmark ingest and builds on synthetic digests"
	@echo "make golden  regenerate the golden test site after an intended change"

# Debian's python3 needs python3-venv for `-m venv`; install it when we are allowed to.
# The package is installed editable in compat mode (a plain path in a .pth file): the
# default editable finder cost every site-builder command ~10 ms of start-up.
$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import venv, ensurepip' 2>/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && apt-get install -y -qq python3-venv; \
	  else echo "error: $(PYTHON) cannot create a venv; install python3-venv (sudo apt-get install python3-venv)"; exit 1; fi; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]' \
	  --config-settings editable_mode=compat
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

# Installs what the end-to-end tests need when it can (root with apt-get); otherwise it
# says what is missing, and the tests fail naming it rather than passing silently.
e2e-deps:
	@if [ -n "$(strip $(APT_NEEDS))" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing for the end-to-end tests: $(strip $(APT_NEEDS))"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(APT_NEEDS); \
	  else echo "warning: end-to-end tests need: $(strip $(APT_NEEDS)) (sudo apt-get install $(strip $(APT_NEEDS)))"; fi; \
	fi
	@if [ ! -f $(VNU_JAR) ]; then \
	  if command -v npm >/dev/null; then \
	    npm install --silent --no-audit --no-fund --ignore-scripts --prefix .cache/e2e vnu-jar@$(VNU_VERSION); \
	  else echo "warning: npm is missing, cannot install vnu-jar for the HTML validation test"; fi; \
	fi

test: lint typecheck e2e-deps unit

check: $(STAMP)
	$(SB) check _site $(if $(BASE_URL),--base-url $(BASE_URL))

golden: $(STAMP)
	$(BIN)/python -m tests.golden_site --regenerate

clean:
	rm -rf _site _site.* .cache

bench: $(STAMP)
	$(BIN)/python -m tests.bench.run_bench $(if $(SIZES),--sizes $(SIZES))
