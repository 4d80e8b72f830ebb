"""serve: rebuild only when needed, then a real Datasette on 127.0.0.1."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from loader import PROJECT_ROOT
from loader.build.database import build
from loader.errors import LoaderError
from loader.files import sha256_file
from loader.site.serve import WORKERS, check_base_url, is_stale, serve_command
from tests.support.site_helpers import serving_process, worker_pids

pytestmark = pytest.mark.slow

VALID_SOURCES = Path(__file__).parent / "fixtures" / "valid"


def age(path: Path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


def test_missing_database_is_stale(sources: Path, tmp_path: Path) -> None:
    assert is_stale(tmp_path / "events.db", sources)


def test_fresh_database_is_not_stale_until_a_source_changes(sources: Path, tmp_path: Path) -> None:
    for path in [sources, *sources.rglob("*")]:
        age(path, 60)
    db_path = tmp_path / "events.db"
    build(sources, db_path)
    assert not is_stale(db_path, sources)
    (sources / "places.yml").touch()
    assert is_stale(db_path, sources)


def test_deleting_a_source_file_makes_the_database_stale(sources: Path, tmp_path: Path) -> None:
    for path in [sources, *sources.rglob("*")]:
        age(path, 60)
    db_path = tmp_path / "events.db"
    build(sources, db_path)
    (sources / "events" / "paris.yml").unlink()
    assert is_stale(db_path, sources)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, subprocess.Popen, Path]]:
    """One `serve` of a copy of the valid fixture with no database yet, so it
    builds one first: started once for the tests that only ask it questions
    (each start is seconds of Datasette's imports, in every worker). Its
    address, its process and the database it built."""
    directory = tmp_path_factory.mktemp("served")
    sources = shutil.copytree(VALID_SOURCES, directory / "sources")
    db_path = directory / "events.db"
    with serving_process(sources, db_path) as (base, process):
        yield base, process, db_path


def test_serve_builds_then_serves_on_loopback(served: tuple[str, subprocess.Popen, Path]) -> None:
    base, _, db_path = served
    assert base.startswith("http://127.0.0.1:")
    with urllib.request.urlopen(f"{base}/events/events.json?_shape=array") as response:
        rows = json.load(response)
    assert db_path.exists()
    assert sorted(row["id"] for row in rows) == ["2025-07-strikes-on-damascus", "2025-08-19-paris-shaibani-dermer"]


def test_a_second_serve_says_the_port_is_taken_without_building(sources: Path, tmp_path: Path) -> None:
    db_path = tmp_path / "events.db"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            serve_command(sources, db_path, port),
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"Error: port {port} is already in use: is the site already served at http://127.0.0.1:{port}/ ? "
        "(stop it, or choose another port: make serve PORT=8002)"
    ]
    assert not db_path.exists()  # nothing was built


def test_make_serve_takes_a_port() -> None:
    result = subprocess.run(["make", "-n", "serve", "PORT=8002"], cwd=PROJECT_ROOT, capture_output=True, text=True)
    assert result.returncode == 0
    assert "-m loader serve --port 8002" in result.stdout


def test_serve_runs_several_workers_over_one_file(served: tuple[str, subprocess.Popen, Path]) -> None:
    base, process, _ = served
    with urllib.request.urlopen(f"{base}/-/versions.json"):
        pass
    assert len(worker_pids(process.pid)) == WORKERS


def test_serve_runs_the_workers_it_is_asked_for(served: tuple[str, subprocess.Popen, Path]) -> None:
    _, _, db_path = served
    with serving_process(db_path.parent / "sources", db_path, options=("--workers", "2")) as (_, process):
        assert len(worker_pids(process.pid)) == 2


# For the serves whose test is not about workers: each worker's start costs a
# core a second or more, and every worker is given the same database and options.
ONE_WORKER = ("--workers", "1")


def released_copy(sources: Path, directory: Path) -> Path:
    """A database listed in the checksums beside it, as a release's folder holds it, older than the sources."""
    directory.mkdir()
    db_path = directory / "events.db"
    build(sources, db_path)
    (directory / "SHA256SUMS").write_text(f"{sha256_file(db_path)}  events.db\n")
    age(db_path, 60)
    (sources / "places.yml").touch()
    assert is_stale(db_path, sources)
    return db_path


def test_a_releases_database_is_served_as_it_is_however_old(sources: Path, tmp_path: Path) -> None:
    db_path = released_copy(sources, tmp_path / "2026.01.01")
    built = (db_path.stat().st_mtime, sha256_file(db_path))
    with serving_process(sources, db_path, options=ONE_WORKER) as (base, _):
        with urllib.request.urlopen(f"{base}/events/events.json?_shape=array") as response:
            assert json.load(response)
    assert (db_path.stat().st_mtime, sha256_file(db_path)) == built


def test_a_releases_database_is_not_served_with_reload(sources: Path, tmp_path: Path) -> None:
    db_path = released_copy(sources, tmp_path / "2026.01.01")
    built = sha256_file(db_path)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = subprocess.run(
        serve_command(sources, db_path, port, "--reload"), capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1
    assert "is a release's own copy (listed in its SHA256SUMS), served as it is" in result.stderr
    assert sha256_file(db_path) == built


def test_serve_serves_the_site_under_a_base_url(sources: Path, tmp_path: Path) -> None:
    """A proxy serving the site at example.org/prefix/ passes /prefix/... on."""
    db_path = tmp_path / "events.db"
    with serving_process(sources, db_path, options=("--base-url", "/prefix/", *ONE_WORKER)) as (base, _):
        with urllib.request.urlopen(f"{base}/prefix/events/events.json?_shape=array") as response:
            rows = json.load(response)
        with urllib.request.urlopen(f"{base}/prefix/events/events") as response:
            page = response.read().decode()
    assert sorted(row["id"] for row in rows) == ["2025-07-strikes-on-damascus", "2025-08-19-paris-shaibani-dermer"]
    assert 'href="/prefix/events/events/2025-07-strikes-on-damascus"' in page


def test_a_base_url_that_is_no_path_is_refused_before_building(sources: Path, tmp_path: Path) -> None:
    db_path = tmp_path / "events.db"
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = subprocess.run(
        serve_command(sources, db_path, port, "--base-url", "prefix"), capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "Error: base URL 'prefix': expected a path that starts and ends with /, such as /events/, "
        "of letters, digits and - . _ ~ (Datasette joins the site's paths to it)"
    ]
    assert not db_path.exists()


@pytest.mark.parametrize("base_url", ["/a//b/", "/events", "/news room/", "/a;b/", "/{x}/"])
def test_check_base_url_refuses_what_is_no_plain_path(base_url: str) -> None:
    with pytest.raises(LoaderError, match="expected a path that starts and ends with /"):
        check_base_url(base_url)


@pytest.mark.parametrize("base_url", ["/", "/events/", "/news-room/events_2026/", "/a.b~c/"])
def test_check_base_url_takes_a_plain_path(base_url: str) -> None:
    check_base_url(base_url)
