# Two commands do everything: `make serve` and `make test`.
# Each creates the virtual environment in .venv first if it is missing.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: serve test lint docs validate build clean screenshots benchmark reliability release

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

# make serve [PORT=8001]: several worker processes on 127.0.0.1 (see loader/serve.py).
PORT ?= 8001
serve: $(VENV)/.installed
	$(PY) -m loader serve --port $(PORT)

# The gates first (lint, format, types, generated docs up to date), then every test.
test: lint
	$(PY) -m pytest

CHECKED := loader plugins benchmarks tests
lint: $(VENV)/.installed
	$(PY) -m ruff check $(CHECKED)
	$(PY) -m ruff format --check $(CHECKED)
	$(PY) -m mypy
	$(PY) -m cogapp --check README.md

# Regenerate the README's CLI reference and schema tables after changing
# cli.py, schema.sql or metadata.yml's column descriptions, and docs/replicas.md
# after changing serve's settings or the plugins pyproject.toml installs.
docs: $(VENV)/.installed
	$(PY) -m cogapp -r README.md
	$(PY) -m loader.replicas

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
benchmark: $(VENV)/.installed
	$(PY) -m benchmarks.run

# docs/map.png, docs/event.png and docs/timeline.png from the real sources/,
# served on 127.0.0.1 and taken with Debian's Chromium (apt-get install chromium).
screenshots: $(VENV)/.installed
	$(PY) -m tests.browser.screenshots

# docs/reliability.md: every class of bad input many times, SIGKILL at many points
# of a build, a full disk and a read-only directory (mounts a tmpfs: run as root),
# the public-site tests, and 50 clients for 60 s against `serve` on 127.0.0.1.
# About ten minutes; not part of `make test`, which runs the same checks smaller.
reliability: $(VENV)/.installed
	$(PY) -m benchmarks.reliability

clean:
	rm -rf $(VENV) events.db *.egg-info .pytest_cache
