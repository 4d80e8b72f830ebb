"""Invariants of the real dataset in sources/.

These tests read the curated records through the loader's public
validate() (so they see exactly what a build would load) and check what the
schema's CHECK constraints cannot: evidence behind every event, places on
the map where their country is, no two records sharing a spelling, dates
that make sense for the articles, every fact traced to a document, and
disagreements recorded as questions with answers from more than one voice.
"""

from __future__ import annotations

import json
import re
import sqlite3
import unicodedata
from collections import defaultdict
from datetime import date
from pathlib import Path

import pytest

from loader.records.sources import validate
from tests.support.dataset import dataset_archive, dataset_sources

SOURCES = dataset_sources()
FIXTURES = Path(__file__).parent / "fixtures"
ARCHIVE = dataset_archive()  # the archived articles, when present
pytestmark = pytest.mark.dataset


@pytest.fixture(scope="module")
def db():
    dataset = validate(SOURCES)
    return dataset.db


def rows(db, sql, params=()):
    cursor = db.execute(sql, params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def unreferenced(db, table: str, key: str, by: str, column: str) -> list:
    """The keys of `table` that no row of `by` names in `column`."""
    return [row[key] for row in rows(db, f"SELECT {key} FROM {table} WHERE {key} NOT IN (SELECT {column} FROM {by})")]


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
    assert unreferenced(db, "events", "id", by="event_documents", column="event_id") == []


def test_every_event_without_a_place_says_why(db):
    events = rows(db, "SELECT id, place_unknown FROM events WHERE place_id IS NULL")
    unexplained = [e["id"] for e in events if not re.search(r"\b(place|venue|where)\b", e["place_unknown"], re.I)]
    assert unexplained == [], "placeless events whose place_unknown does not say why there is no place"


def test_how_an_event_is_placed_is_said_in_its_fields_not_only_in_notes(db):
    """Why there is no place is place_unknown's; a coarse place is geo_precision's."""
    prose = re.compile(r"^no place\b|\bplaced at country level\b", re.I)
    found = [
        e["id"]
        for e in rows(db, "SELECT id, notes FROM events WHERE origin = 'curated'")
        if prose.search(e["notes"] or "")
    ]
    assert found == [], "notes that say how the event is placed, which place_unknown or geo_precision should"


def test_an_event_with_a_date_inference_states_it_in_date_inference(db):
    """An event whose inferred lists date says in date_inference how the date
    was worked out, naming the months or years it reasons from, and leaves
    that reasoning out of its notes."""
    months = "January|February|March|April|May|June|July|August|September|October|November|December"
    dated = re.compile(rf"\b(?:{months}|(?:19|20)\d\d)\b")
    prose = re.compile(r"\b(?:spans?|dated|no date|curators' reading|date is marked inferred)\b", re.I)
    events = rows(
        db,
        """SELECT id, date_inference, notes FROM events
           WHERE EXISTS (SELECT 1 FROM json_each(inferred) WHERE value = 'date')""",
    )
    undated = [e["id"] for e in events if not dated.search(e["date_inference"])]
    assert undated == [], "date inferences that name no month or year they reason from"
    repeated = [e["id"] for e in events if prose.search(e["notes"] or "")]
    assert repeated == [], "notes that say how the date was inferred, which date_inference should"


def test_whom_a_document_relays_is_said_in_via_not_in_notes(db):
    """A document that has a fact second-hand says whom it relays in its
    citation's via (schema.sql, event_documents.via), not in prose: no note
    or statement says a document relays, or has something via, another."""
    prose = re.compile(r"\brelay(?:s|ed|ing)?\b|\bvia\b|\bas [^.,;]* (?:quotes|cites) (?:it|them)\b", re.I)
    texts = {
        "events": "SELECT id AS record, notes AS text FROM events WHERE origin = 'curated'",
        "event_documents": "SELECT event_id || ' ' || document_id AS record, note AS text FROM event_documents",
        "event_actors": "SELECT event_id || ' ' || actor_id AS record, note AS text FROM event_actors",
        "claims": "SELECT id AS record, coalesce(notes, '') || ' ' || statement AS text FROM claims",
    }
    found = [
        (table, r["record"]) for table, sql in texts.items() for r in rows(db, sql) if prose.search(r["text"] or "")
    ]
    assert found == [], "prose that says whom a document relays, which the citation's via should"


def test_a_confirmed_event_rests_on_a_partys_claim_or_several_reports(db):
    """status confirmed (docs/curating.md): a party to the event acknowledged
    it, which is a claim of one of its actors that confirms or asserts it, or
    several documents report it as fact; either is data, not a note."""
    unconfirmed = rows(
        db,
        """SELECT e.id FROM events AS e WHERE e.status = 'confirmed'
           AND (SELECT count(*) FROM event_documents AS ed
                WHERE ed.event_id = e.id AND ed.basis = 'report'
                  AND EXISTS (SELECT 1 FROM json_each(ed.supports) WHERE value = 'occurrence')) < 2
           AND NOT EXISTS (SELECT 1 FROM claims AS c
                JOIN event_actors AS ea ON ea.event_id = e.id AND ea.actor_id = c.claimant_id
                WHERE c.event_id = e.id AND c.stance IN ('confirms', 'asserts'))""",
    )
    assert unconfirmed == [], "confirmed events with neither a party's claim nor two reports of them"


def test_every_event_names_its_actors(db):
    assert unreferenced(db, "events", "id", by="event_actors", column="event_id") == []


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
        elif precision == "days" and not 1 <= span <= 6:
            problems.append((e["id"], "days precision must span 2-7 days"))
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
    for d in rows(db, "SELECT id, published_date, published_earliest, published_latest FROM documents"):
        for day in (d["published_date"], d["published_earliest"], d["published_latest"]):
            if day is not None:
                assert 1900 <= parse(day).year <= 2027, d["id"]


def test_no_reported_event_starts_after_the_articles_that_report_it(db):
    """An article cannot report something that began after it was written
    (planned events, and what a preview says ahead of an event, excepted)."""
    late = rows(
        db,
        """
        SELECT e.id, e.start_date, max(coalesce(d.published_latest, d.published_date)) AS latest
        FROM events e
        JOIN event_documents ed ON ed.event_id = e.id
        JOIN documents d ON d.id = ed.document_id
        WHERE e.status <> 'planned' AND ed.basis = 'report'
        GROUP BY e.id
        HAVING count(coalesce(d.published_latest, d.published_date)) > 0
           AND e.start_date > max(coalesce(d.published_latest, d.published_date))""",
    )
    assert late == []


def date_words(event_id: str) -> tuple[str, str] | None:
    """The first and last day an id's leading date words name, as prefixes of
    ISO dates: "2025-09-to-11-..." is ("2025-09", "2025-11"),
    "2026-01-05-to-06-..." is ("2026-01-05", "2026-01-06")."""
    tokens = event_id.split("-")
    if not re.fullmatch(r"\d{4}", tokens[0]):
        return None
    start = [tokens.pop(0)]
    while tokens and re.fullmatch(r"\d{2}", tokens[0]) and len(start) < 3:
        start.append(tokens.pop(0))
    end = list(start)
    if tokens and tokens[0] == "to":
        tokens.pop(0)
        if re.fullmatch(r"\d{4}", tokens[0]):
            end = [tokens.pop(0)]
            while tokens and re.fullmatch(r"\d{2}", tokens[0]) and len(end) < 3:
                end.append(tokens.pop(0))
        else:
            end = [*start[:-1], tokens.pop(0)]
    return "-".join(start), "-".join(end)


def test_event_ids_say_the_dates_they_have(db):
    """An id that starts with a date names the event's first and, after -to-,
    last possible day at the precision it writes (ids are stable: a changed
    id keeps the old one among its aliases)."""
    wrong = []
    for e in rows(db, "SELECT id, start_date, end_date FROM events"):
        words = date_words(e["id"])
        if words and not (e["start_date"].startswith(words[0]) and e["end_date"].startswith(words[1])):
            wrong.append((e["id"], e["start_date"], e["end_date"]))
    assert wrong == []


def test_date_words_read_spans_at_each_precision():
    assert date_words("2025-09-to-11-x") == ("2025-09", "2025-11")
    assert date_words("2026-01-05-to-06-x") == ("2026-01-05", "2026-01-06")
    assert date_words("2024-12-to-2026-01-x") == ("2024-12", "2026-01")
    assert date_words("1973-syria-israel-war") == ("1973", "1973")
    assert date_words("paris-talks") is None


def test_aliases_of_events_lead_to_one_event_and_no_live_id(db):
    ids = {r["id"] for r in rows(db, "SELECT id FROM events")}
    owners = defaultdict(list)
    for r in rows(db, "SELECT id, aliases FROM events"):
        for alias in json.loads(r["aliases"]):
            owners[alias].append(r["id"])
    assert {a: o for a, o in owners.items() if len(o) > 1 or a in ids} == {}


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
    assert unreferenced(db, "event_types", "code", by="events", column="event_type") == []


# --- disagreements -----------------------------------------------------------------------


def voices(db, dispute_id: str) -> set[str]:
    """Who gives the answers to a question: claimants, or else the documents."""
    found = rows(db, "SELECT claimant_id, document_id FROM claims WHERE dispute_id = ?", (dispute_id,))
    return {c["claimant_id"] or f"document:{c['document_id']}" for c in found}


def test_every_dispute_has_two_positions_from_two_voices(db):
    problems = []
    for d in rows(db, "SELECT id FROM disputes"):
        positions = {p for (p,) in db.execute("SELECT position FROM claims WHERE dispute_id = ?", (d["id"],))}
        if len(positions) < 2:
            problems.append((d["id"], "fewer than two positions"))
        if len(voices(db, d["id"])) < 2:
            problems.append((d["id"], "fewer than two distinct voices"))
    assert problems == []


def test_every_claim_has_a_voice(db):
    """A reader always sees who says a claim: the claimant, or the document's
    outlet, or its title where the outlet is unknown."""
    silent = rows(
        db,
        """
        SELECT c.id FROM claims c
        JOIN documents d ON d.id = c.document_id
        LEFT JOIN actors a ON a.id = c.claimant_id
        WHERE trim(coalesce(a.name, d.outlet, d.title, '')) = ''""",
    )
    assert silent == []


def test_claims_answering_a_dispute_are_about_its_event(db):
    strays = rows(
        db,
        """
        SELECT c.id FROM claims c JOIN disputes d ON d.id = c.dispute_id
        WHERE d.event_id IS NOT NULL AND c.event_id IS NOT d.event_id""",
    )
    assert strays == []


def test_disputed_events_have_a_dispute_and_disputes_mark_their_event(db):
    unasked = rows(db, "SELECT id FROM events WHERE status = 'disputed' AND id NOT IN (SELECT event_id FROM disputes)")
    unmarked = rows(
        db,
        """
        SELECT e.id FROM events e JOIN disputes d ON d.event_id = e.id
        WHERE e.status <> 'disputed'""",
    )
    assert (unasked, unmarked) == ([], [])


def test_no_claim_is_recorded_twice(db):
    """The same statement from the same document and claimant is one claim,
    and one voice gives one answer to a question at most once."""
    seen = defaultdict(list)
    answers = defaultdict(list)
    for c in rows(db, "SELECT id, document_id, claimant_id, statement, dispute_id, position FROM claims"):
        seen[(c["document_id"], c["claimant_id"], fold(c["statement"]))].append(c["id"])
        if c["dispute_id"]:
            answers[(c["dispute_id"], c["position"], c["document_id"], c["claimant_id"])].append(c["id"])
    assert [ids for ids in seen.values() if len(ids) > 1] == []
    assert [ids for ids in answers.values() if len(ids) > 1] == []


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
    assert db.execute("SELECT count(*) FROM disputes").fetchone()[0] >= 5


# --- provenance ---------------------------------------------------------------------------


def test_every_event_field_and_actor_role_is_cited(db):
    """Date, place and every actor role each rest on a document the event cites,
    which says so in its supports; a citation says what it supports."""
    supports = defaultdict(set)
    for c in rows(db, "SELECT event_id, document_id, supports FROM event_documents"):
        fields = set(json.loads(c["supports"]))
        assert fields, (c["event_id"], c["document_id"], "supports nothing")
        supports[c["event_id"]] |= fields
        supports[(c["event_id"], c["document_id"])] = fields
    problems = []
    for e in rows(db, "SELECT id, place_id FROM events"):
        if "date" not in supports[e["id"]]:
            problems.append((e["id"], "date"))
        if e["place_id"] and "place" not in supports[e["id"]]:
            problems.append((e["id"], "place"))
    for a in rows(db, "SELECT event_id, actor_id, role, document_id FROM event_actor_documents"):
        if "actors" not in supports[(a["event_id"], a["document_id"])]:
            problems.append((a["event_id"], a["actor_id"], a["role"], a["document_id"]))
    assert problems == []
    unnamed = "SELECT * FROM event_actors EXCEPT SELECT ea.* FROM event_actors ea JOIN event_actor_documents d USING (event_id, actor_id, role)"
    assert rows(db, unnamed) == []


def test_curated_citations_say_what_they_support(db):
    """In sources/ every citation lists its supports and every actor row its
    document, even where the loader could fill them in from a sole citation:
    the re-read of the articles decided each one."""
    for path in sorted((SOURCES / "events").glob("*.yml")):
        text = path.read_text(encoding="utf-8")
        for line in text.splitlines():
            # An event's citation; an actor's own documents, nested deeper, support nothing.
            if line.startswith("      - {document_id:"):
                assert "supports:" in line, (path.name, line)
            if line.lstrip().startswith("- {actor_id:"):
                assert "document_id:" in line or "documents:" in line, (path.name, line)


def test_every_inferred_publication_date_is_marked(db):
    """A date the article does not print is marked inferred, with its window and
    how it was inferred, and is not shown as one exact day unless the window is
    one day; a printed date is given."""
    problems = []
    for d in rows(db, "SELECT * FROM documents"):
        if d["date_basis"] == "printed":
            if d["published_date"] is None:
                problems.append((d["id"], "printed but no date"))
        else:
            if not (d["published_earliest"] and d["date_inference"]):
                problems.append((d["id"], "inferred without window or reasoning"))
            if d["published_date"] is not None and d["published_earliest"] != d["published_latest"]:
                problems.append((d["id"], "an inferred window shown as one day"))
        if re.search(r"\binferred\b", d["notes"] or "") and d["date_basis"] != "inferred":
            problems.append((d["id"], "notes speak of an inference the date does not mark"))
    assert problems == []


def test_what_a_preview_says_is_marked(db):
    """A document an event cites as a preview names its actors as expected,
    not as attending: every role it backs there carries basis 'preview'."""
    unmarked = rows(
        db,
        """SELECT ead.event_id, ead.actor_id, ead.role, ead.document_id
           FROM event_actor_documents AS ead
           JOIN event_documents AS ed ON ed.event_id = ead.event_id AND ed.document_id = ead.document_id
           WHERE ed.basis = 'preview' AND ead.basis <> 'preview'""",
    )
    assert unmarked == []


ARCHIVE_NUMBER = re.compile(r"(?<![\w-])00[0-4](?![\w-])")


def test_no_reference_a_reader_sees_is_an_archive_number(db):
    """Readers cannot decode "000" or "003": documents are named by outlet or title."""
    found = []
    text_columns = {
        "events": ("title", "summary", "notes"),
        "event_actors": ("note",),
        "event_documents": ("note",),
        "claims": ("statement", "notes"),
        "disputes": ("question", "notes"),
        "actors": ("description", "notes"),
        "places": ("notes",),
        "documents": ("notes", "date_inference"),
    }
    for table, columns in text_columns.items():
        for column in columns:
            for (value,) in db.execute(f"SELECT {column} FROM {table}"):
                if value and ARCHIVE_NUMBER.search(value):
                    found.append((table, column, value[:60]))
    assert found == []


# --- documents ---------------------------------------------------------------------------


def test_every_document_is_cited_by_an_event(db):
    assert unreferenced(db, "documents", "id", by="event_documents", column="document_id") == []


def test_documents_point_at_archived_articles(db):
    docs = rows(db, "SELECT id, archive_ref, notes, outlet, published_date FROM documents")
    for d in docs:
        assert d["archive_ref"] and re.fullmatch(r"\d{3}_[0-9a-f]{16}\.txt", d["archive_ref"]), d["id"]
        if ARCHIVE is not None:  # the project's archive (seeds and archive), when it lies beside the checkout
            assert ARCHIVE.copy(d["archive_ref"]) is not None, d["id"]
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


def test_actor_parents_do_not_form_cycles(db):
    parent = {r["id"]: r["parent_id"] for r in rows(db, "SELECT id, parent_id FROM actors")}
    for start in parent:
        seen, node = set(), start
        while node is not None:
            assert node not in seen, f"cycle through {start}"
            seen.add(node)
            node = parent.get(node)


# --- the built database -----------------------------------------------------------------


def test_built_database_finds_every_spelling_by_full_text_search(dataset_db):
    con = sqlite3.connect(dataset_db)
    try:

        def hits(table, term):
            return {
                r[0]
                for r in con.execute(
                    f"SELECT t.id FROM {table}_fts JOIN {table} t ON t.rowid = {table}_fts.rowid WHERE {table}_fts MATCH ?",
                    (f'"{term}"',),
                )
            }

        assert "asaad-al-shaibani" in hits("actors", "Shibani")
        assert "ahmad-al-sharaa" in hits("actors", "Julani")
        assert "as-suwayda" in hits("places", "Suwayda")
        assert "as-suwayda-governorate" in hits("places", "Sweida province")
        # Both answers to the ceasefire question come back from the disputes view,
        # each from its own voice, and nothing that does not answer it.
        positions = con.execute(
            "SELECT position, said_by FROM dispute_positions WHERE dispute_id = 'july-2025-ceasefire-mediators'"
        ).fetchall()
        assert len(positions) == 2 and len({said for _, said in positions}) == 2
        shown, answering = con.execute(
            """SELECT (SELECT sum(claims) FROM dispute_positions),
                      (SELECT count(*) FROM claims WHERE dispute_id IS NOT NULL)"""
        ).fetchone()
        assert shown == answering
    finally:
        con.close()
