"""Check that every citation leads to the passage that says it, and the rules
about what a document can be cited for.

The store promises every fact traceable to the article that says it. A
citation carries locators, "N:HASH", into its document's archived copy
(loader/records/archive.py); here every curated citation must have them, written
right, and when the archive is at hand each must name a paragraph that
exists and still has the text it was taken from, in a copy whose SHA-256 is
the one recorded.

The rules below are the ones a reader cannot check from a page alone, so
the validator does:

- a claim's voice is whoever makes it, never the outlet of the document
  that reports it (the outlet is the document);
- a preview supports only what it announces: not an outcome nor casualties,
  and the actors it names are named as expected (basis: preview);
- an inference or outside knowledge that the prose admits is marked in a
  field (inferred, outside_knowledge), where pages and queries can see it;
- a date a claim's statement names is written in the paragraphs the claim
  cites, or is no more precise than its document's own date allows (a
  document known only to within a month cannot date a day).

They run on the curated records only: imports carry no locators.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from typing import Any

from ..problems import Problem
from ..rules import Record
from .archive import Archive, parse_locator

# Where each kind of record keeps its locators, and what they are for.
LOCATED = {
    "event_documents": ("paragraphs", "the paragraphs of the document that say what it is cited for"),
    "event_actor_documents": ("paragraphs", "the paragraphs of document_id that name the actor in this role"),
    "claims": ("paragraphs", "the paragraphs of the document that make the claim"),
    "documents": ("date_paragraphs", "the paragraphs its date rests on (an empty list if the copy has none)"),
    "event_relations": ("paragraphs", "the paragraphs of document_id that say how the two events are related"),
}
EXAMPLE = 'such as ["5:3fa2b1c0"] (python -m loader paragraphs FILE lists them)'

# What a preview, written before the event, cannot know.
NOT_FROM_A_PREVIEW = ("outcome", "casualties")

INFERENCE = re.compile(r"\binferr?(?:ed|ence|ing|s)?\b", re.IGNORECASE)
OUTSIDE = re.compile(r"\b(?:outside|general) knowledge\b", re.IGNORECASE)

MONTHS = "january february march april may june july august september october november december".split()
# Month names as written, capitalised, so that "may" is not taken for May.
MONTH = r"(January|February|March|April|May|June|July|August|September|October|November|December)"
# A date as statements write it: 19 August 2025, August 19, 2025, August 2025, August, 2025, 2025-08-19.
DATE_MENTIONS = re.compile(
    rf"\b(?:(?P<iso>(?:19|20)\d\d-\d\d-\d\d)"
    rf"|(?P<d1>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?{MONTH.replace('(', '(?P<m1>', 1)}(?:,?\s+(?P<y1>(?:19|20)\d\d))?"
    rf"|{MONTH.replace('(', '(?P<m2>', 1)}(?:\s+(?P<d2>\d{{1,2}})(?:st|nd|rd|th)?\b)?(?:,?\s+(?P<y2>(?:19|20)\d\d))?"
    rf"|(?P<y3>(?:19|20)\d\d))\b"
)
PRECISION = {"day": 3, "month": 2, "year": 1, "none": 0}


def check(records: Iterable[Record], archive: Archive | None) -> list[Problem]:
    """Every missing or wrong locator, and every broken rule; locators against
    the archive only when there is one."""
    tables: dict[str, list[Record]] = defaultdict(list)
    for record in records:
        tables[record.table].append(record)
    documents = {d.values["id"]: d for d in tables["documents"] if isinstance(d.values.get("id"), str)}
    problems = _locator_problems(tables, documents, archive)
    problems += _claimant_problems(tables, documents)
    problems += _preview_problems(tables)
    problems += _inference_problems(tables)
    if archive is not None:
        problems += _date_problems(tables, documents, archive)
    return problems


def _document_of(record: Record) -> Any:
    return record.values.get("id") if record.table == "documents" else record.values.get("document_id")


def _locator_problems(
    tables: dict[str, list[Record]], documents: dict[Any, Record], archive: Archive | None
) -> list[Problem]:
    problems = []
    for document in documents.values():
        for column in ("archive_ref", "archive_sha256"):
            if document.values.get(column) is None and column not in document.mistyped:
                what = "the archived file's name" if column == "archive_ref" else "the archived file's SHA-256"
                problems.append(document.problem(column, f"is required: {what}, so that its citations can be located"))
    unarchived: set[str] = set()
    if archive is not None:
        for document_id, document in documents.items():
            ref = document.values.get("archive_ref")
            if not isinstance(ref, str):
                unarchived.add(document_id)
                continue
            copy = archive.copy(ref)
            if copy is None:
                unarchived.add(document_id)
                problems.append(
                    document.problem("archive_ref", f"'{ref}' is not in the archive ({archive.describe()})")
                )
            elif (recorded := document.values.get("archive_sha256")) is not None and recorded != copy.sha256:
                problems.append(
                    document.problem(
                        "archive_sha256",
                        f"the archived copy '{ref}' has SHA-256 {copy.sha256}, not the one recorded: it is not "
                        "the copy the locators were taken from; re-check every locator against it",
                    )
                )
    for table, (column, meaning) in LOCATED.items():
        for record in tables[table]:
            # A relation that cites no document has no paragraphs (schema.sql holds it to that, and
            # to being marked inferred).
            if column in record.mistyped or (table == "event_relations" and "document_id" not in record.values):
                continue
            given = record.values.get(column)
            if given is None:
                problems.append(record.problem(column, f"is required: list {meaning}, {EXAMPLE}"))
                continue
            if not given and column == "paragraphs":
                problems.append(record.problem(column, f"must not be empty: list {meaning}, {EXAMPLE}"))
            seen: set[str] = set()
            for value in given:
                parsed = parse_locator(value)
                if parsed is None:
                    problems.append(
                        record.problem(
                            column,
                            f"'{value}' is not a locator: write the paragraph's number and hash as N:HASH, {EXAMPLE}",
                        )
                    )
                    continue
                if value in seen:
                    problems.append(record.problem(column, f"lists {value} twice"))
                seen.add(value)
                document_id = _document_of(record)
                if archive is None or document_id not in documents or document_id in unarchived:
                    continue
                copy = archive.copy(documents[document_id].values["archive_ref"])
                assert copy is not None  # documents not in the archive are in unarchived
                number, recorded = parsed
                actual = copy.hash_of(number)
                if actual is None:
                    problems.append(
                        record.problem(
                            column,
                            f"{value}: '{copy.path.name}' has no paragraph {number}; it has {len(copy.paragraphs)}",
                        )
                    )
                elif actual != recorded:
                    problems.append(
                        record.problem(
                            column,
                            f"{value}: paragraph {number} of '{copy.path.name}' hashes to {actual}: "
                            "it is not the text this locator was taken from",
                        )
                    )
    return problems


def _fold(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.casefold()))


def _claimant_problems(tables: dict[str, list[Record]], documents: dict[Any, Record]) -> list[Problem]:
    """A claim whose claimant is the outlet of its own document: the outlet
    speaks in its own voice by leaving claimant_id out, and anyone it quotes
    is the claimant."""
    outlets: dict[str, set[str]] = defaultdict(set)
    for actor in tables["actors"]:
        if actor.values.get("kind") == "media_outlet" and isinstance(actor.values.get("id"), str):
            for name in [actor.values.get("name"), *(actor.values.get("aliases") or [])]:
                if isinstance(name, str):
                    outlets[_fold(name)].add(actor.values["id"])
    problems = []
    for claim in tables["claims"]:
        document = documents.get(claim.values.get("document_id"))
        outlet = document.values.get("outlet") if document else None
        claimant = claim.values.get("claimant_id")
        if isinstance(outlet, str) and claimant in outlets.get(_fold(outlet), set()):
            problems.append(
                claim.problem(
                    "claimant_id",
                    f"'{claimant}' is {outlet}, the outlet of the document that reports the claim: "
                    "the outlet is the document; leave claimant_id out where it speaks in its own voice, "
                    "or name the person or source it quotes",
                )
            )
    return problems


def _preview_problems(tables: dict[str, list[Record]]) -> list[Problem]:
    problems = []
    previews = set()
    for citation in tables["event_documents"]:
        if citation.values.get("basis") != "preview":
            continue
        previews.add((citation.values.get("event_id"), citation.values.get("document_id")))
        beyond = [field for field in NOT_FROM_A_PREVIEW if field in (citation.values.get("supports") or [])]
        if beyond:
            problems.append(
                citation.problem(
                    "supports",
                    f"a preview, written before the event, cannot support {' or '.join(beyond)}: "
                    "cite a report of the event for it",
                )
            )
    for row in tables["event_actor_documents"]:
        key = (row.values.get("event_id"), row.values.get("document_id"))
        if key in previews and row.values.get("basis", "report") != "preview":
            problems.append(
                row.problem(
                    "basis",
                    f"'{key[1]}' is this event's preview, so it names {row.values.get('actor_id')} "
                    "as expected, not as attending: write basis: preview",
                )
            )
    for citation in tables["event_documents"]:
        outside = sorted(set(citation.values.get("inferred") or []) - set(citation.values.get("supports") or []))
        if outside:
            problems.append(
                citation.problem("inferred", f"lists {', '.join(outside)}, which supports does not: add them there")
            )
    return problems


def _inference_problems(tables: dict[str, list[Record]]) -> list[Problem]:
    """Prose that admits an inference or outside knowledge, with no field marking it."""
    parts: dict[Any, list[Record]] = defaultdict(list)
    for table in ("event_documents", "event_actors"):
        for record in tables[table]:
            parts[record.values.get("event_id")].append(record)
    problems = []
    for event in tables["events"]:
        own = [event, *parts[event.values.get("id")]]
        texts = [(r, "notes" if r is event else "note", r.values.get("notes" if r is event else "note")) for r in own]
        said = [(r, column) for r, column, text in texts if isinstance(text, str) and INFERENCE.search(text)]
        if said and not any(r.values.get("inferred") for r in own):
            record, column = said[0]
            problems.append(
                record.problem(
                    column,
                    "speaks of an inference, but nothing marks it: list the inferred facts in the event's "
                    "inferred (or a citation's or an actor row's inferred)",
                )
            )
        outside = [(r, column) for r, column, text in texts if isinstance(text, str) and OUTSIDE.search(text)]
        if outside and not event.values.get("outside_knowledge"):
            record, column = outside[0]
            problems.append(
                record.problem(
                    column,
                    "speaks of outside or general knowledge: say in the event's outside_knowledge what it adds",
                )
            )
    return problems


def _window(document: Record) -> tuple[date, date] | None:
    """The days a document can have appeared: its printed day, or its inferred window."""
    values = document.values
    try:
        if values.get("date_basis", "printed") == "printed":
            day = values.get("published_date")
            return (date.fromisoformat(day), date.fromisoformat(day)) if day else None
        earliest, latest = values.get("published_earliest"), values.get("published_latest")
        if earliest and latest:
            return date.fromisoformat(earliest), date.fromisoformat(latest)
    except (TypeError, ValueError):  # a bad date, reported by schema.sql's checks
        return None
    return None


def allowed_precision(document: Record) -> str:
    """How precisely a claim may date what its document says relatively ("on
    Tuesday", "last month"): as precisely as the document's own date."""
    window = _window(document)
    if window is None:
        return "none"
    first, last = window
    if first == last:
        return "day"
    if (first.year, first.month) == (last.year, last.month):
        return "month"
    return "year" if first.year == last.year else "none"


def date_mentions(statement: str) -> list[tuple[str, dict[str, str]]]:
    """Each date a statement names, as written, with its parts (day, month, year)."""
    found = []
    for match in DATE_MENTIONS.finditer(statement):
        groups = match.groupdict()
        if groups["iso"]:
            year, month, day = groups["iso"].split("-")
            parts = {
                "year": year,
                "month": MONTHS[int(month) - 1] if 1 <= int(month) <= 12 else month,
                "day": str(int(day)),
            }
        else:
            parts = {
                "day": groups["d1"] or groups["d2"],
                "month": (groups["m1"] or groups["m2"] or "").lower() or None,
                "year": groups["y1"] or groups["y2"] or groups["y3"],
            }
        found.append((match.group(), {k: v for k, v in parts.items() if v}))
    return found


def _written(part: str, value: str, text: str) -> bool:
    """Whether the cited text writes this part of a date itself."""
    if part == "month":
        return re.search(rf"\b{value[:3]}(?:{value[3:]})?\.?\b", text, re.IGNORECASE) is not None
    return re.search(rf"\b0?{value}(?:st|nd|rd|th)?\b", text) is not None


def _date_problems(tables: dict[str, list[Record]], documents: dict[Any, Record], archive: Archive) -> list[Problem]:
    problems = []
    for claim in tables["claims"]:
        statement, document = claim.values.get("statement"), documents.get(claim.values.get("document_id"))
        ref = document.values.get("archive_ref") if document else None
        copy = archive.copy(ref) if isinstance(ref, str) else None
        if not isinstance(statement, str) or document is None or copy is None:
            continue
        cited = []
        for value in claim.values.get("paragraphs") or []:
            parsed = parse_locator(value)
            if parsed and copy.hash_of(parsed[0]) == parsed[1]:
                cited.append(copy.paragraphs[parsed[0] - 1])
        if not cited:  # its missing or wrong locators are reported already
            continue
        text = "\n".join(cited)
        allowed = allowed_precision(document)
        for written, parts in date_mentions(statement):
            unwritten = [part for part, value in parts.items() if not _written(part, value, text)]
            if not unwritten:
                continue
            precision = "day" if "day" in parts else "month" if "month" in parts else "year"
            if PRECISION[precision] > PRECISION[allowed]:
                window = _window(document)
                dated = (
                    "no date of its own" if window is None else f"a date known only between {window[0]} and {window[1]}"
                )
                problems.append(
                    claim.problem(
                        "statement",
                        f"names '{written}', but the paragraphs it cites do not write its "
                        f"{' and '.join(unwritten)}, and '{document.label}' has {dated}: say no more than that "
                        "(give the window), or cite the paragraph that writes the date",
                    )
                )
    return problems
