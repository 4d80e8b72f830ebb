"""An actor's and a place's page: what a reader lands on from a search, a
name in an event, or a link in another page.

Datasette's row page shows a record's fields and counts of the rows that
point at it ("2 rows from actor_id in event_actors"), which a reader cannot
read. templates/row-events-actors.html and row-events-places.html give
each kind's own facts and extend templates/_subject_row.html, which calls
`subject_page` (this module's template function) for the rest: every event
the actor took part in (with the role) or that happened at the place or
within it, dated in words; the claims an actor makes and the disputes it is
a voice in; whom it met most, from the actor_pairs view, which lists a pair
under each of its actors; the places of its events as a small map,
and its events per year as a small timeline. Queries read schema.sql's
views, so the pages follow the schema's words.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from datasette import hookimpl

from loader import DATABASE_NAME as DATABASE
from loader.site.plugins.timeline import month_label

MET = 10  # the actors a page lists as met most
MAP_WIDTH, MAP_HEIGHT, MAP_PAD = 320, 200, 14  # the small map's size and margin, in pixels

ACTOR_EVENTS = """
    select e.id, e.title, e.date_label, e.start_date, e.place_id, e.place_name, e.latitude, e.longitude,
           group_concat(distinct ea.role) as roles
    from event_actors as ea join event_list as e on e.id = ea.event_id
    where ea.actor_id = :id group by e.id order by e.start_date, e.id"""
PLACE_EVENTS = """
    select e.id, e.title, e.date_label, e.start_date, e.place_id, e.place_name, e.latitude, e.longitude, '' as roles
    from event_list as e
    where e.id in (select event_id from subject_events where kind = 'place' and subject_id = :id)
    order by e.start_date, e.id"""
CLAIMS = """
    select c.id, c.statement, c.stance, c.event_id, e.title as event_title, e.date_label
    from claims as c left join event_list as e on e.id = c.event_id
    where c.claimant_id = :id order by e.start_date, c.id"""
ACTOR_DISPUTES = """
    select d.id, d.question, d.status, group_concat(distinct c.position) as positions, e.title as event_title
    from claims as c join disputes as d on d.id = c.dispute_id left join events as e on e.id = d.event_id
    where c.claimant_id = :id group by d.id order by d.question"""
PLACE_DISPUTES = """
    select d.id, d.question, d.status, '' as positions, e.title as event_title
    from disputes as d join events as e on e.id = d.event_id
    where d.event_id in (select event_id from subject_events where kind = 'place' and subject_id = :id)
    order by d.question"""
# The actor_pairs view lists a pair under each of its actors, whichever column the table holds it in.
MET_MOST = f"""
    select actor_b as id, actor_b_name as name, events, first_date, last_date
    from actor_pairs where actor_a = :id
    order by events desc, name limit {MET}"""
# At a place: the actors of its events, most often first.
PRESENT = f"""
    select a.id, a.name, count(distinct ea.event_id) as events
    from event_actors as ea join actors as a on a.id = ea.actor_id
    where ea.event_id in (select event_id from subject_events where kind = 'place' and subject_id = :id)
    group by a.id order by events desc, a.name limit {MET}"""
WITHIN = "select id, name, kind from {table} where parent_id = :id order by name"


def small_map(events: list[dict], home: dict | None) -> list[dict]:
    """The places of the events (and the place itself), each a point in an
    SVG of MAP_WIDTH by MAP_HEIGHT: an equirectangular drawing of their
    bounding box, enough to show where a subject's events lie."""
    places: dict[str, dict] = {}
    for e in events:
        if e["latitude"] is not None and e["longitude"] is not None:
            place = places.setdefault(
                e["place_id"],
                {
                    "id": e["place_id"],
                    "name": e["place_name"],
                    "lat": e["latitude"],
                    "lon": e["longitude"],
                    "events": 0,
                },
            )
            place["events"] += 1
    if home and home.get("latitude") is not None and home.get("longitude") is not None and home["id"] not in places:
        places[home["id"]] = {
            "id": home["id"],
            "name": home["name"],
            "lat": home["latitude"],
            "lon": home["longitude"],
            "events": 0,
        }
    if not places:
        return []
    lats = [p["lat"] for p in places.values()]
    lons = [p["lon"] for p in places.values()]
    # At least a degree across, so that one place sits in the middle.
    span_lon, span_lat = max(max(lons) - min(lons), 1.0), max(max(lats) - min(lats), 1.0)
    mid_lon, mid_lat = (max(lons) + min(lons)) / 2, (max(lats) + min(lats)) / 2
    scale = min((MAP_WIDTH - 2 * MAP_PAD) / span_lon, (MAP_HEIGHT - 2 * MAP_PAD) / span_lat)
    return [
        {
            **p,
            "x": round(MAP_WIDTH / 2 + (p["lon"] - mid_lon) * scale, 1),
            "y": round(MAP_HEIGHT / 2 - (p["lat"] - mid_lat) * scale, 1),
        }
        for p in sorted(places.values(), key=lambda p: p["name"])
    ]


def met_when(row: dict) -> str:
    """When a pair met, in words: "August 2025", or "January to August 2025"."""
    first, last = month_label(row["first_date"][:7]), month_label(row["last_date"][:7])
    if first == last:
        return first
    if first[-4:] == last[-4:]:
        return f"{first[:-5]} to {last}"
    return f"{first} to {last}"


def per_year(events: list[dict]) -> list[dict]:
    """Events per year from the first to the last, empty years included, so
    the bars read as a timeline."""
    counts = Counter(int(e["start_date"][:4]) for e in events if e["start_date"])
    if not counts:
        return []
    most = max(counts.values())
    return [
        {"year": y, "events": counts[y], "share": round(100 * counts[y] / most)}
        for y in range(min(counts), max(counts) + 1)
    ]


async def subject_page(datasette: Any, table: str, record_id: str) -> dict:
    db = datasette.get_database(DATABASE)
    params = {"id": record_id}

    async def rows(sql: str) -> list[dict]:
        return [dict(r) for r in (await db.execute(sql, params)).rows]

    if table == "actors":
        home = None
        events = await rows(ACTOR_EVENTS)
        page = {
            "claims": await rows(CLAIMS),
            "disputes": await rows(ACTOR_DISPUTES),
            "met": [{**r, "when": met_when(r)} for r in await rows(MET_MOST)],
        }
    else:
        found = await rows("select id, name, latitude, longitude from places where id = :id")
        home = found[0] if found else None
        events = await rows(PLACE_EVENTS)
        page = {
            "disputes": await rows(PLACE_DISPUTES),
            "present": await rows(PRESENT),
            # The event list's link to "the events here" filters by these, so
            # it lists the events of the places within too, as this page does.
            "event_places": sorted({record_id, *(e["place_id"] for e in events)}),
        }
    return {
        **page,
        "events": events,
        "within": await rows(WITHIN.format(table=table)),
        "map": small_map(events, home),
        "map_size": (MAP_WIDTH, MAP_HEIGHT),
        "years": per_year(events),
    }


@hookimpl
def extra_template_vars(datasette: Any, database: str, table: str) -> dict:
    if database != DATABASE or table not in ("actors", "places"):
        return {}

    async def subject(record_id: str) -> dict:
        return await subject_page(datasette, table, record_id)

    return {"subject_page": subject}
