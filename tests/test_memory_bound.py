"""The per-request memory bound of loader/site/plugins/sql_limits.py holds for bytes as written.

Each shape is a value that costs far more written out than its length (an
emoji is 12 bytes of JSON, a zero byte 6, a `,` 2 in ICS, `[[],...` a Python
list every three characters once parsed), asked for in every format that
renders it, with as many rows as the cap lets through: the answer is 200 and
the worker's peak stays under BOUND_BYTES. The red team's own requests, which
took a worker up by 310 to 960 MB, are refused or held under the bound too.
The site runs as `serve` runs it, each process capped in address space.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing

import httpx
import pytest

from loader.site.plugins import sql_limits as limits
from tests.support.site_helpers import within_memory

pytestmark = pytest.mark.slow

ROWS = "with recursive c(x) as (select 1 union all select x + 1 from c)"
TEXTS = {  # each about 1 MB of UTF-8, SQLite's cap on one value
    "emoji": "replace(hex(zeroblob(247000)), '00', '😀')",
    "zero bytes": "replace(hex(zeroblob(495000)), '0', char(0))",
    "commas": "replace(hex(zeroblob(495000)), '0', ',')",
    "plain": "replace(hex(zeroblob(495000)), '0', 'a')",
}
PARSED = {
    "empty lists": "'[' || replace(hex(zeroblob(165000)), '00', '[],') || '[]]'",
    "nested lists": "'[' || replace(hex(zeroblob(500)), '00', "
    "replace(hex(zeroblob(450)), '00', '[') || replace(hex(zeroblob(450)), '00', ']') || ',') || '[]]'",
}
# A format, the columns it needs around the big value t, and its parameters.
FORMATS = {
    "json": ("/events.json", "t", {}),
    "json objects, one a line": ("/events.json", "t", {"_shape": "array", "_nl": "on"}),
    "csv": ("/events.csv", "t", {}),
    "html": ("/events", "t", {}),
    "ics": ("/events.ics", "x as event_uid, '2025-01-01' as event_dtstart, t as event_name", {}),
    "geojson": ("/events.geojson", "null as geometry, t", {}),
}
WIDE = ", ".join(f"x as c{i}" for i in range(limits.MAX_COLUMNS - 1))
NAMES = ", ".join(f'x as "{"n" * 900}{i}"' for i in range(60))  # names the objects shape writes in every row


def query(value: str, columns: str, rows: int) -> str:
    return f"{ROWS} select {columns} from (select {value} as t, x from c limit {rows})"


def rows_under_the_cap(value: str, columns: str) -> int:
    """As many rows of the shape as the cap lets through, by the plugin's own count."""
    with closing(sqlite3.connect(":memory:")) as conn:
        cursor = conn.execute(query(value, columns, 1))
        return limits.MAX_RESULT_BYTES // (limits.row_cost(cursor.fetchone()) + limits.names_cost(cursor))


def at_the_cap(value: str, columns: str) -> str:
    return query(value, columns, rows_under_the_cap(value, columns))


CASES = {
    **{
        f"{shape} as {fmt}": (path, at_the_cap(value, columns), params)
        for shape, value in TEXTS.items()
        for fmt, (path, columns, params) in FORMATS.items()
        if fmt != "ics" or shape in ("emoji", "commas")  # ICS costs seconds a megabyte; these are its worst
    },
    **{f"{shape} through _json=": ("/events.json", at_the_cap(v, "t"), {"_json": "t"}) for shape, v in PARSED.items()},
    **{
        f"{shape} as geometry": (
            "/events.geojson",
            at_the_cap(f"""'{{"type": "MultiPoint", "coordinates": ' || {v} || '}}'""", "t as geometry"),
            {},
        )
        for shape, v in PARSED.items()
    },
    **{
        f"1,001 rows of 63 numbers as {fmt}": (path, query("1", WIDE, 1001), {"_shape": "objects"})
        for fmt, path in [("json", "/events.json"), ("html", "/events"), ("csv", "/events.csv")]
    },
    "long column names as json objects": ("/events.json", at_the_cap("1", NAMES), {"_shape": "objects"}),
}
RED_TEAM = {  # their requests, which a count of characters let through
    "64 rows of 247k emoji as json": ("/events.json", query(TEXTS["emoji"], "t", 64), {}),
    "15 rows of 990k zero bytes as json": ("/events.json", query(TEXTS["zero bytes"], "t", 15), {}),
    "15 rows of 990k zero bytes as objects": (
        "/events.json",
        query(TEXTS["zero bytes"], "t", 15),
        {"_shape": "objects", "_nl": "on"},
    ),
    "30 rows of empty lists through _json=": ("/events.json", query(PARSED["empty lists"], "t", 30), {"_json": "t"}),
    "30 rows of geometry as geojson": (
        "/events.geojson",
        query(f"""'{{"type": "MultiPoint", "coordinates": ' || {PARSED["empty lists"]} || '}}'""", "t as geometry", 30),
        {},
    ),
}
CASES.update(RED_TEAM)


@pytest.mark.parametrize("case", list(CASES))
def test_one_request_stays_within_the_memory_bound(capped_hostile_site: tuple[str, list[int]], case: str) -> None:
    base, workers = capped_hostile_site
    path, sql, params = CASES[case]
    with within_memory(workers, limits.BOUND_BYTES), httpx.Client(base_url=base, timeout=120) as client:
        response = client.get(path, params={"sql": sql, **params})
        if case in RED_TEAM:
            assert response.status_code == 400 and "result too large" in response.text, response.text[:300]
        else:  # as many rows as the cap lets through
            assert response.status_code == 200, response.text[:300]
