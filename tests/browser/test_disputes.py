"""Disputes and provenance as a reader sees them, in a real Chromium against
the real `serve` of the real sources/: an event page's questions with their
answers side by side, the documents behind its date, place and each actor
role, and the disputes page. Expected values come from SQL on the served file."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.site_helpers import serving

pytestmark = pytest.mark.browser

SOURCES = Path(__file__).resolve().parents[2] / "sources"
# The events looked at are chosen by what they hold, never by id, so that a
# curator's correct change to the records cannot break these tests.
MOST_DISPUTED = """select event_id from disputes where event_id is not null
                   group by event_id order by count(*) desc, event_id limit 1"""
# The event with the most claims and documents, whose page's tables are the fullest.
MOST_EVIDENCE = "select id from event_list order by claims + documents desc, id limit 1"
PREVIEWED = "select event_id from event_actor_documents where basis = 'preview' order by event_id limit 1"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    # Named events.db because metadata.yml describes the database "events".
    db = tmp_path_factory.mktemp("real") / "events.db"
    with serving(SOURCES, db) as base:
        yield base, db


@pytest.fixture(scope="module")
def site(served) -> str:
    return served[0]


@pytest.fixture(scope="module")
def sql(served):
    conn = sqlite3.connect(served[1])
    yield lambda query, params=(): conn.execute(query, params).fetchall()
    conn.close()


def test_event_page_sets_each_disputes_answers_side_by_side(page, site: str, sql) -> None:
    ((event,),) = sql(MOST_DISPUTED)
    page.goto(f"{site}/events/events/{event}")
    disputes = sql("select id, question from disputes where event_id = ? order by id", (event,))
    shown = page.locator(".dispute")
    assert shown.count() == len(disputes) >= 1
    for dispute_id, question in disputes:
        block = page.locator(f"#dispute-{dispute_id}")
        assert question in block.locator(".dispute-question").inner_text()
        answers = sql(
            """select c.position, c.statement, c.stance, coalesce(a.name, d.outlet, d.title), d.title
               from claims c join documents d on d.id = c.document_id left join actors a on a.id = c.claimant_id
               where c.dispute_id = ? order by c.position, c.id""",
            (dispute_id,),
        )
        # One card a position, side by side, holding every claim that gives it.
        by_position: dict[str, list[tuple]] = {}
        for position, *claim in answers:
            by_position.setdefault(position, []).append(tuple(claim))
        positions = block.locator(".dispute-position")
        assert positions.count() == len(by_position) >= 2
        boxes = [positions.nth(i).bounding_box() for i in range(positions.count())]
        # Side by side: one row, left to right.
        assert len({round(b["y"]) for b in boxes}) == 1
        assert sorted(b["x"] for b in boxes) == [b["x"] for b in boxes] and boxes[0]["x"] < boxes[1]["x"]
        for i, (position, claims) in enumerate(by_position.items()):
            card = positions.nth(i)
            assert card.locator(".position").inner_text() == position
            assert card.locator(".statement").all_inner_texts() == [statement for statement, *_ in claims]
            # A document speaking in its own voice is named once: "said by the article TITLE".
            assert card.locator(".said-by").all_inner_texts() == [s for _, _, s, title in claims if s != title]
            for _, _, said_by, title in claims:
                if said_by == title:
                    assert f"Said by the article {title}" in card.inner_text()
            assert card.locator(".stance").all_inner_texts() == [stance for _, stance, _, _ in claims]
            assert card.locator("a.document").all_inner_texts() == [title for *_, title in claims]
    # Only claims that answer a question sit in the disputes.
    answering = sql(
        "select count(*) from claims c join disputes d on d.id = c.dispute_id where d.event_id = ?", (event,)
    )
    assert page.locator(".dispute-claim").count() == answering[0][0]


def test_event_page_names_the_documents_behind_date_place_and_each_role(page, site: str, sql) -> None:
    ((event,),) = sql(MOST_DISPUTED)
    page.goto(f"{site}/events/events/{event}")
    table = page.locator("table.provenance")
    date_docs = sql(
        """select coalesce(d.outlet, d.title) from event_documents ed, json_each(ed.supports) f
           join documents d on d.id = ed.document_id where ed.event_id = ? and f.value = 'date'""",
        (event,),
    )
    date_row = table.locator(".provenance-date").inner_text()
    assert date_docs and all(name in date_row for (name,) in date_docs)
    ((date_label,),) = sql("select date_label from event_list where id = ?", (event,))
    assert date_label in date_row
    place = sql("select p.name from events e join places p on p.id = e.place_id where e.id = ?", (event,))
    place_docs = sql(
        """select coalesce(d.outlet, d.title) from event_documents ed, json_each(ed.supports) f
           join documents d on d.id = ed.document_id where ed.event_id = ? and f.value = 'place'""",
        (event,),
    )
    if place:
        place_row = table.locator(".provenance-place").inner_text()
        assert place[0][0] in place_row and all(name in place_row for (name,) in place_docs)
    roles = sql(
        """select a.name, ead.role, coalesce(d.outlet, d.title) from event_actor_documents ead
           join actors a on a.id = ead.actor_id join documents d on d.id = ead.document_id
           where ead.event_id = ? order by a.name""",
        (event,),
    )
    rows = table.locator(".provenance-actor")
    assert rows.count() == len({(name, role) for name, role, _ in roles})
    texts = rows.all_inner_texts()
    for name, role, document in roles:
        assert any(f"{name}, {role}" in t and document in t for t in texts), (name, role)
    # Each document links to its record, which shows how its date was worked out.
    table.locator(".provenance-date a").first.click()
    page.wait_for_url("**/events/documents/**")


def test_what_a_preview_said_ahead_of_the_event_is_marked(page, site: str, sql) -> None:
    ((event,),) = sql(PREVIEWED)
    page.goto(f"{site}/events/events/{event}")
    previewed = sql(
        "select a.name from event_actor_documents ead join actors a on a.id = ead.actor_id"
        " where event_id = ? and basis = 'preview'",
        (event,),
    )
    assert previewed
    for (name,) in previewed:
        row = page.locator(".provenance-actor", has_text=name)
        assert "from a preview" in row.inner_text()
    date_bases = sql(
        """select ed.basis, ed.inferred from event_documents ed, json_each(ed.supports) f
           where ed.event_id = ? and f.value = 'date'""",
        (event,),
    )
    date_row = page.locator(".provenance-date").inner_text()
    if any(basis == "preview" for basis, _ in date_bases):
        assert "from a preview" in date_row


def test_disputes_page_sets_every_question_with_its_answers(page, site: str, sql) -> None:
    page.goto(f"{site}/events/disputes_by_question")
    questions = sql("select id, question, event_id from disputes order by question, id")
    shown = page.locator(".dispute")
    assert shown.count() == len(questions) >= 1
    for i, (dispute_id, question, event_id) in enumerate(questions):
        block = shown.nth(i)
        assert block.get_attribute("id") == f"dispute-{dispute_id}"
        assert question in block.locator(".dispute-question").inner_text()
        positions = sql(
            "select position, count(*) from claims where dispute_id = ? group by position order by position",
            (dispute_id,),
        )
        assert block.locator(".position").all_inner_texts() == [p for p, _ in positions]
        assert block.locator(".dispute-claim").count() == sum(n for _, n in positions)
        if event_id:
            assert block.locator(".dispute-event a").get_attribute("href").endswith(f"/events/events/{event_id}")
        # An article with no outlet speaking in its own voice is named once, not "said by TITLE in TITLE".
        text = block.inner_text()
        for (title,) in sql(
            "select document_title from disputed_claims where dispute_id = ? and said_by = document_title",
            (dispute_id,),
        ):
            assert f"Said by the article {title}" in text and f"Said by {title} in" not in text
    # From a question to its event.
    shown.first.locator(".dispute-event a").click()
    page.wait_for_url(f"**/events/events/{questions[0][2]}")


def test_disputes_page_lists_every_answer_grouped_by_question(page, site: str, sql) -> None:
    page.goto(f"{site}/events/disputes_by_question")
    page.locator("#as-a-table summary").click()
    header = [h.strip() for h in page.locator("table.rows-and-columns th").all_inner_texts()]
    cells = page.locator("table.rows-and-columns tbody tr")
    expected = sql(
        """select d.question, c.position from disputes d join claims c on c.dispute_id = d.id
           group by d.id, c.position order by d.question, d.id, c.position"""
    )
    assert cells.count() == len(expected)
    shown = []
    for i in range(cells.count()):
        values = dict(zip(header, cells.nth(i).locator("td").all_inner_texts(), strict=True))
        shown.append((values["question"], values["position"]))
    assert shown == expected
    # Grouped: each question's rows are next to each other.
    questions = [q for q, _ in shown]
    assert questions == sorted(questions, key=questions.index)
    # The same page as CSV and JSON, with only the claims that answer each question.
    with urllib.request.urlopen(f"{site}/events/disputes_by_question.csv?_size=max") as response:
        table = list(csv.DictReader(io.StringIO(response.read().decode("utf-8"))))
    assert [(r["question"], r["position"]) for r in table] == expected
    assert sum(int(r["claims"]) for r in table) == sql("select count(*) from claims where dispute_id is not null")[0][0]
    with urllib.request.urlopen(f"{site}/events/disputes_by_question.json?_shape=array&_size=max") as response:
        assert [(r["question"], r["position"]) for r in json.load(response)] == expected


# The words of a page's table cells that the browser broke across two lines,
# hyphenated ones (al-Shaibani, 2025-08-19) left out, as they break at a hyphen.
SPLIT_WORDS = """() => {
  const split = [], range = document.createRange();
  for (const td of document.querySelectorAll("main td")) {
    const walker = document.createTreeWalker(td, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      for (const m of n.data.matchAll(/[^\\s-]{3,}/g)) {
        range.setStart(n, m.index); range.setEnd(n, m.index + m[0].length);
        if (new Set([...range.getClientRects()].map(r => Math.round(r.top))).size > 1) split.push(m[0]);
      }
    }
  }
  return split;
}"""


def test_an_event_pages_tables_never_break_a_word(browser, site: str, sql) -> None:
    """At 1366 px the event page's cells broke "participa / nt", "mediato / r"
    (issue 27): a word breaks only where it could not fit a line at all."""
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    page = context.new_page()
    ((event,),) = sql(MOST_EVIDENCE)
    page.goto(f"{site}/events/events/{event}")
    assert page.locator("main table.event-related td").count() > 0
    split = page.evaluate(SPLIT_WORDS)
    context.close()
    assert split == []
