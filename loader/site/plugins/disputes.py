"""Show disputes as questions with their answers side by side, and the
documents behind each of an event's facts.

A reader checking an event wants to know which article gives its date, its
place and each actor's role, and, where the sources disagree, each answer
next to the others with who gives it. The event page includes
templates/_event_disputes.html and the disputes page
(templates/query-events-disputes_by_question.html) renders every question the same way;
both ask for their rows here, from the event_provenance, dispute_positions and
disputed_claims views of schema.sql. datasette-template-sql's sql() could run the queries
from the templates, but both pages need the claims grouped into questions and
positions, which the dispute_positions view does (the disputes page's table
shows its rows); here its positions are gathered by question and given their
claims in full.
"""

from __future__ import annotations

import json
from typing import Any

from datasette import hookimpl

from loader import DATABASE_NAME as DATABASE

POSITIONS = "select * from dispute_positions {where} order by question, dispute_id, position"
CLAIMS = "select * from disputed_claims {where}"


def grouped(positions: list[dict], claims: list[dict]) -> list[dict]:
    """The dispute_positions view's answers, each with its claims, gathered by question."""
    by_id = {claim["claim_id"]: claim for claim in claims}
    disputes: dict[str, dict] = {}
    for row in positions:
        dispute = disputes.setdefault(
            row["dispute_id"],
            {
                key: row[key]
                for key in ("dispute_id", "question", "dispute_status", "event_id", "event_title", "date_label")
            }
            | {"positions": {}},
        )
        dispute["positions"][row["position"]] = [by_id[claim] for claim in json.loads(row["claim_ids"])]
    return list(disputes.values())


async def _disputes(db: Any, where: str = "", params: dict | None = None) -> list[dict]:
    positions = await db.execute(POSITIONS.format(where=where), params)
    claims = await db.execute(CLAIMS.format(where=where), params)
    return grouped([dict(row) for row in positions.rows], [dict(row) for row in claims.rows])


@hookimpl
def extra_template_vars(datasette: Any, database: str, table: str, view_name: str) -> dict:
    if database != DATABASE:
        return {}
    db = datasette.get_database(DATABASE)

    async def dispute_list() -> list[dict]:
        return await _disputes(db)

    async def event_disputes(event_id: str) -> dict:
        listed = await db.execute(
            "select date_label, place_id, place_name from event_list where id = :id", {"id": event_id}
        )
        provenance = await db.execute(
            "select * from event_provenance where event_id = :id order by field, role, actor_name, document",
            {"id": event_id},
        )
        fields: dict[str, list[dict]] = {}
        # Each actor in each role once, with every document that names it so.
        roles: dict[tuple[str, str], dict] = {}
        for row in map(dict, provenance.rows):
            if row["field"] == "actors" and row["actor_id"] is not None:
                role = roles.setdefault((row["actor_id"], row["role"]), {**row, "documents": []})
                role["documents"].append(row)
            else:
                fields.setdefault(row["field"], []).append(row)
        return {
            "event": dict(listed.rows[0]) if listed.rows else {},
            "fields": fields,
            "roles": list(roles.values()),
            "disputes": await _disputes(db, "where event_id = :id", {"id": event_id}),
        }

    # Functions, so a page that does not call them costs no query.
    if view_name == "row" and table == "events":
        return {"event_disputes": event_disputes}
    return {"dispute_list": dispute_list}
