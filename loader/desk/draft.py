"""`draft ARCHIVED_FILE`: what an archived article gives the store, as a draft
for the curator to finish, in YAML with every open value marked TO WRITE.

The draft points into the article by paragraph and locator and never
quotes it: a name as the text spells it and a date phrase are a few
words, and the whole draft is checked against the article for any run of
ten words before it is returned. It holds the document's record (from
documents.yml when filed, else a skeleton); every known actor and place the
article names, with its paragraphs; the names it does not know, each with
find's best candidates or marked new; every date expression, resolved
against the document's date window with the weekday shown; the recorded
events it most likely reports (to cite, not to duplicate); and stubs of a
new event and claim with every field validate asks for.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import yaml

from ..records.archive import locator_hash, paragraphs
from ..records.languages import alias_texts
from ..schema import read_schema
from . import DeskError
from .archive_file import TOP, dateline, skeleton
from .dates import DateExpression, Window, document_window, expressions
from .find import entries_from_sources, find, place_fields, store_countries
from .names import TITLE_WORDS, Candidate, Matcher, key
from .overlap import RUN, Hit, Shingles, file_hits, words
from .records import Records, from_directory

# The events table as schema.sql declares it: the stubs offer its vocabularies.
EVENTS = read_schema().tables["events"]

MAX_WORDS = 6  # the longest name looked up
MAX_EVENTS = 25  # recorded events listed, best first
# An event up to a week before the article's window is news in it; one
# ended a year before it is background.
NEAR, MONTH, OLD = timedelta(days=7), timedelta(days=31), timedelta(days=365)
# Capitalised words that start sentences or name no one.
NOT_NAMES = frozenset(
    """a an the this that these those it its in on at of for from by with and but or as after before
    during while when where what who why how he she they we i you his her their our there here if
    according meanwhile however although despite both each all some many more most other such only
    monday tuesday wednesday thursday friday saturday sunday january february march april may june
    july august september october november december read more click share search welcome
    ahead following report photo getty caption file via""".split()
)
# Lowercase words inside a name ("Council of the Wise", "Syrian Observatory
# for Human Rights"): a run of capitalised words goes on across them.
CONNECTORS = frozenset({"al", "el", "bin", "ibn", "abu", "de", "of", "the", "and", "for"})
# A word before a name that reads it as a place ("talks in Tarsa", "near
# Izraa"), and words of a name, or before its "of", that say it is one
# ("Suweida city", "the town of Nawa"): such a name gets GeoNames candidates.
PLACE_BEFORE = frozenset("in at near outside across around toward towards into".split())
PLACE_NOUNS = frozenset(
    "city town village province governorate region district county capital port island heights valley".split()
)
POSSESSIVE = re.compile(r"[’']s$")
# Adjectives of a state or country that the suffix rules below do not make.
DEMONYMS = {"France": ["French"], "Turkey": ["Turkish"], "United States": ["American", "U.S."], "Lebanon": ["Lebanese"]}
TOKEN = re.compile(r"[\w’'-]+|[^\w\s]", re.UNICODE)
# Words that end the description in a record's name "Unnamed Syrian source close to the president".
QUALIFIERS = frozenset("on in of to by at for about quoted close who from speaking".split())


def unnamed_description(name: str) -> str | None:
    """How an article speaks of a source the store records as unnamed:
    "a Syrian source" for "Unnamed Syrian source close to the president"."""
    words = name.split()
    if len(words) < 2 or words[0] != "Unnamed":
        return None
    described = []
    for word in words[1:]:
        if word.lower() in QUALIFIERS:
            break
        described.append(word)
    # "a source" alone would be any source.
    return "a " + " ".join(described) if len(described) > 1 else None


# "UN-monitored", "US-brokered", "Islamist-led": an adjective, not a name.
ADJECTIVE = re.compile(r"^[\w’']+-[a-z]+$")
# A surname written with the Arabic article: "al-Dalati" belongs to the name before it.
ARTICLE_NAME = re.compile(r"^(?:al|el|as|ad|ash|an|ar|at|az)-[A-Z]")


@dataclass
class Mention:
    kind: str  # actor | place
    id: str
    name: str  # the record's name
    spelled: set[str] = field(default_factory=set)  # as the text spells it
    paragraphs: list[int] = field(default_factory=list)
    reading: str = ""  # why it is listed, where the text does not name it itself


@dataclass
class Unknown:
    """A name the store does not know, with what `find` offers for it."""

    name: str
    paragraphs: list[int]
    candidates: list[Candidate]  # the store's records
    geonames: list[Candidate] = field(default_factory=list)  # for a name read as a place


@dataclass
class Draft:
    document: dict[str, Any]
    window: Window | None
    mentions: list[Mention]
    unknown: list[Unknown]
    dates: list[DateExpression]
    events: list[tuple[str, int, list[str]]]  # event id, score, reasons
    locators: list[str]
    # Known outlets the article names besides its own: those a citation of
    # it may relay (its via), offered in the stubs for the curator to judge.
    outlets: list[str] = field(default_factory=list)

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.data(), allow_unicode=True, sort_keys=False, width=100)

    def data(self) -> dict[str, Any]:
        def loc(numbers: list[int]) -> list[str]:
            return [self.locators[n - 1] for n in sorted(set(numbers))]

        document_id = self.document.get("id", "TO WRITE")
        known_places = [m for m in self.mentions if m.kind == "place"]
        known_actors = [m for m in self.mentions if m.kind == "actor"]
        named = f" (outlets it names: {', '.join(self.outlets)})" if self.outlets else ""
        via = [f"TO WRITE: ids of the actors whose reporting it passes on{named}, or leave out when first-hand"]
        return {
            "document": self.document,
            "date_window": str(self.window) if self.window else "unknown: the document has no date or window yet",
            "actors": [
                {
                    "id": m.id,
                    "name": m.name,
                    "as_written": sorted(m.spelled),
                    "paragraphs": loc(m.paragraphs),
                    **({"reading": m.reading} if m.reading else {}),
                }
                for m in known_actors
            ],
            "places": [
                {"id": m.id, "name": m.name, "as_written": sorted(m.spelled), "paragraphs": loc(m.paragraphs)}
                for m in known_places
            ],
            "unknown_names": [
                {
                    "as_written": u.name,
                    "paragraphs": loc(u.paragraphs),
                    "candidates": [f"{c.entry.kind} {c.entry.id} ({c.score:.0f})" for c in u.candidates]
                    or ["new: no record matches"],
                    **({"geonames": [place_fields(c) for c in u.geonames]} if u.geonames else {}),
                }
                for u in self.unknown
            ],
            "dates": [
                {
                    "paragraph": self.locators[d.paragraph - 1],
                    "phrase": d.phrase,
                    "kind": d.kind,
                    "resolution": d.reading,
                }
                for d in self.dates
            ],
            "recorded_events_it_may_report": [
                {
                    "event_id": e,
                    "score": s,
                    "why": reasons,
                    "cite_as": {
                        "document_id": document_id,
                        "supports": ["TO WRITE"],
                        "via": via,
                        "paragraphs": ["TO WRITE"],
                    },
                }
                for e, s, reasons in self.events
            ],
            "new_event_stub": {
                "id": "TO WRITE: YYYY-MM-DD-place-what",
                "title": "TO WRITE (own words)",
                "summary": "TO WRITE (own words)",
                "event_type": "TO WRITE (sources/event_types.yml)",
                "start_date": "TO WRITE",
                "end_date": "TO WRITE",
                "date_precision": "TO WRITE: " + " | ".join(EVENTS.vocabulary("date_precision")),
                "date_inference": "TO WRITE (own words) when the date is inferred, with inferred: [date]: how it was"
                " worked out (see dates above); leave out when a document gives it",
                "place_id": known_places[0].id if known_places else "TO WRITE, or leave out and fill in place_unknown",
                "place_unknown": "TO WRITE (own words): why the event has no place, or leave out when place_id is given",
                "geo_precision": "TO WRITE: "
                + " | ".join(EVENTS.vocabulary("geo_precision"))
                + ", or leave out when place_id is where it happened",
                "status": "TO WRITE: " + " | ".join(EVENTS.vocabulary("status")),
                "notes": "TO WRITE: how a date the text gives was read (see dates above), and what else a reader needs",
                "actors": [
                    {"actor_id": m.id, "role": "TO WRITE", "document_id": document_id, "paragraphs": loc(m.paragraphs)}
                    for m in known_actors[:3]
                ],
                "documents": [
                    {
                        "document_id": document_id,
                        "supports": ["occurrence", "TO WRITE"],
                        "via": via,
                        "note": "TO WRITE",
                        "paragraphs": ["TO WRITE"],
                    }
                ],
            },
            "claim_stub": {
                "id": "TO WRITE",
                "document_id": document_id,
                "claimant_id": "TO WRITE: who says it (not the outlet), or leave out for the article's own voice",
                "via": [f"TO WRITE: ids of those who carried the claimant's words{named}, or leave out"],
                "statement": "TO WRITE (own words, hedges kept)",
                "stance": "TO WRITE: asserts | confirms | denies | disputes | qualifies",
                "paragraphs": ["TO WRITE"],
            },
        }


class Names:
    """Every name and alias of the store by its text key (and Arabic/Hebrew by itself)."""

    def __init__(self, records: Records):
        self.by_key: dict[tuple[str, ...], list[tuple[str, str, str, str]]] = {}
        self.adjectives: set[tuple[str, ...]] = set()  # keys of the states' adjectives
        for kind, table in (("actor", "actors"), ("place", "places")):
            for rid, record in records.tables[table].items():
                for name in [record.get("name"), *alias_texts(record.get("aliases"))]:
                    if not name:
                        continue
                    k = key(str(name))
                    index = k.words or (k.native,)
                    self.by_key.setdefault(index, []).append((kind, rid, str(record["name"]), str(name)))
            # A source the articles leave unnamed is recorded as "Unnamed diplomatic
            # source on ...": an article says "a diplomatic source".
            for rid, record in records.tables[table].items():
                described = unnamed_description(str(record.get("name") or ""))
                if described:
                    self.by_key.setdefault(key(described).words, []).append((kind, rid, str(record["name"]), described))
            # "Israeli", "Syrian", "Iranian": an article names a state by its adjective.
            for rid, record in records.tables[table].items():
                if record.get("kind") not in ("state", "country"):
                    continue
                name = str(record["name"])
                for adjective in [name + "i", name + "n", name + "ian", *DEMONYMS.get(name, [])]:
                    index = key(adjective).words
                    if index not in self.by_key:
                        self.by_key[index] = [(kind, rid, name, adjective)]
                        self.adjectives.add(index)

    def lookup(self, span: list[str]) -> list[tuple[str, str, str, str]]:
        text = " ".join(span)
        k = key(text)
        found = self.by_key.get(k.words or (k.native,), [])
        result = []
        for kind, rid, name, alias in found:
            # An acronym alias (US, UN, AP) matches only as written: "us" is a pronoun.
            if alias.replace(".", "").isupper() and len(alias) <= 5 and alias.replace(".", "") != text.replace(".", ""):
                continue
            if len(span) == 1 and not (
                span[0][:1].isupper() or not span[0][:1].isascii() or ARTICLE_NAME.match(span[0])
            ):
                continue
            result.append((kind, rid, name, alias))
        return result


def _tokens(text: str) -> list[str]:
    return [t for t in TOKEN.findall(text)]


def mentions(paras: list[str], records: Records, matcher: Matcher) -> tuple[list[Mention], list[Unknown]]:
    names = Names(records)
    found: dict[tuple[str, str], Mention] = {}
    unknown: dict[str, list[int]] = {}
    places: set[str] = set()  # unknown names read as places
    for number, text in enumerate(paras, start=1):
        tokens = _tokens(text)
        covered = [False] * len(tokens)
        i = 0
        while i < len(tokens):
            matched = False
            for n in range(min(MAX_WORDS, len(tokens) - i), 0, -1):
                span = tokens[i : i + n]
                if not all(t[:1].isalnum() for t in span):
                    continue
                hits = names.lookup(span) or names.lookup([POSSESSIVE.sub("", t) for t in span])
                if hits and _part_of_longer_name(span, tokens, i + n, hits, names, records):
                    hits = []
                if hits:
                    # One actor and one place may share a name (Damascus): both are listed.
                    for kind, rid, name, _alias in hits:
                        m = found.setdefault((kind, rid), Mention(kind, rid, name))
                        m.spelled.add(" ".join(span))
                        m.paragraphs.append(number)
                    for j in range(i, i + n):
                        covered[j] = True
                    i += n
                    matched = True
                    break
            if not matched:
                i += 1
        # Names the store does not know: runs of capitalised words not covered.
        run: list[str] = []
        for j, token in enumerate([*tokens, "."]):
            capital = (
                j < len(tokens)
                and not covered[j]
                and (token[:1].isupper() or bool(ARTICLE_NAME.match(token)))
                and token.lower() not in NOT_NAMES
                and not ADJECTIVE.match(token)
                and len(token) > 1  # an initial ("D" of D.C.) alone
            )
            connector = j < len(tokens) and run and token.lower() in CONNECTORS and not covered[j]
            if capital or connector:
                run.append(token)
                continue
            while run and run[-1].lower() in CONNECTORS:
                run.pop()
            start = j - len(run)
            if run and (len(run) > 1 or (start > 0 and tokens[start - 1] not in '.!?"“')):
                name = _without_titles(" ".join(run))
                unknown.setdefault(name, []).append(number)
                if _reads_as_place(tokens, start, run):
                    places.add(name)
            run = []
    _governments(found, records)
    result = []
    countries = store_countries(matcher.entries)
    for name, numbers in unknown.items():
        # A title or an adjective of nationality alone ("Syrian Foreign Minister") names no one.
        content = [w for w in name.split() if w.lower() not in TITLE_WORDS and w.lower() not in CONNECTORS]
        if not content or (
            len(content) == 1
            and re.search(r"(ian|i|ese|ish)$", content[0])
            and content[0][:1].isupper()
            and len(name.split()) <= 4
            and content[0] != name
        ):
            continue
        # GeoNames is searched in the store's countries, as `find` does by default.
        offered = find(name, matcher, 3, countries if name in places else None, 80.0)
        result.append(Unknown(name, numbers, offered.candidates, offered.geonames))
    return sorted(found.values(), key=lambda m: (m.kind, min(m.paragraphs))), result


def _governments(found: dict[tuple[str, str], Mention], records: Records) -> None:
    """A state's government beside the state: "Israel insists" is most
    often its government speaking, and curators cite the government for it
    (the government is the actor whose parent_id is the state)."""
    states = {rid: m for (kind, rid), m in found.items() if kind == "actor"}
    for rid, record in records.tables["actors"].items():
        state = states.get(str(record.get("parent_id")))
        if record.get("kind") == "government" and state and ("actor", rid) not in found:
            found[("actor", rid)] = Mention(
                "actor",
                rid,
                str(record["name"]),
                set(state.spelled),
                list(state.paragraphs),
                f"the state {state.name} is named: check that its government is meant",
            )


def _part_of_longer_name(
    span: list[str],
    tokens: list[str],
    following: int,
    hits: list[tuple[str, str, str, str]],
    names: Names,
    records: Records,
) -> bool:
    """A person's one-word name followed by another name word ("Ahmed" in
    "Ahmed al-Dalati") is the first word of someone else's name; a state's
    adjective followed by a word that is neither a title nor a known name
    ("Syrian" in "Syrian Observatory for Human Rights") is the first word of
    a body's name, which is listed whole as unknown."""
    if following >= len(tokens):
        return False
    word = tokens[following]
    name_word = (word[:1].isupper() and word.lower() not in NOT_NAMES) or bool(ARTICLE_NAME.match(word))
    if key(" ".join(span)).words in names.adjectives:
        return name_word and word.lower() not in TITLE_WORDS and not names.lookup([word])
    one_person = len(span) == 1 and all(
        kind == "actor" and (records.get("actors", rid) or {}).get("kind") == "person" for kind, rid, _, _ in hits
    )
    return one_person and name_word


def _without_titles(name: str) -> str:
    """An unknown name without the words of office before it: "Foreign
    Minister Gideon Saar" is looked up, and listed, as "Gideon Saar"."""
    words = name.split()
    while len(words) > 1 and (words[0].lower() in TITLE_WORDS or words[0].lower() in CONNECTORS):
        words = words[1:]
    return " ".join(words)


def _reads_as_place(tokens: list[str], start: int, run: list[str]) -> bool:
    """Whether the name `run`, starting at tokens[start], reads as a place: see PLACE_BEFORE."""
    before = tokens[start - 1].lower() if start > 0 else ""
    of_a_place = before == "of" and start > 1 and tokens[start - 2].lower() in PLACE_NOUNS
    return before in PLACE_BEFORE or of_a_place or any(w.lower() in PLACE_NOUNS for w in run)


def _title_words(title: str) -> set[str]:
    return {w for w in re.findall(r"[a-z]{5,}", title.lower()) if w not in NOT_NAMES}


def likely_events(
    records: Records,
    mentioned: list[Mention],
    dates: list[DateExpression],
    window: Window | None,
    text: str = "",
) -> list[tuple[str, int, list[str]]]:
    """Recorded events the article may report: date, place, actors and the
    words of their titles in common. A title word few titles share
    ("disengagement", "ceasefire") says more than one most do ("syria")."""
    titles = {eid: _title_words(str(e.get("title") or "")) for eid, e in records.tables["events"].items()}
    shared_by: dict[str, int] = {}
    for words_of in titles.values():
        for word in words_of:
            shared_by[word] = shared_by.get(word, 0) + 1
    rare = max(2, len(titles) // 20)
    in_events: dict[str, int] = {}
    for event in records.tables["events"].values():
        for actor in {str(a.get("actor_id")) for a in event.get("actors") or [] if isinstance(a, dict)}:
            in_events[actor] = in_events.get(actor, 0) + 1
    article_words = set(re.findall(r"[a-z]{5,}", text.lower()))
    actors = {m.id for m in mentioned if m.kind == "actor"}
    places = {m.id for m in mentioned if m.kind == "place"}
    spans = [d.resolved for d in dates if d.resolved and d.kind != "year"]
    ranked = []
    for eid, event in records.tables["events"].items():
        try:
            start = date.fromisoformat(str(event.get("start_date"))[:10])
            end = date.fromisoformat(str(event.get("end_date") or event.get("start_date"))[:10])
        except ValueError:
            continue
        reasons = []
        score = 0
        shared = sorted(actors & {str(a.get("actor_id")) for a in event.get("actors") or [] if isinstance(a, dict)})
        if shared:
            # An actor in a quarter of the events (Israel, Syria) says little of which one this is.
            score += min(sum(1 if in_events.get(a, 0) * 4 > len(titles) else 2 for a in shared), 6)
            reasons.append("actors " + ", ".join(shared))
        if event.get("place_id") in places:
            score += 2
            reasons.append(f"place {event['place_id']}")
        told = sorted(w for w in titles[eid] & article_words if shared_by[w] <= rare)
        if told:
            score += min(len(told), 2) * 2
            reasons.append("words of its title: " + ", ".join(told))
        named = [s for s in spans if s.earliest <= end and start <= s.latest]
        if any(s.latest - s.earliest < NEAR or (s.earliest, s.latest) == (start, end) for s in named):
            score += 4  # a day or a few the text names, or the event's own span: the surest sign
            reasons.append("its dates, as the text names them")
        elif named:
            score += 1
            reasons.append("a month or more the text names")
        if window and window.earliest - NEAR <= end and start <= window.latest:
            # What an article reports is mostly of its own days; a window of
            # months (an undated page) says less.
            score += 3 if window.latest - window.earliest <= MONTH else 1
            reasons.append("within the article's date window")
        elif window and end < window.earliest - OLD:
            score -= 2
            reasons.append("long before the article")
        if window and start > window.latest and not named:
            score -= 4  # after the article, on a day it does not name: it can only preview it
            reasons.append("after the article's date")
        if score >= 4:
            # On equal scores, the event nearer the article's days first.
            distance = max((window.earliest - end).days, (start - window.latest).days, 0) if window else 0
            ranked.append((-score, distance, eid, reasons))
    return [(eid, -score, reasons) for score, _, eid, reasons in sorted(ranked)[:MAX_EVENTS]]


def draft(article: Path, sources: Path, matcher: Matcher | None = None) -> Draft:
    """The draft of an archived article, refused if it would repeat the article."""
    result = compose(article, sources, matcher)
    copied = copied_runs(result, article)
    if copied:
        raise DeskError(f"the draft would repeat {len(copied)} run(s) of {RUN} words of the article; nothing written")
    return result


def copied_runs(result: Draft, article: Path) -> list[Hit]:
    """Every run of ten words the draft shares with the article. The
    document's title is the headline kept as a citation, the one text that
    may be copied."""
    return file_hits("draft", result.to_yaml(), Shingles([article]), [words(str(result.document.get("title") or ""))])


def _outlet(paras: list[str], records: Records) -> str | None:
    """A known outlet whose name stands near the top of the copy, alone
    ("Libyan Express" under the headline) or opening a dateline."""
    outlets = {
        key(str(n)).words: str(r["name"])
        for r in records.tables["actors"].values()
        if r.get("kind") == "media_outlet"
        for n in [r.get("name"), *alias_texts(r.get("aliases"))]
        if n
    }
    found = dateline(paras)
    for text in ([found[0]] if found else []) + [p for p in paras[:TOP] if len(p.split()) <= 4]:
        name = outlets.get(key(text).words)
        if name:
            return name
    return None


def compose(article: Path, sources: Path, matcher: Matcher | None = None) -> Draft:
    """The draft, not yet checked for copied runs (draft() checks it)."""
    if not article.is_file():
        raise DeskError(f"{article}: no such archived file")
    data = article.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise DeskError(f"{article.name}: not UTF-8 text ({error.reason})") from None
    paras = paragraphs(text)
    records = from_directory(sources)
    matcher = matcher or Matcher(entries_from_sources(sources))
    document = next((d for d in records.tables["documents"].values() if d.get("archive_ref") == article.name), None)
    if document is None:
        import hashlib

        outlet = _outlet(paras, records)
        record, _ = skeleton(article.name, hashlib.sha256(data).hexdigest(), text, None, outlet, date.today())
        document = yaml.safe_load("documents:\n" + record)["documents"][0]
        document = {k: (v.isoformat() if isinstance(v, date) else v) for k, v in document.items()}
    window = document_window(document)
    mentioned, unknown = mentions(paras, records, matcher)
    actors = records.tables["actors"]
    outlets = [
        m.id
        for m in mentioned
        if m.kind == "actor" and actors[m.id].get("kind") == "media_outlet" and m.name != document.get("outlet")
    ]
    dates = expressions(paras, window)
    return Draft(
        document,
        window,
        mentioned,
        unknown,
        dates,
        likely_events(records, mentioned, dates, window, text),
        [f"{n}:{locator_hash(p)}" for n, p in enumerate(paras, start=1)],
        outlets,
    )
