"""Invariants of the real dataset in sources/.

These tests read the curated records through the loader's public
validate() (so they see exactly what a build would load) and check what the
schema's CHECK constraints cannot: evidence behind every event, places on
the map where their country is, no two records sharing a spelling, dates
that make sense for the articles, and disagreements recorded from both
sides.
"""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import sys
import unicodedata
from collections import defaultdict
from datetime import date
from pathlib import Path

import pytest

from loader.sources import validate

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ROOT / "sources"
FIXTURES = Path(__file__).parent / "fixtures"
SEEDS = ROOT.parent / "shared" / "seeds"  # the archived articles, when present

FOR = {"asserts", "confirms"}
AGAINST = {"denies", "disputes", "qualifies"}


@pytest.fixture(scope="module")
def db():
    dataset = validate(SOURCES)
    return dataset.db


def rows(db, sql, params=()):
    cursor = db.execute(sql, params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def fold(text: str) -> str:
    """A spelling reduced to what tells names apart: no case, no diacritics,
    no punctuation or spacing ("Al-Shaibani" == "al Shaibani")."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return re.sub(r"[\W_]+", "", stripped)


def parse(day: str) -> date:
    return date.fromisoformat(day)


# --- the dataset as a whole ---------------------------------------------------------


def test_dataset_is_substantial(db):
    counts = {
        t: db.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
        for t in ("documents", "events", "actors", "places", "claims")
    }
    assert counts["documents"] >= 5
    assert counts["events"] >= 30, counts
    assert counts["actors"] >= 30, counts
    assert counts["places"] >= 15, counts
    assert counts["claims"] >= 30, counts


# --- events -----------------------------------------------------------------------------


def test_every_event_cites_a_document(db):
    uncited = rows(
        db,
        """
        SELECT id FROM events
        WHERE id NOT IN (SELECT event_id FROM event_documents)""",
    )
    assert uncited == []


def test_every_event_without_a_place_says_why(db):
    events = rows(db, "SELECT id, notes FROM events WHERE place_id IS NULL")
    unexplained = [
        e["id"] for e in events if not e["notes"] or not re.search(r"\b(place|venue|where)\b", e["notes"], re.I)
    ]
    assert unexplained == [], "placeless events whose notes do not say why there is no place"


def test_every_event_names_its_actors(db):
    bare = rows(db, "SELECT id FROM events WHERE id NOT IN (SELECT event_id FROM event_actors)")
    assert bare == []


def test_dates_are_plausible_and_agree_with_precision(db):
    problems = []
    for e in rows(db, "SELECT id, start_date, end_date, date_precision FROM events"):
        start, end = parse(e["start_date"]), parse(e["end_date"])
        span = (end - start).days
        if not (1900 <= start.year <= 2027 and 1900 <= end.year <= 2027):
            problems.append((e["id"], "outside 1900-2027"))
        if end < start:
            problems.append((e["id"], "ends before it starts"))
        precision = e["date_precision"]
        if precision == "day" and span > 13:
            problems.append((e["id"], "a day-precision event longer than two weeks"))
        elif precision == "week" and not 1 <= span <= 13:
            problems.append((e["id"], "week precision must span 2-14 days"))
        elif precision == "month":
            next_day = date.fromordinal(end.toordinal() + 1)
            if start.day != 1 or next_day.day != 1:
                problems.append((e["id"], "month precision must run from a 1st to a month's end"))
        elif precision == "year" and (start.timetuple()[1:3], end.timetuple()[1:3]) != ((1, 1), (12, 31)):
            problems.append((e["id"], "year precision must run 1 January-31 December"))
    assert problems == []


def test_published_dates_are_plausible(db):
    for d in rows(db, "SELECT id, published_date FROM documents WHERE published_date IS NOT NULL"):
        assert 1900 <= parse(d["published_date"]).year <= 2027, d["id"]


def test_no_reported_event_starts_after_the_articles_that_report_it(db):
    """An article cannot report something that began after it was written
    (planned events excepted)."""
    late = rows(
        db,
        """
        SELECT e.id, e.start_date, max(d.published_date) AS latest
        FROM events e
        JOIN event_documents ed ON ed.event_id = e.id
        JOIN documents d ON d.id = ed.document_id
        WHERE e.status <> 'planned'
        GROUP BY e.id
        HAVING count(d.published_date) > 0 AND e.start_date > max(d.published_date)""",
    )
    assert late == []


def test_event_types_are_all_used_and_coded_consistently(db):
    """Each type's CAMEO code must sit under the PLOVER category that the
    CAMEO-to-PLOVER table gives its root."""

    def plover_for(cameo: str) -> set[str]:
        root = cameo[:2]
        if root == "08":
            return {"CONCEDE"} if cameo[:3] in {"080", "081", "082", "083"} else {"RETREAT"}
        if cameo[:3] in {"191", "192"}:
            return {"COERCE"}
        return {
            "02": {"REQUEST"},
            "03": {"AGREE"},
            "04": {"CONSULT"},
            "05": {"SUPPORT"},
            "06": {"COOPERATE"},
            "07": {"AID"},
            "09": {"ACCUSE"},
            "10": {"REQUEST"},
            "11": {"ACCUSE"},
            "12": {"REJECT"},
            "13": {"THREATEN"},
            "14": {"PROTEST"},
            "15": {"MOBILIZE"},
            "16": {"SANCTION"},
            "17": {"COERCE"},
            "18": {"ASSAULT"},
            "19": {"ASSAULT"},
            "20": {"ASSAULT"},
        }.get(root, set())

    types = rows(db, "SELECT code, plover, cameo FROM event_types")
    wrong = [t["code"] for t in types if t["plover"] not in plover_for(t["cameo"])]
    assert wrong == []
    unused = rows(db, "SELECT code FROM event_types WHERE code NOT IN (SELECT event_type FROM events)")
    assert unused == []


# --- disagreements -----------------------------------------------------------------------


def test_disputed_events_have_claims_on_both_sides(db):
    claims = defaultdict(list)
    for c in rows(db, "SELECT event_id, document_id, claimant_id, stance FROM claims WHERE event_id IS NOT NULL"):
        claims[c["event_id"]].append(c)
    problems = []
    for e in rows(db, "SELECT id FROM events WHERE status = 'disputed'"):
        found = claims[e["id"]]
        sources = {(c["document_id"], c["claimant_id"]) for c in found}
        if len(found) < 2 or len(sources) < 2:
            problems.append((e["id"], "needs two claims from different documents or claimants"))
        stances = {c["stance"] for c in found}
        if not (stances & FOR and stances & AGAINST):
            problems.append((e["id"], "needs a claim on each side"))
    assert problems == []


def test_events_with_contested_claims_are_marked_disputed(db):
    """A claim that denies or disputes an event's account makes it disputed."""
    unmarked = rows(
        db,
        """
        SELECT DISTINCT e.id FROM events e JOIN claims c ON c.event_id = e.id
        WHERE c.stance IN ('denies', 'disputes') AND e.status <> 'disputed'""",
    )
    assert unmarked == []


def test_there_are_disputed_events(db):
    assert db.execute("SELECT count(*) FROM events WHERE status = 'disputed'").fetchone()[0] >= 4


# --- documents ---------------------------------------------------------------------------


def test_every_document_is_cited_by_an_event(db):
    unused = rows(
        db,
        """
        SELECT id FROM documents
        WHERE id NOT IN (SELECT document_id FROM event_documents)""",
    )
    assert unused == []


def test_documents_point_at_archived_articles(db):
    docs = rows(db, "SELECT id, archive_ref, notes, outlet, published_date FROM documents")
    for d in docs:
        assert d["archive_ref"] and re.fullmatch(r"\d{3}_[0-9a-f]{16}\.txt", d["archive_ref"]), d["id"]
        if SEEDS.is_dir():
            assert (SEEDS / d["archive_ref"]).is_file(), d["id"]
        # An outlet or date the article does not print must be explained.
        if d["outlet"] is None or d["published_date"] is not None:
            assert d["notes"], d["id"]


# --- places ---------------------------------------------------------------------------------


def test_places_lie_in_their_country(db):
    boxes = json.loads((FIXTURES / "dataset_country_bboxes.json").read_text(encoding="utf-8"))
    outside = []
    for p in rows(db, "SELECT id, country_code, latitude, longitude FROM places WHERE latitude IS NOT NULL"):
        assert p["country_code"] in boxes, f"add a bounding box for {p['country_code']} ({p['id']})"
        lat_min, lat_max, lon_min, lon_max = boxes[p["country_code"]]
        if not (lat_min <= p["latitude"] <= lat_max and lon_min <= p["longitude"] <= lon_max):
            outside.append(p["id"])
    assert outside == []


def test_places_with_a_parent_share_its_country(db):
    mismatched = rows(
        db,
        """
        SELECT p.id FROM places p JOIN places parent ON parent.id = p.parent_id
        WHERE p.country_code IS NOT parent.country_code""",
    )
    assert mismatched == []


def test_cities_carry_geonames_ids(db):
    missing = rows(db, "SELECT id FROM places WHERE kind IN ('city', 'town', 'country') AND geonames_id IS NULL")
    assert missing == []


# --- names ----------------------------------------------------------------------------------


@pytest.mark.parametrize("table", ["actors", "places"])
def test_no_two_records_share_a_name_or_alias(db, table):
    owners = defaultdict(set)
    for r in rows(db, f"SELECT id, name, aliases FROM {table}"):
        for spelling in [r["name"], *json.loads(r["aliases"])]:
            assert fold(spelling), f"{r['id']}: empty spelling {spelling!r}"
            owners[fold(spelling)].add(r["id"])
    shared = {k: sorted(v) for k, v in owners.items() if len(v) > 1}
    assert shared == {}


def test_fold_treats_spelling_variants_alike():
    assert fold("Erdoğan") == fold("erdogan")
    assert fold("al-Shaibani") == fold("Al Shaibani")
    assert fold("Shaibani") != fold("Shibani")


@pytest.mark.parametrize(
    "spelling, actor",
    [
        ("al-Shibani", "asaad-al-shaibani"),
        ("Shaibani", "asaad-al-shaibani"),
        ("أسعد الشيباني", "asaad-al-shaibani"),
        ("Abu Mohammad al-Julani", "ahmad-al-sharaa"),
        ("Jolani", "ahmad-al-sharaa"),
        ("Moafaq Tarif", "mowafaq-tarif"),
        ("Bashar Assad", "bashar-al-assad"),
        ("Erdogan", "recep-tayyip-erdogan"),
        ("Tzahi Hanegbi", "tzachi-hanegbi"),
    ],
)
def test_spellings_from_the_articles_find_their_actor(db, spelling, actor):
    found = {
        r["id"]
        for r in rows(db, "SELECT id, name, aliases FROM actors")
        if fold(spelling) in {fold(s) for s in [r["name"], *json.loads(r["aliases"])]}
    }
    assert found == {actor}


def test_actor_parents_do_not_form_cycles(db):
    parent = {r["id"]: r["parent_id"] for r in rows(db, "SELECT id, parent_id FROM actors")}
    for start in parent:
        seen, node = set(), start
        while node is not None:
            assert node not in seen, f"cycle through {start}"
            seen.add(node)
            node = parent.get(node)


# --- the built database -----------------------------------------------------------------


def test_built_database_finds_every_spelling_by_full_text_search(tmp_path):
    target = tmp_path / "events.db"
    subprocess.run(
        [sys.executable, "-m", "loader", "build", "--sources", str(SOURCES), "--db", str(target)],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    con = sqlite3.connect(target)
    try:

        def actor_hits(term):
            return {
                r[0]
                for r in con.execute(
                    "SELECT a.id FROM actors_fts JOIN actors a ON a.rowid = actors_fts.rowid WHERE actors_fts MATCH ?",
                    (f'"{term}"',),
                )
            }

        def place_hits(term):
            return {
                r[0]
                for r in con.execute(
                    "SELECT p.id FROM places_fts JOIN places p ON p.rowid = places_fts.rowid WHERE places_fts MATCH ?",
                    (f'"{term}"',),
                )
            }

        assert "asaad-al-shaibani" in actor_hits("Shibani")
        assert "ahmad-al-sharaa" in actor_hits("Julani")
        assert "as-suwayda" in place_hits("Suwayda")
        assert "as-suwayda-governorate" in place_hits("Sweida province")
        # Both sides of the ceasefire dispute come back from one query.
        stances = {
            r[0] for r in con.execute("SELECT stance FROM claims WHERE event_id = '2025-07-18-israel-syria-ceasefire'")
        }
        assert stances & FOR and stances & AGAINST
    finally:
        con.close()
