"""`diff [REV]`: what the working tree changes in the published data, in words,
and what it leaves false elsewhere.

A curator's change is small, its reach is not: re-dating a meeting makes
every note that states its old date wrong, an alias added for one person
draws another person's searches, a new event may be one already recorded.
Git shows lines; this says which records were added, changed, withdrawn or
renamed, which events were re-dated (old window -> new), which disputes were
opened or answered and which citations added, and then four kinds of
warning:

- stale prose: a note, summary or date inference anywhere that names a
  record withdrawn or renamed, or states a date of a re-dated event that no
  longer falls in its window;
- alias clash: an alias equal to (by the matching key) or one word of
  another record's name or alias, unless either record lists the other in
  shares_names_with; and a listing there that no clash needs any more;
- likely duplicate events, with or without a place;
- date clash: two documents cited for an event's date naming different
  days for it, while no dispute on the event asks when it happened (read
  from the cited paragraphs of their archived copies, when the archive is
  at hand).

Warnings the change did not bring (present at REV already) are left out
unless asked for; `checks` gives them all, for validate.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from itertools import combinations
from pathlib import Path
from typing import Any

from ..problems import Problem, display_path
from ..records.archive import Archive, parse_locator
from ..records.languages import alias_texts
from ..rules import Record
from . import DeskError
from .dates import DateExpression, document_window, expressions, long
from .names import key
from .records import Records, from_commit, from_directory

MONTHS = [
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
]  # fmt: skip
NAMED = ("actors", "places")
# Fields whose change the report names but does not spell out (long prose).
LONG = {"notes", "summary", "date_inference", "description", "statement", "question"}


@dataclass(frozen=True)
class Finding:
    """One line of the report: what kind, which record, in words."""

    # added | changed | withdrawn | removed | renamed | re-dated | dispute | citation
    # | stale | alias-clash | duplicate | date-clash
    kind: str
    table: str
    key: str
    words: str
    file: str = ""
    # The field a warning is about, so validate can point at its line.
    field: str = ""

    def __str__(self) -> str:
        where = f"{self.file}: " if self.file else ""
        return f"{where}{self.words}"


@dataclass
class Report:
    base: str
    changes: list[Finding] = field(default_factory=list)
    warnings: list[Finding] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.changes or self.warnings)


# --- Dates -------------------------------------------------------------------------


def _day(text: Any) -> date | None:
    try:
        return date.fromisoformat(str(text)[:10])
    except (TypeError, ValueError):
        return None


def _window(event: dict[str, Any]) -> tuple[date | None, date | None]:
    start = _day(event.get("start_date"))
    return start, _day(event.get("end_date")) or start


def date_phrases(day: date, precision: str) -> list[str]:
    """The ways prose here writes a day (or its month, at month precision)."""
    month = MONTHS[day.month - 1]
    if precision in ("month", "year"):
        return [f"{month} {day.year}"] if precision == "month" else []
    return [day.isoformat(), f"{day.day} {month} {day.year}", f"{month} {day.day}, {day.year}"]


def _window_words(event: dict[str, Any]) -> str:
    start, end = _window(event)
    if start is None:
        return "no date"
    return start.isoformat() if end in (None, start) else f"{start.isoformat()} to {end.isoformat()}"


# --- The changes ----------------------------------------------------------------------


def _title(table: str, record: dict[str, Any]) -> str:
    return str(record.get("title") or record.get("name") or record.get("question") or record.get("statement") or "")[
        :80
    ]


def _changed_fields(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    words = []
    for name in sorted(set(old) | set(new)):
        if name in ("claims", "disputes", "documents", "actors"):
            continue
        a, b = old.get(name), new.get(name)
        if a == b:
            continue
        if name in LONG or isinstance(a, (list, dict)) or isinstance(b, (list, dict)):
            words.append(name)
        else:
            words.append(f"{name} {a!r} -> {b!r}")
    return words


def _citations(event: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {str(d.get("document_id")): d for d in event.get("documents") or [] if isinstance(d, dict)}


def _roles(event: dict[str, Any]) -> set[tuple[str, str]]:
    return {(str(a.get("actor_id")), str(a.get("role"))) for a in event.get("actors") or [] if isinstance(a, dict)}


def _role_documents(event: dict[str, Any]) -> dict[tuple[str, str], set[str]]:
    """The documents naming each actor in each role: the one in the actor's
    entry, or those listed under its documents."""
    found: dict[tuple[str, str], set[str]] = {}
    for a in event.get("actors") or []:
        if isinstance(a, dict):
            listed = [d for d in a.get("documents") or [] if isinstance(d, dict)] or [a]
            found[(str(a.get("actor_id")), str(a.get("role")))] = {
                str(d["document_id"]) for d in listed if d.get("document_id")
            }
    return found


def _renames(base: Records, work: Records) -> dict[tuple[str, str], str]:
    """Removed keys and the record that now stands for each: a withdrawal's
    replaced_by, or a record of the same table holding the old id among its aliases."""
    renamed: dict[tuple[str, str], str] = {}
    for entry in work.tables["withdrawals"].values():
        if entry.get("replaced_by"):
            renamed[(str(entry.get("table_name")), str(entry.get("id")))] = str(entry["replaced_by"])
    for table, records in work.tables.items():
        for rkey, record in records.items():
            for alias in record.get("aliases") or [] if table == "events" else []:
                if str(alias) in base.tables[table] and str(alias) not in records:
                    renamed[(table, str(alias))] = rkey
    return renamed


def changes(base: Records, work: Records) -> list[Finding]:
    found: list[Finding] = []
    renamed = _renames(base, work)
    withdrawn = {(str(w.get("table_name")), str(w.get("id"))): w for w in work.tables["withdrawals"].values()}
    renamed_to = set()
    for (table, old), new in renamed.items():
        if old in base.tables.get(table, {}) and old not in work.tables.get(table, {}):
            renamed_to.add((table, new))
            found.append(
                Finding("renamed", table, new, f"{table} {old} renamed {new}", work.files.get((table, new), ""))
            )
    for table in base.tables:
        if table == "withdrawals":
            continue
        old_records, new_records = base.tables[table], work.tables[table]
        for rkey in sorted(set(new_records) - set(old_records)):
            if (table, rkey) in renamed_to:
                continue
            record = new_records[rkey]
            where = f" (on {record['event_id']})" if record.get("event_id") and table in ("claims", "disputes") else ""
            found.append(
                Finding(
                    "added",
                    table,
                    rkey,
                    f"{table} {rkey} added{where}: {_title(table, record)}",
                    work.files[(table, rkey)],
                )
            )
            if table == "disputes":
                found.append(Finding("dispute", table, rkey, f"dispute {rkey} opened: {record.get('question', '')}"))
        for rkey in sorted(set(old_records) - set(new_records)):
            if (table, rkey) in renamed:
                continue
            entry = withdrawn.get((table, rkey))
            if entry:
                words = f"{table} {rkey} withdrawn: {entry.get('reason', '')}"
                found.append(Finding("withdrawn", table, rkey, words, base.files[(table, rkey)]))
            else:
                words = f"{table} {rkey} removed without a withdrawal"
                found.append(Finding("removed", table, rkey, words, base.files[(table, rkey)]))
        pairs = [(k, k) for k in sorted(set(old_records) & set(new_records))]
        pairs += [(o, n) for (t, o), n in renamed.items() if t == table and o in old_records and n in new_records]
        for old_key, rkey in pairs:
            found += _compare(table, rkey, old_records[old_key], new_records[rkey], work.files[(table, rkey)])
    # Claims that answer a dispute: new answers to an old question, or a claim moved to one.
    for ckey, claim in work.tables["claims"].items():
        dispute = claim.get("dispute_id")
        before = base.tables["claims"].get(ckey, {})
        if dispute and before.get("dispute_id") != dispute:
            words = f"dispute {dispute} answered by claim {ckey}: {claim.get('position', '')}"
            found.append(Finding("dispute", "claims", ckey, words, work.files[("claims", ckey)]))
    return found


def _compare(table: str, rkey: str, old: dict[str, Any], new: dict[str, Any], file: str) -> list[Finding]:
    """What changed in one record (renamed or not)."""
    found: list[Finding] = []
    if old == new:
        return found
    if table == "events" and _window(old) != _window(new):
        words = f"event {rkey} re-dated: {_window_words(old)} -> {_window_words(new)}"
        found.append(Finding("re-dated", table, rkey, words, file))
    skip = ("start_date", "end_date", "id", "aliases") if old.get("id") != new.get("id") else ("start_date", "end_date")
    fields = [f for f in _changed_fields(old, new) if not f.startswith(skip)]
    if fields:
        found.append(Finding("changed", table, rkey, f"{table} {rkey} changed: {'; '.join(fields)}", file))
    if table == "events":
        found += _event_parts(rkey, old, new, file)
    if table == "disputes" and old.get("status") != new.get("status"):
        words = f"dispute {rkey} {new.get('status')} (was {old.get('status')})"
        found.append(Finding("dispute", table, rkey, words, file))
    return found


def _event_parts(rkey: str, old: dict[str, Any], new: dict[str, Any], file: str) -> list[Finding]:
    found = []
    before, after = _citations(old), _citations(new)
    for document in sorted(set(after) - set(before)):
        supports = ", ".join(after[document].get("supports") or [])
        words = f"event {rkey} now cites {document}" + (f" for {supports}" if supports else "")
        found.append(Finding("citation", "events", rkey, words, file))
    for document in sorted(set(before) - set(after)):
        found.append(Finding("citation", "events", rkey, f"event {rkey} no longer cites {document}", file))
    for document in sorted(set(before) & set(after)):
        if before[document] != after[document]:
            parts = sorted(
                k
                for k in set(before[document]) | set(after[document])
                if before[document].get(k) != after[document].get(k)
            )
            words = f"event {rkey}: its citation of {document} changed ({', '.join(parts)})"
            found.append(Finding("citation", "events", rkey, words, file))
    for actor, role in sorted(_roles(new) - _roles(old)):
        found.append(Finding("changed", "events", rkey, f"event {rkey}: {actor} added as {role}", file))
    for actor, role in sorted(_roles(old) - _roles(new)):
        found.append(Finding("changed", "events", rkey, f"event {rkey}: {actor} no longer {role}", file))
    named_before, named_after = _role_documents(old), _role_documents(new)
    for (actor, role), documents in sorted(named_after.items()):
        for document in sorted(documents - named_before.get((actor, role), documents)):
            words = f"event {rkey}: {actor} as {role} now also cites {document}"
            found.append(Finding("citation", "events", rkey, words, file))
    return found


# --- Warnings -----------------------------------------------------------------------


def stale_prose(base: Records, work: Records) -> list[Finding]:
    """Prose that names a record gone from the store, or states a date a
    re-dated event no longer has while naming the event or its place or actors."""
    found: list[Finding] = []
    renamed = _renames(base, work)
    gone = {
        rkey: renamed.get((table, rkey))
        for table in ("events", "documents", "places", "actors", "claims", "disputes")
        for rkey in base.tables[table]
        if rkey not in work.tables[table]
    }
    redated: list[tuple[str, list[str], list[str]]] = []
    for rkey, new in work.tables["events"].items():
        old = base.tables["events"].get(rkey) or next(
            (base.tables["events"][o] for (t, o), n in renamed.items() if t == "events" and n == rkey), None
        )
        if not old or _window(old) == _window(new):
            continue
        start, end = _window(new)
        phrases = []
        for day in {d for d in _window(old) if d}:
            if start and end and start <= day <= end:
                continue
            phrases += date_phrases(day, str(old.get("date_precision", "day")))
        names = [rkey, *[str(a) for a in new.get("aliases") or []]]
        for table, ref in [("places", new.get("place_id"))] + [
            ("actors", a.get("actor_id")) for a in new.get("actors") or [] if isinstance(a, dict)
        ]:
            record = work.get(table, str(ref)) if ref else None
            if record:
                names += [str(record["name"]), *alias_texts(record.get("aliases"))]
        redated.append((rkey, phrases, names))
    id_pattern = {
        rkey: re.compile(rf"(?<![\w-]){re.escape(rkey)}(?![\w-])") for rkey in gone if len(rkey) > 3 and "-" in rkey
    }
    for table, rkey, path, text in work.prose():
        file = work.files[(table, rkey)]
        for old_id, pattern in id_pattern.items():
            if pattern.search(text):
                now = f", now {gone[old_id]}" if gone[old_id] else ", which is gone"
                words = f"{table} {rkey} {path} names {old_id}{now}"
                found.append(Finding("stale", table, rkey, words, file, path))
        for event, phrases, names in redated:
            # A date inside an id (2031-03-04-port-...) is the id, not a date.
            stated = [p for p in phrases if re.search(rf"(?<![\w-]){re.escape(p)}(?![\w-])", text)]
            if not stated:
                continue
            own = table == "events" and rkey == event
            if own or any(n and n in text for n in names):
                words = f"{table} {rkey} {path} says {stated[0]!r}, no longer a date of {event}"
                found.append(Finding("stale", table, rkey, words, file, path))
    return found


def _shared(record: dict[str, Any]) -> set[str]:
    """The records this one's shares_names_with acknowledges sharing a name with."""
    listed = record.get("shares_names_with")
    return {str(other) for other in listed} if isinstance(listed, list) else set()


def alias_clashes(records: Records) -> list[Finding]:
    """Every alias that is, by the matching key, another record's name or
    alias, or one word of one: a search for either finds both. A pair that
    either record lists in its shares_names_with is known and meant, and
    not warned of; a listed record with which it no longer clashes is."""
    found: list[Finding] = []
    for table in NAMED:
        names: dict[tuple[str, ...], set[str]] = {}
        words: dict[str, set[str]] = {}
        for rkey, record in records.tables[table].items():
            for name in [record.get("name"), *alias_texts(record.get("aliases"))]:
                if not name:
                    continue
                k = key(str(name)).words or (str(name),)
                names.setdefault(k, set()).add(rkey)
                if len(k) > 1:
                    for word in k:
                        words.setdefault(word, set()).add(rkey)
        shared = {rkey: _shared(record) for rkey, record in records.tables[table].items()}
        clashing: set[frozenset[str]] = set()
        for rkey, record in records.tables[table].items():
            for alias in alias_texts(record.get("aliases")):
                k = key(str(alias)).words or (str(alias),)
                how, others = "also a name", names.get(k, set()) - {rkey}
                if not others and len(k) == 1:
                    how, others = "a word of a name", words.get(k[0], set()) - {rkey}
                clashing.update(frozenset((rkey, other)) for other in others)
                unmeant = sorted(o for o in others if o not in shared[rkey] and rkey not in shared.get(o, set()))
                if unmeant:
                    words_ = (
                        f"{table} {rkey}: alias {alias!r} is {how} of {', '.join(unmeant)}; "
                        "narrow the alias, or list the record in shares_names_with if both are meant"
                    )
                    found.append(Finding("alias-clash", table, rkey, words_, records.files[(table, rkey)], "aliases"))
        for rkey in sorted(shared):
            for other in sorted(shared[rkey]):
                if other in records.tables[table] and frozenset((rkey, other)) not in clashing:
                    words_ = (
                        f"{table} {rkey}: shares_names_with lists {other}, but no alias of either is a name "
                        "of the other or a word of one any more; remove it"
                    )
                    found.append(
                        Finding("alias-clash", table, rkey, words_, records.files[(table, rkey)], "shares_names_with")
                    )
    return found


def likely_duplicates(records: Records) -> list[Finding]:
    """Pairs of events on overlapping dates, sharing two actors and their type
    or their place, where one may have no place: validate's warning covers
    only pairs at one place."""
    found: list[Finding] = []
    events = sorted(records.tables["events"].items())
    spans = {k: _window(e) for k, e in events}
    actors = {k: {a for a, _ in _roles(e)} for k, e in events}
    for (a, ea), (b, eb) in combinations(events, 2):
        (s1, e1), (s2, e2) = spans[a], spans[b]
        if not (s1 and s2 and e1 and e2) or s1 > e2 or s2 > e1:
            continue
        if b in (ea.get("distinct_from") or []) or a in (eb.get("distinct_from") or []):
            continue
        if len(actors[a] & actors[b]) < 2:
            continue
        pa, pb = ea.get("place_id"), eb.get("place_id")
        same_type = ea.get("event_type") == eb.get("event_type")
        if pa and pb and pa != pb:
            continue
        if not (same_type or (pa and pa == pb)):
            continue
        # Without one place to share, the actors must also act alike: Israel's
        # demands and Syria's demands in one month are two events.
        if not (pa and pa == pb) and len(_roles(ea) & _roles(eb)) < 2:
            continue
        where = f"at {pa}" if pa and pa == pb else "one without a place" if pa or pb else "neither with a place"
        words = (
            f"events {a} and {b} may be one ({where}, overlapping dates, two or more actors in common); "
            "merge them, or list one in the other's distinct_from"
        )
        found.append(Finding("duplicate", "events", a, words, records.files[("events", a)], "id"))
    return found


# Precisions that leave an event's day open: there, documents naming
# different days in its span disagree; at `day` they name its own days.
OPEN_DAY = ("days", "week")
# A dispute asks about its event's date when its question asks when.
DATE_QUESTION = re.compile(r"\b(?:when|date|dates|day|days)\b", re.IGNORECASE)


def date_clashes(records: Records, archive: Archive | None) -> list[Finding]:
    """Events whose day is open (OPEN_DAY) for which two documents cited for
    the date each name a different day in the event's span, in the cited
    paragraphs of their archived copies (a document naming two days there
    names none), while no dispute on the event asks when it happened.
    An event whose date the curators inferred (`inferred: [date]`: a span
    between what one report says came before and another after) is passed
    over: there the days its documents name are its bounds, not its day.
    Without the archive there is no text to read, and nothing is said."""
    if archive is None:
        return []
    asked = {
        str(d.get("event_id"))
        for d in records.tables["disputes"].values()
        if DATE_QUESTION.search(str(d.get("question") or ""))
    }
    read: dict[str, list[DateExpression]] = {}
    found: list[Finding] = []
    for eid, event in sorted(records.tables["events"].items()):
        start, end = _window(event)
        if (
            event.get("date_precision") not in OPEN_DAY
            or "date" in (event.get("inferred") or [])
            or eid in asked
            or not (start and end)
        ):
            continue
        given: dict[date, list[str]] = {}
        for citation in event.get("documents") or []:
            if not isinstance(citation, dict) or "date" not in (citation.get("supports") or []):
                continue
            document_id = str(citation.get("document_id"))
            document = records.get("documents", document_id)
            copy = archive.copy(str(document.get("archive_ref") or "")) if document else None
            numbers = {p[0] for p in (parse_locator(str(x)) for x in citation.get("paragraphs") or []) if p}
            if document is None or copy is None or not numbers:
                continue
            if document_id not in read:
                read[document_id] = expressions(copy.paragraphs, document_window(document))
            days = {
                e.resolved.earliest
                for e in read[document_id]
                if e.paragraph in numbers
                and e.kind != "printed date"
                and e.resolved
                and e.resolved.earliest == e.resolved.latest
                and start <= e.resolved.earliest <= end
            }
            if len(days) == 1:
                given.setdefault(days.pop(), []).append(document_id)
        if len(given) > 1:
            days_words = "; ".join(f"{long(day)}: {', '.join(ids)}" for day, ids in sorted(given.items()))
            words = (
                f"event {eid}: its documents give different days ({days_words}); record the disagreement "
                "as a dispute on the event asking which day, answered by each document's claim"
            )
            found.append(Finding("date-clash", "events", eid, words, records.files[("events", eid)], "start_date"))
    return found


def checks(records: Records, archive: Archive | None = None) -> list[Finding]:
    """The warnings that need no earlier version (date clashes only with the archive)."""
    return alias_clashes(records) + likely_duplicates(records) + date_clashes(records, archive)


def standing(sources: Path, archive: Archive | None = None) -> list[Finding]:
    """validate's warnings: every alias clash, likely duplicate and date
    clash, and the prose that the edits not yet committed leave stale (none
    when the sources are not in git, having no commit to compare with)."""
    work = from_directory(sources)
    try:
        base = from_commit(sources, "HEAD")
    except DeskError:
        return checks(work, archive)
    return stale_prose(base, work) + checks(work, archive)


def pinned_warnings(directory: Path, records: list[Record], archive: Archive | None = None) -> list[Problem]:
    """validate's warnings (standing()), each pinned to the line of its record
    and field, as validate's errors are."""
    located = {(r.table, r.label): r for r in records}
    shown = []
    for finding in standing(directory, archive):
        record = located.get((finding.table, finding.key))
        if record is None:
            shown.append(
                Problem(display_path(directory / finding.file), 1, finding.key, finding.field or "-", finding.words)
            )
        else:
            shown.append(record.problem(finding.field or "-", finding.words))
    return shown


def _new(before: list[Finding], after: list[Finding]) -> list[Finding]:
    seen = {(f.kind, f.table, f.key, f.words) for f in before}
    return [f for f in after if (f.kind, f.table, f.key, f.words) not in seen]


def diff(
    sources: Path, revision: str | None = None, all_warnings: bool = False, archive: Archive | None = None
) -> Report:
    """Compare the working tree's sources with `revision` (default: the last
    release's commit listed in sources/releases.tsv, else HEAD); the
    archive, where given, is read for date clashes."""
    if revision is None:
        revision = last_release_commit(sources) or "HEAD"
    base, work = from_commit(sources, revision), from_directory(sources)
    report = Report(revision, changes(base, work))
    warnings = checks(work, archive)
    report.warnings = stale_prose(base, work) + (warnings if all_warnings else _new(checks(base, archive), warnings))
    return report


def last_release_commit(sources: Path) -> str | None:
    path = sources / "releases.tsv"
    if not path.is_file():
        return None
    rows = [line.split("\t") for line in path.read_text(encoding="utf-8").splitlines() if line and line[0] != "#"]
    commits = [row[2] for row in rows if len(row) > 2 and row[2] and not row[2].endswith("-dirty")]
    return commits[-1] if commits else None
