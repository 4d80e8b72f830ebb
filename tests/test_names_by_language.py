"""Names by language (loader/records/languages.py, schema.sql's record_names): every
alias of an actor or place carries a BCP 47 tag that matches the script it is
written in, refused at its FILE:LINE otherwise; the database keeps aliases as
texts for search and adds record_names; and, over the real sources/, every
name is labelled."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
import yaml
from datasette.utils import parse_metadata

from loader.build.database import build
from loader.desk.find import matcher_from_database
from loader.errors import InvalidSources
from loader.metadata import METADATA_PATH
from loader.records.languages import language_name, scripts
from loader.records.sources import validate
from loader.release.cut import release
from tests.support.dataset import dataset_sources

REAL = dataset_sources()
DAMASCUS_ALIASES = "    aliases: [{name: Dimashq, lang: ar-Latn}, {name: دمشق, lang: ar}]\n"


def refused(sources: Path, old: str, new: str, name: str = "places.yml") -> list[tuple[int, str, str, str]]:
    path = sources / name
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new), encoding="utf-8")
    with pytest.raises(InvalidSources) as raised:
        validate(sources)
    return [(p.line, p.record, p.field, p.message) for p in raised.value.problems]


def test_names_load_by_language_and_aliases_stay_texts(sources: Path, tmp_path: Path) -> None:
    db_path = tmp_path / "events.db"
    build(sources, db_path)
    conn = sqlite3.connect(db_path)
    names = conn.execute(
        "SELECT name, lang, script, display FROM record_names WHERE table_name = 'places' AND record_id = 'damascus'"
        " ORDER BY lang"
    ).fetchall()
    assert names == [("دمشق", "ar", "Arab", 1), ("Dimashq", "ar-Latn", "Latn", 0), ("Damascus", "en", "Latn", 1)]
    # Search and imports read aliases as they were: a list of the texts.
    assert json.loads(conn.execute("SELECT aliases FROM places WHERE id = 'damascus'").fetchone()[0]) == [
        "Dimashq",
        "دمشق",
    ]
    assert conn.execute("SELECT rowid FROM places_fts WHERE places_fts MATCH 'Dimashq'").fetchall()
    # The site's "did you mean" and the desk's find say which language a match is in.
    best = matcher_from_database(conn).find("Dimashq")[0]
    assert (best.entry.id, best.language) == ("damascus", "Arabic, in Latin letters")


def test_a_name_in_latin_letters_tagged_arabic_is_refused_at_its_line(sources: Path) -> None:
    found = refused(sources, DAMASCUS_ALIASES, DAMASCUS_ALIASES.replace("lang: ar-Latn", "lang: ar"))
    assert [(line, record, field) for line, record, field, _ in found] == [(22, "damascus aliases[0]", "lang")]
    assert "ar-Latn" in found[0][3] and "(got 'ar')" in found[0][3]


def test_an_arabic_name_tagged_as_a_transliteration_is_refused(sources: Path) -> None:
    found = refused(sources, "{name: باريس, lang: ar}", "{name: باريس, lang: ar-Latn}")
    assert [(line, field) for line, _, field, _ in found] == [(4, "lang")]


def test_an_alias_without_its_language_is_refused(sources: Path) -> None:
    found = refused(sources, "{name: Dimashq, lang: ar-Latn}", "{name: Dimashq}")
    assert [(line, record, field, message) for line, record, field, message in found] == [
        (22, "damascus aliases[0]", "lang", "is required")
    ]


def test_an_alias_written_as_plain_text_is_refused_with_the_form_to_use(sources: Path) -> None:
    found = refused(sources, "{name: Dimashq, lang: ar-Latn}", "Dimashq")
    assert len(found) == 1
    assert found[0][:2] == (22, "damascus aliases[0]")
    assert "{name: Dimashq, lang: ar-Latn}" in found[0][3] and "('Dimashq')" in found[0][3]


def test_each_alias_of_a_block_list_is_refused_at_its_own_line(sources: Path) -> None:
    block = "    aliases:\n      - {name: دمشق, lang: ar}\n      - {name: Dimashq, lang: he}\n"
    found = refused(sources, DAMASCUS_ALIASES, block)
    assert [(line, record, field) for line, record, field, _ in found] == [(24, "damascus aliases[1]", "lang")]


def test_a_tag_that_is_no_language_and_an_unknown_field_are_refused(sources: Path) -> None:
    found = refused(sources, "{name: Dimashq, lang: ar-Latn}", "{name: Dimashq, lang: Arabic, note: x}")
    fields = {(field, message.split(":")[0]) for _, _, field, message in found}
    assert ("note", "unknown field") in fields
    assert any(field == "lang" and "BCP 47" in message for _, _, field, message in found)


def test_a_name_that_mixes_scripts_is_refused(sources: Path) -> None:
    found = refused(sources, "{name: Dimashq, lang: ar-Latn}", "{name: Dimashq دمشق, lang: ar-Latn}")
    assert [(line, field) for line, _, field, _ in found] == [(22, "name")]
    assert "mixes Latin and Arabic letters" in found[0][3]


def test_a_display_name_must_be_among_the_aliases_of_its_language(sources: Path) -> None:
    found = refused(sources, "    display: {ar: دمشق}\n", "    display: {ar: الشام, en: Damascus}\n")
    assert [(line, field) for line, _, field, _ in found] == [(29, "display.ar"), (29, "display.en")]
    assert "not among the aliases tagged ar" in found[0][3]
    assert "the English display name is the record's name" in found[1][3]


def test_no_file_writes_record_names_itself(sources: Path) -> None:
    (sources / "names.yml").write_text(
        "record_names:\n  - {table_name: places, record_id: paris, name: Paname, lang: fr, script: Latn}\n",
        encoding="utf-8",
    )
    with pytest.raises(InvalidSources) as raised:
        validate(sources)
    assert [(p.line, p.field, p.message.split(" (")[0]) for p in raised.value.problems] == [
        (1, "record_names", "unknown section")
    ]


def test_a_release_carries_the_names_by_language_and_describes_them(sources: Path, tmp_path: Path) -> None:
    directory = release(sources, tmp_path / "none.db", tmp_path / "dist", "2026.01.10", "2026-01-10").directory
    package = json.loads((directory / "datapackage.json").read_text(encoding="utf-8"))
    names = next(r for r in package["resources"] if r["name"] == "record_names")
    described = {f["name"]: f.get("description", "") for f in names["schema"]["fields"]}
    meanings = parse_metadata(METADATA_PATH.read_text())["databases"]["events"]["tables"]["record_names"]["columns"]
    assert described == meanings
    rows = (directory / "csv" / "record_names.csv").read_text(encoding="utf-8-sig").splitlines()
    assert "places,damascus,Dimashq,ar-Latn,Latn,0" in rows


def test_languages_are_named_in_words() -> None:
    assert [language_name(t) for t in ("en", "ar", "ar-Latn", "he-Latn", "xx")] == [
        "English",
        "Arabic",
        "Arabic, in Latin letters",
        "Hebrew, in Latin letters",
        "xx",
    ]
    # Accents and combining marks belong to no script: Abū Z̧aby is Latin letters alone.
    assert scripts("Abū Z̧aby") == ["Latn"] and scripts('צה"ל') == ["Hebr"]


# --- Invariants over the real sources/ ----------------------------------------


def _real_records() -> list[tuple[str, dict]]:
    found = []
    for table in ("actors", "places"):
        data = yaml.safe_load((REAL / f"{table}.yml").read_text(encoding="utf-8"))
        found += [(table, record) for record in data[table]]
    return found


@pytest.mark.dataset
@pytest.mark.parametrize(("table", "record"), _real_records(), ids=lambda v: v if isinstance(v, str) else v["id"])
def test_every_real_name_is_labelled_and_written_in_its_tags_script(table: str, record: dict) -> None:
    for alias in record.get("aliases") or []:
        assert isinstance(alias, dict) and set(alias) == {"name", "lang"}, alias
        found = scripts(alias["name"])
        language, _, script = alias["lang"].partition("-")
        assert len(found) == 1, alias
        if script:
            assert found == [script], alias
        elif language in ("ar", "fa"):
            assert found == ["Arab"], alias
        elif language == "he":
            assert found == ["Hebr"], alias
        elif language == "ru":
            assert found == ["Cyrl"], alias
        else:
            assert found == ["Latn"], alias
    tagged = {(a["lang"], a["name"]) for a in record.get("aliases") or []}
    assert all((lang, name) in tagged for lang, name in (record.get("display") or {}).items())


@pytest.mark.dataset
def test_every_real_name_reaches_record_names() -> None:
    dataset = validate(REAL)
    labelled = {(r["table_name"], r["record_id"], r["name"]) for r in dataset.db["record_names"].rows}
    for table in ("actors", "places"):
        for row in dataset.db[table].rows:
            for name in [row["name"], *json.loads(row["aliases"])]:
                assert (table, row["id"], name) in labelled
