"""A timeline page: every event in date order, with a chart of events per month.

The page is rendered on the server, so it needs no JavaScript and no CDN and
works offline. It runs the "timeline" canned query from metadata.yml, so the
page, its CSV and the query page always list the same events.
"""

from __future__ import annotations

import calendar
from collections import Counter
from typing import Any

from datasette import hookimpl
from datasette.utils.asgi import Response

from loader import DATABASE_NAME as DATABASE

QUERY = "timeline"


def months(events: list[dict]) -> list[dict]:
    """Events per month by the first day each can have happened, from the first
    month to the last with empty months kept, so gaps show as gaps. Events
    dated only to a year belong to no month and are left out."""
    counts = Counter(e["start_date"][:7] for e in events if e["date_precision"] != "year")
    if not counts:
        return []
    year, month = int(min(counts)[:4]), int(min(counts)[5:7])
    chart = []
    while (key := f"{year:04d}-{month:02d}") <= max(counts):
        chart.append(
            {
                "month": key,
                "label": f"{calendar.month_name[month]} {year}",
                "short": f"{calendar.month_abbr[month]} {year}",
                "count": counts[key],
                "last_day": f"{key}-{calendar.monthrange(year, month)[1]:02d}",
            }
        )
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return chart


async def timeline(datasette: Any, request: Any) -> Response:
    await datasette.ensure_permissions(
        request.actor,
        [("view-query", (DATABASE, QUERY)), ("view-database", DATABASE), "view-instance"],
    )
    query = await datasette.get_canned_query(DATABASE, QUERY, request.actor)
    params = {name: request.args.get(name, "").strip() for name in query["params"]}
    result = await datasette.get_database(DATABASE).execute(query["sql"], params)
    events = [dict(row) for row in result.rows]
    return Response.html(
        await datasette.render_template(
            "timeline.html",
            {
                "events": events,
                "months": months(events),
                "year_only": sum(1 for e in events if e["date_precision"] == "year"),
                "params": params,
                "query": query,
                "database": DATABASE,
            },
            request=request,
        )
    )


@hookimpl
def register_routes() -> list:
    return [(r"^/-/timeline$", timeline)]


@hookimpl
def menu_links(datasette: Any) -> list[dict]:
    return [{"href": datasette.urls.path("/-/timeline"), "label": "Timeline"}]
