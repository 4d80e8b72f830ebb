"""The pages the build counts ahead, as both sides must recognise them: the
one module that the build (loader/build/facet_counts.py) and the site
(loader/site/plugins/facet_counts.py, click_counts.py, timeline.py) import,
so that the two can never disagree on which pages those are or how a query
string names one.

The overview draws a column a period (a month, or a year when the record
spans more than MONTH_COLUMNS months) and, in each chart, a row for each of
the ROWS busiest names that monthly_ranks lists (one more when that is all of
them). Each square links the event list filtered to the events of its name
that began in its period and are dated to more than a year, as
monthly_counts counts them; the bar of all events above the charts links the
same page without a name. A facet click's page (one filter by a facet's
value) is the other kind of stored page; `indexed` columns are the view
columns whose clicks get a twin clause on an indexed key.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple
from urllib.parse import urlencode

LINKED = "event_list"  # the table or view every square links
ROWS = 12  # the busiest names of each chart on the overview
# The overview's columns are months, or years when the record spans more
# months than this: each square is a link, and drawing thousands of them
# costs the page more than everything else together.
MONTH_COLUMNS = 48
# Each overview chart: its dimension in monthly_counts, its title, and the
# event list's filter for one of its rows (by indexed key).
CHARTS = [
    ("type", "By type", "event_type"),
    ("actor", "By actor", "actor_ids__arraycontains"),
    ("place", "By place", "place_id"),
]
# The keys of a chart's named rows, busiest first: its ROWS busiest names in
# monthly_ranks, or all of them when one more is all (a row of one other
# would only hide its name); the rest are summed in one row.
SHOWN_KEYS = (
    "SELECT key FROM monthly_ranks WHERE dimension = :dimension AND rank <= (SELECT CASE WHEN max(rank) = :rows + 1 "
    "THEN max(rank) ELSE :rows END FROM monthly_ranks WHERE dimension = :dimension) ORDER BY rank"
)
# A square's period: the start of its events' first possible day; and, since
# events dated only to a year belong to no month, the filter that leaves them out.
PERIOD = "start_date__startswith"
DATED = ("date_precision__not", "year")


def square_query(period: str, filter_key: str = "", value: str = "") -> str:
    """The query string a square links with: a name's (filter_key=value)
    events of the period, or with no name all events of the period."""
    named = [(filter_key, value)] if filter_key else []
    return urlencode([*named, (PERIOD, period), DATED])


def period_width(months: int) -> int:
    """How many characters of a date a column's period keeps (YYYY-MM or
    YYYY), for a record that spans this many months."""
    return 7 if months <= MONTH_COLUMNS else 4


@dataclass(frozen=True)
class Indexed:
    """A column a view computes by looking values up by a key, which no index
    holds (the event list's place_name, its actor_names array); metadata.yml
    gives each (plugins: facet-counts: indexed) with `values`, SQL that lists
    each key's values as (key, value) rows. A filter on the column then gets a
    twin clause on the key, which the key's index answers, and an array is
    faceted by joining `values` to the page's keys rather than by building
    and unpacking every row's JSON; for an array, the key tells the rows apart."""

    key: str
    values: str
    array: bool = False

    @property
    def lookup(self) -> str:
        """The filter (Datasette's lookup) the twin clause stands beside."""
        return "arraycontains" if self.array else "exact"

    def clause(self, parameter: str, often: bool = False) -> str:
        """The rows whose key has the value bound to :parameter.

        SQLite guesses a list of keys to be short, so it reads every one of
        its rows, computes each for the page and sorts them all, even when
        they are a tenth of a million. With `often` (a value of many rows)
        the clause asks instead, of each row, whether its key has the value:
        a question no index can answer ahead, so a page in an indexed order
        walks that index, asks it of each row by the key's index, and stops
        once it is full, without first listing every key of the value (a
        list of a hundred thousand for the busiest actor). A count or a
        facet, which needs every row, still reads them by the key."""
        if often:
            return f"EXISTS (SELECT 1 FROM ({self.values}) WHERE key = [{self.key}] AND value = :{parameter})"
        return f"[{self.key}] IN (SELECT key FROM ({self.values}) WHERE value = :{parameter})"

    def rows_sql(self, parameter: str) -> str:
        """How many (key, value) pairs have the value bound to :parameter, up
        to :enough: for an array, about the rows a filter on it finds."""
        return f"SELECT count(*) FROM (SELECT 1 FROM ({self.values}) WHERE value = :{parameter} LIMIT :enough)"


def indexed_columns(settings: dict[str, Any], database: str, table: str) -> dict[str, Indexed]:
    """The `indexed` columns of one table or view, from the facet-counts setting."""
    configured = ((settings.get("indexed") or {}).get(database) or {}).get(table) or {}
    return {
        column: Indexed(config["key"], config["values"], bool(config.get("array")))
        for column, config in configured.items()
    }


# Which page a set of stored counts is for, and which facet of it: the
# site's lookups of facet_counts (filter_type '' is the unfiltered page).
STORED_PAGE = (
    "source = :source and filter_type = :filter_type and filter_facet = :filter_facet "
    "and filter_value = :filter_value and filter_period = :filter_period and type = :type and facet = :facet"
)
UNFILTERED = {"filter_type": "", "filter_facet": "", "filter_value": "", "filter_period": ""}


# What a facet click adds to the query string, by Datasette's lookup (its
# toggle links): the type of facet whose stored counts stand for that page.
CLICK_LOOKUPS = {"exact": "column", "arraycontains": "array", "date": "date"}


class Click(NamedTuple):
    """A facet click's filter: its query string key and value, and the
    type and column of the facet whose stored counts stand for its page."""

    key: str
    type: str
    column: str
    value: str


def as_click(key: str, value: str) -> Click | None:
    """The click a filter is, when it is a facet click (column=value,
    column__arraycontains=value or column__date=value)."""
    column, lookup = filter_column(key)
    return Click(key, CLICK_LOOKUPS[lookup], column, value) if lookup in CLICK_LOOKUPS else None


class StoredPage(NamedTuple):
    """A page whose counts the build can have stored: one facet click, or
    an overview square (an overview chart's click, or none for its bar of
    all events, with the square's period), and its filters as Datasette
    reads them from the query string."""

    click: Click | None
    period: str
    filters: list[tuple[str, str]]


def stored_page(pairs: list[tuple[str, str]]) -> StoredPage | None:
    """The page a query string's (key, value) pairs ask for, when it has the
    shape of a page the build counts (one facet click, or an overview
    square); None for another lookup or more or fewer filters. Keys starting
    with an underscore are Datasette's options (a search among them), and
    are not looked at."""
    filters = [(key, value) for key, value in pairs if not key.startswith("_") or "__" in key]
    rest, period = filters, ""
    periods = [value for key, value in filters if key == PERIOD]
    if filters.count(DATED) == 1 and len(periods) == 1:
        rest, period = [pair for pair in filters if pair != DATED and pair[0] != PERIOD], periods[0]
        if not rest:
            return StoredPage(None, period, filters)
    click = as_click(*rest[0]) if len(rest) == 1 else None
    return None if click is None else StoredPage(click, period, filters)


def filter_column(key: str) -> tuple[str, str]:
    """(column, lookup) of a filter's query string key, as Datasette splits it."""
    column, _, lookup = key.rpartition("__") if "__" in key else (key, "", "exact")
    return column, lookup
