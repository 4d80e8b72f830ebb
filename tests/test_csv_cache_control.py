"""loader/site/plugins/compat_065/csv_cache_control.py: a CSV carries the
pages' cache header, so a repeated CSV download comes from the cache."""

from __future__ import annotations

from pathlib import Path

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
