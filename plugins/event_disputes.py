"""Put an event's disputes and the documents behind each of its facts on its page.

A reader checking an event wants to know which article gives its date, its
place and each actor's role, and, where the sources disagree, each answer
side by side with who gives it. The event page's own template includes
templates/_event_disputes.html, which asks for them here, from the
event_provenance and disputed_claims views of schema.sql.
"""

from __future__ import annotations

from typing import Any

from datasette import hookimpl

DATABASE = "events"


@hookimpl
def extra_template_vars(datasette: Any, database: str, table: str, view_name: str) -> dict:
    if (view_name, database, table) != ("row", DATABASE, "events"):
        return {}
    db = datasette.get_database(DATABASE)

    async def event_disputes(event_id: str) -> dict:
        listed = await db.execute(
            "select date_label, place_id, place_name from event_list where id = :id", {"id": event_id}
        )
        provenance = await db.execute(
            "select * from event_provenance where event_id = :id order by field, role, actor_name, document",
            {"id": event_id},
        )
        claims = await db.execute(
            "select * from disputed_claims where event_id = :id order by dispute_id, position, claim_id",
            {"id": event_id},
        )
        fields: dict[str, list[dict]] = {}
        roles: list[dict] = []
        for row in map(dict, provenance.rows):
            if row["field"] == "actors" and row["actor_id"] is not None:
                roles.append(row)
            else:
                fields.setdefault(row["field"], []).append(row)
        disputes: dict[str, dict] = {}
        for row in map(dict, claims.rows):
            dispute = disputes.setdefault(
                row["dispute_id"],
                {
                    "id": row["dispute_id"],
                    "question": row["question"],
                    "status": row["dispute_status"],
                    "positions": {},
                },
            )
            dispute["positions"].setdefault(row["position"], []).append(row)
        return {
            "event": dict(listed.rows[0]) if listed.rows else {},
            "fields": fields,
            "roles": roles,
            "disputes": list(disputes.values()),
        }

    return {"event_disputes": event_disputes}
