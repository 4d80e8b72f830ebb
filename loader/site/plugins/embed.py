"""An event as a card a newsroom can put in an article: /-/embed/EVENT_ID.

A newsroom's page embeds it in an iframe, where the site's own pages, with
their menus, maps and scripts, would neither fit nor be welcome, and a
content policy may forbid scripts outright: so the card is one small page of
plain HTML with its style inline and no script, holding what a reader of the
article needs to weigh the event and find it again: its title, date in words,
place, the documents it rests on, the dataset version it is from, and an
absolute link to its page, on the site's permalink as a citation's is (the
card is read in another site's page). The text comes from schema.sql's views
(event_list, event_evidence), as the event's own page takes it.
"""

from __future__ import annotations

from typing import Any

from datasette import hookimpl
from datasette.utils.asgi import NotFound, Response

from loader import DATABASE_NAME as DATABASE
from loader.site.downloads import absolute_url


async def embed(datasette: Any, request: Any) -> Response:
    await datasette.ensure_permissions(request.actor, [("view-database", DATABASE), "view-instance"])
    db = datasette.get_database(DATABASE)
    event_id = request.url_vars["event_id"]
    found = await db.execute(
        "SELECT id, title, date_label, place_name, type, status FROM event_list WHERE id = ?", [event_id]
    )
    event = found.first()
    if event is None:
        raise NotFound(f"No event has the id {event_id}")
    sources = await db.execute(
        "SELECT document_title, outlet, published_label, url FROM event_evidence"
        " WHERE event_id = ? AND kind = 'document' ORDER BY published_date, document_title",
        [event_id],
    )
    release = (await db.execute("SELECT version, released FROM dataset_release")).first()
    context = {
        "event": dict(event),
        "sources": [dict(row) for row in sources.rows],
        "version": release[0] if release else None,
        "released": release[1] if release else None,
        "link": absolute_url(datasette, request, datasette.urls.row(DATABASE, "events", event_id)),
        "site": datasette.metadata("title") or "Event store",
    }
    html = await datasette.render_template("embed_card.html", context, request=request)
    # Meant to be framed by other sites: nothing here acts for the reader.
    return Response.html(html, headers={"cache-control": "public, max-age=3600"})


@hookimpl
def register_routes() -> list:
    return [(r"^/-/embed/(?P<event_id>[^/]+)$", embed)]
