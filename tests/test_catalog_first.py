"""plugins/catalog_first.py: a fresh server's first requests, all at once, are
map tiles, and every one is answered from the basemap."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from tests.support.site_helpers import serving

# Zoom 5 around Syria, Israel and Lebanon: tiles the basemap holds.
TILES = [f"/-/tiles/basemap/5/{x}/{y}.png" for x in range(16, 20) for y in range(11, 14)]


def test_a_fresh_servers_first_requests_being_tiles_all_get_their_tile(hostile_db: Path) -> None:
    async def first_requests(base: str) -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=base, timeout=60) as client:
            return await asyncio.gather(*(client.get(url, headers={"cookie": "uncached=1"}) for url in TILES * 3))

    with serving(hostile_db.parent / "sources", hostile_db) as base:
        responses = asyncio.run(first_requests(base))
    assert [r.status_code for r in responses] == [200] * len(responses)
    assert {r.headers["content-type"] for r in responses} == {"image/png"}
