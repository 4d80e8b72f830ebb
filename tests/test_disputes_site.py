"""Disputes and provenance on the published site, in process: a real
Datasette with the project's metadata, templates and plugins over a database
built from the real sources/. Expected values come from SQL on the same file."""

from __future__ import annotations

import asyncio
import csv
import html
import io
import re
import sqlite3
from pathlib import Path

import httpx
import pytest
from datasette.app import Datasette

from tests.support.site import in_process_site

pytestmark = pytest.mark.dataset


@pytest.fixture(scope="module")
def ds(dataset_db: Path) -> Datasette:
    return in_process_site(dataset_db)


@pytest.fixture(scope="module")
def sql(dataset_db: Path):
    conn = sqlite3.connect(dataset_db)
    yield lambda query, params=(): conn.execute(query, params).fetchall()
    conn.close()


def get(ds: Datasette, path: str) -> httpx.Response:
    response = asyncio.run(ds.client.get(path))
    assert response.status_code == 200, (path, response.status_code, response.text[:500])
    return response


def test_disputes_json_and_csv_have_one_row_per_answer_and_only_answering_claims(ds, sql) -> None:
    expected = sql(
        """select d.id, c.position, count(*) from disputes d join claims c on c.dispute_id = d.id
           group by d.id, c.position order by d.question, d.id, c.position"""
    )
    found = get(ds, "/events/disputes_by_question.json?_shape=array&_size=max").json()
    assert [(r["dispute_id"], r["position"], r["claims"]) for r in found] == expected
    table = list(csv.DictReader(io.StringIO(get(ds, "/events/disputes_by_question.csv?_size=max").text)))
    assert [(r["dispute_id"], r["position"], int(r["claims"])) for r in table] == expected


def test_disputed_claims_name_a_voice_for_every_claim(ds, sql) -> None:
    found = get(ds, "/events/disputed_claims.json?_shape=array&_size=max").json()
    assert len(found) == sql("select count(*) from claims where dispute_id is not null")[0][0]
    assert all(r["said_by"] and r["said_by"].strip() for r in found)
    own_voice = [r for r in found if r["claimant_id"] is None]
    assert own_voice and all(r["said_by"] == (r["outlet"] or r["document_title"]) for r in own_voice)


def test_disputed_events_lists_the_answers_of_every_disputed_event(ds, sql) -> None:
    found = get(ds, "/events/disputed_events.json?_shape=array&_size=max").json()
    assert {r["event_id"] for r in found} == {e for (e,) in sql("select id from events where status = 'disputed'")}


def test_the_disputes_page_shows_every_question_and_answer(ds, sql) -> None:
    page = html.unescape(get(ds, "/events/disputes_by_question").text)
    for question, position, statement in sql(
        "select d.question, c.position, c.statement from disputes d join claims c on c.dispute_id = d.id"
    ):
        assert question in page and position in page and statement in page


def test_an_event_page_shows_its_disputes_and_the_documents_behind_each_fact(ds, sql) -> None:
    events = [e for (e,) in sql("select distinct event_id from disputes where event_id is not null order by 1")]
    assert events
    for event in events:
        page = html.unescape(get(ds, f"/events/events/{event}").text)
        for (question,) in sql("select question from disputes where event_id = ?", (event,)):
            assert question in page
        for name, role in sql(
            "select a.name, ea.role from event_actors ea join actors a on a.id = ea.actor_id where ea.event_id = ?",
            (event,),
        ):
            assert f"{name}, {role}" in page
        assert (
            page.count('class="provenance-actor"')
            == sql("select count(*) from event_actors where event_id = ?", (event,))[0][0]
        )


def test_event_provenance_marks_what_came_from_a_preview(ds, sql) -> None:
    """Every event with a preview among its citations: the view marks
    exactly the fields and actor roles that a preview backs."""
    events = sql(
        "select event_id from event_documents where basis = 'preview'"
        " union select event_id from event_actor_documents where basis = 'preview'"
    )
    assert events
    for (event,) in events:
        found = get(ds, f"/events/event_provenance.json?_shape=array&_size=max&event_id={event}").json()
        previewed = {(r["field"], r["actor_id"], r["role"], r["document_id"]) for r in found if r["basis"] == "preview"}
        expected = {
            (field, None, None, document)
            for field, document in sql(
                "select f.value, ed.document_id from event_documents ed join json_each(ed.supports) f"
                " where ed.event_id = ? and ed.basis = 'preview'",
                (event,),
            )
        } | {
            ("actors", actor, role, document)
            for actor, role, document in sql(
                "select actor_id, role, document_id from event_actor_documents where event_id = ? and basis = 'preview'",
                (event,),
            )
        }
        assert previewed == expected, event
        for row in found:
            inferred = sql("select date_basis = 'inferred' from documents where id = ?", (row["document_id"],))[0][0]
            assert ("(inferred" in row["published_label"]) == bool(inferred), row


def test_document_dates_say_inferred_windows_in_words(ds, sql) -> None:
    found = {r["document_id"]: r for r in get(ds, "/events/document_dates.json?_shape=array").json()}
    for document_id, basis, earliest, latest in sql(
        "select id, date_basis, published_earliest, published_latest from documents"
    ):
        label = found[document_id]["published_label"]
        if basis == "inferred":
            assert "inferred" in label and earliest in label
            assert (latest in label) if latest else "no later bound" in label
        else:
            assert "inferred" not in label


def test_an_event_page_dates_its_documents_as_printed_or_inferred(ds, sql) -> None:
    """The Documents table says when each document appeared; an undated one gets its inferred window, not "undated"."""
    ((event,),) = sql(
        """select ed.event_id from event_documents ed join documents d on d.id = ed.document_id
           group by ed.event_id order by sum(d.date_basis = 'inferred') desc, ed.event_id limit 1"""
    )
    page = get(ds, f"/events/events/{event}").text
    table = page[page.index('<table class="event-related documents">') :]
    table = html.unescape(table[: table.index("</table>")])
    cited = sql(
        """select d.id, d.date_basis, d.published_date, d.published_earliest, d.published_latest
           from event_documents ed join documents d on d.id = ed.document_id where ed.event_id = ?""",
        (event,),
    )
    assert any(basis == "inferred" for _, basis, *_ in cited) and "undated" not in table
    for document_id, basis, printed, earliest, latest in cited:
        row = table[table.index(f"/events/documents/{document_id}") :].split("</tr>", 1)[0]
        if basis == "inferred":
            assert "(inferred" in row and earliest in row and (latest or "no later bound") in row, document_id
        else:
            assert printed in row and "inferred" not in row, document_id


def test_the_cards_and_the_table_of_the_disputes_page_group_the_claims_alike(ds, sql) -> None:
    """One grouping, the dispute_positions view's: each card lists the view's
    answers to its question, each answer with the view's claims in its order."""
    page = get(ds, "/events/disputes_by_question").text
    cards = re.findall(r'<div class="dispute" id="dispute-([^"]+)">(.*?)\n</div>', page, re.S)
    assert cards
    for dispute, card in cards:
        expected = [
            (
                position,
                [
                    statement
                    for (statement,) in sql(
                        "select c.statement from json_each(?) as j join claims c on c.id = j.value order by j.key",
                        (ids,),
                    )
                ],
            )
            for position, ids in sql(
                "select position, claim_ids from dispute_positions where dispute_id = ? order by position", (dispute,)
            )
        ]
        shown = [
            (html.unescape(position), [html.unescape(s) for s in re.findall(r'<p class="statement">(.*?)</p>', claims)])
            for position, claims in re.findall(
                r'<h4 class="position">(.*?)</h4>(.*?)(?=<div class="dispute-position">|$)', card, re.S
            )
        ]
        assert shown == expected, dispute
