"""loader/site/plugins/compat_065/catalog_first.py: a fresh server's first requests, all at once, are
map tiles, and every one is answered from the basemap, the stacked tiles too,
whose permission check (loader/site/plugins/compat_065/route_permissions.py) reads the catalog
before any view runs."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from tests.support.site import in_process_site
from tests.support.site_helpers import serving

# Zoom 5 around Syria, Israel and Lebanon: tiles the basemap holds.
TILES = [f"/-/tiles/basemap/5/{x}/{y}.png" for x in range(16, 20) for y in range(11, 14)]
STACKED = [f"/-/tiles-stack/{z}/{x}/{y}.png" for z in (1, 2) for x in range(2) for y in range(2)]


def test_a_fresh_servers_first_requests_being_tiles_all_get_their_tile(hostile_db: Path) -> None:
    async def first_requests(base: str) -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=base, timeout=60) as client:
            return await asyncio.gather(*(client.get(url, headers={"cookie": "uncached=1"}) for url in TILES * 3))

    with serving(hostile_db.parent / "sources", hostile_db) as base:
        responses = asyncio.run(first_requests(base))
    assert [r.status_code for r in responses] == [200] * len(responses)
    assert {r.headers["content-type"] for r in responses} == {"image/png"}


def test_a_fresh_sites_first_requests_being_stacked_tiles_get_what_a_warm_site_gives(hostile_db: Path) -> None:
    """Issue 23: in a worker's first second /-/tiles-stack answered 500, "no
    such table: columns" or "database table is locked: columns", or 404 for
    a tile the basemap holds. A fresh in-process site is a fresh worker: its
    first requests arrive together, before any has filled the catalog."""

    async def answers(warm: bool) -> list[tuple[int, bytes]]:
        client = in_process_site(hostile_db).client
        if warm:
            assert (await client.get("/-/tiles/basemap")).status_code == 200
        responses = await asyncio.gather(*(client.get(url) for url in STACKED * 2 + TILES))
        return [(r.status_code, r.content) for r in responses]

    cold = asyncio.run(answers(warm=False))
    assert [status for status, _ in cold] == [200] * len(cold)
    assert cold == asyncio.run(answers(warm=True))
