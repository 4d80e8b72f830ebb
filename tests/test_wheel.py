"""The built wheel is the whole site: installed into an empty virtual
environment, its `event-store serve` serves the site from any directory.

Everything the site needs is package data (the plugin package's templates
and static files, metadata.yml, schema.sql) and the plugins are found by
their entry point, not by a path into a checkout. Slow: a new environment
gets the project's dependencies from the package index or pip's cache."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from loader import PROJECT_ROOT
from tests.support.site_helpers import free_port, wait_until_served
from tests.support.wheel import empty_venv, outside_env, pip_install

pytestmark = pytest.mark.slow

PLUGIN_PACKAGE = PROJECT_ROOT / "loader" / "site" / "plugins"
EVENT = "/events/events/2025-08-19-paris-shaibani-dermer"


def test_the_wheel_carries_the_site(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        assert archive.read("loader/schema.sql") == (PROJECT_ROOT / "schema.sql").read_bytes()
        assert archive.read("loader/metadata.yml") == (PROJECT_ROOT / "metadata.yml").read_bytes()
        entry_points = archive.read(next(n for n in names if n.endswith(".dist-info/entry_points.txt"))).decode()
    assert "[datasette]\nevent-store = loader.site.plugins" in entry_points
    for folder in ("templates", "static"):
        for path in (PLUGIN_PACKAGE / folder).iterdir():
            assert f"loader/site/plugins/{folder}/{path.name}" in names


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty virtual environment with the wheel installed; its bin directory."""
    bin_dir = empty_venv(tmp_path_factory.mktemp("venv") / "venv")
    pip_install(bin_dir, str(wheel))
    return bin_dir


@pytest.fixture
def elsewhere(published_db: Path, tmp_path: Path) -> Iterator[Path]:
    """A directory far from the checkout with a copy of a built database and its sources."""
    with tempfile.TemporaryDirectory() as directory:
        target = Path(directory)
        shutil.copytree(published_db.parent / "sources", target / "sources")
        shutil.copy(published_db, target / "events.db")  # after its sources: newer, so nothing is rebuilt
        yield target


def get(url: str) -> tuple[int, str, bytes]:
    with urllib.request.urlopen(url) as response:
        return response.status, response.headers.get("content-type", ""), response.read()


def test_the_installed_wheel_serves_the_site_from_any_directory(installed: Path, elsewhere: Path) -> None:
    port = free_port()
    log = elsewhere / "serve.log"
    with open(log, "wb") as output:
        process = subprocess.Popen(
            [str(installed / "event-store"), "serve", "--port", str(port)],
            cwd=elsewhere,
            env=outside_env(),
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_served(f"{base}/-/versions.json", process, 120, log.read_text)
        plugins = json.loads(get(f"{base}/-/plugins.json")[2])
        ours = next(plugin for plugin in plugins if plugin["name"] == "event-store")
        assert ours["static"] and ours["templates"]
        status, _, home = get(f"{base}/")
        assert status == 200 and b"/-/timeline" in home  # the package's menu and templates
        status, _, event = get(base + EVENT)
        assert status == 200 and b'id="history"' in event
        status, kind, clusters = get(f"{base}/-/map/events.json")
        assert status == 200 and kind.startswith("application/json") and json.loads(clusters)["events"] > 0
        status, _, script = get(f"{base}/-/static-plugins/event-store/server_map.js")
        assert status == 200 and b"window.SERVER_MAP" in script
    finally:
        process.terminate()
        process.wait(timeout=30)
    assert not (elsewhere / "events.db-inspect.json").stat().st_mtime < (elsewhere / "events.db").stat().st_mtime


def test_the_site_alone_installs_no_release_writers(installed: Path, elsewhere: Path) -> None:
    """pyarrow and geojson are the release extra's: the wheel serves without
    them, and `release` says what to install instead of a traceback."""
    python = installed / "python"
    for module in ("pyarrow", "geojson"):
        found = subprocess.run([str(python), "-c", f"import {module}"], capture_output=True, env=outside_env())
        if module == "pyarrow":  # geojson comes with datasette-geojson, which the site uses
            assert found.returncode != 0, f"{module} was installed with the site"
    result = subprocess.run(
        [str(installed / "event-store"), "release"], cwd=elsewhere, capture_output=True, text=True, env=outside_env()
    )
    assert result.returncode != 0
    assert "pip install 'event-store[release]'" in result.stderr, result.stderr
