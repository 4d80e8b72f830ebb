"""The site as `serve` configures it, in this process, for tests that ask it
for pages through `datasette.client` rather than over a socket."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from datasette.app import Datasette

from loader.citation import SITE_SETTINGS
from loader.site.worker import site_options


def in_process_site(db: Path, permalink: str | None = None, **settings: Any) -> Datasette:
    """Datasette serving db immutable with the site's metadata, templates,
    plugins and settings; settings given here override serve's, and a
    permalink given here metadata.yml's."""
    options = site_options()
    options["settings"] = {**options["settings"], **settings}
    if permalink is not None:
        options["metadata"]["plugins"][SITE_SETTINGS]["permalink"] = permalink
    return Datasette([], immutables=[str(db)], **options)


def page_text(ds: Datasette, path: str) -> str:
    """A page of an in-process site, which must answer 200."""
    response = asyncio.run(ds.client.get(path))
    assert response.status_code == 200, response.text[:500]
    return response.text


async def datasettes_failed_csv(scope: dict, receive: Any, send: Any) -> None:
    """What Datasette 0.65 answers for the CSV of SQL that fails: 200 and a line break."""
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"\r\n"})
