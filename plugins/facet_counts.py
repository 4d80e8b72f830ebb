"""Serve the facets of unfiltered pages from the counts the build made.

The build counts every configured facet of every unfiltered table and view
page into facet_counts (loader/facet_counts.py). Here Datasette's own
column, array and date facet classes are wrapped, through a hook wrapper on
register_facet_classes, so that on an unfiltered page each facet's one
GROUP BY is replaced by a lookup of the same rows in facet_counts; all the
rest (labels of foreign keys, toggle links, truncation, hideable facets,
_facet_size) stays Datasette's own code. A filtered page, a search, a
later page of rows, or a facet the build did not count is counted live,
as before.
"""

from __future__ import annotations

from typing import Any

from datasette import hookimpl
from datasette.facets import ArrayFacet, ColumnFacet, DateFacet
from datasette.utils import escape_sqlite

STORED = "select exists (select 1 from facet_counts where source = :source and type = :type and facet = :facet)"
LOOKUP = (
    "select value, count from facet_counts where source = :source and type = :type and facet = :facet "
    "order by count desc, value limit :limit"
)


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
    """Mixed into a Datasette facet class: answer an unfiltered page from facet_counts."""

    async def facet_results(self) -> Any:
        facet: Any = self
        configs = facet.get_configs()
        unfiltered = (
            facet.table is not None
            and not facet.params
            and facet.sql.rstrip().endswith(f" from {escape_sqlite(facet.table)}")
        )
        if not configs or not unfiltered:
            return await super().facet_results()  # type: ignore[misc]
        db = facet.ds.get_database(facet.database)
        if not await db.table_exists("facet_counts"):
            return await super().facet_results()  # type: ignore[misc]
        limit = facet.get_facet_size() + 1
        plan: list[dict | None] = []
        for config in configs:
            key = {
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
