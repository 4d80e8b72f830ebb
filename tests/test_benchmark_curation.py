"""The curation benchmark's measurements on made-up records: what leaving a
document out removes, what the curators cited it for, and how a real
draft of its article scores against that. No timing is asserted here."""

from __future__ import annotations

from pathlib import Path

from benchmarks.curation import GENERATED as CURATION
from benchmarks.curation import Lookups, cited, leave_out, measure_article, report
from benchmarks.report import GENERATED, write
from loader.desk.records import from_directory

FIXTURES = Path(__file__).parent / "fixtures"
SOURCES = FIXTURES / "curation" / "sources"
GAZETTE = FIXTURES / "desk" / "archive" / "gazette-port-selim.txt"
DOCUMENT = "gazette-2031-03-05-port-selim-talks"


def test_what_the_curators_cited_a_document_for() -> None:
    found = cited(from_directory(SOURCES), DOCUMENT)
    assert found.actors == {"karim-al-haddad", "ezra-levin", "qadira", "norland", "ilse-marrow"}
    assert found.places == {"port-selim", "north-banks"}
    assert found.events == {
        "2031-03-04-port-selim-haddad-meets-levin",
        "2029-north-banks-fishing-boats-clash",
        "2031-04-talks-next-round",
    }
    assert found.dated["2031-03-04-port-selim-haddad-meets-levin"][2] == {4}


def test_leaving_a_document_out_removes_what_only_it_supports(tmp_path: Path) -> None:
    leave_out(SOURCES, DOCUMENT, tmp_path)
    store = from_directory(tmp_path)
    assert set(store.tables["documents"]) == {"levin-interview-2031-03"}
    assert set(store.tables["events"]) == {
        "2031-03-04-port-selim-haddad-meets-levin",
        "2031-04-talks-next-round",
        "2025-port-selim-first-talks",
    }
    assert set(store.tables["actors"]) == {"karim-al-haddad", "ezra-levin"}
    assert set(store.tables["places"]) == {"port-selim"}
    meeting = store.tables["events"]["2031-03-04-port-selim-haddad-meets-levin"]
    assert {a["document_id"] for a in meeting["actors"]} == {"levin-interview-2031-03"}
    assert meeting["claims"] == [] and store.tables["claims"] == {}


def test_a_draft_scored_against_the_records(tmp_path: Path) -> None:
    article = measure_article(SOURCES, from_directory(SOURCES), DOCUMENT, GAZETTE)
    assert article.known == {"actor:karim-al-haddad", "actor:ezra-levin", "place:port-selim"}
    assert article.found == article.known
    assert article.events == {"2031-03-04-port-selim-haddad-meets-levin", "2031-04-talks-next-round"}
    assert article.offered == article.events
    # Precision: every actor and place it lists is cited for the article; of the three events
    # it offers first, the 2025 talks are background the curators did not cite it on.
    assert (len(article.found), article.listed) == (3, 3)
    assert (len(article.offered_top), article.proposed_top) == (2, 3)
    # "on Tuesday" is the meeting's day, "to 2029" the clash's year, "next month" the April round.
    assert (article.dated, article.dated_right) == (3, 3)
    assert article.document_date == "printed" and article.document_date_right
    assert article.copied == 0
    text = report([article], Lookups(2, 1, [("Levine", "actor:ezra-levin", "nothing")], 0.01, 0.01), 0.5)
    offered = f"{len(article.offered)} ({len(article.offered_top)}) of 2"
    assert f"| gazette-2031-03-05-port-selim-talks | 3 of 3 | {offered}" in text
    assert "| 3 of 3 | printed: right | 0 | 3 of 3; 2 of 3 |" in text
    assert (
        "draft lists, cited for the article: **100%** (3 of 3); of the events it offers first, cited on it: **67%**"
        in text
    )
    assert "ranked first for **50%**; target ≥ 95%: **missed**" in text
    # The curation part is written between its own markers, beside the other parts' figures.
    out = tmp_path / "performance.md"
    write(out, "main figures")
    write(out, text, CURATION)
    write(out, "new main figures")
    written = out.read_text()
    assert f"{GENERATED[0]}\nnew main figures\n{GENERATED[1]}" in written
    assert f"{CURATION[0]}\n{text}\n{CURATION[1]}" in written
