"""Check that every curated fact leads back to a document, and that every
disagreement is recorded as a question with at least two answers.

A reader who doubts an event's date, place or an actor's role needs the
article that says it; a reader who sees a dispute needs each answer and who
gives it. These rules span several records (an event, its documents, its
actors, its claims and disputes), so no CHECK in schema.sql can state them.
They run on the curated records only: imported events carry their origin's
own provenance.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from ..problems import Problem
from ..rules import Record

# What must be supported by at least one of an event's documents, and the
# field a missing one is reported against.
REQUIRED_SUPPORT = {"date": "start_date", "place": "place_id"}


def _by_table(records: Iterable[Record]) -> dict[str, list[Record]]:
    tables: dict[str, list[Record]] = defaultdict(list)
    for record in records:
        tables[record.table].append(record)
    return tables


def _curated_events(tables: dict[str, list[Record]]) -> dict[str, Record]:
    return {e.values["id"]: e for e in tables["events"] if isinstance(e.values.get("id"), str)}


def _fold(text: str) -> str:
    """A statement reduced to its words, so a claim copied with other spacing or
    punctuation is still seen as the same claim."""
    return " ".join(re.findall(r"\w+", text.casefold()))


def voice(claim: dict[str, Any]) -> str:
    """Who a reader should take to be saying a claim: its claimant, or else its
    document (as the views show it: by outlet, or by title)."""
    if claim.get("claimant_id"):
        return f"actor:{claim['claimant_id']}"
    return f"document:{claim.get('document_id')}"


def _role(record: Record) -> tuple[Any, Any, Any]:
    return record.values.get("event_id"), record.values.get("actor_id"), record.values.get("role")


def _fill_sole_citation(tables: dict[str, list[Record]]) -> list[Record]:
    """An event's only document supports whatever the event records, unless its
    citation says otherwise: nothing else can. Writing that out would only
    repeat it, so the citation's supports and the document naming each of
    its actors (with the citation's paragraphs as theirs) are filled in, and
    the database shows them like any others. Returns the actors' citations
    it made."""
    citations: dict[Any, list[Record]] = defaultdict(list)
    for citation in tables["event_documents"]:
        citations[citation.values.get("event_id")].append(citation)
    actors: dict[Any, list[Record]] = defaultdict(list)
    for row in tables["event_actors"]:
        actors[row.values.get("event_id")].append(row)
    naming: dict[tuple[Any, Any, Any], list[Record]] = defaultdict(list)
    for named in tables["event_actor_documents"]:
        naming[_role(named)].append(named)
    made = []
    for event_id, event in _curated_events(tables).items():
        if len(citations[event_id]) != 1 or "supports" in citations[event_id][0].lines:
            continue
        citation = citations[event_id][0]
        fields = ["occurrence", "date"]
        if event.values.get("place_id") is not None:
            fields.append("place")
        if actors[event_id]:
            fields.append("actors")
        citation.values["supports"] = fields
        for row in actors[event_id]:
            if not naming[_role(row)]:
                key = dict(zip(("event_id", "actor_id", "role"), _role(row), strict=True))
                named = Record("event_actor_documents", key, row.path, row.line, row.label)
                naming[_role(row)].append(named)
                made.append(named)
            for named in naming[_role(row)]:
                if "document_id" not in named.lines:
                    named.values["document_id"] = citation.values.get("document_id")
                    if "paragraphs" not in named.lines and citation.values.get("paragraphs") is not None:
                        named.values["paragraphs"] = citation.values["paragraphs"]
    return made


def _event_problems(tables: dict[str, list[Record]], reported: set[tuple[str, str]]) -> list[Problem]:
    # An event already reported (a duplicate id, a bad date, no documents)
    # would only be reported again here, in other words.
    ids = [e.values.get("id") for e in tables["events"]]
    cited = {c.values.get("event_id") for c in tables["event_documents"]}
    events = {
        event_id: event
        for event_id, event in _curated_events(tables).items()
        if ids.count(event_id) == 1 and event_id in cited and (event.path, event.label) not in reported
    }
    supports: dict[tuple[Any, Any], set[str]] = {}
    for citation in tables["event_documents"]:
        event_id, document_id = citation.values.get("event_id"), citation.values.get("document_id")
        fields = set(citation.values.get("supports") or [])
        supports[(event_id, document_id)] = fields
    problems = []
    for citation in tables["event_documents"]:
        if citation.values.get("event_id") in events and not citation.values.get("supports"):
            problems.append(
                citation.problem(
                    "supports",
                    "say what this document supports about the event, as a list such as [occurrence, date, place]",
                )
            )
    for event_id, event in events.items():
        given = set().union(*(f for (e, _), f in supports.items() if e == event_id))
        for support, column in REQUIRED_SUPPORT.items():
            if column == "place_id" and event.values.get("place_id") is None:
                continue
            if support not in given:
                value = event.values.get(column)
                problems.append(
                    event.problem(
                        column,
                        f"no document supports the {support} ('{value}'): add {support} to the supports "
                        "of a document in this event's documents that gives it",
                    )
                )
    named = {_role(r) for r in tables["event_actor_documents"]}
    for row in tables["event_actors"]:
        if row.values.get("event_id") in events and _role(row) not in named:
            who = f"{row.values.get('actor_id')} as {row.values.get('role')}"
            problems.append(row.problem("document_id", f"name the document that names {who}"))
    for citation in tables["event_actor_documents"]:
        event_id, document_id = citation.values.get("event_id"), citation.values.get("document_id")
        who = f"{citation.values.get('actor_id')} as {citation.values.get('role')}"
        if event_id not in events:
            continue
        if document_id is None:
            problems.append(citation.problem("document_id", f"name the document that names {who}"))
        elif (event_id, document_id) not in supports:
            problems.append(
                citation.problem("document_id", f"'{document_id}' is not among this event's documents; cite it there")
            )
        elif "actors" not in supports[(event_id, document_id)]:
            problems.append(
                citation.problem(
                    "document_id",
                    f"'{document_id}' names {who}, so its entry in this event's documents must list actors in supports",
                )
            )
    return problems


def _claim_problems(tables: dict[str, list[Record]]) -> list[Problem]:
    problems = []
    seen: dict[tuple, Record] = {}
    for claim in tables["claims"]:
        statement = claim.values.get("statement")
        if not isinstance(statement, str):
            continue
        key = (claim.values.get("document_id"), claim.values.get("claimant_id"), _fold(statement))
        if key in seen:
            first = seen[key]
            problems.append(
                claim.problem(
                    "statement",
                    f"the same statement from the same document and claimant is already claim "
                    f"'{first.label}' ({first.path}:{first.line}); one statement is one claim",
                )
            )
        else:
            seen[key] = claim

    answers: dict[Any, list[Record]] = defaultdict(list)
    for claim in tables["claims"]:
        if claim.values.get("dispute_id"):
            answers[claim.values["dispute_id"]].append(claim)
    for dispute in tables["disputes"]:
        claims = answers.get(dispute.values.get("id"), [])
        positions = {c.values.get("position") for c in claims}
        voices = {voice(c.values) for c in claims}
        if len(positions) < 2:
            problems.append(
                dispute.problem(
                    "question",
                    f"a dispute needs claims giving at least two positions; it has {len(positions)}",
                )
            )
        elif len(voices) < 2:
            problems.append(
                dispute.problem("question", "all its positions come from one voice: that is no dispute between sources")
            )
        event_id = dispute.values.get("event_id")
        for claim in claims:
            if event_id is not None and claim.values.get("event_id") != event_id:
                problems.append(
                    claim.problem(
                        "dispute_id",
                        f"answers dispute '{dispute.label}' about event '{event_id}', "
                        f"but the claim is about '{claim.values.get('event_id')}'",
                    )
                )
    return problems


def check(records: list[Record], already: Iterable[Problem] = ()) -> list[Problem]:
    """Every fact without a document behind it, and every dispute that is not
    one. Fills in what an event's sole citation implies, adding to records
    the actors' citations it makes, so call it before the records are
    loaded. Events with a problem already found are left alone."""
    tables = _by_table(records)
    made = _fill_sole_citation(tables)
    records += made
    tables["event_actor_documents"] += made
    reported = {(p.path, p.record) for p in already}
    return _event_problems(tables, reported) + _claim_problems(tables)
