"""loader/site/plugins/sql_gate.py: visitors' SQL gets a shorter time limit than pages, and waits its turn."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from datasette.app import Datasette

from loader.build.database import build
from loader.site.plugins import sql_gate as gate
from loader.site.worker import SETTINGS


def test_the_time_limit_of_visitors_sql_can_only_be_shortened() -> None:
    assert parse_qs(gate.limited("sql=select+1")) == {"sql": ["select 1"], "_timelimit": [str(gate.SQL_TIME_LIMIT_MS)]}
    assert parse_qs(gate.limited("sql=x&_timelimit=999999"))["_timelimit"] == [str(gate.SQL_TIME_LIMIT_MS)]
    assert parse_qs(gate.limited("sql=x&_timelimit=50&_shape=array")) == {
        "sql": ["x"],
        "_shape": ["array"],
        "_timelimit": ["50"],
    }


@pytest.mark.serial
def test_a_runaway_query_is_stopped_at_the_shorter_limit_and_pages_are_not_gated(sources: Path, tmp_path: Path) -> None:
    db = tmp_path / "events.db"
    build(sources, db)
    runaway = "with recursive c(x) as (select 1 union all select x + 1 from c) select count(*) from c"

    async def run() -> tuple[float, int, float, int]:
        datasette = Datasette([], immutables=[str(db)], settings=SETTINGS)
        await datasette.client.get("/events/events.json?_size=1")  # started up, so the page below is no first page
        started = time.monotonic()
        query = asyncio.ensure_future(datasette.client.get("/events.json", params={"sql": runaway}))
        await asyncio.sleep(0.2)
        page = await datasette.client.get("/events/events.json")
        page_took = time.monotonic() - started
        stopped = await query
        return time.monotonic() - started, stopped.status_code, page_took, page.status_code

    took, status, page_took, page_status = asyncio.run(run())
    assert status == 400 and page_status == 200
    # Stopped at the gate's limit (1 s), well before the pages' 3 s: before
    # client_errors answered it, Datasette's handler printed its traceback
    # with rich and took the time back up to 2.8 s.
    assert took < (gate.SQL_TIME_LIMIT_MS + SETTINGS["sql_time_limit_ms"]) / 2000
    assert page_took < took  # the page did not wait for the runaway


def test_a_where_is_visitors_sql_and_a_chosen_facet_has_its_own_lane() -> None:
    def lane(query: str) -> str | None:
        return gate.lane_of({"type": "http", "query_string": query.encode()})

    assert lane("sql=select+1") == lane("_where=1%3D1&_facet=kind") == "sql"
    assert lane("_facet=kind") == lane("_facet_array=actor_names") == lane("_facet_date=start_date") == "facets"
    assert lane("_facet_size=max") is lane("_search=paris&_sort=start_date") is None  # links of the site's pages
    # Datasette 0.65 counts a _where page's rows under the pages' 3 s, which _timelimit does not reach.
    assert parse_qs(gate.limited("_where=1%3D1&_nocount=0")) == {
        "_where": ["1=1"],
        "_timelimit": [str(gate.SQL_TIME_LIMIT_MS)],
        "_nocount": ["1"],
    }
