"""The command line: a thin layer over validate, build and serve.

The only module that knows about click: it reads the arguments, and turns
the library's exceptions into messages and exit codes.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from . import DATABASE_FILE, __version__
from .build import DEFAULT_DB
from .build import build as build_database
from .errors import InvalidSources, LoaderError
from .formats import default_origin
from .importer import ImportSpec
from .problems import MAX_SHOWN, display_path
from .published import check_published_ids
from .release import DIST
from .release import release as release_dataset
from .rules import slug
from .site.serve import serve as serve_database
from .sources import DEFAULT_SOURCES
from .sources import validate as validate_sources

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


@contextmanager
def progress_bar(label: str, length: int) -> Iterator[Callable[[int], None]]:
    """A bar on stderr for an import, told how many bytes have been read."""
    with click.progressbar(length=length, label=label, file=sys.stderr) as bar:
        yield lambda position: bar.update(position - bar.pos)


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
    result = build_database(sources, db, specs, drop_imports, progress=progress_bar if sys.stderr.isatty() else None)
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
def serve(sources: Path, db: Path, port: int) -> None:
    """Serve the database with Datasette on http://127.0.0.1:PORT.

    Builds the database first when it is missing or older than the sources.
    """
    serve_database(db, sources, port)


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
