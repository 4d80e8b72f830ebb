"""What the overview page links to, shared by the page (loader/site/plugins/timeline.py)
and by the build, which counts the facets of every page it links ahead
(loader/facet_counts.py), so that the two can never disagree on which pages
those are.

The overview draws a column a period (a month, or a year when the record
spans more than MONTH_COLUMNS months) and, in each chart, a row for each of
the ROWS busiest names that monthly_ranks lists (one more when that is all of
them). Each square links the event list filtered to the events of its name
that began in its period and are dated to more than a year, as
monthly_counts counts them; the bar of all events above the charts links the
same page without a name.
"""

from __future__ import annotations

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
