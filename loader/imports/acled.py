"""Map ACLED's export rows onto the store's tables.

ACLED (the Armed Conflict Location & Event Data project) publishes one flat
row per event. The store keeps events, places, actors and sources apart, so
each row is split here: its place and actors are looked up by name (and, for
places, admin divisions and coordinates) so that thousands of rows share one
row each, its precision codes become the store's words, and its sub-event
type becomes one of the event types this module declares, each placed on
PLOVER and CAMEO so imported and curated events can be compared.

What ACLED says is kept: what has no column of its own in the store (which
ACLED column named an actor, its tags, its timestamp) goes into a column or
note meant for it, and an imported event's id is its ACLED id, so it can be
traced back to its ACLED record. Only what follows from other columns is
dropped: the country's name (from iso) and the top-level event type (from
sub_event_type, which must agree with it).
"""

from __future__ import annotations

import hashlib
import math
import operator
import re
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import iso3166

from .. import rules
from ..problems import did_you_mean
from ..schema import Schema

if TYPE_CHECKING:  # a type of the writing process only (see importer.py)
    import sqlite_utils

# ACLED's documented export columns; a file must have them all (it may have more).
COLUMNS = (
    "event_id_cnty",
    "event_date",
    "time_precision",
    "event_type",
    "sub_event_type",
    "actor1",
    "assoc_actor_1",
    "actor2",
    "assoc_actor_2",
    "country",
    "iso",
    "admin1",
    "admin2",
    "admin3",
    "location",
    "latitude",
    "longitude",
    "geo_precision",
    "source",
    "source_scale",
    "notes",
    "fatalities",
    "tags",
    "timestamp",
)
# Read when present: the type of actor1 and actor2 (numeric codes in older
# exports, words in newer ones).
ACTOR_TYPE_COLUMNS = ("inter1", "inter2")

# The ACLED column a store field is made from, so a refusal names the column to fix.
SOURCE_COLUMN = {
    "id": "event_id_cnty",
    "title": "sub_event_type",
    "summary": "notes",
    "event_type": "sub_event_type",
    "start_date": "event_date",
    "end_date": "event_date",
    "date_precision": "time_precision",
    "place_id": "location",
    "geo_precision": "geo_precision",
    "fatalities": "fatalities",
    "source_scale": "source_scale",
    "tags": "tags",
    "origin_updated": "timestamp",
    "name": "location",
    "latitude": "latitude",
    "longitude": "longitude",
    "country_code": "iso",
    "outlet": "source",
}

# 1: the day is known; 2: only the week, the date standing for its middle;
# 3: only the month. A week becomes the seven days around the date.
DATE_PRECISION = {"1": "day", "2": "week", "3": "month"}
# 1: the event happened at the named location; 2: near it, or in part of a
# region it stands for; 3: only the larger region is known.
GEO_PRECISION = {"1": "locality", "2": "representative", "3": "representative"}

# ACLED sub-event type: (its ACLED event type, PLOVER category, CAMEO code).
# CAMEO codes are the nearest in CAMEO 1.1b3; PLOVER has no "other", so
# ACLED's "Other" strategic development is filed under MOBILIZE.
SUB_EVENT_TYPES: dict[str, tuple[str, str, str]] = {
    "Armed clash": ("Battles", "ASSAULT", "193"),
    "Government regains territory": ("Battles", "ASSAULT", "192"),
    "Non-state actor overtakes territory": ("Battles", "ASSAULT", "192"),
    "Chemical weapon": ("Explosions/Remote violence", "ASSAULT", "204"),
    "Air/drone strike": ("Explosions/Remote violence", "ASSAULT", "195"),
    "Suicide bomb": ("Explosions/Remote violence", "ASSAULT", "1831"),
    "Shelling/artillery/missile attack": ("Explosions/Remote violence", "ASSAULT", "194"),
    "Remote explosive/landmine/IED": ("Explosions/Remote violence", "ASSAULT", "1833"),
    "Grenade": ("Explosions/Remote violence", "ASSAULT", "183"),
    "Sexual violence": ("Violence against civilians", "ASSAULT", "1821"),
    "Attack": ("Violence against civilians", "ASSAULT", "180"),
    "Abduction/forced disappearance": ("Violence against civilians", "ASSAULT", "181"),
    "Peaceful protest": ("Protests", "PROTEST", "141"),
    "Protest with intervention": ("Protests", "PROTEST", "141"),
    "Excessive force against protesters": ("Protests", "COERCE", "175"),
    "Violent demonstration": ("Riots", "PROTEST", "145"),
    "Mob violence": ("Riots", "ASSAULT", "180"),
    "Agreement": ("Strategic developments", "AGREE", "057"),
    "Arrests": ("Strategic developments", "COERCE", "173"),
    "Change to group/activity": ("Strategic developments", "MOBILIZE", "150"),
    "Disrupted weapons use": ("Strategic developments", "COERCE", "171"),
    "Headquarters or base established": ("Strategic developments", "MOBILIZE", "154"),
    "Looting/property destruction": ("Strategic developments", "COERCE", "1712"),
    "Non-violent transfer of territory": ("Strategic developments", "RETREAT", "0874"),
    "Other": ("Strategic developments", "MOBILIZE", "15"),
}
# Older exports spell it "protestors".
ALIASES = {"Excessive force against protestors": "Excessive force against protesters"}

# ACLED's actor types (inter1, inter2), by code and by name.
ACTOR_TYPES = {
    "1": "military",
    "state forces": "military",
    "2": "armed_group",
    "rebel group": "armed_group",
    "3": "armed_group",
    "political militia": "armed_group",
    "4": "armed_group",
    "identity militia": "armed_group",
    "5": "community",
    "rioters": "community",
    "6": "community",
    "protesters": "community",
    "7": "community",
    "civilians": "community",
    "8": "organization",
    "external/other forces": "organization",
}
# What ACLED's naming conventions say of an actor whose type it does not give.
ACTOR_NAME_KINDS = (
    (re.compile(r"^Military Forces of "), "military"),
    (re.compile(r"^Police Forces of "), "government_body"),
    (re.compile(r"^Government of "), "government"),
    (re.compile(r"^(Protesters|Rioters|Civilians|Refugees/IDPs|Labor Group|Students)\b"), "community"),
    (re.compile(r"Militia|Unidentified Armed Group|Islamic State|Rebel", re.IGNORECASE), "armed_group"),
)


def slug(text: str) -> str:
    return rules.slug(text, 60) or "x"


def digest(*parts: Any) -> str:
    """A short, stable fingerprint, so an id made from a name stays the same
    from one export to the next whatever order the rows come in."""
    return hashlib.blake2b(repr(parts).encode(), digest_size=4).hexdigest()


def event_type_code(sub_event_type: str) -> str:
    return "acled-" + slug(sub_event_type)


EVENT_TYPE_CODES = {name: event_type_code(name) for name in SUB_EVENT_TYPES}


def event_type_rows() -> list[dict[str, str]]:
    """The store's event types for ACLED's sub-event types, added by an ACLED import."""
    return [
        {
            "code": EVENT_TYPE_CODES[name],
            "label": name,
            "description": f"ACLED: {event_type}, sub-event type '{name}'.",
            "plover": plover,
            "cameo": cameo,
        }
        for name, (event_type, plover, cameo) in SUB_EVENT_TYPES.items()
    ]


def actor_kind(name: str, actor_type: str) -> str:
    if kind := ACTOR_TYPES.get(actor_type.strip().lower()):
        return kind
    for pattern, kind in ACTOR_NAME_KINDS:
        if pattern.search(name):
            return kind
    return "organization"


def parse_date(text: str) -> date:
    """ACLED's API writes 2024-01-15; its older CSV exports 15 January 2024."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        return datetime.strptime(text.strip(), "%d %B %Y").date()


def date_span(day: date, precision: str) -> tuple[str, str]:
    if precision == "week":
        return (day - timedelta(days=3)).isoformat(), (day + timedelta(days=3)).isoformat()
    if precision == "month":
        first = day.replace(day=1)
        following = (first + timedelta(days=32)).replace(day=1)
        return first.isoformat(), (following - timedelta(days=1)).isoformat()
    text = day.isoformat()
    return text, text


def country_code(iso: str) -> str:
    """ACLED gives countries as ISO 3166-1 numeric codes; the store uses alpha-2."""
    country = iso3166.countries_by_numeric.get(iso.strip().zfill(3))
    if country is None:
        raise ValueError(f"'{iso}' is not an ISO 3166-1 numeric country code")
    return country.alpha2


COLUMNS_WRITTEN = {
    "places": (
        "id",
        "name",
        "kind",
        "country_code",
        "latitude",
        "longitude",
        "geo_precision",
        "admin1",
        "admin2",
        "admin3",
    ),
    "actors": ("id", "name", "kind"),
    "documents": ("id", "title", "outlet"),
    "events": (
        "id",
        "title",
        "summary",
        "event_type",
        "start_date",
        "end_date",
        "date_precision",
        "place_id",
        "origin",
        "geo_precision",
        "fatalities",
        "source_scale",
        "tags",
        "origin_updated",
    ),
    "event_actors": ("event_id", "actor_id", "role", "note"),
    "event_documents": ("event_id", "document_id"),
}


class Mapper:
    """Turns one ACLED row at a time into store rows, remembering the places,
    actors and sources already seen so each is written once.

    `entity(table, key, make_row)` gives the id for a key, queueing the row
    make_row() returns the first time the key is seen.
    """

    name: ClassVar[str] = "acled"
    text_values: ClassVar[bool] = True  # the mapping reads every value as text, as CSV gives them

    def __init__(self, header: list[str], origin: str, entity: Any, schema: Schema):
        missing = [c for c in COLUMNS if c not in header]
        if missing:
            raise ValueError("missing ACLED column" + ("s " if len(missing) > 1 else " ") + ", ".join(missing))
        self.origin = origin
        self.entity = entity
        self.index = [header.index(c) for c in COLUMNS]
        self.pick = operator.itemgetter(*self.index)
        self.actor_types = [header.index(c) if c in header else None for c in ACTOR_TYPE_COLUMNS]
        self.countries: dict[str, str | None] = {}
        self.columns = COLUMNS_WRITTEN

    @classmethod
    def matches(cls, header: list[str]) -> bool:
        return "event_id_cnty" in header

    @classmethod
    def default_origin(cls, path: Path) -> str:
        """One name for every ACLED file, so that a newer export replaces the older one."""
        return "acled"

    @classmethod
    def prepare(cls, db: sqlite_utils.Database) -> None:
        db.table("event_types").insert_all(event_type_rows(), ignore=True)

    @staticmethod
    def source_column(field: str) -> str:
        return SOURCE_COLUMN.get(field, field)

    def label(self, values: list[str]) -> str:
        return values[self.index[0]] or "-"

    def map(self, values: list[str]) -> tuple[list[tuple[str, tuple]], list[tuple[str, str]]]:
        """The rows to write for one ACLED row as (table, values), or the
        problems, as (ACLED column, message), that keep it out."""
        (
            event_id,
            event_date,
            time_precision,
            event_type,
            sub_event_type,
            actor1,
            assoc_actor_1,
            actor2,
            assoc_actor_2,
            _country,
            iso,
            admin1,
            admin2,
            admin3,
            location,
            latitude,
            longitude,
            geo_precision,
            source,
            source_scale,
            notes,
            fatalities,
            tags,
            timestamp,
        ) = self.pick(values)
        problems: list[tuple[str, str]] = []

        if not event_id:
            problems.append(("event_id_cnty", "is required"))
        precision = DATE_PRECISION.get(time_precision)
        if precision is None:
            problems.append(("time_precision", f"'{time_precision}' is not one of ACLED's codes 1, 2, 3"))
        try:
            day = parse_date(event_date)
        except ValueError:
            problems.append(("event_date", f"'{event_date}' is not a date written YYYY-MM-DD or '15 January 2024'"))
        sub_event_type = ALIASES.get(sub_event_type, sub_event_type)
        known = SUB_EVENT_TYPES.get(sub_event_type)
        type_code = EVENT_TYPE_CODES.get(sub_event_type)
        if known is None:
            problems.append(
                (
                    "sub_event_type",
                    f"'{sub_event_type}' is not one of ACLED's sub-event types{did_you_mean(sub_event_type, SUB_EVENT_TYPES)}",
                )
            )
        elif known[0].lower() != event_type.lower():
            problems.append(
                (
                    "event_type",
                    f"'{event_type}' does not match sub_event_type '{sub_event_type}', which ACLED files under '{known[0]}'",
                )
            )
        where = GEO_PRECISION.get(geo_precision)
        if where is None:
            problems.append(("geo_precision", f"'{geo_precision}' is not one of ACLED's codes 1, 2, 3"))
        try:
            point = (float(latitude), float(longitude))
        except ValueError:
            problems.append(("latitude", f"'{latitude}, {longitude}' are not two numbers"))
        else:
            if not all(map(math.isfinite, point)):
                problems.append(("latitude", f"'{latitude}, {longitude}' are not two finite numbers"))
        try:
            deaths = int(fatalities) if fatalities else None
        except ValueError:
            problems.append(("fatalities", f"'{fatalities}' is not a whole number"))
        else:
            if error := rules.type_problem("INTEGER", False, deaths):
                problems.append(("fatalities", f"'{fatalities}' {error}"))
        try:
            updated = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(timestamp))) if timestamp else None
        except (ValueError, OverflowError, OSError):
            problems.append(("timestamp", f"'{timestamp}' is not a Unix time"))
        code = self.countries.get(iso, "")
        if code == "":
            try:
                code = self.countries[iso] = country_code(iso) if iso else None
            except ValueError as e:
                problems.append(("iso", str(e)))
        if not location.strip():
            problems.append(("location", "is required"))
        if problems or precision is None or where is None:
            return [], problems
        try:
            start, end = date_span(day, precision)
        except OverflowError:  # the first or last days Python has, which schema.sql's range refuses anyway
            return [], [("event_date", f"'{event_date}' is too near an end of the calendar to widen to a {precision}")]

        place_key = (location, admin1, admin2, admin3, point)
        place_id = self.entity(
            "places",
            place_key,
            lambda: (
                f"{self.origin}-{slug(location)}-{digest(*place_key)}",
                location,
                "town",
                code,
                point[0],
                point[1],
                "locality",
                admin1 or None,
                admin2 or None,
                admin3 or None,
            ),
        )

        event = f"{self.origin}-{event_id.lower()}"
        rows: list[tuple[str, tuple]] = []
        linked: set[tuple[str, str]] = set()
        for column, value, several, type_index in (
            ("actor1", actor1, False, self.actor_types[0]),
            ("assoc_actor_1", assoc_actor_1, True, None),
            ("actor2", actor2, False, self.actor_types[1]),
            ("assoc_actor_2", assoc_actor_2, True, None),
        ):
            if not value:
                continue
            actor_type = values[type_index] if type_index is not None else ""
            for name in value.split(";") if several else (value,):
                name = name.strip()
                if not name:
                    continue
                actor_id = self.entity(
                    "actors",
                    name,
                    lambda name=name, actor_type=actor_type: (
                        f"{self.origin}-{slug(name)}-{digest(name)}",
                        name,
                        actor_kind(name, actor_type),
                    ),
                )
                role = "affected" if name.startswith("Civilians") else "participant"
                if (actor_id, role) not in linked:
                    linked.add((actor_id, role))
                    rows.append(("event_actors", (event, actor_id, role, column)))

        for outlet in dict.fromkeys(s.strip() for s in source.split(";")):
            if not outlet:
                continue
            document_id = self.entity(
                "documents",
                outlet,
                lambda outlet=outlet: (
                    f"{self.origin}-source-{slug(outlet)}-{digest(outlet)}",
                    f"Reports by {outlet}, as cited by ACLED",
                    outlet,
                ),
            )
            rows.append(("event_documents", (event, document_id)))

        title = f"{sub_event_type} in {location}"
        rows.insert(
            0,
            (
                "events",
                (
                    event,
                    title,
                    notes if notes.strip() else title,
                    type_code,
                    start,
                    end,
                    precision,
                    place_id,
                    self.origin,
                    where,
                    deaths,
                    source_scale or None,
                    tags or None,
                    updated,
                ),
            ),
        )
        return rows, []
