"""Write a deterministic ACLED-format file of N rows, shaped like ACLED's Syria data.

The same N always gives the same bytes, so runs on different days and
machines measure the same work: about 5,000 places (locations within real
governorates), 10,000 actors, two to three actors and one or two sources
an event, and notes of the length ACLED writes.
"""

from __future__ import annotations

import csv
import random
import sys
from pathlib import Path

from loader.imports import acled

GOVERNORATES = [
    "Aleppo",
    "Idleb",
    "Hama",
    "Homs",
    "Damascus",
    "Rural Damascus",
    "Dara",
    "As-Sweida",
    "Quneitra",
    "Lattakia",
    "Tartous",
    "Deir-ez-Zor",
    "Ar-Raqqa",
    "Al-Hasakeh",
]
SYLLABLES = [
    "kafr",
    "tal",
    "deir",
    "ain",
    "jab",
    "ma",
    "ra",
    "sa",
    "nab",
    "hal",
    "qas",
    "bir",
    "zan",
    "mar",
    "sh",
    "ku",
    "ba",
    "la",
    "dar",
    "um",
    "ar",
    "id",
    "ham",
    "sur",
]
WORDS = (
    "the of and in a to on reportedly forces group armed clashes shelling killed injured "
    "village town positions near checkpoint military vehicle drone strike targeted local sources "
    "according members fighters civilians protest demonstrators against government council "
    "detained arrested area road outskirts eastern western northern southern countryside"
).split()
OUTLETS = [
    f"{a} {b}"
    for a in (
        "Syrian",
        "Step",
        "Enab",
        "Deir",
        "Levant",
        "North",
        "Sham",
        "Orient",
        "Hawar",
        "Baladi",
        "Horan",
        "Euphrates",
        "Qasioun",
        "Aleppo",
        "Smart",
    )
    for b in (
        "News",
        "Observatory",
        "Media Center",
        "Network",
        "Press",
        "Agency",
        "24",
        "Today",
        "Post",
        "Voice",
        "Monitor",
        "Daily",
        "Times",
        "Report",
        "Radio",
        "TV",
        "Info",
        "Now",
        "Online",
        "Live",
    )
]
SCALES = [
    "National",
    "Subnational",
    "Local partner-Other",
    "New media",
    "National-Regional",
    "Other-New media",
    "Subnational-National",
    "International",
]
SUB_EVENT_WEIGHTS = {
    "Shelling/artillery/missile attack": 30,
    "Armed clash": 20,
    "Air/drone strike": 12,
    "Attack": 8,
    "Remote explosive/landmine/IED": 5,
    "Peaceful protest": 6,
    "Arrests": 4,
    "Looting/property destruction": 2,
    "Abduction/forced disappearance": 2,
    "Disrupted weapons use": 2,
    "Other": 1,
    "Agreement": 1,
    "Grenade": 1,
    "Violent demonstration": 1,
    "Change to group/activity": 1,
    "Protest with intervention": 1,
    "Government regains territory": 0.5,
    "Non-state actor overtakes territory": 0.5,
    "Mob violence": 0.5,
    "Headquarters or base established": 0.3,
    "Excessive force against protesters": 0.3,
    "Sexual violence": 0.2,
    "Suicide bomb": 0.2,
    "Non-violent transfer of territory": 0.2,
    "Chemical weapon": 0.1,
}
PLACES = 5_000
ACTORS = 10_000
# Places and actors the curated fixture (tests/fixtures/valid) knows too, at
# places in the long tail's list, so that an import reconciles as a real one
# does: Damascus by its name a kilometre from the curated point, "Dimashq"
# (a curated alias) 70 km away and so kept apart, and Syria by an alias.
KNOWN_PLACES = {
    20: ("Damascus", "Damascus", "Damascus", "Damascus", 33.5138, 36.2765),
    40: ("Dimashq", "Rural Damascus", "Duma", "Duma", 33.9, 36.9),
}
KNOWN_ACTORS = {30: ("Syrian Arab Republic", "1")}


def _name(rng: random.Random, parts: tuple[int, int]) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(*parts))).capitalize()


def _places(rng: random.Random) -> list[tuple[str, str, str, str, float, float]]:
    districts = [(g, f"{_name(rng, (2, 3))}") for g in GOVERNORATES for _ in range(5)]
    subdistricts = [(g, d, _name(rng, (2, 3))) for g, d in districts for _ in range(4)]
    places = []
    for _ in range(PLACES):
        g, d, s = rng.choice(subdistricts)
        prefix = rng.choice(["", "", "", "Tell ", "Kafr ", "Deir ", "Ain ", "Jabal "])
        places.append(
            (prefix + _name(rng, (2, 4)), g, d, s, round(rng.uniform(32.3, 37.3), 4), round(rng.uniform(35.7, 42.4), 4))
        )
    for i, place in KNOWN_PLACES.items():
        places[i] = place
    return places


def _actors(rng: random.Random) -> list[tuple[str, str]]:
    fixed = [
        ("Military Forces of Syria (2000-2024)", "1"),
        ("Military Forces of Syria (2024-)", "1"),
        ("Military Forces of Israel (2022-)", "8"),
        ("Military Forces of Turkey (2016-)", "8"),
        ("Military Forces of Russia (2000-)", "8"),
        ("Islamic State (Syria)", "2"),
        ("Unidentified Armed Group (Syria)", "3"),
        ("Civilians (Syria)", "7"),
        ("Protesters (Syria)", "6"),
    ]
    actors, seen = list(fixed), {n for n, _ in fixed}
    while len(actors) < ACTORS:
        kind = rng.random()
        if kind < 0.4:
            name, inter = (
                f"{_name(rng, (2, 3))} {rng.choice(['Brigade', 'Battalion', 'Regiment', 'Front', 'Movement'])}",
                "2",
            )
        elif kind < 0.7:
            name, inter = f"{_name(rng, (2, 3))} Clan Militia (Syria)", "4"
        elif kind < 0.85:
            name, inter = f"{_name(rng, (2, 3))} Communal Militia (Syria)", "4"
        else:
            name, inter = f"Police Forces of Syria ({_name(rng, (2, 2))} Unit)", "1"
        if name not in seen:
            seen.add(name)
            actors.append((name, inter))
    for i, actor in KNOWN_ACTORS.items():
        actors[i] = actor
    return actors


def generate(path: Path, rows: int, seed: int = 0) -> Path:
    """Write `rows` ACLED rows to path (CSV with ACLED's columns, plus inter1 and inter2)."""
    rng = random.Random(seed)
    places = _places(rng)
    actors = _actors(rng)
    # A long tail: a few actors and places appear in most events, as in ACLED.
    actor_weights = [1 / (i + 1) ** 0.8 for i in range(len(actors))]
    place_weights = [1 / (i + 1) ** 0.6 for i in range(len(places))]
    sub_types = list(SUB_EVENT_WEIGHTS)
    sub_weights = list(SUB_EVENT_WEIGHTS.values())
    header = [*acled.COLUMNS, "inter1", "inter2"]
    chunk = 10_000
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        for start in range(0, rows, chunk):
            count = min(chunk, rows - start)
            picked_places = rng.choices(places, place_weights, k=count)
            picked_actors = rng.choices(actors, actor_weights, k=count * 4)
            picked_types = rng.choices(sub_types, sub_weights, k=count)
            for i in range(count):
                n = start + i
                location, admin1, admin2, admin3, lat, lon = picked_places[i]
                (a1, inter1), (a2, inter2), (x1, _), (x2, _) = picked_actors[4 * i : 4 * i + 4]
                sub = picked_types[i]
                has_actor2 = rng.random() < 0.7
                assoc1 = "; ".join(rng.sample([x1, x2], rng.randint(1, 2))) if rng.random() < 0.5 else ""
                assoc2 = x2 if rng.random() < 0.25 else ""
                year = 2017 + n * 9 // rows
                day = f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
                notes = " ".join(rng.choices(WORDS, k=rng.randint(25, 70))).capitalize() + "."
                sources = "; ".join(rng.sample(OUTLETS, rng.choice([1, 1, 1, 2, 2, 3])))
                writer.writerow(
                    [
                        f"SYR{n + 1}",
                        day,
                        rng.choices("123", (85, 10, 5))[0],
                        acled.SUB_EVENT_TYPES[sub][0],
                        sub,
                        a1,
                        assoc1,
                        a2 if has_actor2 else "",
                        assoc2 if has_actor2 else "",
                        "Syria",
                        "760",
                        admin1,
                        admin2,
                        admin3,
                        location,
                        f"{lat}",
                        f"{lon}",
                        rng.choices("123", (70, 25, 5))[0],
                        sources,
                        rng.choice(SCALES),
                        f"On {day}, {notes}",
                        rng.choices(["0", "1", "2", "3", "5", "12"], (70, 12, 7, 5, 4, 2))[0],
                        "crowd size=no report" if sub.endswith("protest") else "",
                        str(1_600_000_000 + n * 60),
                        inter1,
                        inter2 if has_actor2 else "",
                    ]
                )
    return path


if __name__ == "__main__":
    generate(Path(sys.argv[1]), int(sys.argv[2]))
