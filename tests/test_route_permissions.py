"""loader/site/plugins/compat_065/route_permissions.py: the map tiles' routes check what Datasette's own pages check."""

from __future__ import annotations

import asyncio
from pathlib import Path

from datasette.app import Datasette

from loader.build.database import build

TILE = "/-/tiles/basemap/3/4/3.png"


def status(db: Path, path: str, metadata: dict | None = None, base_url: str = "/") -> int:
    async def get() -> int:
        datasette = Datasette([str(db)], metadata=metadata, settings={"base_url": base_url})
        return (await datasette.client.get(path)).status_code

    return asyncio.run(get())


def test_tiles_are_served_to_whoever_may_see_their_database(sources: Path, tmp_path: Path) -> None:
    db = tmp_path / "events.db"
    build(sources, db)
    assert status(db, TILE) == 200
    assert status(db, "/-/tiles-stack/3/4/3.png") == 200
    assert status(db, "/-/tiles/basemap") == 200


def test_tiles_of_a_forbidden_database_or_instance_are_refused(sources: Path, tmp_path: Path) -> None:
    db = tmp_path / "events.db"
    build(sources, db)
    hidden = {"databases": {"basemap": {"allow": False}}}
    for path in [TILE, "/-/tiles/basemap", "/-/tiles-tms/basemap/3/4/4.png", "/-/tiles-stack/3/4/3.png"]:
        assert status(db, path, hidden) == 403, path
        assert status(db, path, {"allow": False}) == 403, path
    assert status(db, "/basemap", hidden) == 403  # as Datasette's own page says


def test_tiles_are_refused_under_a_prefix_too(sources: Path, tmp_path: Path) -> None:
    """Served under a base_url that the proxy passes on, the path the check
    sees begins with it: datasette.client puts it in front, as such a proxy does."""
    db = tmp_path / "events.db"
    build(sources, db)
    assert status(db, TILE, base_url="/prefix/") == 200
    assert status(db, TILE, {"databases": {"basemap": {"allow": False}}}, base_url="/prefix/") == 403
