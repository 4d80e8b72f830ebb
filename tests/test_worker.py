"""worker: what a worker process imports as uvicorn starts it, and the unit
registry Datasette 0.65 builds at import, deferred to its first use."""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from loader import PROJECT_ROOT
from loader.site.serve import uvicorn_config, write_inspect_file
from loader.site.worker import DATABASE_VARIABLE, PINT

# As uvicorn's supervisor starts a worker (uvicorn._subprocess, with the
# multiprocessing spawn method): a new interpreter gets the pickled Config and
# loads its app, which calls the app factory. Then what it had imported by
# then, and what Datasette's unit registry is and does.
WORKER = """
import json, pickle, sys
config = pickle.loads(sys.stdin.buffer.read())
config.load()
from datasette.views.base import ureg
modules = sorted(sys.modules)
built_at_start = "registry" in vars(ureg)
ureg.define("smoot = 1.7018 meter")
print(json.dumps({
    "modules": modules,
    "registry": type(ureg).__name__,
    "built_at_start": built_at_start,
    "metres": ureg("2 km").to("meter").magnitude,
    "smoots": round(ureg("10 smoot").to("meter").magnitude, 3),
}))
"""

# What only serve.py's supervisor needs: the build and the importers (the
# watcher of `--reload` comes with uvicorn's own supervisors, in any process).
SUPERVISORS_OWN = ("loader.site.serve", "loader.build.database", "loader.imports.importer")


@pytest.fixture(scope="module")
def started(published_db: Path) -> dict:
    write_inspect_file(published_db)
    config = uvicorn_config(port=0, workers=2, trusted_proxy=None, max_requests=100)
    result = subprocess.run(
        [sys.executable, "-c", WORKER],
        input=pickle.dumps(config),
        capture_output=True,
        env={**os.environ, DATABASE_VARIABLE: str(published_db)},
        cwd=PROJECT_ROOT,
        check=True,
    )
    return json.loads(result.stdout)


def test_a_worker_imports_the_site_but_not_the_supervisors_machinery(started: dict) -> None:
    modules = set(started["modules"])
    assert "loader.site.plugins.middleware" in modules  # Datasette loaded the site's plugins
    assert modules.isdisjoint(SUPERVISORS_OWN), sorted(modules.intersection(SUPERVISORS_OWN))


def test_the_unit_registry_is_built_only_when_used_and_then_reads_units(started: dict) -> None:
    assert started["registry"] == "DeferredUnitRegistry"
    assert not started["built_at_start"] and PINT not in started["modules"]
    assert started["metres"] == 2000
    assert started["smoots"] == 17.018  # a unit defined as metadata.yml's custom_units would
