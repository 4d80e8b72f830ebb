"""The dataset's version and build date on every page, and a citation for each event.

A reader who quotes an event needs to say which release of the data they
read and where to find the record again. The version comes from the
one-row dataset_release table every build writes; a database without it
(an older build) shows no version rather than a guess. datasette-updated
shows a date written into the site's configuration when it is published,
which can disagree with the database it serves, and no plugin writes a
citation for a row.
"""

from __future__ import annotations

import re
from typing import Any

from datasette import hookimpl

from loader import DATABASE_NAME as DATABASE


async def release(datasette: Any) -> dict | None:
    """The dataset_release row, or None when the database has no such table."""
    try:
        db = datasette.get_database(DATABASE)
    except KeyError:
        return None
    if not await db.table_exists("dataset_release"):
        return None
    result = await db.execute("select version, released, built_from, sources_date from dataset_release limit 1")
    row = result.first()
    return dict(row) if row else None


def bibtex_key(event_id: str, version: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", f"event-store-{version}-{event_id}").strip("-")


def bibtex_text(value: str) -> str:
    """Text for a BibTeX field: braces and backslashes would end or escape the field."""
    return re.sub(r"[{}\\]", "", value)


@hookimpl
def extra_template_vars(datasette: Any, request: Any) -> Any:
    async def inner() -> dict:
        found = await release(datasette)

        def absolute(path: str) -> str:
            return datasette.absolute_url(request, path) if request else path

        return {
            "dataset_release": found,
            "absolute_url": absolute,
            "bibtex_key": bibtex_key,
            "bibtex_text": bibtex_text,
        }

    return inner
