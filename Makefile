# Two commands do everything: `make serve` and `make test`.
# Each creates the virtual environment in .venv first if it is missing.

# The Python that makes .venv: the system's own /usr/bin/python3 where it is
# 3.10 or newer and has venv, else the first python3 on PATH; PYTHON=... names
# another. A distribution builds its Python with profile-guided and link-time
# optimisation, which one compiled from source (pyenv's default) lacks: the
# suite's Python processes took a sixth less CPU time on Debian's
# (docs/architecture.md).
PYTHON ?= $(or $(shell /usr/bin/python3 -c 'import sys, ensurepip, venv; sys.exit(sys.version_info < (3, 10))' \
  2>/dev/null && echo /usr/bin/python3),python3)
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: serve curate test lint docs validate build clean screenshots benchmark benchmark-engines reliability release tools debian-tools java-runtime

# The site and the loader: all that `make serve` and a server need.
$(VENV)/.installed: pyproject.toml
	@echo "Installing the loader and Datasette into $(VENV): a minute or two the first time, quietly."
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	touch $@

# ... and what the tests, the gates and the benchmarks use (the test extra).
TESTED := $(VENV)/.installed-test
$(TESTED): $(VENV)/.installed
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

# $(call debian-install,COMMAND:PACKAGE ...): install, as root, the Debian
# packages whose commands are missing.
define debian-install
	@missing=""; \
	for pair in $(1); do PATH="$$PATH:/usr/sbin" command -v $${pair%%:*} >/dev/null || missing="$$missing $${pair#*:}"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" != 0 ]; then echo "make $@: as root, apt-get install$$missing" >&2; exit 1; fi; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq$$missing >/dev/null; \
	fi
endef

# Debian programs the tests drive, installed when missing (as root, as in CI):
# Chromium for the browser tests, nginx for the production path
# (tests/test_production.py), npm for axe-core, the accessibility checker,
# which goes into a git-ignored folder of the project.
DEBIAN_TOOLS := chromium:chromium nginx:nginx npm:npm
AXE := .axe/node_modules/axe-core/axe.min.js
tools: debian-tools $(AXE)

debian-tools:
	$(call debian-install,$(DEBIAN_TOOLS))

# Debian's Java runtime, for Spark in the benchmark (pyspark runs in a JVM).
java-runtime:
	$(call debian-install,java:default-jre-headless)

# ... and pyspark, for the same (the spark extra).
SPARK := $(VENV)/.installed-spark
$(SPARK): $(TESTED)
	$(PY) -m pip install --quiet -e '.[test,spark]'
	touch $@

$(AXE): | debian-tools
	npm install --no-save --no-audit --no-fund --prefix .axe axe-core@4 >/dev/null

# make serve [PORT=8001] [BASE_URL=/events/]: several worker processes on 127.0.0.1
# (see loader/site/serve.py), the site under BASE_URL for a proxy that passes it on.
PORT ?= 8001
BASE_URL ?= /
serve: $(VENV)/.installed
	$(PY) -m loader serve --port $(PORT) --base-url $(BASE_URL)

# make curate [PORT=8001]: as serve, rebuilding and reloading the site after each change to sources/.
curate: $(VENV)/.installed
	$(PY) -m loader serve --reload --port $(PORT)

# The gates first (lint, format, types, generated docs up to date), then every
# test in two runs side by side. The tests marked serial hold themselves to a
# time or memory bound, which a neighbour's work would stretch: they run one
# at a time, at the usual CPU priority. The others run beside them at the
# lowest (nice 19), so that the serial ones get a core whenever they ask,
# and the cores they leave idle while waiting on a server's own deadlines go
# to the others (measured back to back: the two runs took 478 s one after
# the other, the serial one 74 s of it, and 427 s side by side, the serial
# one 112 s of it, its bounds held; the cores stood idle 108 and 15
# core-seconds).
# The others go JOBS at a time (pytest-xdist), each file's tests on one
# worker so they share its fixtures, the files of slow tests first
# (tests/conftest.py; without --no-loadscope-reorder pytest-xdist would hand
# out first the files with the most tests). Three at a time on two cores:
# much of a test's time is waiting on a served site or a browser (measured
# when the parallel part was first split: 498 s with two, 410 s with three,
# 410 s with four). The serial run's report is printed when both are done
# (SERIAL_LOG); a shell starts a background command with Ctrl-C ignored,
# which env --default-signal undoes, so that Ctrl-C stops both runs.
# With Python's own default for compiled modules, whatever the environment
# says: the tests start some three hundred Python processes, and without the
# __pycache__ folders (git-ignored) each would compile the project's modules
# anew, and each pytest session rewrite every test module's asserts anew.
JOBS ?= 3
TEST_PY := env -u PYTHONDONTWRITEBYTECODE $(PY)
SERIAL_LOG := .pytest_cache/serial.log
test: lint tools
	mkdir -p $(dir $(SERIAL_LOG))
	env --default-signal=INT $(TEST_PY) -m pytest -m serial > $(SERIAL_LOG) 2>&1 & serial=$$!; \
	nice -n 19 $(TEST_PY) -m pytest -n $(JOBS) --dist loadfile --no-loadscope-reorder -m "not serial"; others=$$?; \
	wait $$serial; alone=$$?; cat $(SERIAL_LOG); [ $$others -eq 0 ] && [ $$alone -eq 0 ]

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
RELEASED := $(VENV)/.installed-release
$(RELEASED): $(VENV)/.installed
	$(PY) -m pip install --quiet -e '.[release]'
	touch $@

release: $(RELEASED)
	$(PY) -m loader release

# Bulk import, site and the partitioned release in DuckDB and Spark at each of
# SIZES events, then the curator's desk (leave-one-out over the archive);
# writes docs/performance.md. At 100,000 and 1,000,000 a run took
# 45 minutes on two cores, and needs a few GB in build/benchmark. The limit
# and the peer run up to COMPARE_UP_TO events: at 3,000,000 they would take
# an hour more and the limit about 10 GB of memory (it holds every row at once).
# make benchmark SIZES="100000 1000000" for the shorter run.
SIZES ?= 100000 1000000 3000000
COMPARE_UP_TO ?= 1000000
EVENTS := $(foreach n,$(SIZES),--events $(n))
benchmark: $(SPARK) tools java-runtime
	$(PY) -m benchmarks.run $(EVENTS) --compare-up-to $(COMPARE_UP_TO)
	$(PY) -m benchmarks.run curation

# The engines part alone, printed: make benchmark-engines SIZES=100000
benchmark-engines: $(SPARK) java-runtime
	$(PY) -m benchmarks.run engines $(EVENTS)

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
