"""Join what an import brings in to the curated store it joins.

An ACLED import names places and actors its own way: a second "Damascus",
"As-Sweida" beside the curated As-Suwayda, "Military Forces of Israel
(2022-)" beside the curated Israeli army. Left apart, a reader asking for
the events at Sweida misses every imported one. After the imports are
written and before the indexes are built, each imported place or actor that
is a curated one is replaced by it everywhere it is referred to, and the
imported row is dropped. The rules, in order:

- place_matches and actor_matches in sources/ (curated, validated like any
  record): the name as the origin writes it is that curated record
  ('same') or is not ('apart');
- places: the same GeoNames id; or the same name or alias, once folded
  (case, diacritics, punctuation and a leading Arabic article such as
  al-, as-, ad- are ignored, so "As-Sweida" is "Sweida"), with the two
  points no more than MAX_DISTANCE_KM apart (a town's point differs from
  one gazetteer to another by a few kilometres; two villages of one name
  are usually tens of kilometres apart). A name that matches farther away,
  or where either place has no point to measure by, is kept apart and
  reported as such;
- actors: the same name or alias, folded the same way.

What was joined, how, and what was kept apart although a name matched goes
into schema.sql's reconciliation table, the report.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from dataclasses import dataclass, field

import sqlite_utils

from ..schema import Schema

MAX_DISTANCE_KM = 25.0
ARTICLES = {"al", "el", "as", "ad", "adh", "ar", "ash", "at", "ath", "az", "an"}


def fold(name: str) -> str:
    """A name reduced to what tells two spellings of it apart."""
    text = "".join(c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c))
    words = re.sub(r"[\W_]+", " ", text.casefold()).split()
    if len(words) > 1 and words[0] in ARTICLES:
        words = words[1:]
    return " ".join(words)


def distance_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance, haversine formula."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(h))


@dataclass
class Match:
    kind: str  # place or actor
    imported_id: str
    name: str
    curated_id: str
    how: str
    distance_km: float | None = None
    events: int = 0

    @property
    def joined(self) -> bool:
        return not self.how.startswith("apart")


@dataclass
class Reconciliation:
    """What reconcile did; written into the database once its tables exist."""

    matches: list[Match] = field(default_factory=list)

    def write(self, db: sqlite_utils.Database) -> None:
        db.table("reconciliation").insert_all(vars(m) for m in self.matches)


def _names(row: dict) -> set[str]:
    return {fold(row["name"]), *(fold(alias) for alias in json.loads(row["aliases"]))}


def _point(row: dict) -> tuple[float, float] | None:
    return None if row["latitude"] is None else (row["latitude"], row["longitude"])


def _overrides(db: sqlite_utils.Database, table: str, key: str) -> dict[tuple[str, str], list[tuple[str, str]]]:
    decided: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for row in db[table].rows:
        decided.setdefault((row["origin"], row["name"]), []).append((row[key], row["decision"]))
    return decided


def _match_place(row: dict, curated: list[dict], by_geonames: dict[int, dict]) -> Match | None:
    """The curated place an imported one is, by GeoNames id or by name within
    the distance; or the nearest of the same name, kept apart as too far."""
    here = _point(row)
    if row["geonames_id"] is not None and row["geonames_id"] in by_geonames:
        other = by_geonames[row["geonames_id"]]
        there = _point(other)
        distance = distance_km(here, there) if here and there else None
        return Match("place", row["id"], row["name"], other["id"], "geonames_id", distance)
    folded = fold(row["name"])
    candidates = []
    for other in curated:
        if folded in other["folded"]:
            there = _point(other)
            distance = distance_km(here, there) if here and there else None
            how = "name" if folded == fold(other["name"]) else "alias"
            candidates.append((math.inf if distance is None else distance, other["id"], how, distance))
    if not candidates:
        return None
    _, curated_id, how, distance = min(candidates)
    if distance is None:
        how = "apart: no point to compare"
    elif distance > MAX_DISTANCE_KM:
        how = "apart: too far"
    return Match("place", row["id"], row["name"], curated_id, how, distance)


def _match_actor(row: dict, curated: list[dict]) -> Match | None:
    folded = fold(row["name"])
    for other in curated:
        if folded in other["folded"]:
            how = "name" if folded == fold(other["name"]) else "alias"
            return Match("actor", row["id"], row["name"], other["id"], how)
    return None


def _origin(imported_id: str, origins: list[str]) -> str | None:
    return next((o for o in origins if imported_id.startswith(f"{o}-")), None)


def _decide(
    kind: str, table: str, key: str, db: sqlite_utils.Database, curated_db: sqlite_utils.Database, origins: list[str]
) -> list[Match]:
    curated_ids = {row["id"] for row in curated_db[table].rows}
    curated = [{**row, "folded": _names(row)} for row in curated_db[table].rows]
    by_geonames = {row["geonames_id"]: row for row in curated if row.get("geonames_id") is not None}
    overrides = _overrides(curated_db, f"{kind}_matches", key)
    matches: list[Match] = []
    for row in db[table].rows:
        origin = _origin(row["id"], origins)
        if row["id"] in curated_ids or origin is None:
            continue
        decided = overrides.get((origin, row["name"]), [])
        same = [curated_id for curated_id, decision in decided if decision == "same"]
        apart = {curated_id for curated_id, decision in decided if decision == "apart"}
        matches.extend(Match(kind, row["id"], row["name"], other, "apart: override") for other in sorted(apart))
        if same:
            matches.append(Match(kind, row["id"], row["name"], same[0], "override"))
            continue
        found = _match_place(row, curated, by_geonames) if kind == "place" else _match_actor(row, curated)
        if found and found.curated_id not in apart:
            matches.append(found)
    return matches


def _join(db: sqlite_utils.Database, schema: Schema, table: str, joined: dict[str, str]) -> None:
    """Point every reference to an imported row at its curated row, then drop
    the imported row. A reference that would then repeat a row already there
    (two imported actors of one event that are one curated actor) is dropped."""
    if not joined:
        return
    db.execute("CREATE TEMP TABLE joined (imported TEXT PRIMARY KEY, curated TEXT NOT NULL)")
    db.conn.executemany("INSERT INTO temp.joined VALUES (?, ?)", joined.items())
    for name, referring in schema.tables.items():
        for fk in referring.foreign_keys:
            if fk.table != table:
                continue
            column = f"[{fk.column}]"
            db.execute(
                f"UPDATE OR IGNORE [{name}] SET {column} = (SELECT curated FROM temp.joined WHERE imported = {column}) "
                f"WHERE {column} IN (SELECT imported FROM temp.joined)"
            )
            db.execute(f"DELETE FROM [{name}] WHERE {column} IN (SELECT imported FROM temp.joined)")
    db.execute(f"DELETE FROM [{table}] WHERE id IN (SELECT imported FROM temp.joined)")
    db.execute("DROP TABLE temp.joined")


def reconcile(db: sqlite_utils.Database, curated_db: sqlite_utils.Database, schema: Schema) -> Reconciliation:
    """Join the imported places and actors of db that are curated ones (those
    of curated_db, the validated sources) to them; say what was done."""
    origins = [row[0] for row in db.execute("SELECT DISTINCT origin FROM events WHERE origin <> 'curated'")]
    result = Reconciliation()
    if not origins:
        return result
    for kind, table, key in (("place", "places", "place_id"), ("actor", "actors", "actor_id")):
        matches = _decide(kind, table, key, db, curated_db, origins)
        counting = "events" if kind == "place" else "event_actors"
        event_column = "id" if kind == "place" else "event_id"
        uses = dict(
            db.execute(
                f"SELECT {key}, count(DISTINCT {event_column}) FROM {counting} "
                f"WHERE {key} IN (SELECT value FROM json_each(?)) GROUP BY {key}",
                [json.dumps(sorted({m.imported_id for m in matches}))],
            ).fetchall()
        )
        for match in matches:
            match.events = uses.get(match.imported_id, 0)
        result.matches.extend(matches)
        _join(db, schema, table, {m.imported_id: m.curated_id for m in matches if m.joined})
    return result
