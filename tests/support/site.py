"""The site as `serve` configures it, in this process, for tests that ask it
for pages through `datasette.client` rather than over a socket."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from datasette.app import Datasette

from loader.site.serve import site_options


def in_process_site(db: Path, **settings: Any) -> Datasette:
    """Datasette serving db immutable with the site's metadata, templates,
    plugins and settings; settings given here override serve's."""
    options = site_options()
    options["settings"] = {**options["settings"], **settings}
    return Datasette([], immutables=[str(db)], **options)


def page_text(ds: Datasette, path: str) -> str:
    """A page of an in-process site, which must answer 200."""
    response = asyncio.run(ds.client.get(path))
    assert response.status_code == 200, response.text[:500]
    return response.text
