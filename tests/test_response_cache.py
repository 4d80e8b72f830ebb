"""plugins/response_cache.py: repeats are answered from memory, only as a shared HTTP cache may."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from loader.build import build
from tests.support.site import in_process_site


def answers(db: Path, requests: list[tuple[str, dict]]) -> list[httpx.Response]:
    async def get() -> list[httpx.Response]:
        datasette = in_process_site(db)
        return [await datasette.client.get(path, headers=headers) for path, headers in requests]

    return asyncio.run(get())


def test_a_repeated_page_comes_from_the_cache_whole(sources: Path, tmp_path: Path) -> None:
    db = tmp_path / "events.db"
    build(sources, db)
    first, second = answers(db, [("/events/events.json", {}), ("/events/events.json", {})])
    assert first.status_code == second.status_code == 200
    assert "age" not in first.headers and second.headers["age"] == "0"
    assert second.content == first.content
    assert second.headers["cache-control"] == first.headers["cache-control"] == "max-age=300"


def test_only_what_a_shared_cache_may_keep_is_kept(sources: Path, tmp_path: Path) -> None:
    db = tmp_path / "events.db"
    build(sources, db)
    cookie = {"cookie": "ds_actor=x"}
    responses = answers(
        db,
        [
            ("/events/events", cookie),
            ("/events/events", cookie),  # Vary: Cookie
            ("/events/events?_sort=nonexistent", {}),
            ("/events/events?_sort=nonexistent", {}),  # an error
            ("/-/timeline", {}),
            ("/-/timeline", {}),  # no Cache-Control
            ("/events/events?_search=damascus", {}),
            ("/events/events?_search=paris", {}),  # another query string is another page
        ],
    )
    assert [r.status_code for r in responses] == [200, 200, 400, 400, 200, 200, 200, 200]
    assert not any("age" in r.headers for r in responses)
