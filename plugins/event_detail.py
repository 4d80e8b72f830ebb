"""Put an event's actors, documents and claims on its row page.

Datasette's row page shows an event's own columns and only counts the rows
that point at it. Someone checking a fact needs those rows themselves: who
took part and in what role, which documents report it and what each claims.
The row template (templates/row-events-events.html) asks for them here, from
views declared in schema.sql.
"""

from __future__ import annotations

from typing import Any

from datasette import hookimpl

from loader import DATABASE_NAME as DATABASE


async def _rows(datasette: Any, view: str, key: str, event_id: str) -> list[dict]:
    result = await datasette.get_database(DATABASE).execute(
        f"select * from [{view}] where [{key}] = :id", {"id": event_id}
    )
    return [dict(row) for row in result.rows]


@hookimpl
def extra_template_vars(datasette: Any, database: str, table: str, view_name: str) -> dict:
    if (view_name, database, table) != ("row", DATABASE, "events"):
        return {}

    async def event_detail(event_id: str) -> dict:
        listed = await _rows(datasette, "event_list", "id", event_id)
        evidence = await _rows(datasette, "event_evidence", "event_id", event_id)
        return {
            "event": listed[0] if listed else None,
            "participants": await _rows(datasette, "event_participants", "event_id", event_id),
            "documents": [row for row in evidence if row["kind"] == "document"],
            "claims": [row for row in evidence if row["kind"] == "claim"],
        }

    return {"event_detail": event_detail}
