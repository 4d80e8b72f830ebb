"""loader/site/plugins/compat_065/permission_cache.py: each permission is decided by the hooks once
per worker, and each actor keeps its own decisions."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from datasette import hookimpl
from datasette.app import Datasette
from datasette.plugins import pm

from loader.site.worker import site_options


class CountingHook:
    """A permission hook that decides nothing and counts how often it is asked."""

    __name__ = "counting_permissions"  # Datasette lists plugins by name

    def __init__(self) -> None:
        self.asked = 0

    @hookimpl
    def permission_allowed(self, datasette: Any, actor: Any, action: str, resource: Any) -> Any:
        async def decide() -> None:
            self.asked += 1

        return decide


def site(db: Path, **metadata: Any) -> Datasette:
    options = site_options()
    options["metadata"] = {**options["metadata"], **metadata}
    return Datasette([], immutables=[str(db)], **options)


def test_a_second_page_view_awaits_no_permission_hook(published_db: Path) -> None:
    hook = CountingHook()
    pm.register(hook, name="counting-permissions")
    try:
        ds = site(published_db)
        for path in ("/", "/events"):
            first = asyncio.run(ds.client.get(path, headers={"cookie": "uncached=1"}))
            asked = hook.asked
            second = asyncio.run(ds.client.get(path, headers={"cookie": "uncached=1"}))
            assert first.status_code == second.status_code == 200
            assert asked > 20 and hook.asked == asked, path
    finally:
        pm.unregister(name="counting-permissions")


def test_each_actor_keeps_its_own_decisions(published_db: Path) -> None:
    """A table only root may see stays hidden from everyone else, asked in
    any order and again, and a new site decides afresh."""
    options = site_options()["metadata"]
    databases = {"events": {**options["databases"]["events"]}}
    databases["events"]["tables"] = {**databases["events"]["tables"], "imports": {"allow": {"id": "root"}}}
    ds = site(published_db, databases=databases)
    resource = ("events", "imports")

    async def decisions() -> list[bool]:
        return [
            await ds.permission_allowed(actor, "view-table", resource, default=True)
            for actor in (None, {"id": "root"}, None, {"id": "someone"}, {"id": "root"})
        ]

    assert asyncio.run(decisions()) == [False, True, False, False, True]
    assert asyncio.run(decisions()) == [False, True, False, False, True]
    anonymous = asyncio.run(ds.client.get("/events/imports", headers={"cookie": "uncached=1"}))
    assert anonymous.status_code == 403
    assert asyncio.run(site(published_db).permission_allowed(None, "view-table", resource, default=True)) is True
