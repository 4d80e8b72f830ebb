"""Date expressions in an article, each resolved against the article's own
date window, with the weekday shown.

An article's "Tuesday" or "last month" means nothing until it is counted
from the article's date, which may itself be a window (an undated page);
docs/curating.md says how a curator does that by hand, and this module does
the counting for them and shows its work, so that the curator checks a
reading instead of making one. Phrases are found by patterns written here
(a printed date, a day and month, a weekday, a month, a year, relative
words); dateparser resolves relative words ("last week", "two days ago")
against a base date. dateparser invents a day for a bare year or month
(it reads "2029" as today's day and month in 2029), so a year or month is
never passed to it: it is resolved here to its whole span, and the draft
says the day is unknown.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

MONTHS = [
    "january", "february", "march", "april", "may", "june",
    "july", "august", "september", "october", "november", "december",
]  # fmt: skip
WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
MONTH = r"(?P<month>" + "|".join(m.capitalize() for m in MONTHS) + r")"
WEEKDAY = r"(?P<weekday>" + "|".join(d.capitalize() for d in WEEKDAYS) + r")"

# Each kind of phrase, most specific first; a span taken by one is not read again.
PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("printed date", re.compile(r"(?<![\w-])(?P<iso>\d{4}-\d{2}-\d{2})(?![\w-])")),
    # 30/07/2025, 30.07.2025: day first, as most of the world prints it (see resolve).
    ("numeric date", re.compile(r"(?<![\w/.])(?P<first>\d{1,2})[/.](?P<second>\d{1,2})[/.](?P<year>\d{4})(?![\w/])")),
    ("date", re.compile(rf"\b(?P<day>\d{{1,2}})(?:-\d{{1,2}})? {MONTH},? (?P<year>\d{{4}})\b")),
    ("date", re.compile(rf"\b{MONTH} (?P<day>\d{{1,2}})(?:st|nd|rd|th)?,? (?P<year>\d{{4}})\b")),
    ("day and month", re.compile(rf"\b(?P<day>\d{{1,2}})(?:-\d{{1,2}})? {MONTH}\b")),
    ("day and month", re.compile(rf"\b{MONTH} (?P<day>\d{{1,2}})(?:st|nd|rd|th)?\b")),
    ("month", re.compile(rf"\b(?:(?:early|mid|late)[- ])?{MONTH}(?: (?P<year>\d{{4}}))?\b")),
    ("weekday", re.compile(rf"\b(?:(?P<which>last|next|this|on|since|until|by) )?{WEEKDAY}\b")),
    (
        "relative",
        re.compile(
            r"\b(?:yesterday|today|tomorrow|tonight"
            r"|(?:last|this|next|past|coming) (?:week|month|year|weekend)"
            r"|(?:a|one|two|three|four|five|six|\d+) (?:days?|weeks?|months?|years?) (?:ago|earlier|later|before|after)"
            r"|earlier this (?:week|month|year)|later this (?:week|month|year))\b",
            re.IGNORECASE,
        ),
    ),
    (
        "year",
        re.compile(
            r"\b(?:in|since|by|until|of|from|to|before|after|the|early|mid|late)[ -](?P<year>(?:19|20)\d{2})\b(?!,? \d)"
        ),
    ),
]


# What a sentence says of the time it speaks of, near a weekday or a month:
# a future marker ("set to take place Thursday", "will meet on Thursday",
# "scheduled for September") counts forward from the article's date, a past
# verb ("met on Sunday") back. The nearest cue before the phrase decides,
# else the nearest after it; a word merely ending in -ed ("reported", but
# also "unprecedented") counts only where no surer cue is found. Without a
# cue the draft says both readings.
FUTURE = re.compile(
    r"\b(?:will|would|shall|set to|is to|are to|due to|going to|plans? to|to (?:meet|hold|take place|visit|"
    r"travel|attend|sign|resume|begin|start|follow)|scheduled|expected|planned|upcoming|coming|next|ahead of)\b",
    re.IGNORECASE,
)
PAST = re.compile(
    r"\b(?:met|held|said|says|told|took|was|were|had|came|went|gave|spoke|began|saw|left|sent|led|flew|"
    r"last|ago|earlier|previously|since)\b",
    re.IGNORECASE,
)
PAST_ED = re.compile(r"\b[a-z]{3,}ed\b")
NOT_PAST = frozenset({"need", "indeed", "speed", "feed", "seed", "hundred", "embed"})
SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z“\"])")


def tense(text: str, start: int, end: int) -> str | None:
    """'future', 'past' or None (no cue), for the phrase at text[start:end], from its sentence."""
    first = max((m.end() for m in SENTENCE_END.finditer(text, 0, start)), default=0)
    last = next((m.start() for m in SENTENCE_END.finditer(text, end)), len(text))
    future = {m.start() for m in FUTURE.finditer(text, first, last)}
    sure = [(p, "future") for p in future] + [(m.start(), "past") for m in PAST.finditer(text, first, last)]
    weak = [
        (m.start(), "past")
        for m in PAST_ED.finditer(text, first, last)
        if m.start() not in future and m.group(0) not in NOT_PAST
    ]
    for cues in (sure, weak):
        before = [c for c in cues if c[0] < start]
        after = [c for c in cues if c[0] >= end]
        if before or after:
            return (max(before) if before else min(after))[1]
    return None


@dataclass(frozen=True)
class Window:
    earliest: date
    latest: date

    def __str__(self) -> str:
        return long(self.earliest) if self.earliest == self.latest else f"{long(self.earliest)} to {long(self.latest)}"


@dataclass(frozen=True)
class DateExpression:
    paragraph: int
    phrase: str
    kind: str  # printed date, date, day and month, month, weekday, relative, year
    resolved: Window | None
    reading: str  # the resolution in words, or why there is none
    tense: str | None = None  # of its sentence: future, past, or None (see `tense`)

    def __str__(self) -> str:
        return f"¶ {self.paragraph}: {self.kind} {self.phrase!r} -> {self.reading}"


def long(day: date) -> str:
    return f"{day.day} {MONTHS[day.month - 1].capitalize()} {day.year}, a {WEEKDAYS[day.weekday()].capitalize()}"


def _month_span(year: int, month: int) -> Window:
    last = (date(year + (month == 12), month % 12 + 1, 1)) - timedelta(days=1)
    return Window(date(year, month, 1), last)


def _relation(day: date, base: Window) -> str:
    """Where a day lies against the article's date (or window)."""
    if base.earliest == base.latest:
        delta = (base.earliest - day).days
        if delta == 0:
            return "the printed date"
        unit = "day" if abs(delta) == 1 else "days"
        return f"{abs(delta)} {unit} {'before' if delta > 0 else 'after'} the article's date"
    return f"against a window of {(base.latest - base.earliest).days + 1} days"


def _weekday(name: str, which: str | None, base: Window, when: str | None) -> tuple[Window | None, str]:
    """A weekday counted from each end of the window, back for the past and
    on for what is to come: "last" and "since" count back, "next", "until"
    and "by" on, and a bare weekday as its sentence's tense says (see
    `tense`); a sentence with no cue gets both readings, marked uncertain.
    A window wider than a week leaves the day open."""
    target = WEEKDAYS.index(name.lower())
    if which in ("last", "since"):
        when = "past"
    elif which in ("next", "until", "by"):
        when = "future"

    def back(day: date) -> date:
        days = (day.weekday() - target) % 7
        return day - timedelta(days=7 if which == "last" and days == 0 else days)

    def on(day: date) -> date:
        days = (target - day.weekday()) % 7
        return day + timedelta(days=7 if which == "next" and days == 0 else days)

    first = on(base.earliest) if when == "future" else back(base.earliest)
    last = back(base.latest) if when == "past" else on(base.latest)
    if (base.latest - base.earliest).days >= 7:
        return Window(
            first, last
        ), f"a {name} between {long(first)} and {long(last)}: the window is too wide for one day"
    if first == last:
        return Window(first, first), f"{long(first)}, {_relation(first, base)}"
    if when is None:
        return Window(first, last), (
            f"uncertain: {long(first)} if it is past, {long(last)} if it is to come; the sentence does not say which"
        )
    return Window(first, last), f"{long(first)} or {long(last)}, as the article's date is a window"


def _in_year(span: Callable[[int], Window | None], base: Window, when: str | None) -> list[Window]:
    """The readings of a month, or a day and month, named without its year:
    the year that puts it nearest the article's date on the side its
    sentence's tense says (the planned "September" of a July article is
    the coming one, a past "July" the last). Where a wide window holds it in
    more than one year, or the tense is unclear and two years are about as
    near, every such year is a reading."""
    spans = [w for year in range(base.earliest.year - 1, base.latest.year + 2) if (w := span(year))]
    inside = [s for s in spans if s.latest >= base.earliest and s.earliest <= base.latest]

    def distance(span: Window) -> int:
        return max((base.earliest - span.latest).days, (span.earliest - base.latest).days, 0)

    if len(inside) > 1:
        return inside
    if when == "future":
        return [min((s for s in spans if s.latest >= base.earliest), key=distance)]
    if when == "past":
        return [min((s for s in spans if s.earliest <= base.latest), key=distance)]
    nearest = min(distance(s) for s in spans)
    return [s for s in spans if distance(s) - nearest < 31]


def _no_year(chosen: list[Window], what: str, reading: str) -> tuple[Window, str]:
    span = Window(chosen[0].earliest, chosen[-1].latest)
    if len(chosen) == 1:
        return span, reading
    years = " or ".join(str(s.earliest.year) for s in chosen)
    return span, f"uncertain: {what} of {years}; the text does not say which year"


def _day_of(year: int, month: int, day: int) -> Window | None:
    try:
        return Window(date(year, month, day), date(year, month, day))
    except ValueError:
        return None  # 29 February of a common year


# "the past week/month/year": the days before the article's date.
ROLLING = {"past week": 7, "past month": 30, "past year": 365}


def _relative(phrase: str, base: Window) -> tuple[Window | None, str]:
    """Relative words through dateparser, once from each end of the window."""
    import dateparser

    settings = {"PREFER_DATES_FROM": "past", "RETURN_AS_TIMEZONE_AWARE": False}
    low = phrase.lower()
    ends = []
    for end in (base.earliest, base.latest):
        # "The past year" is the twelve months up to the article, not the
        # calendar year before it ("the past year" since a fall in December).
        if low in ROLLING:
            ends.append(Window(end - timedelta(days=ROLLING[low]), end))
            continue
        # Weeks, months and years count as whole calendar spans, as curating.md asks.
        if low == "last week":
            monday = end - timedelta(days=end.weekday() + 7)
            ends.append(Window(monday, monday + timedelta(days=6)))
            continue
        if low in ("this week", "earlier this week"):
            monday = end - timedelta(days=end.weekday())
            ends.append(Window(monday, end))
            continue
        if low == "last month":
            first = end.replace(day=1) - timedelta(days=1)
            ends.append(_month_span(first.year, first.month))
            continue
        if low in ("this month", "earlier this month"):
            ends.append(Window(end.replace(day=1), end))
            continue
        if low == "last year":
            ends.append(Window(date(end.year - 1, 1, 1), date(end.year - 1, 12, 31)))
            continue
        if low in ("next month",):
            nxt = _month_span(end.year, end.month).latest + timedelta(days=1)
            ends.append(_month_span(nxt.year, nxt.month))
            continue
        parsed = dateparser.parse(
            phrase,
            settings={**settings, "RELATIVE_BASE": _noon(end)},  # type: ignore[arg-type]
        )
        if parsed is None:
            return None, "not resolved: dateparser does not read it"
        ends.append(Window(parsed.date(), parsed.date()))
    window = Window(min(e.earliest for e in ends), max(e.latest for e in ends))
    if low == "last year":
        return window, f"{window} (the calendar year; if the twelve months before are meant, say so)"
    return window, str(window)


def _noon(day: date):  # type: ignore[no-untyped-def]
    from datetime import datetime

    return datetime(day.year, day.month, day.day, 12)


def resolve(kind: str, match: re.Match[str], base: Window | None, when: str | None = None) -> tuple[Window | None, str]:
    """A phrase's days and its reading; `when` is its sentence's tense (see `tense`)."""
    groups = match.groupdict()
    month = MONTHS.index(groups["month"].lower()) + 1 if groups.get("month") else None
    try:
        if kind == "printed date":
            day = date.fromisoformat(groups["iso"])
            return Window(day, day), long(day)
        if kind == "numeric date":
            first, second, year = int(groups["first"]), int(groups["second"]), int(groups["year"])
            # Day first unless that cannot be (07/30/2025 is American, month first).
            day = date(year, first, second) if second > 12 else date(year, second, first)
            ambiguous = first <= 12 and second <= 12 and first != second
            return Window(day, day), long(day) + (", read day first (it could be month first)" if ambiguous else "")
        if kind == "date" and month:
            day = date(int(groups["year"]), month, int(groups["day"]))
            return Window(day, day), long(day) + (f", {_relation(day, base)}" if base else "")
        if kind == "day and month" and month:
            if base is None:
                return None, "no year given and no article date to take it from"
            number = int(groups["day"])
            chosen = _in_year(lambda year: _day_of(year, month, number), base, when)
            if not chosen:
                return None, "not a date of the calendar"
            reading = f"{long(chosen[0].earliest)} (year from the article's date)"
            return _no_year(chosen, f"{number} {MONTHS[month - 1].capitalize()}", reading)
        if kind == "month" and month:
            if groups.get("year"):
                span = _month_span(int(groups["year"]), month)
            elif base is None:
                return None, "no year given and no article date to take it from"
            else:
                chosen = _in_year(lambda year: _month_span(year, month), base, when)
                reading = (
                    f"{chosen[0].earliest.isoformat()} to {chosen[-1].latest.isoformat()}: the month, no day given"
                )
                return _no_year(chosen, MONTHS[month - 1].capitalize(), reading)
            return span, f"{span.earliest.isoformat()} to {span.latest.isoformat()}: the month, no day given"
        if kind == "year":
            year = int(groups["year"])
            return (
                Window(date(year, 1, 1), date(year, 12, 31)),
                f"the year {year}, no day given (dateparser would invent one)",
            )
    except ValueError:
        return None, "not a date of the calendar"
    if base is None:
        return None, "not resolved: the article's date is not known"
    if kind == "weekday":
        return _weekday(groups["weekday"], groups.get("which"), base, when)
    return _relative(match.group(0), base)


def document_window(document: dict[str, Any]) -> Window | None:
    """The days a document record says it was published in: its printed
    date, else its window (open at the end: up to today)."""

    def day(value: Any) -> date | None:
        try:
            return date.fromisoformat(str(value)[:10]) if value else None
        except ValueError:
            return None

    printed = day(document.get("published_date"))
    if printed:
        return Window(printed, printed)
    earliest, latest = day(document.get("published_earliest")), day(document.get("published_latest"))
    if earliest and latest:
        return Window(earliest, latest)
    if earliest:
        return Window(earliest, max(earliest, date.today()))
    return None


def expressions(paragraphs: list[str], base: Window | None) -> list[DateExpression]:
    """Every date expression of the paragraphs, in order, resolved against `base`."""
    found: list[DateExpression] = []
    for number, text in enumerate(paragraphs, start=1):
        taken: list[tuple[int, int]] = []
        hits = []
        for kind, pattern in PATTERNS:
            for match in pattern.finditer(text):
                if any(s < match.end() and match.start() < e for s, e in taken):
                    continue
                if kind == "month" and match.group("month") == "May" and not match.group("year"):
                    continue  # the verb, far more often than the month
                taken.append((match.start(), match.end()))
                hits.append((match.start(), kind, match))
        for _, kind, match in sorted(hits, key=lambda h: h[0]):
            when = tense(text, match.start(), match.end())
            window, reading = resolve(kind, match, base, when)
            found.append(DateExpression(number, match.group(0), kind, window, reading, when))
    return found


# A photo's caption or credit dates the photographed moment, not the article.
CAPTION = re.compile(r"\bphoto\b|\(AP\b|\bAP Photo|\bGetty\b|\bcaption\b|\bReuters/|\bvia (?:AP|AFP|Reuters)\b", re.I)


def printed_date(paragraphs: list[str], within: int = 3) -> tuple[date, int] | None:
    """The date an article prints near its top (ISO, day first in figures, or
    written out), and its paragraph. A date written in words in a photo's
    caption is the photo's, and is passed over."""
    for number, text in enumerate(paragraphs[:within], start=1):
        for kind, pattern in PATTERNS[:4]:
            if kind not in ("printed date", "numeric date") and CAPTION.search(text):
                continue
            match = pattern.search(text)
            if match:
                window, _ = resolve(kind, match, None)
                if window:
                    return window.earliest, number
    return None
