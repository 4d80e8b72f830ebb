"""The command line: a thin layer over validate, build and serve.

The only module that knows about click: it reads the arguments, and turns
the library's exceptions into messages and exit codes.
"""

from __future__ import annotations

import time
from pathlib import Path

import click

from . import DATABASE_FILE, __version__
from .build import DEFAULT_DB
from .build import build as build_database
from .errors import InvalidSources, LoaderError
from .formats import default_origin
from .importer import ImportSpec
from .problems import MAX_SHOWN, display_path
from .production import render_config
from .published import check_published_ids
from .release import DIST
from .release import release as release_dataset
from .rules import slug
from .serve import serve as serve_database
from .sources import DEFAULT_SOURCES
from .sources import validate as validate_sources

PROGRESS_EVERY = 5.0  # seconds between two lines of an import's progress

sources_option = click.option(
    "--sources",
    type=click.Path(file_okay=False, path_type=Path),
    default=DEFAULT_SOURCES,
    show_default="sources/",
    help="Directory of YAML records.",
)
db_option = click.option(
    "--db",
    type=click.Path(dir_okay=False, path_type=Path),
    default=DEFAULT_DB,
    show_default=DATABASE_FILE,
    help="SQLite database to write.",
)


class Cli(click.Group):
    """Turns every LoaderError into a one-line message and exit code 1,
    listing first, one a line, every problem an invalid input has."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except InvalidSources as error:
            for problem in error.problems:
                click.echo(str(problem), err=True)
            raise click.ClickException(str(error)) from error
        except LoaderError as error:
            raise click.ClickException(str(error)) from error


def import_spec(value: str, skip_invalid: bool) -> ImportSpec:
    """Read --import's [NAME=]FILE. Without a NAME, the file's format names
    it: an ACLED file is 'acled' (so a newer export replaces the older one)
    and any other takes its file's name."""
    name, _, file = value.rpartition("=") if "=" in value and not Path(value).exists() else ("", "", value)
    path = Path(file)
    if not path.is_file():
        raise click.BadParameter(f"{file}: no such file", param_hint="--import")
    name = name or default_origin(path)
    if slug(name) != name:
        raise click.BadParameter(
            f"'{name}' must be a slug of lowercase letters, digits and hyphens", param_hint="--import"
        )
    return ImportSpec(path, name, skip_invalid)


class StderrProgress:
    """A build's progress as lines on stderr: each step as it begins, and an
    import's events every PROGRESS_EVERY seconds, so that a build of a
    million rows shows it is moving without flooding a log. Plain lines
    rather than a bar, since a build is as often run by make, CI or serve's
    log as at a terminal."""

    def __init__(self) -> None:
        self.started = self.last = time.monotonic()

    def say(self, text: str) -> None:
        self.last = time.monotonic()
        click.echo(f"[{self.last - self.started:7.1f} s] {text}", err=True)

    def step(self, name: str) -> None:
        self.say(name)

    def imported(self, shown: str, events: int, read: int, size: int) -> None:
        if time.monotonic() - self.last >= PROGRESS_EVERY:
            self.say(f"{shown}: {events:,} events imported, {read * 100 // max(size, 1)}% of the file read")


@click.group(cls=Cli)
@click.version_option(__version__, prog_name="event-store")
def cli() -> None:
    """Build and publish the event store: curated YAML records in sources/
    become a SQLite database served with Datasette."""


@cli.command()
@sources_option
def validate(sources: Path) -> None:
    """Check every record without writing anything.

    Lists every problem as FILE:LINE: RECORD: FIELD: MESSAGE and exits 1,
    or prints a one-line summary and exits 0, then any warnings (events that
    may be recorded twice), which do not fail.
    """
    dataset = validate_sources(sources)
    check_published_ids(sources, dataset.db.conn)
    click.echo(f"{display_path(sources)} is valid: {dataset.summary()}")
    for warning in dataset.warnings:
        click.echo(f"warning: {warning}", err=True)


@cli.command()
@sources_option
@db_option
@click.option(
    "--import",
    "imports",
    metavar="[NAME=]FILE",
    multiple=True,
    help="Also load a large file of events: an ACLED export, or rows in the events "
    "table's own columns, as CSV or NDJSON. Its events carry NAME in events.origin "
    "(default: acled for ACLED files, else the file's name). The database records "
    "the import, so later builds and serve repeat it; a new file with the same NAME "
    "replaces the old one. Repeatable.",
)
@click.option(
    "--skip-invalid",
    is_flag=True,
    help="Leave out and count the invalid rows of the files given with --import, instead of refusing the build.",
)
@click.option("--drop-imports", is_flag=True, help="Build without the imports the database was built with.")
@click.option("--timings", is_flag=True, help="Also print how long each step took, in wall-clock and CPU seconds.")
def build(
    sources: Path, db: Path, imports: tuple[str, ...], skip_invalid: bool, drop_imports: bool, timings: bool
) -> None:
    """Validate the records, then write the database.

    The database is replaced in one step once the new one is complete; if
    anything fails, the previous file is left exactly as it was.
    """
    specs = [import_spec(value, skip_invalid) for value in imports]
    result = build_database(sources, db, specs, drop_imports, progress=StderrProgress())
    click.echo(f"Wrote {display_path(db)}: {result.summary()}")
    if result.version and not result.version.in_checkout:
        click.echo(f"{display_path(sources)} is not in a git checkout: built without record history", err=True)
    for report in result.imports:
        click.echo(report.summary())
        for problem in report.problems[:MAX_SHOWN]:
            click.echo(f"skipped {problem}", err=True)
    if timings:
        for line in result.timings.lines():
            click.echo(f"timing: {line}")


@cli.command()
@sources_option
@db_option
@click.option("--port", type=int, default=8001, show_default=True, help="Port on 127.0.0.1.")
@click.option(
    "--trusted-proxy",
    metavar="ADDRESS",
    help="Believe X-Forwarded-Proto and X-Forwarded-For from this proxy only (nginx's, e.g. 127.0.0.1); "
    "by default from nobody.",
)
def serve(sources: Path, db: Path, port: int, trusted_proxy: str | None) -> None:
    """Serve the database with Datasette on http://127.0.0.1:PORT.

    Builds the database first when it is missing or older than the sources.
    """
    serve_database(db, sources, port, trusted_proxy=trusted_proxy, progress=StderrProgress())


@cli.command("nginx-config")
@click.option("--listen", default="80", show_default=True, help="nginx's port, or ADDRESS:PORT.")
@click.option("--host", required=True, help="The site's name as visitors write it.")
@click.option(
    "--serve-port", "serve_ports", type=int, multiple=True, required=True, help="A serve's port on 127.0.0.1 (repeat)."
)
@click.option(
    "--release",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    required=True,
    help="The release folder whose csv/ nginx sends as files.",
)
@click.option("--user", default="www-data", show_default=True, help="The user nginx's workers run as.")
def nginx_config(listen: str, host: str, serve_ports: tuple[int, ...], release: Path, user: str) -> None:
    """Print deploy/nginx.conf filled in for this server (see deploy/README.md)."""
    click.echo(
        render_config(listen=listen, host=host, serve_ports=serve_ports, release_csv=release / "csv", user=user),
        nl=False,
    )


@cli.command()
@sources_option
@db_option
@click.option(
    "--dist",
    type=click.Path(file_okay=False, path_type=Path),
    default=DIST,
    show_default="dist/",
    help="Directory the release is written into, as event-store-VERSION/.",
)
@click.option("--version", "version", help="Version to give it (default: YYYY.MM.DD of the sources' newest commit).")
@click.option("--released", help="Release date, YYYY-MM-DD (default: SOURCE_DATE_EPOCH's date, else today in UTC).")
@click.option(
    "--previous",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Database of the release to list changes since (default: the newest older one in --dist).",
)
def release(
    sources: Path, db: Path, dist: Path, version: str | None, released: str | None, previous: Path | None
) -> None:
    """Write a citable release of the sources and the imports --db was built with.

    Writes DIST/event-store-VERSION/: the database, CSV and Parquet of every
    table, GeoJSON, datapackage.json, CITATION.cff, README.md, CHANGES.md,
    changes.json and SHA256SUMS. Then adds the ids it published to
    sources/published-ids.tsv and the release to sources/releases.tsv:
    commit both, so that later builds keep every id this release published.
    """
    result = release_dataset(sources, db, dist, version, released, previous)
    since = f" since {result.changes.previous}" if result.changes.previous else ""
    counts = {
        kind: sum(len(getattr(t, kind)) for t in result.changes.tables.values())
        for kind in ("added", "changed", "withdrawn")
    }
    click.echo(
        f"Wrote {display_path(result.directory)}: release {result.version} of {result.released}; "
        f"{counts['added']} added, {counts['changed']} changed, {counts['withdrawn']} withdrawn{since}"
    )
    click.echo("Commit " + " and ".join(display_path(p) for p in result.bookkeeping) + " with the release.")
