"""Reading and checking records: every bad-input class gets FILE:LINE, record, field and message."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from loader.errors import InvalidSources
from loader.problems import Problem, display_path
from loader.records.sources import validate
from loader.records.yaml_files import MAX_FILE_BYTES, parse_file

EVENT = """\
events:
  - id: {id}
    title: A test meeting
    summary: Officials meet.
    event_type: {event_type}
    start_date: {start_date}
    end_date: {end_date}
    date_precision: {date_precision}
    place_id: {place_id}
    documents:
      - {{document_id: {document_id}, paragraphs: ["2:d93a2d5b"]}}
"""
DEFAULTS = dict(
    id="2025-09-01-test-meeting",
    event_type="meeting",
    start_date="2025-09-01",
    end_date="2025-09-01",
    date_precision="day",
    place_id="paris",
    document_id="cradle-paris-confirmation",
)


def write(sources: Path, name: str, text: str | bytes) -> Path:
    path = sources / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def event_file(sources: Path, **changes: str) -> Path:
    return write(sources, "events/test.yml", EVENT.format(**{**DEFAULTS, **changes}))


def place_file(sources: Path, **fields: str) -> Path:
    """A file of one place, its fields one a line, with a point of its own."""
    items = {**fields, "geo_precision": "exact"}.items()
    lines = [f"{'  - ' if i == 0 else '    '}{key}: {value}" for i, (key, value) in enumerate(items)]
    return write(sources, "places-extra.yml", "places:\n" + "\n".join(lines) + "\n")


def line_of(path: Path, needle: str) -> int:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in {path}")


def problems(sources: Path) -> list[Problem]:
    with pytest.raises(InvalidSources) as excinfo:
        validate(sources)
    return excinfo.value.problems


def only_problem(sources: Path) -> Problem:
    found = problems(sources)
    assert len(found) == 1, "\n".join(map(str, found))
    return found[0]


def test_valid_fixture_loads_every_table(sources: Path) -> None:
    dataset = validate(sources)
    counts = dataset.counts()
    assert counts["events"] == 2
    assert counts["event_actors"] == 3
    assert counts["event_documents"] == 3
    assert counts["claims"] == 2
    assert counts["places"] == 3
    assert "5 actors" in dataset.summary()


def test_nested_rows_take_the_event_id(sources: Path) -> None:
    db = validate(sources).db
    rows = db.execute("SELECT event_id, actor_id, role FROM event_actors WHERE actor_id = 'tom-barrack'").fetchall()
    assert rows == [("2025-08-19-paris-shaibani-dermer", "tom-barrack", "mediator")]
    assert db.table("places").get("damascus")["aliases"] == '["Dimashq", "دمشق"]'


def test_malformed_yaml(sources: Path) -> None:
    path = write(sources, "broken.yml", "events:\n  - id: x\n    title: [unclosed\n")
    problem = only_problem(sources)
    assert problem.path == display_path(path)
    assert problem.line >= 3
    assert "YAML syntax error" in problem.message


def test_each_build_in_one_process_reads_the_files_as_they_are_now(sources: Path) -> None:
    """A text's parse is kept for the next build in the process (serve
    --reload's): what one build does to its records never reaches the next,
    a changed file is read as changed, and a broken one is refused each time."""
    path = sources / "places.yml"
    first, _ = parse_file(path)
    first["places"][0]["name"] = "Changed by a build"
    again, _ = parse_file(path)
    assert again["places"][0]["name"] == "Paris"
    assert again["places"][0].lc.key("name")[0] + 1 == 3  # its line too
    path.write_text(path.read_text(encoding="utf-8").replace("name: Paris", "name: Paris, France"), encoding="utf-8")
    assert parse_file(path)[0]["places"][0]["name"] == "Paris, France"
    broken = write(sources, "broken.yml", "events:\n  - id: x\n    title: [unclosed\n")
    for _ in range(2):
        assert parse_file(broken)[0] is None
        assert "YAML syntax error" in only_problem(sources).message


def test_empty_file(sources: Path) -> None:
    path = write(sources, "empty.yml", "# nothing here yet\n")
    problem = only_problem(sources)
    assert (problem.path, problem.line) == (display_path(path), 1)
    assert "empty" in problem.message


def test_non_utf8_file(sources: Path) -> None:
    path = write(sources, "latin1.yml", b"events:\n  - id: x\n    title: caf\xe9\n")
    problem = only_problem(sources)
    assert (problem.path, problem.line) == (display_path(path), 3)
    assert "not valid UTF-8" in problem.message


def test_unknown_field_suggests_the_right_one(sources: Path) -> None:
    path = event_file(sources)
    text = path.read_text().replace("    summary:", "    sumary:")
    path.write_text(text)
    found = {(p.field, p.message) for p in problems(sources)}
    assert ("sumary", "unknown field (did you mean 'summary'?)") in found
    assert ("summary", "is required") in found


def test_missing_field(sources: Path) -> None:
    path = event_file(sources)
    path.write_text(path.read_text().replace("    title: A test meeting\n", ""))
    problem = only_problem(sources)
    assert problem == Problem(display_path(path), 2, DEFAULTS["id"], "title", "is required")


def test_wrong_type(sources: Path) -> None:
    path = place_file(sources, id="golan", name="Golan Heights", kind="region", latitude="north", longitude="35.8")
    problem = only_problem(sources)
    assert problem == Problem(
        display_path(path), line_of(path, "latitude"), "golan", "latitude", "expected a number, got text ('north')"
    )


@pytest.mark.parametrize("date", ["2025-02-30", "2025-13-01", "2025-9-1"])
def test_impossible_date(sources: Path, date: str) -> None:
    path = event_file(sources, start_date=date)
    problem = only_problem(sources)
    assert (problem.line, problem.record, problem.field) == (line_of(path, "start_date"), DEFAULTS["id"], "start_date")
    assert problem.message == f"must be a real calendar date written YYYY-MM-DD (got '{date}')"


@pytest.mark.parametrize(
    ("field", "date"),
    [
        ("start_date", "0001-01-01"),
        ("start_date", "0250-06-01"),
        ("start_date", "1799-12-31"),
        ("end_date", "2101-01-01"),
    ],
)
def test_a_date_outside_the_store_range(sources: Path, field: str, date: str) -> None:
    """B5: a real date far from the store's (a typo of year 0250) reached
    the build, whose month arithmetic cannot step past February 300."""
    changes = {"start_date": date, "end_date": date} if field == "start_date" else {field: date}
    path = event_file(sources, **changes)
    found = {(p.line, p.field, p.message) for p in problems(sources)}
    assert (line_of(path, field), field, f"must be between 1800-01-01 and 2100-12-31 (got '{date}')") in found
    assert all("between" in message for _, _, message in found)


def test_a_file_over_the_size_limit_is_refused_before_it_is_parsed(sources: Path) -> None:
    padding = "# " + "x" * 97 + "\n"
    text = EVENT.format(**DEFAULTS)
    write(sources, "events/test.yml", padding * ((MAX_FILE_BYTES - len(text)) // len(padding)) + text)
    validate(sources)  # at the limit: read
    path = write(sources, "events/test.yml", padding * (MAX_FILE_BYTES // len(padding) + 1) + text)
    problem = only_problem(sources)
    assert (problem.path, problem.line) == (display_path(path), 1)
    assert problem.message.startswith("holds more than 2,000,000 bytes (2 MB), the most a sources file may: split")


def test_end_before_start(sources: Path) -> None:
    path = event_file(sources, start_date="2025-09-03", end_date="2025-09-01")
    problem = only_problem(sources)
    assert (problem.line, problem.field) == (line_of(path, "end_date"), "end_date")
    assert problem.message == "must not be before start_date (got '2025-09-01')"


def test_precision_outside_vocabulary(sources: Path) -> None:
    path = event_file(sources, date_precision="fortnight")
    problem = only_problem(sources)
    assert (problem.line, problem.field) == (line_of(path, "date_precision"), "date_precision")
    assert problem.message.startswith("must be one of day, days, week, month, year")
    assert problem.message.endswith("(got 'fortnight')")


def test_a_value_outside_a_vocabulary_gets_did_you_mean(sources: Path) -> None:
    event_file(sources, date_precision="dya")
    assert only_problem(sources).message.endswith("(got 'dya', did you mean 'day'?)")


def test_precision_must_agree_with_the_span(sources: Path) -> None:
    path = event_file(sources, date_precision="month", start_date="2025-09-03", end_date="2025-09-30")
    problem = only_problem(sources)
    assert (problem.line, problem.field) == (line_of(path, "end_date"), "end_date")
    assert "month" in problem.message


def test_a_choice_of_days_spans_two_to_seven_days(sources: Path) -> None:
    """ "The 5th or the 6th" is days; a longer choice is a week, and the message says so."""
    event_file(sources, date_precision="days", start_date="2025-09-05", end_date="2025-09-06")
    validate(sources)
    event_file(sources, date_precision="days", start_date="2025-09-01", end_date="2025-09-07")
    validate(sources)
    for end in ("2025-09-01", "2025-09-08"):
        path = event_file(sources, date_precision="days", start_date="2025-09-01", end_date=end)
        problem = only_problem(sources)
        assert (problem.line, problem.field) == (line_of(path, "end_date"), "end_date")
        assert problem.message == f"a days-precision span runs from two to seven days (longer: use week) (got '{end}')"


def test_an_event_without_a_place_says_why_in_place_unknown(sources: Path) -> None:
    """The reason is a field of its own, required exactly when place_id is absent, not prose in the notes."""
    path = event_file(sources, place_id="paris")
    text = path.read_text()
    path.write_text(text.replace("    place_id: paris\n", "    place_unknown: The articles do not say where.\n"))
    assert validate(sources).db.table("events").get(DEFAULTS["id"])["place_unknown"] == "The articles do not say where."

    path.write_text(text.replace("    place_id: paris\n", "    notes: 'No place: the articles do not say where.'\n"))
    problem = only_problem(sources)
    assert (problem.line, problem.record, problem.field) == (2, DEFAULTS["id"], "place_unknown")
    assert problem.message == "an event without a place_id must say why it has no place"

    path.write_text(text.replace("    place_id: paris\n", "    place_id: paris\n    place_unknown: Nowhere known.\n"))
    problem = only_problem(sources)
    assert (problem.line, problem.field) == (line_of(path, "place_unknown"), "place_unknown")
    assert problem.message == (
        "only an event with no place_id says why it has no place: remove place_unknown or place_id "
        "(got 'Nowhere known.')"
    )


def test_an_event_whose_date_is_inferred_says_how_in_date_inference(sources: Path) -> None:
    """The reasoning is a field of its own, required exactly when inferred lists date, not prose in the notes."""
    path = event_file(sources)
    text = path.read_text()
    reasoning = "Counted back from the printed date."

    def with_fields(fields: str) -> None:
        path.write_text(text.replace("    place_id: paris\n", "    place_id: paris\n" + fields))

    with_fields(f"    inferred: [date]\n    date_inference: {reasoning}\n")
    event = validate(sources).db.table("events").get(DEFAULTS["id"])
    assert (event["date_inference"], event["notes"]) == (reasoning, None)

    with_fields(f"    inferred: [date]\n    notes: {reasoning}\n")
    problem = only_problem(sources)
    assert (problem.line, problem.record, problem.field) == (2, DEFAULTS["id"], "date_inference")
    assert problem.message == "an event whose date is inferred must say how the date was inferred"

    with_fields(f"    date_inference: {reasoning}\n")
    problem = only_problem(sources)
    assert (problem.line, problem.field) == (line_of(path, "date_inference"), "date_inference")
    assert problem.message == (
        "only an event whose inferred lists date says how its date was inferred: "
        f"add date to inferred or remove date_inference (got '{reasoning}')"
    )


def test_an_event_whose_other_facts_are_inferred_still_says_how_in_notes(sources: Path) -> None:
    path = event_file(sources)
    path.write_text(
        path.read_text().replace(
            "    place_id: paris\n",
            "    place_id: paris\n    inferred: [date, place]\n    date_inference: Counted back from the printed date.\n",
        )
    )
    problem = only_problem(sources)
    assert (problem.line, problem.record, problem.field) == (2, DEFAULTS["id"], "notes")
    assert problem.message == "an event whose facts other than its date are inferred says in notes how"


@pytest.mark.parametrize(
    "fields, message",
    [
        ("    place_id: paris\n    geo_precision: city\n", "must be one of exact, locality, representative, country"),
        (
            "    place_unknown: The articles do not say where.\n    geo_precision: country\n",
            "only an event with a place_id says how closely the place stands for it",
        ),
    ],
)
def test_how_closely_an_events_place_stands_for_it(sources: Path, fields: str, message: str) -> None:
    path = event_file(sources)
    path.write_text(path.read_text().replace("    place_id: paris\n", fields))
    problem = only_problem(sources)
    assert (problem.line, problem.field) == (line_of(path, "geo_precision"), "geo_precision")
    assert problem.message.startswith(message)


def test_an_event_placed_at_country_level_says_so(sources: Path) -> None:
    path = event_file(sources)
    path.write_text(
        path.read_text().replace("    place_id: paris\n", "    place_id: france\n    geo_precision: country\n")
    )
    assert validate(sources).db.table("events").get(DEFAULTS["id"])["geo_precision"] == "country"


# A citation, an actor's role and a claim, each written in block style so
# that every field has a line of its own, for the via tests.
RELAYED = """\
events:
  - id: 2025-09-01-relayed-meeting
    title: A relayed meeting
    summary: Officials meet, as another outlet reported.
    event_type: meeting
    start_date: 2025-09-01
    end_date: 2025-09-01
    date_precision: day
    place_id: paris
    actors:
      - actor_id: asaad-al-shaibani
        role: participant
        document_id: cradle-paris-confirmation
        via: [sana]
        paragraphs: ["3:0ca8d0d5"]
    documents:
      - document_id: cradle-paris-confirmation
        supports: [occurrence, date, place, actors]
        via: [sana]
        paragraphs: ["2:d93a2d5b"]
    claims:
      - id: relayed-minister-claim
        document_id: cradle-paris-confirmation
        paragraphs: ["4:f378d47a"]
        claimant_id: asaad-al-shaibani
        via: [sana]
        statement: The minister said the meeting took place.
        stance: asserts
"""


def test_a_citation_says_whom_the_document_relays(sources: Path) -> None:
    """via on the citation, on the actor's entry (its sole document's) and on the claim, as actor ids."""
    write(sources, "events/relayed.yml", RELAYED)
    db = validate(sources).db
    assert db.execute("SELECT via FROM event_documents WHERE event_id = '2025-09-01-relayed-meeting'").fetchall() == [
        ('["sana"]',)
    ]
    assert db.execute(
        "SELECT via FROM event_actor_documents WHERE event_id = '2025-09-01-relayed-meeting'"
    ).fetchall() == [('["sana"]',)]
    assert db.table("claims").get("relayed-minister-claim")["via"] == '["sana"]'
    # First-hand is the default: an empty list.
    assert db.execute(
        "SELECT DISTINCT via FROM event_documents WHERE event_id <> '2025-09-01-relayed-meeting'"
    ).fetchall() == [("[]",)]


@pytest.mark.parametrize(
    "written, message",
    [
        ("via: [sanaa]", "'sanaa' is not a known actors id (did you mean 'sana'?)"),
        (
            "via: [kan-news]",
            "'kan-news' is not a known actors id (a new one? record it in sources/actors.yml first)",
        ),
        ("via: sana", "expected a list of text values, got text ('sana')"),
    ],
)
def test_via_names_recorded_actors_as_a_list(sources: Path, written: str, message: str) -> None:
    path = write(
        sources,
        "events/relayed.yml",
        RELAYED.replace(
            '        via: [sana]\n        paragraphs: ["2:', f'        {written}\n        paragraphs: ["2:'
        ),
    )
    problem = only_problem(sources)
    assert (problem.path, problem.line, problem.record, problem.field) == (
        display_path(path),
        line_of(path, written),
        "2025-09-01-relayed-meeting documents[0]",
        "via",
    )
    assert problem.message == message


def test_a_claims_via_never_names_its_claimant(sources: Path) -> None:
    path = write(
        sources,
        "events/relayed.yml",
        RELAYED.replace(
            "claimant_id: asaad-al-shaibani\n        via: [sana]", "claimant_id: sana\n        via: [sana]"
        ),
    )
    problem = only_problem(sources)
    assert (problem.line, problem.record, problem.field) == (
        line_of(path, "claimant_id: sana") + 1,
        "relayed-minister-claim",
        "via",
    )
    assert problem.message.startswith(
        "names who carried the claimant's words, never the claimant: remove the claimant from via"
    )


def test_coordinates_out_of_range(sources: Path) -> None:
    path = place_file(sources, id="nowhere", name="Nowhere", kind="site", latitude="91.5", longitude="200")
    found = problems(sources)
    assert [(p.line, p.field, p.message) for p in found] == [
        (line_of(path, "latitude"), "latitude", "must be between -90 and 90 (got 91.5)"),
        (line_of(path, "longitude"), "longitude", "must be between -180 and 180 (got 200)"),
    ]


def test_duplicate_id_names_the_first_definition(sources: Path) -> None:
    path = event_file(sources, id="2025-07-strikes-on-damascus")
    problem = only_problem(sources)
    first = sources / "events" / "paris.yml"
    assert (problem.path, problem.line, problem.field) == (display_path(path), 2, "id")
    assert problem.message == (
        f"duplicate events id '2025-07-strikes-on-damascus'; first defined at "
        f"{display_path(first)}:{line_of(first, 'id: 2025-07-strikes-on-damascus')}"
    )


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("place_id", "damscus", "'damscus' is not a known places id (did you mean 'damascus'?)"),
        ("event_type", "meting", "'meting' is not a known event_types code (did you mean 'meeting'?)"),
        (
            "document_id",
            "cradle-paris",
            "'cradle-paris' is not a known documents id (did you mean 'cradle-paris-confirmation'?)",
        ),
        # Like nothing recorded: a newcomer is told where a new one goes.
        (
            "place_id",
            "reykjavik",
            "'reykjavik' is not a known places id (a new one? record it in sources/places.yml first)",
        ),
    ],
)
def test_unknown_reference(sources: Path, field: str, value: str, message: str) -> None:
    path = event_file(sources, **{field: value})
    problem = only_problem(sources)
    assert (problem.line, problem.field, problem.message) == (line_of(path, f"{field}: {value}"), field, message)


def test_unknown_actor_is_matched_by_alias(sources: Path) -> None:
    path = event_file(sources)
    with path.open("a") as f:
        f.write("    actors:\n      - {actor_id: shibani, role: participant}\n")
    problem = only_problem(sources)
    assert problem.record == f"{DEFAULTS['id']} actors[0]"
    assert problem.line == line_of(path, "actor_id: shibani")
    assert problem.message == "'shibani' is not a known actors id (did you mean 'asaad-al-shaibani'?)"


def test_event_without_a_document(sources: Path) -> None:
    path = event_file(sources)
    path.write_text(path.read_text().split("    documents:")[0])
    problem = only_problem(sources)
    assert (problem.line, problem.field) == (2, "documents")
    assert problem.message == "every event needs at least one entry in documents"


def test_event_cited_from_another_file_is_not_documentless(sources: Path) -> None:
    path = event_file(sources)
    path.write_text(path.read_text().split("    documents:")[0])
    write(
        sources,
        "citations.yml",
        f"event_documents:\n  - {{event_id: {DEFAULTS['id']}, document_id: newarab-paris-meeting, paragraphs: ['2:9ae4d6bf']}}\n",
    )
    assert validate(sources).counts()["event_documents"] == 4


def test_yaml_aliases_and_tags_are_refused(sources: Path) -> None:
    path = write(sources, "bomb.yml", "a: &a [x, x]\nb: &b [*a, *a]\nc: !!python/object:os.system x\n")
    found = problems(sources)
    assert {p.path for p in found} == {display_path(path)}
    messages = " ".join(p.message for p in found)
    assert "anchors" in messages and "aliases" in messages and "tags" in messages


def test_duplicate_yaml_key(sources: Path) -> None:
    path = event_file(sources)
    path.write_text(path.read_text().replace("    summary:", "    title: Again\n    summary:"))
    problem = only_problem(sources)
    assert problem.line == line_of(path, "title: Again")
    assert "duplicate key" in problem.message


def test_control_characters_and_overlong_text(sources: Path) -> None:
    path = event_file(sources)
    text = path.read_text()
    text = text.replace("title: A test meeting", 'title: "bell \\a here"')
    text = text.replace("summary: Officials meet.", "summary: " + "x" * 20_001)
    path.write_text(text)
    found = {(p.field, p.message) for p in problems(sources)}
    assert ("title", "contains the control character U+0007") in found
    assert ("summary", "is 20,001 characters long; the limit is 20,000") in found


def test_every_problem_is_listed_at_once(sources: Path) -> None:
    first = event_file(sources, start_date="2025-02-30", place_id="nowhere")
    second = write(sources, "actors-extra.yml", "actors:\n  - id: Bad Id\n    name: Someone\n    kind: wizard\n")
    found = problems(sources)
    assert {(p.path, p.field) for p in found} == {
        (display_path(first), "start_date"),
        (display_path(first), "place_id"),
        (display_path(second), "id"),
        (display_path(second), "kind"),
    }
    assert all(str(p).startswith(f"{p.path}:{p.line}: {p.record}: {p.field}: ") for p in found)


def test_unknown_section(sources: Path) -> None:
    path = write(sources, "typo.yml", "evnts: []\n")
    assert only_problem(sources) == Problem(
        display_path(path), 1, "-", "evnts", "unknown section (did you mean 'events'?)"
    )


# --- input classes that were accepted or misreported -------------------------


def test_circular_parents_are_refused_with_the_whole_circle(sources: Path) -> None:
    write(
        sources,
        "circle.yml",
        """\
        places:
          - {id: aa, name: A, kind: region, parent_id: bb}
          - {id: bb, name: B, kind: region, parent_id: aa}
        actors:
          - {id: xa, name: X A, kind: organization, parent_id: xb}
          - {id: xb, name: X B, kind: organization, parent_id: xc}
          - {id: xc, name: X C, kind: organization, parent_id: xa}
          - {id: xd, name: X D, kind: organization, parent_id: xa}
        """,
    )
    found = [(p.record, p.field, p.message) for p in problems(sources)]
    assert found == [
        ("aa", "parent_id", "goes round in a circle: 'aa' → 'bb' → 'aa'"),
        ("xa", "parent_id", "goes round in a circle: 'xa' → 'xb' → 'xc' → 'xa'"),
    ]


def test_a_link_to_a_file_outside_the_sources_is_not_read(sources: Path, tmp_path: Path) -> None:
    secret = tmp_path / "secret.yml"
    secret.write_text("events:\n  - id: the-secret-content\n", encoding="utf-8")
    (sources / "linked.yml").symlink_to(secret)
    problem = only_problem(sources)
    assert (problem.path, problem.line) == (display_path(sources / "linked.yml"), 1)
    assert "outside the sources" in problem.message and "secret" not in str(problem)


def test_upper_case_extensions_are_read(sources: Path) -> None:
    event_file(sources)
    (sources / "events" / "test.yml").rename(sources / "events" / "TEST.YML")
    assert validate(sources).counts()["events"] == 3


def test_a_doubled_byte_order_mark_is_refused(sources: Path) -> None:
    path = write(sources, "places-extra.yml", b"\xef\xbb\xbf\xef\xbb\xbfplaces: []\n")
    assert only_problem(sources) == Problem(
        display_path(path),
        1,
        "-",
        "-",
        "begins with two byte-order marks (U+FEFF); save the file as UTF-8 without them",
    )


def test_a_tab_after_a_colon_is_named(sources: Path) -> None:
    path = write(sources, "events/test.yml", EVENT.format(**DEFAULTS).replace("title: A", "title:\tA"))
    problem = only_problem(sources)
    assert (problem.line, problem.message) == (
        line_of(path, "title:"),
        "YAML syntax error: a tab after the colon: YAML needs a space there",
    )


def test_an_unquoted_colon_says_to_quote_the_value(sources: Path) -> None:
    path = write(sources, "events/test.yml", EVENT.format(**DEFAULTS).replace("A test meeting", "Paris: talks"))
    problem = only_problem(sources)
    assert problem.line == line_of(path, "Paris: talks")
    assert problem.message.endswith("a value that holds ': ' must be put in quotes")


def test_a_wrong_indentation_says_to_check_it(sources: Path) -> None:
    path = write(sources, "events/test.yml", EVENT.format(**DEFAULTS).replace("    summary:", "   summary:"))
    problem = only_problem(sources)
    assert problem.message.startswith("YAML syntax error: ")
    assert problem.message.endswith(
        "check the indentation of this line and the one before; a record's fields start in one column"
    )
    assert problem.line in (line_of(path, "summary:"), line_of(path, "summary:") + 1)


def test_a_duplicate_key_names_the_key_and_both_lines(sources: Path) -> None:
    long_value = "word " * 2000
    text = EVENT.format(**DEFAULTS).replace("    summary: Officials meet.\n", f"    summary: {long_value}\n")
    path = write(sources, "events/test.yml", text.replace("    event_type:", "    summary: again\n    event_type:"))
    problem = only_problem(sources)
    first, again = line_of(path, "summary: word"), line_of(path, "summary: again")
    assert (problem.line, problem.field) == (again, "summary")
    assert problem.message == f"duplicate key 'summary': first at line {first}, again at line {again}; keep one"


def test_a_number_too_long_to_read_is_one_problem_at_its_field(sources: Path) -> None:
    places = sources / "places.yml"
    text = places.read_text(encoding="utf-8")
    latitude = next(line for line in text.splitlines() if "latitude:" in line)
    places.write_text(text.replace(latitude, latitude.split(":")[0] + ": " + "9" * 5000, 1), encoding="utf-8")
    problem = only_problem(sources)
    assert (problem.path, problem.field) == (display_path(places), "latitude")
    assert problem.message == "is a number of 5,000 digits, too large for a 64-bit integer"


def test_an_unreadable_file_causes_no_follow_on_reference_errors(sources: Path) -> None:
    places = sources / "places.yml"
    places.write_text(places.read_text(encoding="utf-8") + "  - {id: broken\n", encoding="utf-8")
    found = problems(sources)
    assert [p.path for p in found] == [display_path(places)]


def test_a_file_name_with_a_newline_stays_on_one_line(sources: Path) -> None:
    write(sources, "bad\nname.yml", "events: [\n")
    problem = only_problem(sources)
    assert "\n" not in str(problem) and "bad\\nname.yml:" in str(problem)


def test_a_file_that_cannot_be_read_is_a_problem_not_a_crash(sources: Path) -> None:
    link = sources / "events" / "moved.yml"
    link.symlink_to(sources / "events" / "gone.yml")  # a link left behind by a renamed file
    assert only_problem(sources) == Problem(
        display_path(link), 1, "-", "-", "cannot be read: No such file or directory"
    )
