"""A database at more than fixture scale, for tests of what only shows with
many events: the published fixture with generated ACLED events imported
beside it, built by the project's own build."""

from __future__ import annotations

import html
import re
import shutil
import sqlite3
from contextlib import closing
from pathlib import Path
from urllib.parse import parse_qsl

from benchmarks.generate import generate
from loader.build.database import build
from loader.imports.importer import ImportSpec
from loader.stored_pages import DATED, PERIOD
from tests.conftest import published_sources


def generated_db(directory: Path, events: int) -> Path:
    acled_file = generate(directory / "acled.csv", events)
    db = directory / "events.db"
    build(published_sources(directory / "sources"), db, imports=[ImportSpec(acled_file, "acled", False)])
    return db


def query(db: Path, sql: str, params: tuple = ()) -> list[tuple]:
    """The rows of one query on a database file, read and closed."""
    with closing(sqlite3.connect(db)) as conn:
        return conn.execute(sql, params).fetchall()


def changed_copy(db: Path, directory: Path, find: str, update: str) -> tuple[Path, tuple]:
    """A copy of db in which `update` changed the stored counts of the row `find`
    picks (its values are update's parameters), and that row: a page that shows
    the change was served from the stored counts, not counted live."""
    copy = directory / "events.db"
    shutil.copy(db, copy)
    with closing(sqlite3.connect(copy)) as conn:
        found = conn.execute(find).fetchone()
        conn.execute(update, found)
        conn.commit()
    return copy, found


def click_key(facet_type: str, column: str) -> str:
    """The query string key a click on a facet value adds (Datasette's toggle link)."""
    return {"column": column, "array": f"{column}__arraycontains", "date": f"{column}__date"}[facet_type]


def overview_links(page: str) -> dict[str, list[tuple[str, int]]]:
    """The event list's pages an overview page links, with the events each
    link says it holds, by the filter that names each chart's rows ('' for
    the bar of all events), in page order."""
    links: dict[str, list[tuple[str, int]]] = {}
    for href, events in re.findall(r'<a href="(/events/event_list\?[^"]*)" aria-label="[^"]*: (\d+) events?">', page):
        link = html.unescape(href)
        named = [key for key, _ in parse_qsl(link.split("?", 1)[1]) if key not in (PERIOD, DATED[0])]
        links.setdefault(named[0] if named else "", []).append((link, int(events)))
    return links
