"""The dataset's version and build date on every page, and a citation for each event.

A reader who quotes an event needs to say which release of the data they
read and where to find the record again. The version comes from the
one-row dataset_release table every build writes; a database without it
(an older build) shows no version rather than a guess. datasette-updated
shows a date written into the site's configuration when it is published,
which can disagree with the database it serves, and no plugin writes a
citation for a row.

A build that no release holds says so plainly, and one from uncommitted
sources says that too: a reader citing it should know that nobody else can
get the same records back. The citation's URL is on the site's permalink
base (loader/citation.py), not on whatever address served the page, and
names the same authors as a release's CITATION.cff.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from datasette import hookimpl

from loader import DATABASE_NAME as DATABASE
from loader.build.version import UNRELEASED
from loader.citation import AUTHOR
from loader.site.downloads import absolute_url


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


def _commit(built_from: str) -> str:
    return built_from.removesuffix("-dirty")[:12]


def built_from_words(found: dict) -> str:
    """What the database was built from, in words: a commit, uncommitted
    changes on top of one, or files outside git."""
    commit = found.get("built_from")
    if not commit:
        return f"built outside git from the sources as they stood on {found['sources_date']}"
    if commit.endswith("-dirty"):
        return f"built from uncommitted changes to the sources (on top of commit {_commit(commit)})"
    return f"built from commit {_commit(commit)}"


def citable_version(found: dict | None) -> str:
    """How a citation names the data it was taken from: a release's version,
    or plainly an unreleased build and what it was built from."""
    if found is None:
        return "unversioned dataset"
    if found["version"] != UNRELEASED:
        return f"dataset version {found['version']}"
    return f"unreleased dataset, {built_from_words(found)}"


def bibtex_key(event_id: str, version: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", f"event-store-{version}-{event_id}").strip("-")


def bibtex_text(value: str) -> str:
    """Text for a BibTeX field: braces and backslashes would end or escape the field."""
    return re.sub(r"[{}\\]", "", value)


@hookimpl
def extra_template_vars(datasette: Any, request: Any) -> Any:
    async def inner() -> dict:
        found = await release(datasette)

        return {
            "dataset_release": found,
            "dataset_unreleased": UNRELEASED,
            "built_from_words": built_from_words,
            "citable_version": citable_version(found),
            "citation_author": AUTHOR,
            "absolute_url": functools.partial(absolute_url, datasette, request),
            "bibtex_key": bibtex_key,
            "bibtex_text": bibtex_text,
        }

    return inner
