"""The changes feeds as Atom (RFC 4287) that a feed reader shows as it should.

datasette-atom 0.9 titles a feed with the SQL statement behind the page
("select atom_id, atom_updated, ... limit 101/event_feed"), which a reader
then shows as the subscription's name; links each entry as its row gives it,
a path such as /events/events/<id> that feedparser and most readers leave
unresolved; and answers `application/xml`. Here, for any page whose rows
have the atom_ columns (the event_feed and release_feed views):

- the feed is titled in words: the page's title in metadata.yml and the
  site's, with the page's filters as Datasette words them;
- every link (the feed's own, the page it is a feed of, each entry's, the
  next page's) is absolute on the site's permalink base (loader/citation.py),
  not on whatever address the request reached;
- each entry links the page its row's link_page names (the event's, its
  history, the dataset's version: the views give no paths), made with
  Datasette's urls, so that the site's base_url is in it;
- the media type is `application/atom+xml`;
- a page that holds only part of the rows links the next one (`rel="next"`,
  as RFC 5005's paged feeds do).

HTML content (atom_content_html) is cleaned as datasette-atom cleans it.
Registered last, so that this renderer wins over datasette-atom's for the
extension (Datasette keeps the last renderer registered for one), which
stays installed as the site's declared dependency.
"""

from __future__ import annotations

import functools
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

from datasette import __version__, hookimpl
from datasette.utils.asgi import Response
from datasette_atom import clean
from feedgen.feed import FeedGenerator

from loader.site.downloads import absolute_url, entry_path

REQUIRED_COLUMNS = {"atom_id", "atom_updated", "atom_title"}
MEDIA_TYPE = "application/atom+xml"
# A feed with no entries (a filter that matches none) still needs a date.
NO_ENTRIES_UPDATED = datetime(1970, 1, 1, tzinfo=timezone.utc)


def can_render(columns: list[str]) -> bool:
    return REQUIRED_COLUMNS.issubset(columns)


def feed_title(datasette: Any, database: str, table: str | None, query_name: str | None, data: dict) -> str:
    """The page's title as metadata.yml gives it, then its filters, then the site's title."""
    if query_name:
        named = ((datasette.metadata("queries", database=database) or {}).get(query_name) or {}).get("title")
        page = named or query_name
    elif table:
        page = datasette.table_metadata(database, table).get("title") or table
    else:
        page = "Query"
    filters = data.get("human_description_en")
    site = datasette.metadata("title")
    return " · ".join(part for part in (f"{page} {filters}".strip() if filters else page, site) if part)


def render_atom(
    datasette: Any,
    request: Any,
    columns: list[str],
    rows: list[Any],
    database: str,
    table: str | None,
    query_name: str | None,
    data: dict,
) -> Response:
    if not can_render(columns):
        return Response.text("An Atom feed needs the columns " + ", ".join(sorted(REQUIRED_COLUMNS)) + ".", status=400)
    absolute = functools.partial(absolute_url, datasette, request)

    query = f"?{request.query_string}" if request.query_string else ""
    feed = FeedGenerator()
    feed.generator(generator="Datasette", version=__version__, uri="https://datasette.io/")
    own = absolute(request.path + query)
    feed.id(own)
    feed.title(feed_title(datasette, database, table, query_name, data))
    feed.link(href=own, rel="self", type=MEDIA_TYPE)
    feed.link(href=absolute(request.path.removesuffix(".atom") + query), rel="alternate", type="text/html")
    if data.get("next_url"):
        parts = urlsplit(data["next_url"])
        feed.link(href=absolute(parts.path + (f"?{parts.query}" if parts.query else "")), rel="next", type=MEDIA_TYPE)
    feed.updated(max((row["atom_updated"] for row in rows), default=NO_ENTRIES_UPDATED))
    # feedgen puts each new entry first: add them last to first to keep the page's order.
    for row in reversed(rows):
        entry = feed.add_entry()
        entry.id(str(row["atom_id"]))
        entry.title(str(row["atom_title"]))
        entry.updated(row["atom_updated"])
        if "atom_content_html" in columns:
            entry.content(clean(row["atom_content_html"]), type="html")
        elif "atom_content" in columns:
            entry.content(row["atom_content"], type="text")
        if link := entry_path(datasette, {column: row[column] for column in columns}):
            entry.link(href=absolute(str(link)), rel="alternate", type="text/html")
        if "atom_author_name" in columns and row["atom_author_name"]:
            author = {"name": row["atom_author_name"]}
            for key in ("uri", "email"):
                if f"atom_author_{key}" in columns and row[f"atom_author_{key}"]:
                    author[key] = row[f"atom_author_{key}"]
            entry.author(author)
    return Response(feed.atom_str(pretty=True), content_type=f"{MEDIA_TYPE}; charset=utf-8", status=200)


@hookimpl(trylast=True)
def register_output_renderer(datasette: Any) -> dict:
    return {"extension": "atom", "render": render_atom, "can_render": can_render}
