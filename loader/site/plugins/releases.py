"""Each record's history on its page, and an answer for ids that were withdrawn.

A reader who follows a link to a record that was merged away needs to be
told where it went rather than get a bare 404, and one who checks a record
needs to see how it came to say what it says. Both read tables the loader
builds (record_history, withdrawals; see schema.sql). datasette-redirects
redirects the paths listed in the site's configuration; a withdrawn id is
known only to the database, and gets 410 Gone with its reason, which a
removed record with no successor needs.

An event renamed (ids carry dates, so re-dating one renames it) keeps its
old ids in `aliases`; a link or citation to an old id is answered with a
permanent redirect (301) to the event's page, or its JSON, as it is now.
"""

from __future__ import annotations

import json
from typing import Any

from datasette import hookimpl
from datasette.utils import tilde_decode, tilde_encode
from datasette.utils.asgi import NotFound, Response

from loader import DATABASE_NAME as DATABASE
from loader.site.plugins.site_paths import routed_path


async def _rows(datasette: Any, sql: str, params: dict) -> list[dict]:
    try:
        db = datasette.get_database(DATABASE)
    except KeyError:
        return []
    return [dict(row) for row in (await db.execute(sql, params)).rows]


@hookimpl
def extra_template_vars(datasette: Any) -> dict:
    async def record_history(table: str, key: str) -> list[dict]:
        rows = await _rows(
            datasette,
            "select * from record_history where table_name = :table and record_id = :key "
            "order by committed desc, commit_hash",
            {"table": table, "key": key},
        )
        for row in rows:
            row["fields"] = json.loads(row["fields"])
        return rows

    return {"record_history": record_history}


async def renamed_to(datasette: Any, table: str, key: str) -> str | None:
    """The id of the one event that lists key among its former ids (aliases), if any."""
    if table != "events":
        return None
    rows = await _rows(
        datasette,
        "select e.id from events as e, json_each(e.aliases) as j where j.value = :key limit 2",
        {"key": key},
    )
    return rows[0]["id"] if len(rows) == 1 else None


@hookimpl
def handle_exception(datasette: Any, request: Any, exception: Exception) -> Any:
    """A 404 for /events/TABLE/ID (or ID.json) whose id an event had before it
    was renamed becomes a 301 to that event; one whose id was withdrawn
    becomes 410 Gone, with the reason and a link to the record that replaced it."""
    parts = routed_path(datasette, request.path).strip("/").split("/")
    if not isinstance(exception, NotFound) or len(parts) != 3 or parts[0] != DATABASE:
        return None
    table, key = tilde_decode(parts[1]), tilde_decode(parts[2])
    as_json = key.endswith(".json")
    key = key.removesuffix(".json")

    async def withdrawn() -> Response | None:
        current = await renamed_to(datasette, table, key)
        if current is not None:
            location = datasette.urls.row(DATABASE, table, tilde_encode(current), format="json" if as_json else None)
            query = request.query_string
            return Response.redirect(location + (f"?{query}" if query else ""), status=301)
        rows = await _rows(
            datasette,
            "select * from withdrawals where table_name = :table and id = :key",
            {"table": table, "key": key},
        )
        if not rows:
            return None
        if as_json:
            return Response.json({"ok": False, "error": "withdrawn", "status": 410, "withdrawal": rows[0]}, status=410)
        html = await datasette.render_template(
            "withdrawn.html", {"withdrawal": rows[0], "database": DATABASE}, request=request
        )
        return Response.html(html, status=410)

    return withdrawn
