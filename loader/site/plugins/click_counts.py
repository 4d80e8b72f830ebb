"""Give a facet click's page the row count the build already made.

Datasette runs count(*) over a filtered page's WHERE on every view of it, and
0.65 has no hook to answer that count another way. On a click on an actor in
the event list, that count reads every one of the actor's events and
unpacks each one's list of names (Datasette's arraycontains filter): about
300 ms at a million events for the busiest actor, most of the page's time.
Yet the build has the number: the unfiltered page's stored facet counts
(facet_counts, loader/build/facet_counts.py) hold, for every value of every facet,
how many rows a click on it finds, counted as Datasette counts them. So
has the overview (loader/stored_pages.py): each square's page, a name's events
of a period dated to more than a year, holds as many as the square's count
in monthly_counts, and its bar of all events as many as monthly_sums.

So an HTML page whose only filter is a facet click on a stored value, or
that an overview square links, is
handed to Datasette with 0.65's own `_nocount`, and the stored count goes
into the template as Datasette's filtered_table_rows_count, which the
page's heading and title show. The option carries the value in MARKER,
because Datasette copies a page's query string into its links (facets,
sorting, the next page, the JSON): a request that arrives with it has it
taken off and is judged afresh, so that a link to a page of two filters, or
to the JSON, is counted live. JSON and CSV are always Datasette's count.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode

from datasette import hookimpl
from datasette.utils import tilde_decode

from loader.site.plugins.site_paths import routed_path
from loader.stored_pages import CHARTS, LINKED, STORED_PAGE, UNFILTERED, stored_page

MARKER = ("_nocount", "counted")
SCOPE_KEY = "click_counts.rows"
# Datasette's options that change how a page's rows are shown, never which rows.
SHOWN = {
    "_sort",
    "_sort_desc",
    "_next",
    "_size",
    "_facet",
    "_facet_array",
    "_facet_date",
    "_facet_size",
    "_labels",
    "_nofacet",
    "_nosuggest",
    "_col",
    "_nocol",
}
# How many rows of the unfiltered page have the clicked value.
STORED_COUNT = f"select count from facet_counts where {STORED_PAGE} and value = :value"
# How many events an overview square links: a chart's name's in the period,
# or for the bar of all events, every type's (each event has one).
SQUARE_COUNT = (
    "select sum(events) from monthly_counts where dimension = :dimension and key = :key "
    "and month >= :period and month < :period || char(1114111)"
)
BAR_COUNT = (
    "select sum(events) from monthly_sums where dimension = 'type' "
    "and month >= :period and month < :period || char(1114111)"
)
DIMENSIONS = {key: dimension for dimension, _, key in CHARTS}


async def stored_count(datasette: Any, path: str, pairs: list[tuple[str, str]]) -> int | None:
    """The stored row count of the page at path with these query string
    pairs, when it is the HTML page of a table or view whose only filter is
    a click on a value the build counted; None for any other request."""
    parts = routed_path(datasette, path).split("/")[1:]
    if len(parts) != 2 or "." in parts[1]:  # not a table's HTML page (a format's path has a dot)
        return None
    if any(key.startswith("_") and "__" not in key and key not in SHOWN for key, _ in pairs):
        return None
    page = stored_page(pairs)
    route, table = (tilde_decode(part) for part in parts)
    db = next((db for db in datasette.databases.values() if db.route == route), None)
    if page is None or db is None:
        return None
    if page.period:
        if table != LINKED or (page.click and page.click.key not in DIMENSIONS):
            return None
        if page.click is None:
            found = await db.execute(BAR_COUNT, {"period": page.period})
        else:
            square = {"dimension": DIMENSIONS[page.click.key], "key": page.click.value, "period": page.period}
            found = await db.execute(SQUARE_COUNT, square)
    elif page.click and await db.table_exists("facet_counts"):
        click = page.click
        found = await db.execute(
            STORED_COUNT,
            {**UNFILTERED, "source": table, "type": click.type, "facet": click.column, "value": click.value},
        )
    else:
        return None
    row = found.first()
    return None if row is None or row[0] is None else int(row[0])


def wrapper(datasette: Any) -> Any:
    def wrap(app: Any) -> Any:
        async def click_counts(scope: dict, receive: Any, send: Any) -> None:
            if scope["type"] == "http" and scope.get("method") in ("GET", "HEAD"):
                query = scope["query_string"].decode("latin-1")
                pairs = parse_qsl(query, keep_blank_values=True)
                unmarked = [pair for pair in pairs if pair != MARKER]
                count = await stored_count(datasette, scope["path"], unmarked)
                if count is not None:
                    scope = {**scope, SCOPE_KEY: count}
                    unmarked.append(MARKER)
                if unmarked != pairs:
                    scope = {**scope, "query_string": urlencode(unmarked).encode("latin-1")}
            await app(scope, receive, send)

        return click_counts

    return wrap


@hookimpl
def extra_template_vars(request: Any, view_name: str) -> dict:
    count = request.scope.get(SCOPE_KEY) if request is not None and view_name == "table" else None
    return {} if count is None else {"filtered_table_rows_count": count}
