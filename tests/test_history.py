"""Record history from the git log, on a throwaway repository made here."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from loader.build.database import build
from loader.cli import cli
from loader.site.plugins.history_changes import Describer
from tests.support.git import commit_all, git, new_repository

FIXTURES = Path(__file__).parent / "fixtures"


def history(db: Path, record: str) -> list[tuple[str, str, str, dict]]:
    conn = sqlite3.connect(db)
    rows = conn.execute(
        "SELECT commit_hash, subject, change, fields FROM record_history WHERE record_id = ? ORDER BY committed",
        [record],
    ).fetchall()
    return [(commit, subject, change, json.loads(fields)) for commit, subject, change, fields in rows]


def test_history_follows_each_record_through_the_commits(sources: Path, tmp_path: Path) -> None:
    new_repository(sources, "First records", date="2026-01-05T10:00:00+00:00")
    first = git(sources, "rev-parse", "HEAD").strip()
    shutil.copy(FIXTURES / "release" / "paris.yml", sources / "events" / "paris.yml")
    shutil.copy(FIXTURES / "release" / "withdrawals.yml", sources / "withdrawals.yml")
    shutil.copy(FIXTURES / "release" / "relations.yml", sources / "relations.yml")
    commit_all(sources, "Rename the July strikes", date="2026-01-06T10:00:00+00:00")
    second = git(sources, "rev-parse", "HEAD").strip()
    # A record moving to another file is not a change.
    places = (sources / "places.yml").read_text()
    (sources / "places.yml").write_text("places: []\n")
    (sources / "more-places.yml").write_text(places)
    commit_all(sources, "Move the places", date="2026-01-07T10:00:00+00:00")

    # A commit that breaks a file's YAML, and the one that mends it, change none of its records.
    (sources / "more-places.yml").write_text(places + "  - id: [unclosed\n")
    git(sources, "commit", "-q", "-am", "Break the places", date="2026-01-08T10:00:00+00:00")
    (sources / "more-places.yml").write_text(places)
    git(sources, "commit", "-q", "-am", "Mend the places", date="2026-01-09T10:00:00+00:00")

    db = tmp_path / "events.db"
    build(sources, db)
    changed = history(db, "2025-08-19-paris-shaibani-dermer")
    assert [(c, s, kind) for c, s, kind, _ in changed] == [
        (first, "First records", "added"),
        (second, "Rename the July strikes", "changed"),
    ]
    assert changed[1][3] == {
        "status": {"old": "disputed", "new": "confirmed"},
        "summary": {
            "old": "The Syrian foreign minister meets an Israeli delegation led by Ron Dermer in Paris, with US mediation.",
            "new": "The Syrian foreign minister meets an Israeli delegation led by Ron Dermer in Paris; "
            "US envoy Tom Barrack mediates.",
        },
    }
    assert changed[0][3]["start_date"] == {"old": None, "new": "2025-08-19"}
    assert [kind for _, _, kind, _ in history(db, "2025-07-strikes-on-damascus")] == ["added", "removed"]
    assert [kind for _, _, kind, _ in history(db, "2025-07-israeli-strikes-on-damascus")] == ["added"]
    assert [kind for _, _, kind, _ in history(db, "damascus")] == ["added"]


def test_outside_a_checkout_the_build_says_so_once_and_goes_on(sources: Path, tmp_path: Path) -> None:
    db = tmp_path / "events.db"
    result = CliRunner().invoke(cli, ["build", "--sources", str(sources), "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert result.output.count("not in a git checkout") == 1
    assert sqlite3.connect(db).execute("SELECT count(*) FROM record_history").fetchone() == (0,)


@pytest.mark.parametrize("table", ["actors", "places"])
def test_a_change_to_a_list_of_ids_reads_as_the_records_names(table: str) -> None:
    """distinct_from and shares_names_with hold ids no foreign key declares;
    the history page names them all the same."""
    describe = Describer(table, {(table, "a"): "Record A", ("events", "e"): "Event E"})
    assert describe.text("shares_names_with", ["a", "gone"]) == "Record A, gone"
    assert Describer("events", {("events", "e"): "Event E"}).text("distinct_from", ["e"]) == "Event E"
