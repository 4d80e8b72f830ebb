"""Publish the database with Datasette, rebuilding it first when the sources changed.

`make serve` should always show what is in sources/ now, yet a restart should
not pay for a rebuild it does not need, so the database is rebuilt only when
it is missing or older than anything it is made from; and a second `make
serve` while one runs says so at once, before any build.

How it is served, and why. One Datasette process runs Python on one core at a
time and has three SQL threads: measured at 47.8 requests/s for 50 clients,
and three visitors looping runaway SQL held all three threads, so everyone
else waited (issue 15). The database is an immutable file, so any number of
processes can read it with nothing to coordinate. The site is therefore
uvicorn running Datasette's ASGI app in WORKERS processes (uvicorn's own
supervisor restarts a worker that dies), each with its own SQL threads, and
plugins/sql_gate.py lets arbitrary SQL (`?sql=`) run one query at a time
across the workers, under a shorter time limit than pages get, so the other
threads (and a core) always serve pages; plugins/response_cache.py answers
repeated pages from memory. The trade-offs:

- memory: each worker holds its own Datasette (about 60 MB idle), so the
  site's idle size is WORKERS times that; each request is bounded within its
  worker (plugins/sql_limits.py);
- arbitrary SQL is slower under contention: beyond one query at a time the
  others wait (and get 503 after 5 s), and a query gets 1 s rather than the
  pages' 3 s;
- per-process caches (Datasette's, SQLite's page cache) are not shared, and
  the access log is off (a line per request costs CPU the two cores lack);
- the memory allocator is told (glibc's MALLOC_* variables) to give large
  blocks back to the system when freed, and plugins/memory_release.py frees
  what a refused query leaves behind, so a worker returns to its idle size
  after a large page, at a small cost in speed.
"""

from __future__ import annotations

import errno
import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

from . import DATABASE_FILE, PROJECT_ROOT
from .build import build, recorded_imports
from .errors import LoaderError
from .schema import SCHEMA_PATH
from .sources import source_files

METADATA_PATH = PROJECT_ROOT / "metadata.yml"
TEMPLATES_PATH = PROJECT_ROOT / "templates"
PLUGINS_PATH = PROJECT_ROOT / "plugins"
WORKERS = 3  # processes: one more than the cores, so one busy with a runaway leaves two
DATABASE_VARIABLE = "EVENT_STORE_DB"  # how the workers learn which file to serve
# glibc: blocks of 128 KB and more are mapped and unmapped on their own, and
# freed memory is trimmed, so a large response's memory goes back to the system.
ALLOCATOR = {"MALLOC_MMAP_THRESHOLD_": "131072", "MALLOC_TRIM_THRESHOLD_": "131072", "MALLOC_ARENA_MAX": "2"}

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


def inputs(sources: Path) -> list[Path]:
    """Everything a build reads; directories count, since deleting a file only touches its directory."""
    directories = [sources, *(p for p in sources.rglob("*") if p.is_dir())]
    return [SCHEMA_PATH, *directories, *source_files(sources)]


def is_stale(db: Path, sources: Path) -> bool:
    """Whether a build would change db: a source, or a file it imported, is
    newer (a missing import counts too, so the build says what to do)."""
    if not db.exists():
        return True
    built = db.stat().st_mtime
    imported = [spec.path for spec in recorded_imports(db)]
    return any(not path.exists() or path.stat().st_mtime > built for path in [*inputs(sources), *imported])


def inspect_path(db: Path) -> Path:
    return db.with_name(db.name + "-inspect.json")


def write_inspect_file(db: Path) -> Path:
    """Count every table once, ahead of time: an immutable database never
    changes, so Datasette need not count rows on every page."""
    target = inspect_path(db)
    if target.exists() and target.stat().st_mtime >= db.stat().st_mtime:
        return target
    partial = target.with_name(target.name + ".tmp")
    subprocess.run(
        [sys.executable, "-m", "datasette", "inspect", str(db), "--inspect-file", str(partial)],
        check=True,
    )
    os.replace(partial, target)
    return target


def setting_arguments() -> list[str]:
    """SETTINGS as Datasette's command line takes them (--setting NAME VALUE), for
    the commands that package or publish copies of the site (replicas.py)."""
    return [
        arg
        for name, value in SETTINGS.items()
        for arg in ("--setting", name, str(value).lower() if isinstance(value, bool) else str(value))
    ]


def site_options() -> dict[str, Any]:
    """What every Datasette of this site is given, whichever file it serves:
    the project's metadata, templates, plugins and settings."""
    from datasette.utils import parse_metadata

    return {
        "metadata": parse_metadata(METADATA_PATH.read_text(encoding="utf-8")),
        "template_dir": str(TEMPLATES_PATH),
        "plugins_dir": str(PLUGINS_PATH),
        "settings": SETTINGS,
    }


def datasette_options(db: Path) -> dict[str, Any]:
    """How Datasette is made to serve db: immutable, with the site's options
    and precomputed counts."""
    return {
        "immutables": [str(db)],
        "inspect_data": json.loads(inspect_path(db).read_text(encoding="utf-8")),
        **site_options(),
    }


def app() -> Any:
    """Each worker's ASGI app: uvicorn calls this (`--factory`) in every process."""
    from datasette.app import Datasette

    return Datasette(**datasette_options(Path(os.environ[DATABASE_VARIABLE]))).app()


def uvicorn_command(port: int, host: str = "127.0.0.1", workers: int = WORKERS) -> list[str]:
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        f"{__name__}:app",
        "--app-dir",
        str(PROJECT_ROOT),
        "--workers",
        str(workers),
        "--host",
        host,
        "--port",
        str(port),
        "--no-access-log",
    ]


def port_taken(port: int, host: str = "127.0.0.1") -> bool:
    """Whether something, most likely another `serve`, already listens on the port."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds: closed connections do not count
        try:
            probe.bind((host, port))
        except OSError as e:
            if e.errno == errno.EADDRINUSE:
                return True
            raise
    return False


def serve(db: Path, sources: Path, port: int, workers: int = WORKERS) -> None:
    """Build if needed, then replace this process with uvicorn serving Datasette."""
    if db.name != DATABASE_FILE:
        raise LoaderError(
            f"{db.name}: the database file must be named {DATABASE_FILE}, "
            "because metadata.yml and the site's links refer to it by that name"
        )
    if port_taken(port):
        raise LoaderError(
            f"port {port} is already in use: is the site already served at http://127.0.0.1:{port}/ ? "
            "(stop it, or choose another port: make serve PORT=8002)"
        )
    if is_stale(db, sources):
        build(sources, db)
    write_inspect_file(db)
    command = uvicorn_command(port, workers=workers)
    os.execve(command[0], command, {**os.environ, **ALLOCATOR, DATABASE_VARIABLE: str(db.resolve())})
