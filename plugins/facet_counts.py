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

A view column computed by looking a name up by key (event_list's
place_name) has no index, so a click on it would read every row of the view,
for the rows, their count and every facet. The `indexed` setting gives such a
column a twin clause on the key, added through filters_from_request beside
Datasette's own filter (which stays, so the rows are the same): SQLite then
reads the matching rows by the key's index. A click with its twin still
counts as that click here.

No plugin on PyPI stores facet counts ahead of time; a page cache
(response_cache.py) only helps the second reader of a page, never the first.
"""

from __future__ import annotations

from typing import Any

from datasette import hookimpl
from datasette.facets import ArrayFacet, ColumnFacet, DateFacet
from datasette.filters import FilterArguments, Filters
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
# An array facet that is counted live, over rows with a rowid: Datasette's
# ArrayFacet makes each row distinct by all its columns (`distinct j.value,
# inner.*`), so every column of a view is computed for every row counted.
# A row's rowid tells rows apart as well, and the rest is then not computed.
NARROW_ARRAY = (
    "select value, count(*) as count from (select distinct r.rowid, j.value from ({sql}) as r"
    " join json_each(r.[{column}]) as j) group by value order by count desc, value limit {limit}"
)


def twins(datasette: Any, database: str, table: str) -> dict[str, str]:
    """The `indexed` setting for one table or view: column name to the twin
    clause on its key, written with :value for the clicked value."""
    settings = datasette.plugin_config("facet-counts") or {}
    return ((settings.get("indexed") or {}).get(database) or {}).get(table) or {}


def twin_clauses(datasette: Any, database: str, table: str, args: Any) -> tuple[list[str], dict[str, str]]:
    """The twin clause of each exact filter on a column the setting names, in
    the order of the query string, with its parameters."""
    where: list[str] = []
    params: dict[str, str] = {}
    for column, clause in twins(datasette, database, table).items():
        for value in args.getlist(column) + args.getlist(f"{column}__exact"):
            name = f"twin_{len(params)}"
            where.append(clause.replace(":value", f":{name}"))
            params[name] = value
    return where, params


@hookimpl
def filters_from_request(request: Any, database: str, table: str, datasette: Any) -> FilterArguments | None:
    where, params = twin_clauses(datasette, database, table, request.args)
    return FilterArguments(where, params) if where else None


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
    twin_where, twin_params = twin_clauses(facet.ds, facet.database, facet.table, args)
    where, params = [" and ".join(where + twin_where)], {**params, **twin_params}
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
        if "narrow" in lookup:
            return await self._datasette.execute(database, lookup["narrow"], params, **kwargs)
        return await self._datasette.execute(database, LOOKUP, lookup, truncate=False)


class Counted:
    """Mixed into a Datasette facet class: answer a page the build counted
    from facet_counts, and count an array facet of any other page of rows
    with a rowid by NARROW_ARRAY."""

    async def facet_results(self) -> Any:
        facet: Any = self
        configs = facet.get_configs()
        page = page_filter(facet)
        limit = facet.get_facet_size() + 1
        db = facet.ds.get_database(facet.database)
        counted = bool(configs) and page is not None and not (page["filter_type"] and limit > CLICK_VALUES)
        if counted and not await db.table_exists("facet_counts"):
            counted = False
        narrow = facet.type == "array" and facet.sql.lstrip().startswith("select rowid,")
        if not counted and not narrow:
            return await super().facet_results()  # type: ignore[misc]
        plan: list[dict | None] = []
        for config in configs:
            column = config["config"].get("column") or config["config"]["simple"]
            key = {**(page or {}), "source": facet.table, "type": facet.type, "facet": column}
            if counted and (await db.execute(STORED, key)).first()[0]:
                plan.append({**key, "limit": limit})
            elif narrow:
                plan.append({"narrow": NARROW_ARRAY.format(sql=facet.sql, column=column, limit=limit)})
            else:
                plan.append(None)
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
