"""The command line: a thin layer over validate, build and serve.

The only module that knows about click: it reads the arguments, and turns
the library's exceptions into messages and exit codes.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from . import DATABASE_FILE, __version__
from .build.database import DEFAULT_DB
from .build.database import build as build_database
from .desk.diff import pinned_warnings
from .errors import InvalidSources, LoaderError
from .imports.formats import default_origin
from .imports.importer import ImportSpec
from .problems import MAX_SHOWN, display_path
from .records.archive import ARCHIVE_ENV, DEFAULT_FOLDERS, find_archive, numbered
from .records.sources import DEFAULT_SOURCES
from .records.sources import validate as validate_sources
from .release import DIST, EXTRA
from .rules import slug
from .site.production import render_config
from .site.serve import WORKERS
from .site.serve import serve as serve_database

PROGRESS_EVERY = 5.0  # seconds between two lines of an import's progress

sources_option = click.option(
    "--sources",
    type=click.Path(file_okay=False, path_type=Path),
    default=DEFAULT_SOURCES,
    show_default="sources/",
    help="Directory of YAML records.",
)
base_url_option = click.option(
    "--base-url",
    default="/",
    show_default=True,
    metavar="PATH",
    help="Serve the site under this path, e.g. /events/, for a proxy that serves it at example.org/events/ "
    "and passes the path on (Datasette's base_url).",
)
archive_option = click.option(
    "--archive",
    "archive_folders",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    multiple=True,
    help=f"Folder of archived copies to check every locator against; repeatable. Default: the folders "
    f"{ARCHIVE_ENV} names (separated by ':'), else, for the project's own sources/, "
    f"{' and '.join(DEFAULT_FOLDERS)} from the project's root where they exist.",
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


def _own(sources: Path) -> bool:
    """Whether these are the project's own sources, whose archive lies beside the checkout."""
    return sources.resolve() == DEFAULT_SOURCES.resolve()


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
@archive_option
def validate(sources: Path, archive_folders: tuple[Path, ...]) -> None:
    """Check every record without writing anything.

    Lists every problem as FILE:LINE: RECORD: FIELD: MESSAGE and exits 1,
    or prints a one-line summary and exits 0, then one line if no archive
    was found to check the locators against, then any warnings, which do
    not fail: prose that the edits not yet committed leave stale, aliases
    that clash with another record's names, events that may be
    recorded twice, and events whose documents give different days with
    no dispute asking when (as `diff` finds them).
    """
    archive = find_archive(archive_folders, own_sources=_own(sources))
    dataset = validate_sources(sources, archive=archive)
    click.echo(f"{display_path(sources)} is valid: {dataset.summary()}")
    if unchecked := dataset.unchecked():
        click.echo(unchecked)
    for warning in pinned_warnings(sources, dataset.records, archive):
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
@archive_option
def build(
    sources: Path,
    db: Path,
    imports: tuple[str, ...],
    skip_invalid: bool,
    drop_imports: bool,
    timings: bool,
    archive_folders: tuple[Path, ...],
) -> None:
    """Validate the records, then write the database.

    The database is replaced in one step once the new one is complete; if
    anything fails, the previous file is left exactly as it was.
    """
    specs = [import_spec(value, skip_invalid) for value in imports]
    result = build_database(
        sources,
        db,
        specs,
        drop_imports,
        progress=StderrProgress(),
        archive=find_archive(archive_folders, own_sources=_own(sources)),
    )
    click.echo(f"Wrote {display_path(db)}: {result.summary()}")
    if unchecked := result.unchecked():
        click.echo(unchecked)
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
@click.option(
    "--reload",
    is_flag=True,
    help="Watch the sources, and rebuild and reload the site after each change (for a curator at a browser); "
    "a change that does not validate is listed here and the last good database stays served.",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    help=f"Worker processes answering requests [default: {WORKERS}; 1 with --reload, which replaces them one "
    "at a time]: one more than the cores keeps a core serving pages while one worker is busy with a runaway.",
)
@base_url_option
def serve(
    sources: Path, db: Path, port: int, trusted_proxy: str | None, reload: bool, workers: int | None, base_url: str
) -> None:
    """Serve the database with Datasette on http://127.0.0.1:PORT.

    Builds the database first when it is missing or older than the sources,
    unless it is a release's own copy (listed in the SHA256SUMS beside it),
    which is served as it is.
    """
    serve_database(
        db,
        sources,
        port,
        workers=workers,
        trusted_proxy=trusted_proxy,
        progress=StderrProgress(),
        reloaded=_say_reloaded if reload else None,
        base_url=base_url,
    )


def _say_reloaded(error: LoaderError | None) -> None:
    if error is None:
        click.echo("reload: the sources changed; rebuilt, and served as soon as the workers restart", err=True)
        return
    for problem in error.problems if isinstance(error, InvalidSources) else []:
        click.echo(str(problem), err=True)
    click.echo(f"reload: {error} The site still serves the last good database.", err=True)


@cli.command("nginx-config")
@click.option("--listen", default="80", show_default=True, help="nginx's port, or ADDRESS:PORT.")
@click.option("--host", required=True, help="The site's name as visitors write it.")
@click.option(
    "--serve-port",
    "serve_ports",
    type=int,
    multiple=True,
    required=True,
    help="A readers' serve's port on 127.0.0.1 (repeat).",
)
@click.option(
    "--costly-port",
    "costly_ports",
    type=int,
    multiple=True,
    required=True,
    help="A costly lane's serve's port on 127.0.0.1 (repeat): visitors' SQL, own facets, downloads.",
)
@click.option(
    "--release",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    required=True,
    help="The release folder whose csv/ nginx sends as files.",
)
@click.option("--user", default="www-data", show_default=True, help="The user nginx's workers run as.")
@base_url_option
def nginx_config(
    listen: str,
    host: str,
    serve_ports: tuple[int, ...],
    costly_ports: tuple[int, ...],
    release: Path,
    user: str,
    base_url: str,
) -> None:
    """Print deploy/nginx.conf filled in for this server (see deploy/README.md);
    with --base-url, give each `serve` the same (deploy/event-store@.service's BASE_URL)."""
    click.echo(
        render_config(
            listen=listen,
            host=host,
            serve_ports=serve_ports,
            costly_ports=costly_ports,
            release_csv=release / "csv",
            user=user,
            base_url=base_url,
        ),
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
    try:
        from .release.cut import release as release_dataset
    except ImportError as e:  # pyarrow or geojson: the release extra, which `make release` installs
        raise click.ClickException(
            f"a release needs {e.name}, which the site does not: pip install 'event-store[{EXTRA}]' (make release does)"
        ) from None
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


@cli.command()
@click.argument("archived_file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option(
    "--words", type=int, default=8, show_default=True, help="How many of each paragraph's first words to show."
)
def paragraphs(archived_file: Path, words: int) -> None:
    """List an archived copy's paragraphs as N:HASH and their first words.

    The locator a citation's paragraphs takes is the first column. The text
    is the curator's own copy, shown here only: never paste it into sources/.
    """
    try:
        text = archived_file.read_bytes().decode("utf-8")
    except UnicodeDecodeError as error:
        raise click.ClickException(f"{display_path(archived_file)}: not UTF-8 text ({error.reason})") from None
    for line in numbered(text, words):
        click.echo(line)


# --- The curator's desk (loader/desk): its modules are imported by each command,
# so that the other commands do not load the matcher's and date parser's libraries.


@cli.command("find")
@click.argument("name")
@sources_option
@click.option(
    "--db",
    "database",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Look in a built database's actors and places instead of the sources (as the site's search does).",
)
@click.option("--limit", type=int, default=10, show_default=True, help="At most this many records.")
@click.option(
    "--geonames",
    type=click.Choice(["store", "world", "none"]),
    default="store",
    show_default=True,
    help="Also look among GeoNames cities: of the countries the store has places in, of the world "
    "(slower: most of a minute), or none.",
)
def find_command(name: str, sources: Path, database: Path | None, limit: int, geonames: str) -> None:
    """Every actor and place NAME may mean, best first, in any spelling or script.

    Each line gives the score (100: the same name by the matching key), the
    record, and the name or alias that matched with its language. GeoNames cities follow, with
    their GeoNames id, for a place the store may not have yet.
    """
    from .desk.find import ALL_COUNTRIES, find, matcher_from_database, matcher_from_sources, store_countries

    matcher = matcher_from_database(database) if database else matcher_from_sources(sources)
    countries = {"store": store_countries(matcher.entries), "world": ALL_COUNTRIES, "none": None}[geonames]
    found = find(name, matcher, limit, countries)
    if not found.candidates:
        click.echo(f"No actor or place may be {name!r}.")
    for c in found.candidates:
        matched = f"{c.matched}, {c.language}" if c.language else c.matched
        click.echo(f"{c.score:5.1f}  {c.entry.kind} {c.entry.id}  ({matched})  {c.entry.detail[:70]}".rstrip())
    for c in found.geonames:
        click.echo(
            f"{c.score:5.1f}  geonames {c.entry.id} {c.entry.name}, {c.entry.country} ({c.entry.detail})  ({c.matched})"
        )


@cli.command("diff")
@click.argument("revision", required=False)
@sources_option
@click.option("--all-warnings", is_flag=True, help="Also list the warnings the sources had at REVISION already.")
@archive_option
def diff_command(revision: str | None, sources: Path, all_warnings: bool, archive_folders: tuple[Path, ...]) -> None:
    """What the working tree changes in the records against REVISION, in words.

    REVISION is a git commit (default: the last release's, from
    sources/releases.tsv, else HEAD). Lists the records added, changed,
    withdrawn and renamed, events re-dated, disputes opened or answered and
    citations added; then, as warnings, prose elsewhere made false by the
    change (stale prose), aliases that now clash with another record's
    names, likely duplicate events, and events whose documents give
    different days with no dispute asking when (read in the archive).
    Exits 0 either way.
    """
    from .desk.diff import diff

    report = diff(sources, revision, all_warnings, find_archive(archive_folders, own_sources=_own(sources)))
    if not report:
        click.echo(f"No change to the records since {report.base}.")
    for finding in report.changes:
        click.echo(f"{finding.kind}: {finding}")
    for finding in report.warnings:
        click.echo(f"warning: {finding.kind}: {finding}")


desk_archive_option = click.option(
    "--archive",
    "archive_folders",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    multiple=True,
    help="Folder of archived articles; repeatable. Default: as for validate (the setting, else the project's own).",
)


def desk_archive(folders: tuple[Path, ...]) -> tuple[Path, ...]:
    from .records.archive import ARCHIVE_ENV, find_archive

    archive = find_archive(folders)
    if archive is None:
        raise click.ClickException(f"no archive folder found: give --archive or set {ARCHIVE_ENV}")
    return archive.folders


@cli.command("overlap")
@click.option(
    "--root",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    default=None,
    show_default="the project's root",
    help="The checkout whose tracked and new files are read.",
)
@desk_archive_option
@click.option("--new", is_flag=True, help="Only runs on lines added since --since (and in new files).")
@click.option("--since", default="HEAD", show_default=True, help="The commit --new compares with.")
def overlap_command(root: Path | None, archive_folders: tuple[Path, ...], new: bool, since: str) -> None:
    """List every run of ten or more words a project file shares with an archived article.

    Facts may be taken from the articles, sentences may not: paraphrase
    each run listed. A document's title is a citation, and web addresses
    are not words, so neither is listed. Exits 1 when a run is listed.
    """
    from . import PROJECT_ROOT
    from .desk.overlap import overlap

    folders = desk_archive(archive_folders)
    hits, read, articles = overlap(root or PROJECT_ROOT, folders, new_since=since if new else None)
    for hit in hits:
        click.echo(str(hit))
    click.echo(f"{len(hits)} run(s) of ten words or more shared with {articles} archived articles; {read} files read.")
    if hits:
        raise SystemExit(1)


@cli.command("archive")
@click.argument("article", type=click.Path(dir_okay=False, allow_dash=True, path_type=Path))
@click.option(
    "--to",
    "folder",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="The archive folder to file it in. Default: the last folder of the archive validate reads.",
)
@click.option("--url", help="The article's public address, where known.")
@click.option("--outlet", help="The outlet that published it, where the page shows it.")
@click.option("--retrieved", help="The day it was captured, YYYY-MM-DD (default: today).")
@sources_option
@click.option("--no-record", is_flag=True, help="File the article only; write no document record.")
def archive_command(
    article: Path,
    folder: Path | None,
    url: str | None,
    outlet: str | None,
    retrieved: str | None,
    sources: Path,
    no_record: bool,
) -> None:
    """File ARTICLE (a text file, or - for standard input) in the archive, named by its content hash.

    Adds its address, outlet, printed date and capture day to the folder's
    MANIFEST.tsv, and appends its document record to sources/documents.yml
    for you to finish (every TO WRITE): the printed date with its
    paragraph, or a window from the latest date the text names to the day
    it was captured. The same text filed twice is found, not copied.
    """
    from datetime import date

    from .desk.archive_file import archive

    try:
        day = date.fromisoformat(retrieved) if retrieved else None
    except ValueError as error:
        raise click.BadParameter(f"{retrieved}: not a date YYYY-MM-DD", param_hint="--retrieved") from error
    target = folder or desk_archive(())[-1]
    if str(article) != "-" and not article.is_file():
        raise click.BadParameter(f"{article}: no such file", param_hint="ARTICLE")
    data = sys.stdin.buffer.read() if str(article) == "-" else article.read_bytes()
    filed = archive(data, target, None if no_record else sources, url, outlet, day)
    if not filed.new:
        click.echo(f"Already archived as {display_path(filed.path)}; nothing written.")
        return
    click.echo(f"Archived {display_path(filed.path)} (SHA-256 {filed.sha256}).")
    if not no_record:
        click.echo(f"Appended {filed.document_id} to {display_path(sources / 'documents.yml')}: finish every TO WRITE.")


@cli.command("draft")
@click.argument("archived_file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@sources_option
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the draft to this file instead of standard output (keep it out of sources/ until finished).",
)
def draft_command(archived_file: Path, sources: Path, out: Path | None) -> None:
    """Draft what ARCHIVED_FILE gives the store, as YAML to finish.

    The document's record; every known actor and place it names, with the
    paragraphs (N:HASH locators); names the store does not know, each with
    find's best candidates or marked new; every date expression resolved
    against the document's date window, weekday shown; the recorded events
    it most likely reports, to cite rather than duplicate; and stubs of a
    new event and claim. Every open value says TO WRITE. The draft never
    repeats ten words of the article.
    """
    from .desk.draft import draft

    text = draft(archived_file, sources).to_yaml()
    if out:
        out.write_text(text, encoding="utf-8")
        click.echo(f"Wrote {display_path(out)}.")
    else:
        click.echo(text, nl=False)
