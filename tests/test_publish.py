"""The published site, in process: a real Datasette over a real database file
built from the fixtures, with the project's metadata, templates, plugins and
settings. Expected values come from SQL against the same file."""

from __future__ import annotations

import asyncio
import codecs
import csv
import datetime
import html
import io
import json
import re
import sqlite3
import types
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urljoin

import geojson
import httpx
import icalendar
import pytest
from datasette import hookimpl
from datasette.app import Datasette
from datasette.plugins import pm
from datasette.utils import parse_metadata
from markupsafe import Markup

from loader.citation import permalink, site_permalink
from loader.errors import LoaderError
from loader.metadata import METADATA_PATH
from loader.site.plugins import labels
from loader.site.serve import serve, write_inspect_file
from loader.site.worker import SETTINGS, datasette_options, inspect_path


@pytest.fixture(scope="module")
def ds(published_db: Path) -> Datasette:
    write_inspect_file(published_db)
    return Datasette(**datasette_options(published_db))


@pytest.fixture(scope="module")
def sql(published_db: Path):
    conn = sqlite3.connect(published_db)

    def run(query: str, params: tuple = ()) -> list[tuple]:
        return conn.execute(query, params).fetchall()

    yield run
    conn.close()


def get(ds: Datasette, path: str) -> httpx.Response:
    response = asyncio.run(ds.client.get(path))
    assert response.status_code == 200, (path, response.status_code, response.text[:500])
    return response


def rows(ds: Datasette, path: str) -> list[dict]:
    """The rows of a table, view or canned query page, all of them, as JSON objects."""
    page, _, query = path.partition("?")
    return get(ds, f"{page}.json?{query}&_shape=array&_size=max").json()


def test_settings_are_in_force(ds: Datasette) -> None:
    served = get(ds, "/-/settings.json").json()
    assert {name: served[name] for name in SETTINGS} == SETTINGS


def test_serve_passes_every_setting_and_no_directory(published_db: Path) -> None:
    """The plugins, templates and static files come with the installed plugin
    package (its entry point), not from directories serve names."""
    options = datasette_options(published_db)
    assert options["settings"] == {**SETTINGS, "base_url": "/"}
    assert "template_dir" not in options and "plugins_dir" not in options
    assert options["metadata"] == parse_metadata(METADATA_PATH.read_text(encoding="utf-8"))
    assert options["inspect_data"] == json.loads(inspect_path(published_db).read_text())


def test_serve_refuses_a_database_metadata_does_not_describe(tmp_path: Path, sources: Path) -> None:
    with pytest.raises(LoaderError, match="must be named events.db"):
        serve(tmp_path / "other.db", sources, 8001)


def test_inspect_file_counts_every_table(published_db: Path, sql) -> None:
    assert write_inspect_file(published_db) == inspect_path(published_db)
    counts = json.loads(inspect_path(published_db).read_text())["events"]["tables"]
    assert counts["events"]["count"] == sql("select count(*) from events")[0][0]
    assert counts["claims"]["count"] == sql("select count(*) from claims")[0][0]


def test_every_table_view_and_column_is_described(ds: Datasette, sql) -> None:
    tables = parse_metadata(METADATA_PATH.read_text(encoding="utf-8"))["databases"]["events"]["tables"]
    names = [
        name
        for (name,) in sql(
            "select name from sqlite_master where type in ('table', 'view') "
            "and name not like '%fts%' and name not like 'sqlite_%'"
        )
    ]
    for name in names:
        described = tables.get(name, {})
        assert described.get("description"), f"{name} has no description"
        columns = [column for (_, column, *_rest) in sql(f"pragma table_info([{name}])")]
        missing = [c for c in columns if c not in described.get("columns", {})]
        assert not missing, f"{name}: columns without a description: {missing}"


def test_search_internals_are_hidden(ds: Datasette, sql) -> None:
    listed = get(ds, "/events.json").json()["tables"]
    hidden = {t["name"] for t in listed if t["hidden"]}
    fts = {name for (name,) in sql("select name from sqlite_master where name like '%\\_fts%' escape '\\'")}
    assert fts and fts <= hidden
    visible = {t["name"] for t in listed if not t["hidden"]}
    assert {"events", "places", "actors", "documents", "claims"} <= visible


def test_default_facets_count_what_sql_counts(ds: Datasette, sql) -> None:
    data = get(ds, "/events/event_list.json?_facet_size=max").json()
    facets = data["facet_results"]
    assert set(facets) == {
        "event_type",
        "status",
        "origin",
        "date_precision",
        "place_id",
        "place_precision",
        "actor_names",
        "year",
    }
    status = {item["value"]: item["count"] for item in facets["status"]["results"]}
    assert status == dict(sql("select status, count(*) from events group by status"))
    actors = {item["value"]: item["count"] for item in facets["actor_names"]["results"]}
    assert actors == dict(
        sql(
            "select a.name, count(distinct ea.event_id) from event_actors ea "
            "join actors a on a.id = ea.actor_id group by a.id"
        )
    )
    assert facets["actor_names"]["type"] == "array"
    types = {item["value"]: item["count"] for item in facets["event_type"]["results"]}
    assert types == dict(sql("select event_type, count(*) from events group by event_type"))
    places = {item["value"]: item["count"] for item in facets["place_id"]["results"]}
    assert places == dict(sql("select place_id, count(*) from events where place_id is not null group by place_id"))
    precisions = {item["value"]: item["count"] for item in facets["place_precision"]["results"]}
    assert precisions == dict(
        sql("select geo_precision, count(*) from events where geo_precision is not null group by 1")
    )
    assert precisions, "the fixture places no event coarsely"
    years = {item["value"]: item["count"] for item in facets["year"]["results"]}
    assert years == dict(sql("select substr(start_date, 1, 4), count(*) from events group by 1"))


def test_json_pages_compute_only_the_extras_asked_for(ds: Datasette, sql) -> None:
    """datasette-cluster-map asks with Datasette 1.0's _extra; facets it does not ask for are not run."""
    total = sql("select count(*) from events")[0][0]
    map_page = get(
        ds, "/events/event_list.json?_size=max&_labels=on&_extra=count&_extra=next_url&_shape=objects"
    ).json()
    assert map_page["facet_results"] == {}
    assert map_page["filtered_table_rows_count"] == total == len(map_page["rows"])
    assert get(ds, "/events/event_list.json?_extra=next_url").json()["filtered_table_rows_count"] is None
    asked = get(ds, "/events/event_list.json?_extra=facet_results,count").json()
    assert set(asked["facet_results"]) >= {"status", "actor_names"}
    assert asked["filtered_table_rows_count"] == total
    one_facet = get(ds, "/events/events.json?_extra=count&_facet=origin").json()
    assert set(one_facet["facet_results"]) >= {"origin"}
    date_facet = get(ds, "/events/event_list.json?_extra=count&_facet_date=end_date").json()
    assert "end_date" in date_facet["facet_results"]
    plain = get(ds, "/events/event_list.json").json()
    assert plain["facet_results"] and plain["filtered_table_rows_count"] == total


def test_a_facet_filters_and_counts(ds: Datasette, sql) -> None:
    data = get(ds, "/events/event_list.json?status=disputed&_extra=count").json()
    expected = sql("select count(*) from events where status = 'disputed'")[0][0]
    assert expected > 0
    assert data["filtered_table_rows_count"] == expected
    by_actor = rows(ds, "/events/event_list?actor_ids__arraycontains=ahmed-al-sharaa")
    assert sorted(r["id"] for r in by_actor) == sorted(
        e for (e,) in sql("select event_id from event_actors where actor_id = 'ahmed-al-sharaa'")
    )


@pytest.mark.parametrize(
    "path, query, expected",
    [
        ("/events/actors", "Shibani", "asaad-al-shaibani"),
        ("/events/actors", "Julani", "ahmed-al-sharaa"),
        ("/events/places", "Suwayda", "sweida"),
        ("/events/places", "السويداء", "sweida"),
        ("/events/place_list", "Suwayda", "sweida"),
    ],
)
def test_searching_an_alias_finds_the_entity(ds: Datasette, path: str, query: str, expected: str) -> None:
    found = rows(ds, f"{path}?_search={query}")
    assert [r["id"] for r in found] == [expected]


def test_a_sorted_column_says_its_order_as_the_rows_are_in_it(ds: Datasette) -> None:
    """Newest first is descending: the heading says so to the eye and to a screen reader."""
    for path, order, arrow in [
        ("/events/event_list", "descending", "▼"),
        ("/events/event_list?_sort=start_date", "ascending", "▲"),
    ]:
        page = get(ds, path).text
        heading = re.search(r'<th [^>]*data-column="date_label"[^>]*>(.*?)</th>', page, re.S)
        assert heading and f'aria-sort="{order}"' in heading.group(0), path
        assert html.unescape(re.sub(r"<[^>]+>", "", heading.group(1))).split() == ["When", arrow], path


def test_searching_the_event_list_finds_titles_summaries_and_every_spelling(ds: Datasette, sql) -> None:
    """An event is found by its words and by any spelling of an actor or place it involves or names."""
    found = rows(ds, "/events/event_list?_search=strikes")
    expected = sql("select id from events where title like '%strikes%' or summary like '%strikes%'")
    assert expected and sorted(r["id"] for r in found) == sorted(e for (e,) in expected)
    involving = {
        e
        for (e,) in sql(
            "select event_id from event_actors where actor_id = 'asaad-al-shaibani' "
            "union select id from events where title || summary like '%Shaibani%'"
        )
    }
    for spelling in ("Shibani", "Shaibani", "الشيباني"):
        assert {r["id"] for r in rows(ds, f"/events/event_list?_search={spelling}")} == involving, spelling
        assert {r["id"] for r in rows(ds, f"/events/events?_search={spelling}")} == involving, spelling
    at_sweida = {e for (e,) in sql("select id from events where place_id = 'sweida'")}
    for spelling in ("Sweida", "Suwayda", "السويداء"):
        assert at_sweida <= {r["id"] for r in rows(ds, f"/events/event_list?_search={spelling}")}, spelling


def test_timeline_query_between_two_dates(ds: Datasette, sql) -> None:
    every = rows(ds, "/events/timeline?from_date=&to_date=")
    assert [r["id"] for r in every] == [e for (e,) in sql("select id from events order by start_date, end_date, id")]
    august = rows(ds, "/events/timeline?from_date=2025-08&to_date=2025-08")
    expected = sql(
        "select id from events where end_date >= '2025-08-01' and start_date <= '2025-08-31' "
        "order by start_date, end_date, id"
    )
    assert [r["id"] for r in august] == [e for (e,) in expected]
    assert len(august) < len(every)


def test_date_labels_say_how_precise_the_date_is(ds: Datasette) -> None:
    labels = {r["date_precision"]: r["date_label"] for r in rows(ds, "/events/timeline?from_date=&to_date=")}
    assert labels["day"] == "19 August 2025"
    assert labels["days"] == "between 30 and 31 July 2025"
    assert labels["week"] == "between 13 and 20 July 2025"
    assert labels["year"] == "2025"
    assert labels["month"] in {"July 2025", "August to September 2025"}


def test_events_at_a_place_include_places_within_it(ds: Datasette, sql) -> None:
    found = rows(ds, "/events/events_at_place?place=Syria")
    expected = sql(
        "select e.id from events e join places p on p.id = e.place_id "
        "where p.id = 'syria-country' or p.parent_id = 'syria-country'"
    )
    assert expected and sorted(r["id"] for r in found) == sorted(e for (e,) in expected)
    assert [r["place_id"] for r in rows(ds, "/events/events_at_place?place=Suwayda")] == ["sweida"]
    assert rows(ds, "/events/events_at_place?place=") == []


@pytest.mark.parametrize(
    "name, actor", [("Julani", "ahmed-al-sharaa"), ("Shibani", "asaad-al-shaibani"), ("tom-barrack", "tom-barrack")]
)
def test_actor_events_by_any_name(ds: Datasette, sql, name: str, actor: str) -> None:
    found = rows(ds, f"/events/actor_events?actor={name}")
    expected = sql("select event_id, role from event_actors where actor_id = ?", (actor,))
    assert sorted((r["event_id"], r["role"]) for r in found) == sorted(expected)
    assert {r["actor_id"] for r in found} == {actor}


def test_who_met_whom(ds: Datasette, sql) -> None:
    pairs = rows(ds, "/events/who_met_whom?actor=")
    shared = sql("""select count(distinct a.event_id) from event_actors a join event_actors b
                    on a.event_id = b.event_id
                    where a.actor_id = 'asaad-al-shaibani' and b.actor_id = 'tom-barrack'""")[0][0]
    pair = next(p for p in pairs if (p["actor_a"], p["actor_b"]) == ("asaad-al-shaibani", "tom-barrack"))
    assert pair["events"] == shared == len(json.loads(pair["event_ids"]))
    assert [p["events"] for p in pairs] == sorted((p["events"] for p in pairs), reverse=True)
    shibani = rows(ds, "/events/who_met_whom?actor=Shibani")
    assert shibani and all("asaad-al-shaibani" in (p["actor_a"], p["actor_b"]) for p in shibani)
    assert len(shibani) < len(pairs)


def test_event_sources_lists_documents_and_claims(ds: Datasette, sql) -> None:
    event = "2025-07-sweida-clashes"
    found = rows(ds, f"/events/event_sources?event={event}")
    documents = {d for (d,) in sql("select document_id from event_documents where event_id = ?", (event,))}
    claims = {c for (c,) in sql("select id from claims where event_id = ?", (event,))}
    assert {r["document_id"] for r in found if r["kind"] == "document"} == documents
    assert {r["claim_id"] for r in found if r["kind"] == "claim"} == claims


def test_disputed_events_set_each_answer_side_by_side(ds: Datasette, sql) -> None:
    found = rows(ds, "/events/disputed_events")
    disputed = {e for (e,) in sql("select id from events where status = 'disputed'")}
    assert {r["event_id"] for r in found} == disputed
    sweida = [r for r in found if r["event_id"] == "2025-07-sweida-clashes"]
    answers = sql(
        "select position, stance from claims where event_id = '2025-07-sweida-clashes' and dispute_id is not null"
    )
    assert sorted((r["position"], r["stances"]) for r in sweida) == sorted(answers)
    assert {r["said_by"] for r in sweida} == {"Syria", "Reuters"}


def test_csv_has_labels_and_keeps_utf8(ds: Datasette, sql) -> None:
    text = get(ds, "/events/events.csv?_labels=on&_size=max").text
    table = list(csv.DictReader(io.StringIO(text)))
    assert len(table) == sql("select count(*) from events")[0][0]
    names = dict(sql("select id, name from places"))
    for row in table:
        assert row["place_id_label"] == names.get(row["place_id"], "")
    places = list(csv.DictReader(io.StringIO(get(ds, "/events/places.csv?_size=max").text)))
    assert "السويداء" in next(p for p in places if p["id"] == "sweida")["aliases"]


def test_csv_of_a_view_and_a_canned_query(ds: Datasette, sql) -> None:
    view = list(csv.DictReader(io.StringIO(get(ds, "/events/event_list.csv?_size=max").text)))
    assert len(view) == sql("select count(*) from events")[0][0]
    assert set(view[0]) == {c for (_, c, *_r) in sql("pragma table_info(event_list)")}
    query = list(csv.DictReader(io.StringIO(get(ds, "/events/actor_events.csv?actor=Julani").text)))
    assert {r["actor_id"] for r in query} == {"ahmed-al-sharaa"} and query


def test_geojson_features_carry_coordinates(ds: Datasette, sql) -> None:
    collection = get(ds, "/events/event_list.geojson?_size=max").json()
    assert collection["type"] == "FeatureCollection"
    points = {f["properties"]["id"]: f["geometry"] for f in collection["features"]}
    expected = sql("select e.id, p.longitude, p.latitude from events e left join places p on p.id = e.place_id")
    assert len(points) == len(expected)
    for event, longitude, latitude in expected:
        if longitude is None:
            assert points[event] is None
        else:
            assert points[event] == {"type": "Point", "coordinates": [longitude, latitude]}
    places = get(ds, "/events/place_list.geojson?_size=max").json()["features"]
    assert len(places) == sql("select count(*) from places")[0][0]


def test_map_popups_link_to_the_row(ds: Datasette) -> None:
    """A list's popup links its row relative to the list's own address, as the map resolves it."""
    for row in rows(ds, "/events/event_list"):
        popup = json.loads(row["popup"])
        assert popup["title"] == row["title"]
        assert popup["description"].startswith(row["date_label"])
        assert get(ds, urljoin("/events/event_list", popup["link"])).url.path == f"/events/events/{row['id']}"
    place = next(row["place_id"] for row in rows(ds, "/events/event_list") if row["place_id"])
    served = asyncio.run(ds.client.get(f"/-/map/events.json?place={place}")).json()
    assert served["popups"]
    for popup in served["popups"]:
        get(ds, popup["link"])


def test_ics_feed_is_valid_icalendar_with_whole_days(ds: Datasette, sql) -> None:
    response = get(ds, "/events/calendar.ics")
    assert response.headers["content-type"].startswith("text/calendar")
    feed = icalendar.Calendar.from_ical(response.content)
    assert feed["VERSION"] == "2.0" and feed["PRODID"]
    # Any: icalendar types each property as the union of every value type.
    entries: dict[str, Any] = {str(e["UID"]).removesuffix("@event-store"): e for e in feed.walk("VEVENT")}
    events = sql(
        "select e.id, e.title, e.start_date, e.end_date, e.date_precision, p.name, p.latitude, p.longitude "
        "from events e left join places p on p.id = e.place_id"
    )
    assert set(entries) == {e[0] for e in events}
    (sources_date,) = sql("select sources_date from dataset_release")[0]
    for event_id, title, start, end, precision, place, latitude, longitude in events:
        entry = entries[event_id]
        # An event known to the day, or to one of a few days, spans its days; any other is its
        # first possible day, marked (tests/test_calendar.py has the rules).
        assert str(entry["SUMMARY"]) == title if precision == "day" else str(entry["SUMMARY"]).startswith(title)
        assert entry["DTSTAMP"].dt == datetime.datetime.fromisoformat(sources_date + "T00:00:00+00:00")
        # Whole days: dates, not date-times; DTEND is the day after the last day shown.
        assert entry["DTSTART"].params["VALUE"] == "DATE" and entry["DTEND"].params["VALUE"] == "DATE"
        assert entry["DTSTART"].dt == datetime.date.fromisoformat(start)
        shown = end if precision in ("day", "days") else start
        assert entry["DTEND"].dt == datetime.date.fromisoformat(shown) + datetime.timedelta(days=1)
        assert str(entry["URL"]).endswith(f"/events/events/{event_id}")
        if place:
            assert str(entry["LOCATION"]) == place
        if latitude is not None:
            assert (entry["GEO"].latitude, entry["GEO"].longitude) == (latitude, longitude)
    (year_event,) = sql("select id from events where date_precision = 'year' limit 1")[0]
    assert entries[year_event]["DTSTART"].dt.strftime("%m-%d") == "01-01"
    assert entries[year_event]["DTEND"].dt.strftime("%m-%d") == "01-02"
    times = [line for line in response.text.splitlines() if re.match(r"DT(START|END).*\d{8}T\d{6}", line)]
    assert times == []


def test_csv_byte_order_mark_is_an_option(ds: Datasette, sql) -> None:
    plain = get(ds, "/events/places.csv?_size=max").content
    marked = get(ds, "/events/places.csv?_size=max&_bom=on").content
    assert not plain.startswith(codecs.BOM_UTF8) and marked.startswith(codecs.BOM_UTF8)
    rows = list(csv.DictReader(io.StringIO(marked.decode("utf-8-sig"))))
    stored = list(csv.DictReader(io.StringIO(plain.decode("utf-8"))))
    # The same rows, each list (aliases, the records it shares names with) as names for the spreadsheet, not JSON.
    lists = ("aliases", "shares_names_with")
    assert rows == [{**r, **{k: "; ".join(json.loads(r[k])) for k in lists}} for r in stored]
    assert "السويداء" in next(r for r in rows if r["id"] == "sweida")["aliases"].split("; ")
    page = get(ds, "/events/event_list").text
    assert "_bom=on" in page


def test_geojson_is_rfc_7946_with_name_dates_type_and_url(ds: Datasette, sql) -> None:
    text = get(ds, "/events/event_list.geojson?_size=max").text
    collection = geojson.loads(text)
    assert collection.is_valid, collection.errors()
    features = {f["properties"]["id"]: f for f in collection["features"]}
    for event_id, title, start, end, label in sql(
        "select e.id, e.title, e.start_date, e.end_date, t.label from events e "
        "join event_types t on t.code = e.event_type"
    ):
        properties = features[event_id]["properties"]
        assert (properties["title"], properties["start_date"], properties["end_date"]) == (title, start, end)
        assert properties["type"] == label
        # Absolute, on the permalink base: a file has no page to resolve a path against.
        assert properties["url"] == permalink(site_permalink(ds) or "", f"/events/events/{event_id}")


def test_map_uses_the_local_basemap(ds: Datasette) -> None:
    page = get(ds, "/events/event_list").text
    assert 'DATASETTE_CLUSTER_MAP_TILE_LAYER = "/-/tiles/basemap/{z}/{x}/{y}.png"' in page
    assert 'DATASETTE_CLUSTER_MAP_LATITUDE_COLUMN = "latitude"' in page
    tile = get(ds, "/-/tiles/basemap/0/0/0.png")
    assert tile.headers["content-type"] == "image/png" and tile.content.startswith(b"\x89PNG")


def test_event_page_shows_actors_documents_and_claims(ds: Datasette, sql) -> None:
    event = "2025-07-sweida-clashes"
    page = get(ds, f"/events/events/{event}").text
    assert sql("select title from events where id = ?", (event,))[0][0] in page
    for name, role in sql(
        "select a.name, ea.role from event_actors ea join actors a on a.id = ea.actor_id where ea.event_id = ?",
        (event,),
    ):
        assert f'>{name}</a></td>\n    <td data-label="Role">{role}</td>' in page
    for (title,) in sql(
        "select d.title from event_documents ed join documents d on d.id = ed.document_id where ed.event_id = ?",
        (event,),
    ):
        assert title in page
    for (statement,) in sql("select statement from claims where event_id = ?", (event,)):
        assert statement in page
    assert "between 13 and 20 July 2025" in page


def test_timeline_page_lists_events_in_order_with_a_chart(ds: Datasette, sql) -> None:
    page = get(ds, "/-/timeline").text
    titles = [t for (t,) in sql("select title from events order by start_date, end_date, id")]
    positions = [page.index(t.replace("'", "&#39;")) for t in titles]
    assert positions == sorted(positions)
    bars = page.count('class="month"')
    months = sql("select count(distinct substr(start_date, 1, 7)) from events where date_precision <> 'year'")[0][0]
    assert bars >= months
    drawn = sum(int(c) for c in re.findall(r'data-count="(\d+)"', page))
    assert drawn == sql("select count(*) from events where date_precision <> 'year'")[0][0]
    august = get(ds, "/-/timeline?from_date=2025-08-01&to_date=2025-08-31").text
    assert "Shaibani and Dermer meet in Paris" in august and "Israeli strikes on Damascus" not in august


def test_column_descriptions_are_on_the_page_folded(ds: Datasette) -> None:
    page = get(ds, "/events/event_list").text
    folded = page[page.index('<details class="columns-explained">') :]
    folded = folded[: folded.index("</details>")]
    assert "<dt>date_label</dt>" in folded and "<dt>actor_names</dt>" in folded


def test_home_page_lists_reader_pages_not_internals(ds: Datasette) -> None:
    page = get(ds, "/").text
    for path in ("/events/event_list", "/-/timeline", "/-/overview", "/-/search", "/events/place_list"):
        assert f'href="{path}"' in page, path
    assert "basemap" not in page and "hidden table" not in page


def test_database_page_describes_every_view_in_words(ds: Datasette, sql) -> None:
    page = html.unescape(get(ds, "/events").text)
    tables = parse_metadata(METADATA_PATH.read_text(encoding="utf-8"))["databases"]["events"]["tables"]
    for (view,) in sql("select name from sqlite_master where type = 'view'"):
        assert tables[view]["title"] in page, view
        assert tables[view]["description"].strip() in page, view


def test_the_site_menu_and_the_database_actions_list_what_plugins_add(published_db: Path) -> None:
    """The overridden templates keep Datasette's menus: each lists the links its hook gives.
    A site of its own, since the pages other tests asked for are kept in its cache."""
    menus = types.ModuleType("menus")
    menus.menu_links = hookimpl(lambda datasette, actor: [{"href": "/-/menu-link", "label": "A menu link"}])  # type: ignore[attr-defined]
    menus.database_actions = hookimpl(  # type: ignore[attr-defined]
        lambda datasette, actor, database: [{"href": "/-/database-link", "label": "A database action"}]
    )
    pm.register(menus, name="menus")
    try:
        page = get(Datasette(**datasette_options(published_db)), "/events").text
    finally:
        pm.unregister(name="menus")
    menu, actions = (
        page.split('<details class="nav-menu">', 1)[1],
        page.split('<details class="actions-menu-links">', 1)[1],
    )
    assert '<li><a href="/-/menu-link">A menu link</a></li>' in menu.split("</details>", 1)[0]
    assert '<li><a href="/-/database-link">A database action</a></li>' in actions.split("</details>", 1)[0]
    tables = parse_metadata(METADATA_PATH.read_text(encoding="utf-8"))["databases"]["events"]["tables"]
    assert f">{tables['events']['title']}</a> <code>events</code></h3>" in html.unescape(page)


def test_search_everything_finds_every_kind_by_any_spelling(ds: Datasette, sql) -> None:
    found = {spelling: rows(ds, f"/events/search?q={spelling}") for spelling in ("Shibani", "Shaibani", "الشيباني")}
    assert found["Shibani"] == found["Shaibani"] == found["الشيباني"]
    kinds = {r["kind"] for r in found["Shibani"]}
    assert {"event", "actor"} <= kinds
    actor = next(r for r in found["Shibani"] if r["kind"] == "actor")
    assert actor["id"] == "asaad-al-shaibani"
    places = rows(ds, "/events/search?q=Suwayda")
    assert ("place", "sweida") in {(r["kind"], r["id"]) for r in places}
    page = get(ds, "/events/search?q=Suwayda").text  # the site links each name to its record's page
    assert '<a href="/events/places/sweida">' in page
    documents = rows(ds, "/events/search?q=" + sql("select outlet from documents limit 1")[0][0])
    assert any(r["kind"] == "document" for r in documents)
    assert rows(ds, "/events/search?q=") == []


def test_every_page_footer_shows_the_dataset_version(ds: Datasette, sql) -> None:
    version, sources_date = sql("select version, sources_date from dataset_release")[0]
    for path in ("/", "/events", "/events/event_list", "/events/events/2025-07-sweida-clashes", "/-/overview"):
        footer = get(ds, path).text.split('<footer class="ft">', 1)[1]
        assert f"Dataset version <strong>{version}</strong>" in footer and sources_date in footer, path


def test_overview_counts_each_month_by_type_actor_and_place(ds: Datasette, sql) -> None:
    page = get(ds, "/-/overview").text
    squares = re.findall(r'class="cell" data-name="([^"]*)" data-month="([^"]*)" data-count="(\d+)"', page)
    drawn = {(html.unescape(name), month): int(count) for name, month, count in squares}
    for name, month, count in sql(
        "select p.name, substr(e.start_date, 1, 7), count(*) from events e join places p on p.id = e.place_id "
        "where e.date_precision <> 'year' group by 1, 2"
    ):
        assert drawn[(name, month)] == count
    bars = dict(re.findall(r'class="bar" data-month="([^"]*)" data-count="(\d+)"', page))
    assert sum(int(c) for c in bars.values()) == sql("select count(*) from events where date_precision <> 'year'")[0][0]
    assert "<svg" in page and "<script src=" not in page  # drawn on the server, no chart library


def test_reader_cells_are_names_that_link(ds: Datasette, sql) -> None:
    page = get(ds, "/events/event_list").text
    for event_id, title in sql("select id, title from events"):
        assert f'<a href="/events/events/{event_id}">{html.escape(title)}</a>' in page
    for actor_id, name in sql("select distinct a.id, a.name from actors a join event_actors ea on ea.actor_id = a.id"):
        assert f'<a href="/events/actors/{actor_id}">{html.escape(name)}</a>' in page
    # A table's foreign keys keep Datasette's own label: the event's title, not its id.
    linked = get(ds, "/events/event_actors?_size=max").text
    for event_id, title in sql(
        "select distinct e.id, e.title from events e join event_actors ea on ea.event_id = e.id"
    ):
        assert f'<a href="/events/events/{event_id}">{html.escape(title)}</a>' in linked
    places = get(ds, "/events/place_list").text
    assert "<bdi>السويداء</bdi>" in places and '["' not in places.split("<tbody>")[1].split("</tbody>")[0]


def test_a_list_page_renders_the_cells_it_shows_and_a_row_page_every_cell(ds: Datasette, sql) -> None:
    """A view's columns its page does not show are not rendered (labels' NOT_SHOWN);
    a table's list shows a few columns too, but a record's own page every one."""
    popup = '{"link": "events/x", "title": "X"}'
    asyncio.run(ds.invoke_startup())

    def rendered(table: str | None) -> list:
        row = {"popup": popup}
        return pm.hook.render_cell(row=row, value=popup, column="popup", table=table, database="events", datasette=ds)

    assert rendered("event_list") == [labels.NOT_SHOWN]
    assert rendered(None) == [Markup('<a href="/events/events/x">X</a>')]  # one's own query shows it
    document, archived = sql("select id, archive_ref from documents where archive_ref is not null limit 1")[0]
    assert archived not in get(ds, "/events/documents").text.split("<tbody>")[1]
    assert f">{html.escape(archived)}<" in get(ds, f"/events/documents/{document}").text


def test_facets_on_keys_show_names(ds: Datasette, sql) -> None:
    page = get(ds, "/events/event_list?_facet_size=max").text
    for code, label in sql("select distinct t.code, t.label from events e join event_types t on t.code = e.event_type"):
        assert (
            f'<a href="http://localhost/events/event_list?_facet_size=max&amp;event_type={code}">{html.escape(label)}</a>'
            in page
        )
    for place_id, name in sql("select distinct p.id, p.name from events e join places p on p.id = e.place_id"):
        assert (
            f'<a href="http://localhost/events/event_list?_facet_size=max&amp;place_id={place_id}">{html.escape(name)}</a>'
            in page
        )


@pytest.mark.parametrize(
    "path, title",
    [
        ("/", "Israel–Syria talks event store"),
        ("/events/event_list", "Events: "),
        ("/events/place_list", "Places: "),
        ("/events/timeline?from_date=&to_date=", "Timeline · "),
        ("/events/events/2025-07-sweida-clashes", "Clashes and strikes in Sweida · "),
        ("/events/actors/asaad-al-shaibani", "Asaad al-Shaibani · "),
        ("/-/overview", "Overview · "),
    ],
)
def test_page_titles_are_words(ds: Datasette, path: str, title: str) -> None:
    match = re.search(r"<title>(.*?)</title>", get(ds, path).text, re.S)
    assert match
    found = html.unescape(match[1]).strip()
    assert found.startswith(title), found
    assert "_" not in found and "select" not in found.lower()


def test_event_page_offers_its_own_calendar_entry(ds: Datasette, sql) -> None:
    event = "2025-07-sweida-clashes"
    page = get(ds, f"/events/events/{event}").text
    link = re.search(r'href="(/events/event_calendar\.ics\?id=[^"]+)"', page)
    assert link, "no calendar link"
    feed = icalendar.Calendar.from_ical(get(ds, html.unescape(link[1])).content)
    (entry,) = feed.walk("VEVENT")
    start, end = sql("select start_date, end_date from events where id = ?", (event,))[0]
    assert str(entry["UID"]) == f"{event}@event-store"
    assert entry.decoded("DTSTART") == datetime.date.fromisoformat(start)
    # Known only to a week: its first possible day, marked (tests/test_calendar.py).
    assert entry.decoded("DTEND") == datetime.date.fromisoformat(start) + datetime.timedelta(days=1)
    assert "(date uncertain: between 13 and 20 July 2025)" in str(entry["SUMMARY"]) and end > start


@pytest.mark.parametrize(
    "select",
    [
        "select 'x' as geometry",
        """select '["a"]' as actor_names, '[]' as actor_ids""",
        """select '{"link": "javascript:alert(1)", "title": "x"}' as popup""",
        "select '[1, 2]' as event_ids",
        """select '[1, "no-such-actor", "//example.org"]' as via""",
        "select 'actor' as kind, 'x' as name, '//example.org' as url",
    ],
)
def test_cells_of_ones_own_query_render_whatever_they_hold(ds: Datasette, select: str) -> None:
    """Any SQL may name a column like a view's; the labels never fail or link away."""
    page = get(ds, "/events?" + urlencode({"sql": select})).text
    assert 'href="javascript:' not in page and 'href="//example.org' not in page
