"""Serve the facets of unfiltered pages, and of facet clicks, from the counts the build made.

The build counts every configured facet of every unfiltered table and view
page into facet_counts (loader/facet_counts.py). Here Datasette's own
column, array and date facet classes are wrapped, through a hook wrapper on
register_facet_classes, so that on an unfiltered page, and on a page one
facet click away that the build counted, each facet's one GROUP BY is
replaced by a lookup of the same rows in facet_counts; all the rest
(labels of foreign keys, toggle links, truncation, hideable facets,
_facet_size) stays Datasette's own code. Any other filter, a search, a
later page of rows, or a facet the build did not count is counted live,
as before.
"""

from __future__ import annotations

from typing import Any

from datasette import hookimpl
from datasette.facets import ArrayFacet, ColumnFacet, DateFacet
from datasette.filters import Filters
from datasette.utils import escape_sqlite

# Which page a set of stored counts is for: filter_type '' is the unfiltered page.
PAGE = (
    "source = :source and filter_type = :filter_type and filter_facet = :filter_facet "
    "and filter_value = :filter_value and type = :type and facet = :facet"
)
STORED = f"select exists (select 1 from facet_counts where {PAGE})"
LOOKUP = f"select value, count from facet_counts where {PAGE} order by count desc, value limit :limit"
# What a facet click adds to the query string, by the clicked facet's type
# (Datasette's toggle links): the filter each kind of stored page stands for.
CLICK_LOOKUPS = {"exact": "column", "arraycontains": "array", "date": "date"}
CLICK_VALUES = 31  # the values stored for a page one click away (loader/facet_counts.py)


def page_filter(facet: Any) -> dict | None:
    """Which stored page a facet instance counts: the unfiltered one, one
    facet click away (column=value, column__arraycontains=value or
    column__date=value, and nothing else that filters), or None when its SQL
    is anything else. The SQL is compared with what Datasette's own Filters
    make of that click, so a search, a _where or a later page never matches."""
    if facet.table is None:
        return None
    table = escape_sqlite(facet.table)
    if not facet.params:
        if facet.sql.rstrip().endswith(f" from {table}"):
            return {"filter_type": "", "filter_facet": "", "filter_value": ""}
        return None
    args = facet.request.args
    filters = [
        (key, value) for key in args.keys() for value in args.getlist(key) if not key.startswith("_") or "__" in key
    ]
    if len(filters) != 1:
        return None
    key, value = filters[0]
    column, _, lookup = key.rpartition("__") if "__" in key else (key, "", "exact")
    if lookup not in CLICK_LOOKUPS:
        return None
    where, params = Filters([(key, value)]).build_where_clauses(facet.table)
    if params != facet.params or not facet.sql.rstrip().endswith(f" from {table} where {where[0]}"):
        return None
    return {"filter_type": CLICK_LOOKUPS[lookup], "filter_facet": column, "filter_value": value}


class _Answers:
    """Datasette, except that the next facet queries are answered from
    facet_counts: one planned answer per facet config, in the order the facet
    class runs them (None: run the facet's own query)."""

    def __init__(self, datasette: Any, plan: list[dict | None]):
        self._datasette = datasette
        self._plan = plan

    def __getattr__(self, name: str) -> Any:
        return getattr(self._datasette, name)

    async def execute(self, database: str, sql: str, params: Any = None, **kwargs: Any) -> Any:
        lookup = self._plan.pop(0) if self._plan else None
        if lookup is None:
            return await self._datasette.execute(database, sql, params, **kwargs)
        return await self._datasette.execute(database, LOOKUP, lookup, truncate=False)


class Counted:
    """Mixed into a Datasette facet class: answer a page the build counted from facet_counts."""

    async def facet_results(self) -> Any:
        facet: Any = self
        configs = facet.get_configs()
        page = page_filter(facet)
        limit = facet.get_facet_size() + 1
        if not configs or page is None or (page["filter_type"] and limit > CLICK_VALUES):
            return await super().facet_results()  # type: ignore[misc]
        db = facet.ds.get_database(facet.database)
        if not await db.table_exists("facet_counts"):
            return await super().facet_results()  # type: ignore[misc]
        plan: list[dict | None] = []
        for config in configs:
            key = {
                **page,
                "source": facet.table,
                "type": facet.type,
                "facet": config["config"].get("column") or config["config"]["simple"],
            }
            stored = (await db.execute(STORED, key)).first()[0]
            plan.append({**key, "limit": limit} if stored else None)
        real = facet.ds
        facet.ds = _Answers(real, plan)
        try:
            return await super().facet_results()  # type: ignore[misc]
        finally:
            facet.ds = real


COUNTED = {
    klass: type(klass.__name__, (Counted, klass), {"__doc__": klass.__doc__})
    for klass in (ColumnFacet, ArrayFacet, DateFacet)
}


@hookimpl(hookwrapper=True)
def register_facet_classes() -> Any:
    outcome = yield
    outcome.force_result([[COUNTED.get(klass, klass) for klass in classes] for classes in outcome.get_result()])
