"""An overview a reader can take in at a glance: events per month by type, by actor and by place.

Each chart is a grid of months by names, a darker square for more events,
drawn as SVG on the server from the monthly_counts and overview_months
views: no JavaScript, no chart library and no CDN, so the page works with
no internet and reads in any browser. Every square links to the events it
counts on the event list.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from typing import Any

from datasette import hookimpl
from datasette.utils.asgi import Response

DATABASE = "events"
ROWS = 12  # the busiest names of each kind; the rest are summed in one row
# Each chart, and the event list's filter for one of its rows (by indexed key).
CHARTS = [
    ("type", "By type", "event_type"),
    ("actor", "By actor", "actor_ids__arraycontains"),
    ("place", "By place", "place_id"),
]


def grid(counts: list[dict], months: list[str], limit: int = ROWS) -> list[dict]:
    """Rows of a chart, busiest first: each type's, actor's or place's events per
    month, with those past the limit summed into one row of "all others"."""
    by_key: dict[str, dict[str, int]] = defaultdict(dict)
    names = {}
    for row in counts:
        by_key[row["key"]][row["month"]] = row["events"]
        names[row["key"]] = row["name"]
    ranked = sorted(by_key, key=lambda key: (-sum(by_key[key].values()), names[key], key))
    if len(ranked) == limit + 1:
        limit += 1  # a row of one "other" would only hide its name
    rows = [
        {
            "name": names[key],
            "key": key,
            "total": sum(by_key[key].values()),
            "cells": [by_key[key].get(m, 0) for m in months],
        }
        for key in ranked[:limit]
    ]
    rest = ranked[limit:]
    if rest:
        cells = [sum(by_key[key].get(m, 0) for key in rest) for m in months]
        rows.append({"name": f"{len(rest)} others", "key": None, "total": sum(cells), "cells": cells})
    return rows


def month_label(month: str) -> str:
    return f"{calendar.month_abbr[int(month[5:7])]} {month[:4]}"


async def overview(datasette: Any, request: Any) -> Response:
    await datasette.ensure_permissions(
        request.actor, [("view-table", (DATABASE, "monthly_counts")), ("view-database", DATABASE), "view-instance"]
    )
    db = datasette.get_database(DATABASE)
    months = [dict(row) for row in (await db.execute("select month, events from overview_months order by month")).rows]
    keys = [m["month"] for m in months]
    counts = [
        dict(row) for row in (await db.execute("select dimension, month, key, name, events from monthly_counts")).rows
    ]
    year_only = (await db.execute("select count(*) from events where date_precision = 'year'")).single_value()
    charts: list[dict[str, Any]] = [
        {
            "key": key,
            "title": title,
            "filter": column,
            "rows": grid([c for c in counts if c["dimension"] == key], keys),
        }
        for key, title, column in CHARTS
    ]
    for chart in charts:
        # Shade by the busiest named square; the row of all others is darkest at that count too.
        chart["peak"] = max([cell for row in chart["rows"] if row["key"] for cell in row["cells"]] or [1])
    return Response.html(
        await datasette.render_template(
            "overview.html",
            {
                "months": [{**m, "label": month_label(m["month"])} for m in months],
                "charts": charts,
                "total_peak": max([m["events"] for m in months] or [0]),
                "year_only": year_only,
                "database": DATABASE,
            },
            request=request,
        )
    )


@hookimpl
def register_routes() -> list:
    return [(r"^/-/overview$", overview)]


@hookimpl
def menu_links(datasette: Any) -> list[dict]:
    return [{"href": datasette.urls.path("/-/overview"), "label": "Overview"}]
