"""The production path: Debian's nginx, with deploy/nginx.conf, in front of `serve` processes on loopback:
two for readers' pages and one, the costly lane, for visitors' SQL, own facets and downloads.

Each test asks the real nginx for real pages of a built database, and checks
one thing the red team found missing when uvicorn faced clients itself.
"""

from __future__ import annotations

import getpass
import http.client
import os
import re
import signal
import socket
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from click.testing import CliRunner

from loader.cli import cli
from loader.release.exports import describe, write_csv
from loader.site.production import COSTLY_NICENESS, LOOPBACK, Limits, Production, nginx_binary, running
from tests.support.site_helpers import free_ports

IDLE = 1  # seconds: the idle timeout these tests give nginx, shorter than a server's; nginx counts whole seconds
RUNAWAY = "with recursive c(x) as (select 1 union all select x + 1 from c) select count(*) from c"


@pytest.fixture(scope="module")
def release(published_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A release folder as `make release` writes it, with the one table's CSV these tests ask for."""
    directory = tmp_path_factory.mktemp("release")
    (directory / "csv").mkdir()
    with sqlite3.connect(published_db) as conn:
        write_csv(conn, describe(conn, "places"), directory / "csv" / "places.csv")
    return directory


@pytest.fixture(scope="module")
def ports() -> list[int]:
    """nginx's, two readers' `serve` processes', and the costly lane's one."""
    return free_ports(4)


def published_site(
    db: Path, release: Path, run_dir: Path, ports: list[int], **options: Any
) -> AbstractContextManager[Production]:
    """The production path over the published fixture and its release: nginx
    on ports[0], two readers' `serve` on the next two, the costly lane on the
    rest, each `serve` with one worker (nginx spreads the requests over the
    processes; a worker's start costs a core a second or more); `options`
    are running()'s own (its limits, its base URL)."""
    return running(
        db, db.parent / "sources", run_dir, ports[0], ports[1:3], ports[3:], release=release, workers=1, **options
    )


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("production")


@pytest.fixture(scope="module")
def site(published_db: Path, release: Path, ports: list[int], run_dir: Path) -> Iterator[Production]:
    with published_site(published_db, release, run_dir, ports, limits=Limits(idle_timeout=IDLE)) as production:
        yield production


def fetch(
    production: Production, path: str, method: str = "GET", headers: dict[str, str] | None = None
) -> tuple[int, http.client.HTTPMessage, bytes]:
    host, port = production.base.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        connection.request(method, path, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


def closed_within(connection: socket.socket, seconds: float) -> bool:
    """Whether the server closes the connection within seconds (whatever it sends first)."""
    connection.settimeout(seconds)
    try:
        while connection.recv(4096):
            pass
    except TimeoutError:
        return False
    return True


def test_a_page_answers_and_its_repeat_comes_from_the_cache(site: Production) -> None:
    first = fetch(site, "/events/events?_test=cache")
    second = fetch(site, "/events/events?_test=cache")
    assert (first[0], first[1]["X-Cache-Status"]) == (200, "MISS")
    assert (second[0], second[1]["X-Cache-Status"]) == (200, "HIT")
    assert second[2] == first[2]
    with_cookie = fetch(site, "/events/events?_test=cache", headers={"Cookie": "ds_actor=x"})
    assert with_cookie[1]["X-Cache-Status"] == "BYPASS"


def test_a_clients_forwarded_headers_do_not_change_the_page_others_get(site: Production) -> None:
    path = "/events/events?_test=poison"
    forged = {
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": "evil.example",
        "Forwarded": "proto=https;host=evil.example",
        "Host": "evil.example",
    }
    assert fetch(site, path, headers=forged)[0] == 200
    status, headers, body = fetch(site, path)
    assert (status, headers["X-Cache-Status"]) == (200, "HIT")  # the copy the forged request put there
    assert headers["Link"].startswith(f"{site.base}/events/events.json?_test=poison;")
    assert b"evil.example" not in body
    assert f"https://{LOOPBACK}".encode() not in body


def test_only_get_and_head_are_served(site: Production) -> None:
    for method in ("POST", "PUT", "DELETE", "PATCH", "OPTIONS"):
        status, headers, _ = fetch(site, "/events/events", method=method)
        assert (method, status, headers["Allow"]) == (method, 405, "GET, HEAD")
    assert fetch(site, "/events/events", method="HEAD")[0] == 200


def test_a_url_longer_than_the_bound_is_refused(site: Production) -> None:
    assert fetch(site, "/events/event_types.json?pad=" + "x" * 20_000)[0] == 414


def test_idle_and_unfinished_connections_are_closed(site: Production) -> None:
    port = int(site.base.rsplit(":", 1)[1])
    with socket.create_connection((LOOPBACK, port)) as silent:
        assert closed_within(silent, IDLE + 3)
    with socket.create_connection((LOOPBACK, port)) as unfinished:
        unfinished.sendall(b"GET /events/events HTTP/1.1\r\nHost: x\r\n")
        assert closed_within(unfinished, IDLE + 3)
    with socket.create_connection((LOOPBACK, port)) as kept_alive:
        kept_alive.sendall(b"GET /-/versions.json HTTP/1.1\r\nHost: x\r\n\r\n")
        kept_alive.settimeout(10)
        assert kept_alive.recv(4096).startswith(b"HTTP/1.1 200")
        assert closed_within(kept_alive, IDLE + 3)


def test_a_client_runs_one_sql_query_at_a_time(site: Production) -> None:
    port = int(site.base.rsplit(":", 1)[1])
    with socket.create_connection((LOOPBACK, port)) as runaway:
        runaway.sendall(f"GET /events.json?sql={quote(RUNAWAY)} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        time.sleep(0.5)  # nginx has it, and the site is running it (for a second, its time limit)
        for path in (
            "/events.json?sql=select+1",
            "/events/events.json?_where=1%3D1",
            "/events.json?%73ql=select+1",  # Datasette decodes the name to sql
        ):
            assert (path, fetch(site, path)[0]) == (path, 429)
        assert fetch(site, "/events/events.json?_test=while-sql")[0] == 200  # pages are not limited
        runaway.settimeout(30)
        assert runaway.recv(4096).startswith(b"HTTP/1.1 400")  # stopped by the time limit, after the above
    # The turn is the client's again once nginx has finished the runaway's request,
    # which it may still be doing when its first bytes arrive.
    deadline = time.monotonic() + 5
    while (status := fetch(site, "/events.json?sql=select+1")[0]) == 429 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert status == 200


def test_a_release_table_is_sent_as_its_file_and_a_view_by_the_site(
    site: Production, release: Path, published_db: Path
) -> None:
    status, headers, body = fetch(site, "/-/csv/events/places.csv")
    assert (status, headers["Content-Type"]) == (200, "text/csv; charset=utf-8")
    assert body == (release / "csv" / "places.csv").read_bytes()
    assert "X-Cache-Status" not in headers  # nginx sent the file itself
    status, headers, _ = fetch(site, "/-/csv/events/places.csv?_bom=on")  # asks for more than the file
    assert (status, headers["X-Cache-Status"]) == (200, "MISS")
    with sqlite3.connect(published_db) as conn:
        view_columns = [column[0] for column in conn.execute("SELECT * FROM event_list LIMIT 0").description]
    status, headers, body = fetch(site, "/-/csv/events/event_list.csv")  # no file in the release: the site's export
    assert (status, headers["X-Cache-Status"]) == (200, "MISS")
    assert body.split(b"\r\n", 1)[0].decode() == ",".join(view_columns)


# What nginx.conf's map sends to the costly lane, each spelling a visitor could use.
COSTLY = [
    "/events.json?sql=select+1",
    "/events.json?%73ql=select+1",  # Datasette decodes the name to sql
    "/events/events.json?_where=1%3D1",
    "/events/event_list?_facet=origin",  # facets of the visitor's own choosing
    "/events/event_list.json?_facet_array=actor_names&_facet_date=end_date",
    "/events/events.csv?_size=max",
    "/events/event_list.csv?_stream=on",
    "/events/events.json?_size=%6Dax",
    "/events/events.geojson?_size=max",
    "/events/events%2Ecsv?_stream=on",  # nginx decodes the path
    "/events/events?_format=csv&_size=max",
    "/-/csv/events/event_list.csv",  # a view: no file, so the site's export
]
# Readers' pages, however near to a costly one.
READERS = [
    "/events/events",
    "/events/event_list?event_type=meeting",  # a facet clicked: the page's own facets
    "/events/event_list?_search=talks",
    "/events/events.json",
    "/events/events.json?_size=20",
    "/events/events.csv",  # one page's rows
    "/events/events?_sort=id&sizes=max",
]


def answered_by(run_dir: Path, marker: str) -> str:
    """The port of the `serve` that answered the one request carrying marker,
    from nginx's access log (which it writes once the answer is sent)."""
    log = run_dir / "logs" / "access.log"
    deadline = time.monotonic() + 5
    while True:
        lines = [line for line in log.read_text().splitlines() if marker in line]
        if lines or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert len(lines) == 1, lines
    upstream = lines[0].split(" upstream=", 1)[1].split(" ", 1)[0]
    return upstream.rsplit(":", 1)[-1]


def test_costly_requests_reach_only_the_costly_lane_and_pages_only_the_readers(
    site: Production, ports: list[int], run_dir: Path
) -> None:
    readers, costly = {str(p) for p in ports[1:3]}, str(ports[3])
    for number, path in enumerate(COSTLY + READERS):
        marker = f"_test=lane-{number}"  # a URL of its own, so no cached copy answers
        fetch(site, f"{path}{'&' if '?' in path else '?'}{marker}")
        lane = "costly" if answered_by(run_dir, marker) == costly else "readers"
        assert (path, lane) == (path, "costly" if path in COSTLY else "readers")
        if path in READERS:
            assert answered_by(run_dir, marker) in readers


# make test runs the other tests at the lowest CPU priority, under which the
# costly lane's could be no lower: this one runs with the serial tests, at the usual.
@pytest.mark.serial
def test_the_costly_lane_runs_at_a_lower_cpu_priority(site: Production) -> None:
    own = os.getpriority(os.PRIO_PROCESS, 0)
    assert own + COSTLY_NICENESS <= 19, f"at niceness {own} the costly lane could be no lower"
    assert [os.getpriority(os.PRIO_PROCESS, s.pid) for s in site.serves] == [own] * len(site.serves)
    assert [os.getpriority(os.PRIO_PROCESS, s.pid) for s in site.costly] == [own + COSTLY_NICENESS]


PREFIX = "/news.room/"


@pytest.fixture(scope="module")
def prefixed(
    published_db: Path, release: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Production, Path, list[int]]]:
    """The same configuration for a site at events.example.org/news.room/
    (a dot, which nginx's regular expressions must read as itself), with two
    readers' `serve` processes; its run directory and its ports (nginx's, the
    readers', the costly lane's). Started once for the prefix's test and for
    the test that kills one of its readers, which therefore comes after it in
    this file (pytest runs a file's tests in order)."""
    run_dir = tmp_path_factory.mktemp("prefixed")
    ports = free_ports(4)
    with published_site(published_db, release, run_dir, ports, base_url=PREFIX) as production:
        yield production, run_dir, ports


def test_under_a_path_prefix_the_site_its_files_and_its_lanes_keep_their_paths(
    prefixed: tuple[Production, Path, list[int]], release: Path
) -> None:
    production, run_dir, ports = prefixed
    status, _, body = fetch(production, f"{PREFIX}events/events?_test=prefix")
    assert status == 200
    assert f'href="{PREFIX}events/events/'.encode() in body
    status, headers, body = fetch(production, f"{PREFIX}-/csv/events/places.csv")
    assert (status, "X-Cache-Status" in headers) == (200, False)  # nginx sent the release's file
    assert body == (release / "csv" / "places.csv").read_bytes()
    assert fetch(production, "/-/csv/events/places.csv")[0] == 404  # nothing outside the prefix
    assert fetch(production, "/events/events")[0] == 404
    assert fetch(production, "/newsXroom/-/csv/events/places.csv")[0] == 404
    readers, costly = {str(p) for p in ports[1:3]}, {str(ports[3])}
    for n, (path, lane) in enumerate(
        ((f"{PREFIX}-/csv/events/event_list.csv", costly), (f"{PREFIX}events/events", readers))
    ):
        marker = f"_test=prefix-lane-{n}"
        assert fetch(production, f"{path}?{marker}")[0] == 200
        assert (path, answered_by(run_dir, marker) in lane) == (path, True)


def test_gets_are_answered_by_the_other_serve_when_one_dies(prefixed: tuple[Production, Path, list[int]]) -> None:
    production = prefixed[0]
    dead = production.serves[0]
    os.killpg(dead.pid, signal.SIGKILL)
    dead.wait(timeout=10)
    answers = [fetch(production, f"{PREFIX}events/events.json?_test=retry-{n}") for n in range(10)]
    assert [(status, headers["X-Cache-Status"]) for status, headers, _ in answers] == [(200, "MISS")] * 10


def test_the_operators_command_writes_a_configuration_nginx_accepts(release: Path, tmp_path: Path) -> None:
    arguments = ["nginx-config", "--listen", f"{LOOPBACK}:{free_ports(1)[0]}", "--host", "events.example.org"]
    arguments += ["--serve-port", "8001", "--serve-port", "8002", "--costly-port", "8101"]
    result = CliRunner().invoke(cli, [*arguments, "--release", str(release), "--user", getpass.getuser()])
    assert result.exit_code == 0, result.output
    upstreams = dict(re.findall(r"upstream (\w+) \{(.*?)\}", result.output, re.DOTALL))
    assert {lane: re.findall(r"server 127\.0\.0\.1:(\d+)", block) for lane, block in upstreams.items()} == {
        "readers": ["8001", "8002"],
        "costly": ["8101"],
    }
    for folder in ("logs", "temp"):  # as deploy/nginx-event-store.service makes them
        (tmp_path / folder).mkdir()
    (tmp_path / "nginx.conf").write_text(result.output, encoding="utf-8")
    checked = subprocess.run(
        [nginx_binary(), "-t", "-q", "-p", f"{tmp_path}/", "-c", str(tmp_path / "nginx.conf")],
        capture_output=True,
        text=True,
    )
    assert checked.returncode == 0, checked.stderr
    prefixed = CliRunner().invoke(cli, [*arguments, "--release", str(release), "--base-url", "/a.b/"])
    assert prefixed.exit_code == 0, prefixed.output
    assert r"location ~ ^/a\.b/-/csv/events/" in prefixed.output
    assert "location /a.b/ {" in prefixed.output
    refused = CliRunner().invoke(cli, [*arguments, "--release", str(release), "--base-url", "/a b/"])
    assert (refused.exit_code, "expected a path" in refused.output) == (1, True)
    overlapping = CliRunner().invoke(cli, [*arguments, "--serve-port", "8101", "--release", str(release)])
    assert overlapping.exit_code != 0
    assert "both the readers' lane and the costly lane" in overlapping.output
