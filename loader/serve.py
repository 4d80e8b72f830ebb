"""Publish the database with Datasette, rebuilding it first when the sources changed.

`make serve` should always show what is in sources/ now, yet a restart should
not pay for a rebuild it does not need, so the database is rebuilt only when
it is missing or older than anything it is made from.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from . import DATABASE_FILE, PROJECT_ROOT
from .build import build, recorded_imports
from .errors import LoaderError
from .schema import SCHEMA_PATH
from .sources import source_files

METADATA_PATH = PROJECT_ROOT / "metadata.yml"
TEMPLATES_PATH = PROJECT_ROOT / "templates"
PLUGINS_PATH = PROJECT_ROOT / "plugins"

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


def datasette_command(db: Path, port: int, host: str = "127.0.0.1") -> list[str]:
    """The Datasette command line that serves db: immutable, with the project's
    metadata, templates, plugins, settings and precomputed counts."""
    settings = [
        arg
        for name, value in SETTINGS.items()
        for arg in ("--setting", name, str(value).lower() if isinstance(value, bool) else str(value))
    ]
    return [
        sys.executable,
        "-m",
        "datasette",
        "serve",
        "--immutable",
        str(db),
        "--inspect-file",
        str(inspect_path(db)),
        "--metadata",
        str(METADATA_PATH),
        "--template-dir",
        str(TEMPLATES_PATH),
        "--plugins-dir",
        str(PLUGINS_PATH),
        *settings,
        "--host",
        host,
        "--port",
        str(port),
    ]


def serve(db: Path, sources: Path, port: int) -> None:
    """Build if needed, then replace this process with Datasette."""
    if db.name != DATABASE_FILE:
        raise LoaderError(
            f"{db.name}: the database file must be named {DATABASE_FILE}, "
            "because metadata.yml and the site's links refer to it by that name"
        )
    if is_stale(db, sources):
        build(sources, db)
    write_inspect_file(db)
    command = datasette_command(db, port)
    os.execv(command[0], command)
