"""loader/site/plugins/compat_065/cache_control.py: a CSV and a static file
carry the pages' cache header, so a repeat comes from the cache (and a
browser keeps the static files from one page to the next)."""

from __future__ import annotations

from pathlib import Path

import pytest

from loader.build.database import build
from tests.test_response_cache import answers

FILTERED_CSV = "/events/event_list.csv?event_type=meeting&_stream=on&_size=max"


def test_a_filtered_pages_csv_is_kept_as_its_page_is(sources: Path, tmp_path: Path) -> None:
    db = tmp_path / "events.db"
    build(sources, db)
    page, first, second = answers(
        db, [(FILTERED_CSV.replace(".csv", "").replace("&_stream=on", ""), {}), (FILTERED_CSV, {}), (FILTERED_CSV, {})]
    )
    assert page.status_code == first.status_code == second.status_code == 200
    assert first.headers["cache-control"] == page.headers["cache-control"] == "max-age=300"
    assert "cookie" in first.headers["vary"].lower()
    assert "age" not in first.headers and second.headers["age"] == "0"  # the second came from the cache
    assert second.content == first.content and first.content.startswith(b"rowid,id,")


def test_a_failed_csv_is_not_kept(sources: Path, tmp_path: Path) -> None:
    db = tmp_path / "events.db"
    build(sources, db)
    (failed,) = answers(db, [("/events.csv?sql=select+nonsense+from+nowhere", {})])
    assert failed.status_code == 400 and "cache-control" not in failed.headers


@pytest.mark.parametrize(
    "path",
    [
        "/-/static/app.css",  # Datasette's own
        "/-/static-plugins/datasette-cluster-map/datasette-cluster-map.js",  # a published plugin's
        "/-/static-plugins/event-store/server_map.js",  # the site's
    ],
)
def test_a_static_file_is_kept_as_the_pages_are(published_db: Path, path: str) -> None:
    page, first, second = answers(published_db, [("/events/event_list", {}), (path, {}), (path, {})])
    assert page.status_code == first.status_code == second.status_code == 200
    assert first.headers["cache-control"] == page.headers["cache-control"] == "max-age=300"
    assert "vary" not in first.headers  # the same file for every reader
    assert "age" not in first.headers and second.headers["age"] == "0"
    assert second.content == first.content and first.content


def test_a_missing_static_file_is_not_kept(published_db: Path) -> None:
    (missing,) = answers(published_db, [("/-/static-plugins/event-store/nothing.js", {})])
    assert missing.status_code == 404 and "cache-control" not in missing.headers
