"""draft: a made-up article against the made-up store: known names with their
paragraphs, unknown ones with candidates, dates resolved, the recorded event
it reports ranked first, and no run of ten words copied."""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml
from click.testing import CliRunner

from loader.cli import cli
from loader.desk.draft import draft
from loader.desk.overlap import Shingles, file_hits

FIXTURES = Path(__file__).parent / "fixtures" / "desk"
GAZETTE = FIXTURES / "archive" / "gazette-port-selim.txt"
SOURCES = FIXTURES / "sources"


def test_the_draft_of_a_filed_article() -> None:
    result = draft(GAZETTE, SOURCES)
    data = result.data()
    assert data["document"]["id"] == "gazette-2031-03-05-port-selim-talks"
    assert {a["id"] for a in data["actors"]} >= {"karim-al-haddad", "ezra-levin", "norland"}
    haddad = next(a for a in data["actors"] if a["id"] == "karim-al-haddad")
    assert haddad["as_written"] == ["Karim el-Hadad"]  # a spelling the store does not list
    assert [p["id"] for p in data["places"]] == ["port-selim"]
    unknown = {u["as_written"]: u["candidates"] for u in data["unknown_names"]}
    assert unknown["Ezra Levine"][0].startswith("actor ezra-levin")
    assert unknown["Tarsa"] == ["new: no record matches"]
    readings = {d["phrase"]: d["resolution"] for d in data["dates"]}
    assert readings["on Tuesday"] == "4 March 2031, a Tuesday, 1 day before the article's date"
    assert "dateparser would invent one" in readings["to 2029"]
    assert data["recorded_events_it_may_report"][0]["event_id"] == "2031-03-04-port-selim-haddad-meets-levin"
    stub = data["new_event_stub"]
    assert {"id", "title", "summary", "event_type", "start_date", "end_date", "date_precision", "status"} <= set(stub)
    assert stub["documents"][0]["document_id"] == data["document"]["id"]
    # Every precision and status schema.sql allows is offered, a few days' `days` among them.
    assert stub["date_precision"] == "TO WRITE: day | days | week | month | year"
    assert stub["status"] == "TO WRITE: reported | confirmed | disputed | planned"
    # The place the article names, and the two fields that say how it stands for the event, or why there is none.
    assert stub["place_id"] == "port-selim"
    assert stub["geo_precision"].startswith("TO WRITE: exact | locality | representative | country, or leave out")
    assert stub["place_unknown"].startswith("TO WRITE")
    # How an inferred date was worked out has a field of its own, beside the date.
    assert stub["date_inference"].startswith("TO WRITE (own words) when the date is inferred, with inferred: [date]")
    assert list(stub).index("date_inference") == list(stub).index("date_precision") + 1


def test_the_draft_copies_no_run_of_ten_words() -> None:
    text = draft(GAZETTE, SOURCES).to_yaml()
    assert file_hits("draft", text, Shingles([GAZETTE]), []) == []


def test_draft_command_writes_yaml() -> None:
    result = CliRunner().invoke(cli, ["draft", str(GAZETTE), "--sources", str(SOURCES)])
    assert result.exit_code == 0, result.output
    assert yaml.safe_load(result.output)["document"]["outlet"] == "The Harbour Gazette"


PREVIEW = FIXTURES / "archive" / "tarsa-preview.txt"  # printed 7 March 2031, a Friday


def test_a_weekday_is_read_forward_or_back_by_its_sentences_tense() -> None:
    readings = {d["phrase"]: d["resolution"] for d in draft(PREVIEW, SOURCES).data()["dates"]}
    assert readings["on Thursday"] == "13 March 2031, a Thursday, 6 days after the article's date"  # "set to meet"
    assert readings["on Tuesday"] == "4 March 2031, a Tuesday, 3 days before the article's date"  # "met"
    assert readings["Monday"].startswith("uncertain: 3 March 2031, a Monday if it is past, 10 March 2031")
    # A month without its year: the coming February for what is scheduled.
    assert readings["February"].startswith("2032-02-01 to 2032-02-29")


def test_the_document_is_read_past_its_section_label_caption_dateline_and_byline() -> None:
    document = draft(PREVIEW, SOURCES).data()["document"]
    assert document["title"] == "Ministers to meet again in Tarsa"  # not the section label "Qadira"
    assert document["published_date"] == "2031-03-07"  # day first, not the caption's 4 March
    assert document["author"] == "Ilse Marrow"
    assert (document["outlet"], document["dateline"]) == ("The Harbour Gazette", "Port Selim")


def test_names_with_titles_and_a_lone_first_name() -> None:
    data = draft(PREVIEW, SOURCES).data()
    levin = next(a for a in data["actors"] if a["id"] == "ezra-levin")
    assert levin["as_written"] == ["Levin"]  # not "Levin" of Levin Tarsi, another man
    haddad = next(a for a in data["actors"] if a["id"] == "karim-al-haddad")
    assert "al-Haddad" in haddad["as_written"]  # a surname alone, written with the article
    unknown = [u["as_written"] for u in data["unknown_names"]]
    assert "Levin Tarsi" in unknown and "Dana Orsk" in unknown
    assert not any("Minister" in name for name in unknown)
    # Neither an adjective of two words ("UN-monitored") nor an initial ("D" of D.C.) is a name.
    assert "UN-monitored" not in unknown and "D" not in unknown and "Washington" in unknown


def test_events_of_the_articles_days_rank_above_old_background() -> None:
    """The curation fixture adds an old meeting of the same two men in the
    same place, and a round the article announces for next month."""
    ranked = [
        e["event_id"]
        for e in draft(GAZETTE, FIXTURES.parent / "curation" / "sources").data()["recorded_events_it_may_report"]
    ]
    assert ranked[:2] == ["2031-03-04-port-selim-haddad-meets-levin", "2031-04-talks-next-round"]
    assert ranked.index("2025-port-selim-first-talks") > 1


def test_an_event_is_recognised_by_the_rare_words_of_its_title() -> None:
    events = {e["event_id"]: e["why"] for e in draft(GAZETTE, SOURCES).data()["recorded_events_it_may_report"]}
    assert "words of its title: norland, resume, talks" in events["2031-03-talks-resume"]


def test_a_states_government_and_an_unnamed_source_are_offered() -> None:
    actors = {a["id"]: a for a in draft(PREVIEW, SOURCES).data()["actors"]}
    government = actors["norland-government"]
    assert government["as_written"] == ["Norland"] and "check that its government is meant" in government["reading"]
    assert actors["unnamed-harbour-official"]["as_written"] == ["a harbour official"]


MONITORS = FIXTURES / "archive" / "harbour-monitors.txt"


def test_an_unknown_place_gets_geonames_candidates_with_their_ids() -> None:
    """ "in Marseille", "the town of Aubagne": names read as places get the
    GeoNames cities of the store's countries (the fixture's places are in
    France), as fields of a place record; a person's name gets none."""
    unknown = {u["as_written"]: u for u in draft(MONITORS, SOURCES).data()["unknown_names"]}
    marseille = unknown["Marseille"]["geonames"][0]
    assert set(marseille) == {"name", "country_code", "geonames_id", "latitude", "longitude", "score"}
    assert (marseille["name"], marseille["country_code"], marseille["geonames_id"]) == ("Marseille", "FR", 2995469)
    assert (round(marseille["latitude"]), round(marseille["longitude"]), marseille["score"]) == (43, 5, 100.0)
    assert unknown["Aubagne"]["geonames"][0]["geonames_id"] == 3036433
    assert unknown["Marseille"]["candidates"] == ["new: no record matches"]
    assert "geonames" not in unknown["Dana Orsk"]


def test_a_bodys_name_stays_whole_across_its_lowercase_words_and_a_states_adjective() -> None:
    data = draft(MONITORS, SOURCES).data()
    unknown = [u["as_written"] for u in data["unknown_names"]]
    assert "Qadiran Observatory for Human Rights" in unknown
    assert "Council of the Harbour" in unknown
    assert not {"Observatory", "Human Rights"} & set(unknown)
    # "Qadiran" begins the Observatory's name; the state is named only where the text says "Qadira".
    qadira = next(a for a in data["actors"] if a["id"] == "qadira")
    assert qadira["as_written"] == ["Qadira"] and len(qadira["paragraphs"]) == 1


def test_the_stubs_offer_via_with_the_outlets_the_article_names(tmp_path: Path) -> None:
    """A citation may relay another outlet: the stubs offer via, naming the known
    outlets the article names besides its own."""
    sources = tmp_path / "sources"
    shutil.copytree(SOURCES, sources)
    actors = sources / "actors.yml"
    actors.write_text(
        actors.read_text()
        + "  - id: coastal-wire\n    name: Coastal Wire\n    kind: media_outlet\n"
        + "  - id: harbour-gazette\n    name: The Harbour Gazette\n    kind: media_outlet\n"
    )
    article = tmp_path / "gazette-relay.txt"
    article.write_text(
        "The Harbour Gazette\ndate 2031-03-06\n\nTalks in Port Selim\n\n"
        "Karim al-Haddad met Ezra Levin in Port Selim on Wednesday, an official told the Coastal Wire.\n"
    )
    data = draft(article, sources).data()
    offered = "outlets it names: coastal-wire"
    (cited,) = data["new_event_stub"]["documents"]
    assert offered in cited["via"][0] and "harbour-gazette" not in cited["via"][0]
    assert data["recorded_events_it_may_report"]
    assert all(offered in e["cite_as"]["via"][0] for e in data["recorded_events_it_may_report"])
    assert offered in data["claim_stub"]["via"][0]
    # An article naming no other outlet is offered the field all the same.
    assert "outlets it names" not in draft(GAZETTE, SOURCES).data()["claim_stub"]["via"][0]
