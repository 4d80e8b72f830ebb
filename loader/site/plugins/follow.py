"""Follow a subject: an Atom feed of the events of an actor, a place (and the
places within it), an event type, a process, or a search.

  /-/follow/actor/ACTOR_ID.atom     /-/follow/place/PLACE_ID.atom
  /-/follow/type/TYPE_CODE.atom     /-/follow/process/EVENT_ID.atom
  /-/follow/search.atom?q=WORDS

datasette-atom renders a view's atom_* columns, but titles a feed with its
SQL or a canned query's fixed title, and writes atom_link as given, which a
feed reader cannot follow from a relative path; a reader of one subject
wants its name for a title and links that work from wherever the feed is
read. So this route reads the same rows (schema.sql's subject_events and
event_feed_entries: which events a subject gathers, and what changed in
each, in words) and writes the feed itself, with feedgen (datasette-atom's
own library), titled in words, every link absolute. It can go if
datasette-atom learns absolute links and a title per request.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from datasette import hookimpl
from datasette.utils import escape_fts
from datasette.utils.asgi import NotFound, Response
from feedgen.feed import FeedGenerator

from loader import DATABASE_NAME as DATABASE
from loader.site.downloads import absolute_url, entry_path

ENTRIES = 100  # the newest entries a feed carries, as feed readers expect
# Each kind of subject: the table that names it, its key, the column of its
# name, and the feed's title in words.
SUBJECTS = {
    "actor": ("actors", "id", "name", "Events involving {}"),
    "place": ("places", "id", "name", "Events in {}"),
    "type": ("event_types", "code", "label", "Events of the type {}"),
    "process": ("events", "id", "title", "The process: {}"),
}
FEED_COLUMNS = "atom_id, atom_updated, atom_title, atom_content, link_page, event_id"


def feed_path(kind: str, key: str = "") -> str:
    """The path of a subject's feed, for pages to link as "follow"."""
    return "/-/follow/search.atom" if kind == "search" else f"/-/follow/{kind}/{key}.atom"


async def subject_feed(datasette: Any, request: Any) -> Response:
    await datasette.ensure_permissions(request.actor, [("view-database", DATABASE), "view-instance"])
    db = datasette.get_database(DATABASE)
    kind = request.url_vars["kind"]
    if kind == "search":
        words = request.args.get("q", "").strip()
        if not words:
            raise NotFound("Give the words to follow: /-/follow/search.atom?q=WORDS")
        title = f"Events matching “{words}”"
        page = datasette.urls.table(DATABASE, "event_list") + "?" + urlencode({"_search": words})
        chosen = "SELECT id FROM events WHERE rowid IN (SELECT rowid FROM events_fts WHERE events_fts MATCH :match)"
        params = {"match": escape_fts(words)}
    else:
        table, key_column, name_column, wording = SUBJECTS[kind]
        key = request.url_vars["key"]
        found = (await db.execute(f"SELECT {name_column} FROM {table} WHERE {key_column} = ?", [key])).first()
        if found is None:
            raise NotFound(f"No {kind} has the id {key}")
        title = wording.format(found[0])
        page = datasette.urls.row(DATABASE, table, key)
        chosen = "SELECT event_id FROM subject_events WHERE kind = :kind AND subject_id = :key"
        params = {"kind": kind, "key": key}
    rows = await db.execute(
        f"SELECT {FEED_COLUMNS} FROM event_feed_entries WHERE event_id IN ({chosen})"
        f" ORDER BY atom_updated DESC, atom_id LIMIT {ENTRIES}",
        params,
    )
    release = (await db.execute("SELECT version, coalesce(released, sources_date) FROM dataset_release")).first()

    absolute = functools.partial(absolute_url, datasette, request)

    return Response(
        atom(
            [{**row, "atom_link": entry_path(datasette, row)} for row in map(dict, rows.rows)],
            title,
            request.url,
            absolute(page),
            release,
            absolute,
        ),
        content_type="application/atom+xml; charset=utf-8",
    )


def atom(rows: list[dict], title: str, url: str, page: str, release: Any, absolute: Callable[[str], str]) -> str:
    """The feed, newest entry first; an empty subject still gives a valid feed,
    dated by the dataset's version rather than the clock, so the same build
    gives the same feed."""
    feed = FeedGenerator()
    feed.id(url)
    feed.title(title)
    feed.subtitle(f"New and changed events, as of dataset version {release[0] if release else 'unknown'}")
    feed.link(href=url, rel="self")
    feed.link(href=page, rel="alternate")
    dated = [row["atom_updated"] for row in rows] or ([f"{release[1]}T00:00:00Z"] if release and release[1] else [])
    if dated:
        feed.updated(max(dated))
    for row in reversed(rows):
        entry = feed.add_entry()
        entry.id(row["atom_id"])
        entry.title(row["atom_title"])
        entry.updated(row["atom_updated"])
        entry.content(row["atom_content"], type="text")
        if row["atom_link"]:
            entry.link(href=absolute(row["atom_link"]))
    return feed.atom_str(pretty=True).decode("utf-8")


@hookimpl
def register_routes() -> list:
    return [
        (r"^/-/follow/(?P<kind>actor|place|type|process)/(?P<key>[^/]+)\.atom$", subject_feed),
        (r"^/-/follow/(?P<kind>search)\.atom$", subject_feed),
    ]


@hookimpl
def extra_template_vars() -> dict:
    return {"follow_path": feed_path}
