"""What each of the site's worker processes runs: Datasette's ASGI app for the
served file, with the site's settings, its limits and its connection deadline.

uvicorn starts every worker as a new interpreter, which imports this module
(the app factory and the protocol class serve.py gives uvicorn), so it
imports only what a worker needs, and Datasette only once the worker starts.
The supervisor's own machinery stays in serve.py: the build, the importers
and the sources' watcher, which made each worker's start longer, and a
worker starts at every `serve`, every retirement after serve.MAX_REQUESTS
and every reload. Run as a program (`python -m loader.site.worker DB
TARGET`), it counts a database's rows for serve.py, with the same patch
over Datasette's import as a worker (count_rows).
"""

from __future__ import annotations

import asyncio
import ctypes
import functools
import importlib
import json
import multiprocessing
import os
import resource
import signal
import sys
import types
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from ..metadata import read_metadata

DATABASE_VARIABLE = "EVENT_STORE_DB"  # how the workers learn which file to serve
BASE_URL_VARIABLE = "EVENT_STORE_BASE_URL"  # and the path prefix the site is served under
RUN_DIR_VARIABLE = "EVENT_STORE_RUN_DIR"  # and its server's run directory, where the SQL gate keeps its lock
REQUEST_SECONDS = 10  # a connection's request must have arrived this long after it opened or was last answered
# Idle, a worker reserves about 185 MB of address space (with its SQL threads
# started, on the fixture database); the cap leaves five times that for requests.
WORKER_ADDRESS_SPACE = 1024**3
PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
PINT = "datasette.vendored.pint"  # Datasette 0.65's copy of pint (unit_registry_deferred)

# Settings for a public, read-only site. The data changes only by a rebuild,
# so pages may be cached for a while; limits keep one visitor's heavy query
# from stalling the others, while still returning the whole dataset at once.
SETTINGS = {
    "sql_time_limit_ms": 3000,  # generous for joins over views, short enough to stop runaway SQL
    "facet_time_limit_ms": 500,  # array and date facets over views need more than the 200 default
    "max_returned_rows": 1000,  # Datasette's default: a page of the map's markers stays quick at a million events
    "allow_csv_stream": True,
    "max_csv_mb": 0,  # no cap: a full export of a large import is hundreds of megabytes
    "allow_download": True,  # researchers may take the whole database away
    "default_allow_sql": True,  # anyone may run their own read-only SQL
    "suggest_facets": False,  # the default facets are chosen; suggestions cost time on every page
    "default_cache_ttl": 300,
    "truncate_cells_html": 300,  # keeps tables scannable; row pages and exports show all
}


def inspect_path(db: Path) -> Path:
    """Where serve.py keeps db's row counts (`datasette inspect`'s file), beside it."""
    return db.with_name(db.name + "-inspect.json")


def count_rows(db: Path, target: Path) -> None:
    """`datasette inspect db --inspect-file target`, Datasette's own command,
    with the unit registry deferred as in a worker (unit_registry_deferred):
    serve.py runs it in a process of its own for each database it serves
    (`python -m loader.site.worker DB TARGET`): 0.9 CPU-seconds where
    `datasette inspect` took 1.3 (measured)."""
    with unit_registry_deferred():
        from datasette.cli import cli

    cli.main(["inspect", str(db), "--inspect-file", str(target)], prog_name="datasette inspect")


def site_options() -> dict[str, Any]:
    """What every Datasette of this site is given, whichever file it serves:
    the project's metadata and settings. The plugins, their templates and
    static files are an installed plugin package (loader.site.plugins), which
    Datasette loads by its entry point, as it loads any plugin."""
    return {
        "metadata": read_metadata(),
        "settings": SETTINGS,
    }


def datasette_options(db: Path, base_url: str = "/") -> dict[str, Any]:
    """How Datasette is made to serve db: immutable, with the site's options
    and precomputed counts, under base_url (a proxy passing /prefix/... on,
    which Datasette's router strips)."""
    options = site_options()
    return {
        "immutables": [str(db)],
        "inspect_data": json.loads(inspect_path(db).read_text(encoding="utf-8")),
        **options,
        "settings": {**options["settings"], "base_url": base_url},
    }


def die_with_supervisor() -> None:
    """Ask Linux to kill this worker as soon as the supervisor that started it dies.

    uvicorn's supervisor stops its workers when it is stopped, but not when it
    is killed (kill -9, the OOM killer): then they served on with nothing to
    restart them, and held the port, so `serve` refused to start again.
    PR_SET_PDEATHSIG needs no watchdog thread; Python's standard library has
    no prctl, hence ctypes. The signal comes when the thread that started the
    worker ends, which in uvicorn's supervisor is its main thread, so only its
    death. Elsewhere than Linux, or in a single-process server, nothing is done.
    """
    parent = multiprocessing.parent_process()
    if parent is None or not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    if os.getppid() != parent.pid:  # it died before the request was made
        signal.raise_signal(signal.SIGKILL)


def cap_address_space() -> None:
    """Lower this worker's address-space limit to WORKER_ADDRESS_SPACE (a lower
    limit it was given stays), so that a request that would grow it beyond
    gets a MemoryError (a 500) and the worker lives on at its size."""
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    cap = min(limit for limit in (soft, hard, WORKER_ADDRESS_SPACE) if limit != resource.RLIM_INFINITY)
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))


class DeferredUnitRegistry:
    """pint's unit registry, built at its first use: called to read a
    quantity, or any of its attributes asked for (`define`, for metadata's
    custom units), which is all Datasette 0.65 does with it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.arguments = (args, kwargs)

    @functools.cached_property
    def registry(self) -> Any:
        args, kwargs = self.arguments
        # By name: Datasette's vendored pint carries a py.typed, and an import
        # statement would have mypy take all of datasette for typed, and wrong.
        return importlib.import_module(PINT).UnitRegistry(*args, **kwargs)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.registry(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.registry, name)


@contextmanager
def unit_registry_deferred() -> Iterator[None]:
    """A patch over Datasette 0.65, in force while Datasette is imported:
    datasette/views/base.py imports its vendored pint (which imports numpy
    where it is installed) and builds pint's UnitRegistry as it is imported,
    for the column units of metadata (`units`, `_units`), which this site
    never uses, and the registry reads pint's whole definitions file: about
    half a CPU-second of every worker's start and of count_rows (measured:
    importing Datasette took 1.0-1.5 CPU-seconds without this, 0.7-0.9 with
    it). Here Datasette finds, under pint's module name, a stand-in whose
    UnitRegistry is built, with pint imported, only if something uses it.
    Removed by Datasette 1.0a, which drops units and pint
    (simonw/datasette#2400, pull request #2401).

    It cannot be one of compat_065's plugin modules: importing the plugin
    package imports Datasette's plugin manager, which imports the views."""
    if PINT in sys.modules:  # Datasette, or pint, was imported before: too late to defer
        yield
        return
    stand_in = types.ModuleType(PINT, "pint, until a unit is used (loader.site.worker.unit_registry_deferred)")
    stand_in.UnitRegistry = DeferredUnitRegistry  # type: ignore[attr-defined]
    sys.modules[PINT] = stand_in
    try:
        yield
    finally:
        if sys.modules.get(PINT) is stand_in:
            del sys.modules[PINT]  # so that the registry's first use imports pint itself


def app() -> Any:
    """Each worker's ASGI app: uvicorn calls this (`--factory`) in every process."""
    with unit_registry_deferred():
        from datasette.app import Datasette

    die_with_supervisor()
    cap_address_space()
    db = Path(os.environ[DATABASE_VARIABLE])
    return Datasette(**datasette_options(db, os.environ.get(BASE_URL_VARIABLE, "/"))).app()


class RequestDeadlineProtocol(H11Protocol):
    """uvicorn's h11 protocol, closing a connection whose request has not
    fully arrived REQUEST_SECONDS after it opened or after its last answer.

    uvicorn (0.55) times a connection out only once it has answered a request
    (--timeout-keep-alive); before that, a client that sends nothing, or sends
    a request's head a byte at a time, keeps its connection for ever. nginx's
    client_header_timeout is the same bound; behind nginx this never fires.
    It relies on H11Protocol's loop, conn and transport attributes and its
    on_response_complete hook, which uvicorn could rename in another version:
    tests/test_serve_supervision.py starts the real server and would fail.
    """

    deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._start_deadline()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._start_deadline()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.deadline is not None:
            self.deadline.cancel()
        super().connection_lost(exc)

    def _start_deadline(self) -> None:
        if self.deadline is not None:
            self.deadline.cancel()
        self.deadline = self.loop.call_later(REQUEST_SECONDS, self._expire)

    def _expire(self) -> None:
        # DONE: the whole request has arrived, and its answer may take its time.
        if self.conn.their_state is not h11.DONE and not self.transport.is_closing():
            self.transport.close()


if __name__ == "__main__":
    count_rows(Path(sys.argv[1]), Path(sys.argv[2]))
