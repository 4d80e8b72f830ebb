"""The locators on the site: an event page shows "¶ N" beside each source,
and a document's page lists what each of its paragraphs is cited for, in
paragraph order; the published fixture, built with its archive."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from loader.build.database import build
from loader.records.archive import Archive
from tests.conftest import FIXTURES, published_sources
from tests.support.site import in_process_site, page_text


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory):
    directory = tmp_path_factory.mktemp("evidence")
    db = directory / "events.db"
    build(published_sources(directory / "sources"), db, archive=Archive((FIXTURES / "archive",)))
    return in_process_site(db)


def test_an_event_page_shows_each_sources_outlet_date_paragraphs_and_address(site) -> None:
    text = page_text(site, "/events/events/2025-08-19-paris-shaibani-dermer")
    documents = text.split('class="event-related documents"', 1)[1].split("</table>", 1)[0]
    cradle = documents[documents.index("/events/documents/cradle-paris-confirmation") :].split("</tr>", 1)[0]
    assert "The Cradle" in cradle and "2025-08-20" in cradle
    assert re.findall(r'title="paragraph (\d) of the archived copy; text hash (\w+)">¶&nbsp;\d', cradle) == [
        ("2", "d93a2d5b"),
        ("3", "0ca8d0d5"),
    ]
    assert "no public address known" in cradle
    claims = text.split('class="event-related claims"', 1)[1].split("</table>", 1)[0]
    assert "¶&nbsp;4" in claims


def test_an_event_page_shows_what_is_inferred_or_from_outside_the_documents(tmp_path: Path) -> None:
    sources = published_sources(tmp_path / "sources")
    paris = sources / "events" / "paris.yml"
    paris.write_text(
        paris.read_text().replace(
            "    status: disputed\n",
            "    status: disputed\n    inferred: [date]\n    outside_knowledge: Where Paris lies.\n"
            "    date_inference: The day is worked out from a weekday.\n",
        )
    )
    build(sources, tmp_path / "events.db")
    text = page_text(in_process_site(tmp_path / "events.db"), "/events/events/2025-08-19-paris-shaibani-dermer")
    assert "not said by a document:</em> date." in text and "From outside the documents:</em> Where Paris lies." in text


def test_an_event_page_says_whom_each_second_hand_document_relays(tmp_path: Path) -> None:
    """via on a citation, an actor's role and a claim: the page names the relayed actor beside each."""
    sources = published_sources(tmp_path / "sources")
    paris = sources / "events" / "paris.yml"
    text = paris.read_text()
    for old, new in (
        ("note: SANA's confirmation, paragraphs", "via: [sana], note: SANA's confirmation, paragraphs"),
        (
            "document_id: cradle-paris-confirmation, paragraphs",
            "document_id: cradle-paris-confirmation, via: [sana], paragraphs",
        ),
        ("        claimant_id: sana\n", "        claimant_id: asaad-al-shaibani\n        via: [sana]\n"),
    ):
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    paris.write_text(text)
    build(sources, tmp_path / "events.db")
    site = in_process_site(tmp_path / "events.db")
    page = page_text(site, "/events/events/2025-08-19-paris-shaibani-dermer")

    documents = page.split('class="event-related documents"', 1)[1].split("</table>", 1)[0]
    rows = {row.split('href="/events/documents/', 1)[1].split('"', 1)[0]: row for row in documents.split("<tr>")[2:]}
    assert '<span class="relays">(second-hand, from SANA)</span>' in rows["cradle-paris-confirmation"]
    assert "relays" not in rows["newarab-paris-meeting"]

    (actor,) = [r for r in re.findall(r'<tr class="provenance-actor">(.*?)</tr>', page, re.S) if "Shaibani" in r]
    assert '<span class="relays">second-hand, from SANA</span>' in actor
    (date,) = re.findall(r'<tr class="provenance-date">(.*?)</tr>', page, re.S)
    assert "second-hand, from SANA" in date

    claims = page.split('class="event-related claims"', 1)[1].split("</table>", 1)[0]
    assert 'Asaad al-Shaibani</a> <span class="relays">(through SANA)</span>' in claims
    dispute = page.split('id="dispute-paris-first-direct-talks"', 1)[1]
    assert re.search(
        r'class="said-by"[^>]*>Asaad al-Shaibani</a> <span class="relays">through SANA</span> in\s', dispute
    )
    evidence = page_text(
        site,
        "/events/event_evidence.json?event_id=2025-08-19-paris-shaibani-dermer&relays=SANA&_shape=array",
    )
    assert '"claim_id": "sana-first-official-announcement"' in evidence
    # The tables' own pages name the relayed actor, linked, not its id.
    table = page_text(site, "/events/event_documents?document_id=cradle-paris-confirmation")
    assert '<td class="col-via type-str" data-column="Via"><a href="/events/actors/sana">SANA</a></td>' in table


def test_a_document_page_lists_what_each_paragraph_supports_in_order(site) -> None:
    text = page_text(site, "/events/documents/newarab-paris-meeting")
    table = text.split('class="document-citations"', 1)[1].split("</table>", 1)[0]
    paragraphs = [int(n) for n in re.findall(r"¶&nbsp;(\d+)", table)]
    assert paragraphs == sorted(paragraphs) and paragraphs[0] == 2 and 5 in paragraphs
    assert "claim: Earlier encounters between the two sides had already taken place." in table
    assert "Ron Dermer as participant" in table
    assert table.count('href="/events/events/2025-08-19-paris-shaibani-dermer"') >= 3
    assert "no public address known" in text


def test_a_role_backed_by_a_report_and_a_preview_shows_both(site) -> None:
    """tests/fixtures/publish: Shaibani's part in the Moscow visit rests on SANA's report and Reuters' preview."""
    text = page_text(site, "/events/events/2025-07-30-to-31-shaibani-visits-moscow")
    (row,) = re.findall(r'<tr class="provenance-actor">(.*?)</tr>', text, re.S)
    assert "Asaad al-Shaibani, participant" in row
    assert "/events/documents/sana-sweida-denial" in row and "/events/documents/reuters-sweida-clashes" in row
    assert row.count("from a preview, before the event") == 1
    for document, locator in (("sana-sweida-denial", "2:f9065599"), ("reuters-sweida-clashes", "2:bd1924b7")):
        cited = page_text(site, f"/events/document_citations.json?document_id={document}&kind=actor&_shape=array")
        assert f'"locator": "{locator}"' in cited and "Asaad al-Shaibani as participant" in cited


def test_the_locators_are_in_the_tables_and_views(site) -> None:
    text = page_text(site, "/events/document_citations.json?document_id=cradle-paris-confirmation&_shape=array")
    assert '"locator": "1:a6a5d45c"' in text and '"kind": "date"' in text
