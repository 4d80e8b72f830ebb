"""Serve the facets of unfiltered pages, facet clicks and overview squares from the counts the build made.

The build counts every configured facet of every unfiltered table and view
page into facet_counts (loader/build/facet_counts.py). Here Datasette's own
column, array and date facet classes are wrapped, through a hook wrapper on
register_facet_classes, so that on an unfiltered page, on a page one
facet click away that the build counted, and on the page an overview
square links (loader/stored_pages.py), each facet's one GROUP BY is
replaced by a lookup of the same rows in facet_counts; all the rest
(labels of foreign keys, toggle links, truncation, hideable facets,
_facet_size) stays Datasette's own code. Any other filter, a search, a
later page of rows, or a facet the build did not count is counted live, but
in fewer passes over the page's rows: a facet class's column facets in one
query (each a GROUP BY over the rows read once), and an array facet through
its `indexed` values.

A view column computed by looking values up by key (event_list's
place_name, its actor_names array) has no index, so a click on it would read
every row of the view, for the rows, their count and every facet. The
`indexed` setting gives such a column a twin clause on the key, added
through filters_from_request beside Datasette's own filter (which stays, so
the rows are the same): SQLite then reads the matching rows by the key's
index. A click with its twin still counts as that click here. An array
value with many rows (an actor in a tenth of the events) gets its twin
asked of each row instead, so that its page walks the index of the page's
order until it is full instead of computing and sorting every one of those
rows.

A "starts with" filter is SQL's LIKE, which no index answers here (it
ignores case). On a text column the `prefixes` setting lists (the dates
the overview's squares filter by their month or year), a prefix of digits
and dashes, which has no case, also gets a twin: the range from the prefix
to the last text that starts with it, which the column's indexes answer.

No plugin on PyPI stores facet counts ahead of time; a page cache
(response_cache.py) only helps the second reader of a page, never the first.
"""

from __future__ import annotations

import math
import re
from typing import Any
from weakref import WeakKeyDictionary

from datasette import hookimpl
from datasette.database import QueryInterrupted, Results
from datasette.facets import ArrayFacet, ColumnFacet, DateFacet
from datasette.filters import FilterArguments, Filters
from datasette.utils import escape_sqlite

from loader.stored_pages import STORED_PAGE, UNFILTERED, Indexed, indexed_columns, stored_page

STORED = f"select exists (select 1 from facet_counts where {STORED_PAGE})"
LOOKUP = f"select value, count from facet_counts where {STORED_PAGE} order by count desc, value limit :limit"
CLICK_VALUES = 31  # the values stored for a page one click away (loader/build/facet_counts.py)


class Twins:
    """A request's twin clauses on one table, with their parameters, and each
    clause in its plain form (by the key's index, as for a value of few
    rows). Not a dataclass: Datasette loads this file without registering it
    as a module, which dataclasses need."""

    def __init__(self, table: tuple[str, str]) -> None:
        self.table = table
        self.where: list[str] = []
        self.params: dict[str, str] = {}
        self.plain: list[str] = []

    def plain_sql(self, sql: str) -> str:
        """sql with each twin clause plain: the form that walks a page of
        rows in its order misleads a query that reads all of them (joining a
        facet's values by key, it would start from every event's actors)."""
        for made, plain in zip(self.where, self.plain, strict=True):
            sql = sql.replace(made, plain)
        return sql


# Each request's twin clauses, and each table's rows once a worker (the
# database is immutable), by the objects they belong to.
TWINS: WeakKeyDictionary[Any, Twins] = WeakKeyDictionary()
ROWS: WeakKeyDictionary[Any, dict[tuple[str, str], int]] = WeakKeyDictionary()
# An array facet that is counted live, over rows with a rowid: Datasette's
# ArrayFacet makes each row distinct by all its columns (`distinct j.value,
# inner.*`), so every column of a view is computed for every row counted.
# A row's rowid tells rows apart as well, and the rest is then not computed.
NARROW_ARRAY = (
    "select value, count(*) as count from (select distinct r.rowid, j.value from ({sql}) as r"
    " join json_each(r.[{column}]) as j) group by value order by count desc, value limit {limit}"
)
# An array facet counted live through its `indexed` values: each row counted
# once for each value its key has, as ArrayFacet counts each row once for
# each distinct element, with no row's JSON built or unpacked.
ARRAY_BY_KEY = (
    "select x.value as value, count(distinct r.[{key}]) as count from ({sql}) as r"
    " join ({values}) as x on x.key = r.[{key}] group by x.value order by count desc, value limit {limit}"
)


# A prefix whose LIKE is the same as a range of text: no letter (LIKE ignores
# their case), and none of LIKE's wildcards.
RANGE_PREFIX = re.compile(r"[0-9-]+")
LAST_CHARACTER = chr(0x10FFFF)  # after every character, so text starting with a prefix sorts below it


def prefixes(datasette: Any, database: str, table: str) -> list[str]:
    """The `prefixes` setting for one table or view: text columns whose
    "starts with" filter gets a range as its twin."""
    configured = ((datasette.plugin_config("facet-counts") or {}).get("prefixes") or {}).get(database) or {}
    return list(configured.get(table) or [])


def made_twins(request: Any, database: str, table: str) -> Twins | None:
    """The twin clauses already made for this request on this table, if any."""
    made = TWINS.get(request)
    return made if made and made.table == (database, table) else None


def indexed(datasette: Any, database: str, table: str) -> dict[str, Indexed]:
    """The `indexed` setting for one table or view."""
    return indexed_columns(datasette.plugin_config("facet-counts") or {}, database, table)


async def twin_clauses(datasette: Any, database: str, table: str, request: Any) -> tuple[list[str], dict[str, str]]:
    """The twin clause of each filter on an `indexed` column (exact on a
    name, arraycontains on an array), in the order of the query string, and
    of each filter on a prefix of a `prefixes` column, with their
    parameters: made once a request, for its filters and each facet class."""
    made = made_twins(request, database, table)
    if made:
        return made.where, made.params
    twins = Twins((database, table))
    for column, twin in indexed(datasette, database, table).items():
        keys = [f"{column}__arraycontains"] if twin.array else [column, f"{column}__exact"]
        for value in [value for key in keys for value in request.args.getlist(key)]:
            name = f"twin_{len(twins.params)}"
            often = twin.array and await found_often(datasette, database, table, twin, value)
            twins.where.append(twin.clause(name, often))
            twins.plain.append(twin.clause(name))
            twins.params[name] = value
    for column in prefixes(datasette, database, table):
        for value in filter(RANGE_PREFIX.fullmatch, request.args.getlist(f"{column}__startswith")):
            low, high = f"twin_{len(twins.params)}", f"twin_{len(twins.params) + 1}"
            clause = f"[{column}] >= :{low} AND [{column}] < :{high}"
            twins.where.append(clause)
            twins.plain.append(clause)
            twins.params.update({low: value, high: value + LAST_CHARACTER})
    TWINS[request] = twins
    return twins.where, twins.params


async def found_often(datasette: Any, database: str, table: str, twin: Indexed, value: str) -> bool:
    """Whether a value's rows are many enough for a page of them to be found
    faster by walking the page's order until it is full than through the key:
    at least the square root of a page's rows times the table's, so that the
    rows walked past (the table's over the value's, a page's times) are no
    more than the value's own. Scattered rows are assumed: a value whose
    rows all lie at the far end of the order is walked to the end."""
    db = datasette.get_database(database)
    totals = ROWS.setdefault(datasette, {})
    if (database, table) not in totals:
        totals[(database, table)] = (await db.execute(f"select count(*) from {escape_sqlite(table)}")).first()[0]
    enough = math.ceil(math.sqrt((datasette.setting("default_page_size") + 1) * totals[(database, table)]))
    (rows,) = (await db.execute(twin.rows_sql("value"), {"value": value, "enough": enough})).first()
    return bool(rows >= enough)


# tryfirst: the twin clauses come before Datasette's own (the SQL the facets are matched by).
@hookimpl(tryfirst=True)
async def filters_from_request(request: Any, database: str, table: str, datasette: Any) -> FilterArguments | None:
    where, params = await twin_clauses(datasette, database, table, request)
    return FilterArguments(where, params) if where else None


async def page_filter(facet: Any) -> dict | None:
    """Which stored page a facet instance counts: the unfiltered one, one
    facet click away (column=value, column__arraycontains=value or
    column__date=value, and nothing else that filters), an overview square
    (loader/stored_pages.py), or None when its SQL is anything else. The SQL is
    compared with what Datasette's own Filters make of those filters, so a
    search, a _where or a later page never matches."""
    if facet.table is None:
        return None
    table = escape_sqlite(facet.table)
    if not facet.params:
        if facet.sql.rstrip().endswith(f" from {table}"):
            return dict(UNFILTERED)
        return None
    args = facet.request.args
    page = stored_page([(key, value) for key in args.keys() for value in args.getlist(key)])
    if page is None:
        return None
    where, params = Filters(sorted(page.filters)).build_where_clauses(facet.table)
    twin_where, twin_params = await twin_clauses(facet.ds, facet.database, facet.table, facet.request)
    where, params = [" and ".join(where + twin_where)], {**params, **twin_params}
    if params != facet.params or not facet.sql.rstrip().endswith(f" from {table} where {where[0]}"):
        return None
    click = page.click
    return {
        "filter_type": click.type if click else "",
        "filter_facet": click.column if click else "",
        "filter_value": click.value if click else "",
        "filter_period": page.period,
    }


class _Answers:
    """Datasette, except that the next facet queries are answered as planned:
    one planned answer per facet config, in the order the facet class runs
    them. None runs the facet's own query; {"sql"} runs another that counts
    the same; {"together": i} answers from one query that counts all the
    columns planned so, where it is column i; any other is a lookup in
    facet_counts."""

    def __init__(self, datasette: Any, plan: list[dict | None], together: str | None = None):
        self._datasette = datasette
        self._plan = plan
        self._together_sql = together
        self._together: Any = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._datasette, name)

    async def execute(self, database: str, sql: str, params: Any = None, **kwargs: Any) -> Any:
        lookup = self._plan.pop(0) if self._plan else None
        if lookup is None:
            return await self._datasette.execute(database, sql, params, **kwargs)
        if "sql" in lookup:
            return await self._datasette.execute(database, lookup["sql"], params, **kwargs)
        if "together" in lookup:
            counted = await self._counted_together(database, params, kwargs)
            return Results(
                [row for row in counted.rows if row["facet"] == lookup["together"]], False, counted.description
            )
        return await self._datasette.execute(database, LOOKUP, lookup, truncate=False)

    async def _counted_together(self, database: str, params: Any, kwargs: dict[str, Any]) -> Any:
        """The one query's answer, run at the first column's turn; a time-out
        is every such column's, as their own queries would have timed out
        in turn. It may take as long as those queries together."""
        if self._together is None:
            columns = sum(1 for lookup in self._plan if lookup and "together" in lookup) + 1
            limit = kwargs.get("custom_time_limit") or self._datasette.setting("facet_time_limit_ms")
            try:
                self._together = await self._datasette.execute(
                    database, self._together_sql, params, truncate=False, custom_time_limit=limit * columns
                )
            except QueryInterrupted as e:
                self._together = e
        if isinstance(self._together, QueryInterrupted):
            raise self._together
        return self._together


def together_sql(sql: str, columns: list[str], limit: int) -> str:
    """One query that counts each column as Datasette's ColumnFacet does, its
    rows (facet, value, count) where facet is the column's position: the
    page's rows are found and read once, not once a facet."""
    selected = ", ".join(f"{escape_sqlite(column)} AS v{i}" for i, column in enumerate(columns))
    arms = " UNION ALL ".join(
        f"SELECT * FROM (SELECT {i} AS facet, v{i} AS value, count(*) AS count FROM page_rows "
        f"WHERE v{i} IS NOT NULL GROUP BY v{i} ORDER BY count DESC, value LIMIT {limit})"
        for i in range(len(columns))
    )
    return f"WITH page_rows AS MATERIALIZED (SELECT {selected} FROM ({sql})) {arms}"


class Counted:
    """Mixed into a Datasette facet class: answer a page the build counted
    from facet_counts; count an array facet of any other page through its
    `indexed` values, or else, on a page of rows with a rowid, by
    NARROW_ARRAY; and count a page's other column facets in one query."""

    async def facet_results(self) -> Any:
        facet: Any = self
        configs = facet.get_configs()
        page = await page_filter(facet)
        twins = made_twins(facet.request, facet.database, facet.table)
        if twins:
            facet.sql = twins.plain_sql(facet.sql)
        limit = facet.get_facet_size() + 1
        db = facet.ds.get_database(facet.database)
        filtered = page is not None and (page["filter_type"] or page["filter_period"])
        counted = bool(configs) and page is not None and not (filtered and limit > CLICK_VALUES)
        if counted and not await db.table_exists("facet_counts"):
            counted = False
        arrays = indexed(facet.ds, facet.database, facet.table) if facet.type == "array" else {}
        narrow = facet.type == "array" and facet.sql.lstrip().startswith("select rowid,")
        plan: list[dict | None] = []
        together: list[str] = []
        for config in configs:
            column = config["config"].get("column") or config["config"]["simple"]
            key = {**(page or {}), "source": facet.table, "type": facet.type, "facet": column}
            if counted and (await db.execute(STORED, key)).first()[0]:
                plan.append({**key, "limit": limit})
            elif column in arrays and arrays[column].array:
                twin = arrays[column]
                plan.append({"sql": ARRAY_BY_KEY.format(sql=facet.sql, key=twin.key, values=twin.values, limit=limit)})
            elif narrow:
                plan.append({"sql": NARROW_ARRAY.format(sql=facet.sql, column=column, limit=limit)})
            elif facet.type == "column":
                plan.append({"together": len(together)})
                together.append(column)
            else:
                plan.append(None)
        if len(together) == 1:  # nothing to share: the facet's own query
            plan = [None if lookup and "together" in lookup else lookup for lookup in plan]
        if not any(plan):
            return await super().facet_results()  # type: ignore[misc]
        real = facet.ds
        facet.ds = _Answers(real, plan, together_sql(facet.sql, together, limit) if len(together) > 1 else None)
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
