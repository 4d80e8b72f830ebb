# Two commands do everything: `make serve` and `make test`.
# Each creates the virtual environment in .venv first if it is missing.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: serve test lint docs validate build clean screenshots benchmark reliability release tools debian-tools

# The site and the loader: all that `make serve` and a server need.
$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	touch $@

# ... and what the tests, the gates and the benchmarks use (the test extra).
TESTED := $(VENV)/.installed-test
$(TESTED): $(VENV)/.installed
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

# Debian programs the tests drive, installed when missing (as root, as in CI):
# Chromium for the browser tests, nginx for the production path
# (tests/test_production.py), npm for axe-core, the accessibility checker,
# which goes into a git-ignored folder of the project.
DEBIAN_TOOLS := chromium nginx npm
AXE := .axe/node_modules/axe-core/axe.min.js
tools: debian-tools $(AXE)

debian-tools:
	@missing=""; \
	for tool in $(DEBIAN_TOOLS); do PATH="$$PATH:/usr/sbin" command -v $$tool >/dev/null || missing="$$missing $$tool"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" != 0 ]; then echo "make tools: as root, apt-get install$$missing" >&2; exit 1; fi; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq$$missing >/dev/null; \
	fi

$(AXE): | debian-tools
	npm install --no-save --no-audit --no-fund --prefix .axe axe-core@4 >/dev/null

# make serve [PORT=8001]: several worker processes on 127.0.0.1 (see loader/site/serve.py).
PORT ?= 8001
serve: $(VENV)/.installed
	$(PY) -m loader serve --port $(PORT)

# The gates first (lint, format, types, generated docs up to date), then every test.
test: lint tools
	$(PY) -m pytest

CHECKED := loader benchmarks tests
lint: $(TESTED)
	$(PY) -m ruff check $(CHECKED)
	$(PY) -m ruff format --check $(CHECKED)
	$(PY) -m mypy
	$(PY) -m cogapp --check docs/reference.md docs/architecture.md

# Regenerate the CLI reference and schema tables of docs/reference.md after changing
# cli.py, schema.sql or metadata.yml's column descriptions, and docs/replicas.md
# after changing serve's settings or the plugins pyproject.toml installs.
docs: $(TESTED)
	$(PY) -m cogapp -r docs/reference.md docs/architecture.md
	$(PY) -m loader.site.replicas

validate: $(VENV)/.installed
	$(PY) -m loader validate

build: $(VENV)/.installed
	$(PY) -m loader build

# A citable release in dist/event-store-VERSION/, with the imports events.db
# was built with; then commit sources/published-ids.tsv and sources/releases.tsv.
release: $(VENV)/.installed
	$(PY) -m loader release

# Bulk import and site at 100,000 and 1,000,000 events; writes docs/performance.md.
# Long (ten to thirty minutes, by machine) and needs a few GB in build/benchmark.
benchmark: $(TESTED) tools
	$(PY) -m benchmarks.run
	$(PY) -m benchmarks.run curation

# docs/map.png, docs/event.png and docs/timeline.png from the real sources/,
# served on 127.0.0.1 and taken with Debian's Chromium (apt-get install chromium).
screenshots: $(TESTED) tools
	$(PY) -m tests.browser.screenshots

# docs/reliability.md: every class of bad input many times, SIGKILL at many points
# of a build, a full disk and a read-only directory (mounts a tmpfs: run as root),
# the public-site tests, and 50 clients against `make serve` and against nginx in
# front of two readers' `serve` processes and a costly lane's (deploy/), browsing
# and with nine costly clients of each kind; then nginx with 1, 2 and 4 readers'
# `serve` processes, browsing. About forty-five minutes; not part of `make test`,
# which runs the same checks smaller.
reliability: $(TESTED) tools
	$(PY) -m benchmarks.reliability

clean:
	rm -rf $(VENV) events.db *.egg-info .pytest_cache
