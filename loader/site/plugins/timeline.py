"""The pages drawn from the build's monthly totals: the timeline, every event
in date order a page at a time under a chart of events per month, and the
overview, events per month by type, by actor and by place.

Both are rendered on the server as SVG, so they need no JavaScript, no chart
library and no CDN, and work offline; the months and their counts come from
tables the build fills (monthly_counts, monthly_sums, monthly_ranks and the
overview_months view), so neither page counts events as it is drawn.

The timeline runs the "timeline" canned query from metadata.yml, PAGE_SIZE
events at a time from a given event on (its `start` parameter) by the index
on the events' dates, so a page costs the same at any size and any depth. The
page's CSV and JSON links give that query's whole list for the same dates,
of which the pages are consecutive slices: each event is on exactly one
page. A dataset of PAGE_SIZE events or fewer reads as one page.

A bar counts the events that began in its month, and a click on it lists
exactly those (`month`), so the bar and its list agree; the From/To filter
lists every event whose possible dates overlap the range, a different and
larger number, so the month's page gives that number too, labelled, and
links it. A From or To that is not a date gets a message on the page, not an
empty list or Datasette's error.
"""

from __future__ import annotations

import calendar
import re
from collections import defaultdict
from typing import Any

from datasette import hookimpl
from datasette.utils.asgi import BadRequest, Response
from markupsafe import Markup, escape

from loader import DATABASE_NAME as DATABASE
from loader.stored_pages import CHARTS, LINKED, ROWS, SHOWN_KEYS, period_width, square_query

QUERY = "timeline"
PAGE_SIZE = 200
# Where a page starts: at an event (`start`, its id); the page is the canned
# query's rows from there on, in its order, and the page before ends just ahead of it.
AT_EVENT = "(start_date, end_date, id) {op} (SELECT start_date, end_date, id FROM events WHERE id = :start)"
# A month as the chart's bars link it (YYYY-MM): the events that began in it, as its bar counts them.
MONTH = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])")
IN_MONTH = "SELECT * FROM ({sql}) WHERE start_date >= :month || '-01' AND start_date <= :month || '~'"
# Events that began before the month and were (or may have been) still under way in it:
# what the From/To filter adds to the bar's count for the same month.
UNDER_WAY = "SELECT count(*) FROM events WHERE start_date < :month || '-01' AND end_date >= :month || '-01'"
# A From or To date as the timeline query reads it: YYYY, YYYY-MM or YYYY-MM-DD.
DATE = re.compile(r"[0-9]{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12][0-9]|3[01]))?)?")
# An overview square's width and the margin for the rows' names, in SVG units.
CELL, LEFT = 30, 250
FORWARD = "SELECT * FROM ({sql}) WHERE {at} LIMIT :size"
FROM_FIRST = "SELECT * FROM ({sql}) LIMIT :size"
# The first event of the page before: PAGE_SIZE back, or the very first.
BACKWARD = "SELECT id FROM ({sql}) WHERE {at} ORDER BY start_date DESC, end_date DESC, id DESC LIMIT :size"


def month_label(key: str, short: bool = False) -> str:
    """A month (YYYY-MM) as a page writes it: March 2025, or Mar 2025 where
    room is short. (The views' date_label writes the same words in SQL, for
    the exports; these are the pages' own.)"""
    names = calendar.month_abbr if short else calendar.month_name
    return f"{names[int(key[5:7])]} {int(key[:4])}"


def month(key: str, count: int) -> dict:
    """One month of a chart: its key (YYYY-MM), how it is written, its count
    and its last day, for a link to the events of that month."""
    year, number = int(key[:4]), int(key[5:7])
    return {
        "month": key,
        "label": month_label(key),
        "short": month_label(key, short=True),
        "count": count,
        "last_day": f"{key}-{calendar.monthrange(year, number)[1]:02d}",
    }


async def chart_months(db: Any, first: str = "", last: str = "") -> list[dict]:
    """Every month from the first to the last with events (or those from
    first to last, each YYYY or YYYY-MM, as the timeline's dates are cut),
    empty months kept so gaps show as gaps, with the events that began in each."""
    rows = await db.execute(
        "select month, events from overview_months where (:first = '' or month >= :first)"
        " and (:last = '' or month <= :last || '~') order by month",
        {"first": first, "last": last},
    )
    return [month(row["month"], row["events"]) for row in rows.rows]


async def year_only(db: Any) -> int:
    """Events dated only to a year, which no month's count holds."""
    return (await db.execute("select count(*) from events where date_precision = 'year'")).single_value()


async def page(datasette: Any, request: Any, name: str, context: dict) -> Response:
    """Render templates/<name>.html, which extends chart_page.html."""
    context = {**context, "database": DATABASE, "page_class": name}
    return Response.html(await datasette.render_template(f"{name}.html", context, request=request))


async def timeline(datasette: Any, request: Any) -> Response:
    await datasette.ensure_permissions(
        request.actor,
        [("view-query", (DATABASE, QUERY)), ("view-database", DATABASE), "view-instance"],
    )
    query = await datasette.get_canned_query(DATABASE, QUERY, request.actor)
    params = {name: request.args.get(name, "").strip() for name in query["params"]}
    start, at_month = request.args.get("start", "").strip(), request.args.get("month", "").strip()[:7]
    if at_month and not MONTH.fullmatch(at_month):
        raise BadRequest(f"month={at_month!r} is not a month: give it as YYYY-MM, as in 2024-03")
    mistyped = [
        f"{label} “{params[name]}” is not a date: write it as YYYY, YYYY-MM or YYYY-MM-DD, as in 2025-08-19."
        for name, label in (("from_date", "From"), ("to_date", "To"))
        if params.get(name) and not real_date(params[name])
    ]
    db = datasette.get_database(DATABASE)
    typed = dict(params)
    if mistyped:
        params = {name: "" if params[name] and not real_date(params[name]) else params[name] for name in params}
    sql = IN_MONTH.format(sql=query["sql"]) if at_month else query["sql"]
    values = {**params, "start": start, "month": at_month, "size": PAGE_SIZE + 1}
    forward = FORWARD.format(sql=sql, at=AT_EVENT.format(op=">=")) if start else FROM_FIRST.format(sql=sql)
    events = [] if mistyped else [dict(row) for row in (await db.execute(forward, values)).rows]
    later = events[PAGE_SIZE]["id"] if len(events) > PAGE_SIZE else None
    events = events[:PAGE_SIZE]
    earlier = None  # None: this is the first page
    if start and not mistyped:
        before = (await db.execute(BACKWARD.format(sql=sql, at=AT_EVENT.format(op="<")), values)).rows
        if before:
            earlier = before[PAGE_SIZE - 1]["id"] if len(before) > PAGE_SIZE else ""
    context = {
        "events": events,
        "later": later,
        "earlier": earlier,
        "months": await chart_months(db, params["from_date"][:7], params["to_date"][:7]),
        "year_only": await year_only(db),
        "params": params,
        "typed": typed,
        "month": month(at_month, await began_in(db, at_month)) if at_month else None,
        "under_way": (await db.execute(UNDER_WAY, {"month": at_month})).single_value() if at_month else 0,
        "mistyped": mistyped,
        "query": query,
        "page_size": PAGE_SIZE,
    }
    response = await page(datasette, request, "timeline", context)
    if mistyped:
        response.status = 400
    return response


async def began_in(db: Any, key: str) -> int:
    """The events that began in a month (YYYY-MM), as its bar counts them."""
    rows = (await db.execute("select events from overview_months where month = :month", {"month": key})).rows
    return rows[0]["events"] if rows else 0


def real_date(text: str) -> bool:
    """Whether text is YYYY, YYYY-MM or a day the calendar has (2025-02-30 is not)."""
    if not DATE.fullmatch(text):
        return False
    if len(text) == 10:
        return int(text[8:]) <= calendar.monthrange(int(text[:4]), int(text[5:7]))[1]
    return True


def grid(shown: list[dict], counts: list[dict], sums: dict[str, int], names: int, columns: list[str]) -> list[dict]:
    """Rows of an overview chart, busiest first: the shown names' events per
    column (a month, YYYY-MM, or a year, YYYY), and all the other names'
    events summed in one row (column totals less the shown names' own)."""
    width = len(columns[0]) if columns else 7
    by_key: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in counts:
        by_key[row["key"]][row["month"][:width]] += row["events"]
    totals: dict[str, int] = defaultdict(int)
    for month_key, events in sums.items():
        totals[month_key[:width]] += events
    rows = [
        {
            "name": row["name"],
            "key": row["key"],
            "total": row["events"],
            "cells": [by_key[row["key"]].get(column, 0) for column in columns],
        }
        for row in shown
    ]
    if names > len(shown):
        cells = [totals[column] - sum(row["cells"][i] for row in rows) for i, column in enumerate(columns)]
        rows.append({"name": f"{names - len(shown)} others", "key": None, "total": sum(cells), "cells": cells})
    return rows


def by_year(months: list[dict]) -> list[dict]:
    """The chart's months summed into years (a year's key and label are YYYY)."""
    years: dict[str, int] = {}
    for m in months:
        years[m["month"][:4]] = years.get(m["month"][:4], 0) + m["count"]
    return [{"month": year, "count": count, "label": year} for year, count in years.items()]


def column_label(key: str) -> str:
    """An overview column's heading: a month (YYYY-MM) short, or a year as it is."""
    return month_label(key, short=True) if len(key) > 4 else key


def squares(row: dict, y: float, months: list[dict], peak: int, href: str, filter_key: str) -> Markup:
    """One overview row's squares as SVG, each with its count and, for a
    named row, a link to its events. Drawn here rather than in the template:
    Datasette renders templates asynchronously, where each square cost some
    40 µs, most of the page's time at 1M events (a thousand squares and more)."""
    name, height, base, parts = escape(row["name"]), CELL * 0.75, escape(href), []
    for i, (count, m) in enumerate(zip(row["cells"], months, strict=True)):
        x = LEFT + i * CELL
        if not count:
            parts.append(f'<rect class="cell empty" x="{x}" y="{y}" width="{CELL}" height="{height}"></rect>')
            continue
        label = f"{name}, {escape(m['label'])}: {count} event{'' if count == 1 else 's'}"
        square = (
            f'<rect class="cell" data-name="{name}" data-month="{m["month"]}" data-count="{count}" x="{x}" y="{y}" '
            f'width="{CELL}" height="{height}" fill-opacity="{round(min(1, 0.2 + 0.8 * count / peak), 2)}">'
            f"<title>{label}</title></rect>"
        )
        if row["key"]:
            query = escape(square_query(m["month"], filter_key, row["key"]))
            square = f'<a href="{base}?{query}" aria-label="{label}">{square}</a>'
        parts.append(square)
    return Markup("\n".join(parts))


async def overview_chart(db: Any, dimension: str, months: list[str]) -> list[dict]:
    """One overview chart's rows, from the build's ranks and sums."""
    at = {"dimension": dimension, "rows": ROWS}
    shown = f"select r.key, r.name, r.events from monthly_ranks as r where r.dimension = :dimension and r.key in ({SHOWN_KEYS})"
    ranked = [dict(row) for row in (await db.execute(f"{shown} order by r.rank", at)).rows]
    counts = [
        dict(row)
        for row in (
            await db.execute(
                "select c.month, c.key, c.events from monthly_counts as c"
                f" where c.dimension = :dimension and c.key in ({SHOWN_KEYS})",
                at,
            )
        ).rows
    ]
    sums = {
        row["month"]: row["events"]
        for row in (await db.execute("select month, events from monthly_sums where dimension = :dimension", at)).rows
    }
    names = (
        await db.execute("select coalesce(max(rank), 0) from monthly_ranks where dimension = :dimension", at)
    ).single_value()
    return grid(ranked, counts, sums, names, months)


async def overview(datasette: Any, request: Any) -> Response:
    await datasette.ensure_permissions(
        request.actor, [("view-table", (DATABASE, "monthly_counts")), ("view-database", DATABASE), "view-instance"]
    )
    db = datasette.get_database(DATABASE)
    months = await chart_months(db)
    if period_width(len(months)) == 4:
        months = by_year(months)
    keys = [m["month"] for m in months]
    charts: list[dict[str, Any]] = [
        {"key": key, "title": title, "filter": column, "rows": await overview_chart(db, key, keys)}
        for key, title, column in CHARTS
    ]
    for chart in charts:
        # Shade by the busiest named square; the row of all others is darkest at that count too.
        chart["peak"] = max([cell for row in chart["rows"] if row["key"] for cell in row["cells"]] or [1])
    return await page(
        datasette,
        request,
        "overview",
        {
            "months": [{**m, "events": m["count"], "label": column_label(m["month"])} for m in months],
            "by_year": len(keys[0]) == 4 if keys else False,
            "charts": charts,
            "total_peak": max([m["count"] for m in months] or [0]),
            "year_only": await year_only(db),
            "linked": LINKED,
            "square_query": square_query,
            "squares": squares,
            "cell": CELL,
            "left": LEFT,
        },
    )


@hookimpl
def register_routes() -> list:
    return [(r"^/-/timeline$", timeline), (r"^/-/overview$", overview)]


# tryfirst: the site's pages head the menu, before Datasette's own links.
@hookimpl(tryfirst=True)
def menu_links(datasette: Any) -> list[dict]:
    return [
        {"href": datasette.urls.path("/-/timeline"), "label": "Timeline"},
        {"href": datasette.urls.path("/-/overview"), "label": "Overview"},
    ]
