"""The names of actors and places by language: each alias with its BCP 47 tag.

sources/ writes an actor's or place's aliases as {name: TEXT, lang: TAG} and
its display names in other languages as display: {ar: ..., he: ...}. The
record itself keeps aliases as the list of texts, so that search, the
full-text indexes, imports and reconcile read it as before; every name also
becomes a record_names row, whose script is computed here from the name's
letters so that schema.sql's CHECK can hold the tag to the script the name is
really written in (a name tagged ar in Latin letters is ar-Latn).
"""

from __future__ import annotations

import unicodedata
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from ..problems import Problem, did_you_mean, echo
from ..rules import Record, kind, type_problem

# The records whose aliases carry languages, and the fields of theirs read here.
TABLES = ("actors", "places")
FIELDS = ("aliases", "display")
NAMES_TABLE = "record_names"
# The record's own name is its English display name.
NAME_LANG = "en"
ALIAS_FIELDS = ("name", "lang")
EXAMPLE = "{name: Dimashq, lang: ar-Latn}"

# The first word of a letter's Unicode name, and the ISO 15924 code of its script.
SCRIPTS = {"LATIN": "Latn", "ARABIC": "Arab", "HEBREW": "Hebr", "CYRILLIC": "Cyrl", "GREEK": "Grek"}
UNKNOWN_SCRIPT = "Zzzz"
SCRIPT_NAMES = {"Latn": "Latin", "Arab": "Arabic", "Hebr": "Hebrew", "Cyrl": "Cyrillic", "Grek": "Greek"}


def scripts(text: str) -> list[str]:
    """The scripts of a text's letters, in order of first use. Digits, spaces,
    punctuation and combining accents belong to no script and are passed over."""
    found: list[str] = []
    for char in text:
        if unicodedata.category(char).startswith("L"):
            code = SCRIPTS.get(unicodedata.name(char, "").split(" ")[0], UNKNOWN_SCRIPT)
            if code not in found:
                found.append(code)
    return found


def _script_problem(text: str) -> str | None:
    """Why no one script can be told from a name, if none can."""
    found = scripts(text)
    if not found:
        return f"{echo(text)} has no letters to tell its script by"
    if len(found) > 1:
        names = " and ".join(SCRIPT_NAMES.get(code, code) for code in found)
        return f"{echo(text)} mixes {names} letters; write each script as a name of its own"
    return None


def _name_record(record: Record, label: str, line: int, name: Any, lang: Any, display: bool) -> Record:
    values: dict[str, Any] = {"table_name": record.table, "record_id": record.values["id"], "name": name}
    if lang is not None:
        values["lang"] = lang
    if isinstance(name, str) and (found := scripts(name)):
        values["script"] = found[0]
    values["display"] = int(display)
    return Record(NAMES_TABLE, values, record.path, line, label, dict.fromkeys([*values, "lang"], line))


def read_names(record: Record, given: dict[str, tuple[Any, int]], problems: list[Problem]) -> list[Record]:
    """Set the record's aliases to their texts, and return a record_names row
    for its name and for each alias, each at its own line.

    given holds the aliases and display fields as written, with their lines;
    a field left out is not in it."""
    aliases, aliases_line = given.get("aliases", (None, record.line))
    display = given.get("display", (None, record.line))[0]
    texts: list[str] = []
    names: list[Record] = []
    record_id = record.values.get("id")
    name = record.values.get("name")
    if isinstance(record_id, str) and isinstance(name, str):
        names.append(_name_record(record, f"{record.label} name", record.line_of("name"), name, NAME_LANG, True))
    if aliases is not None and not isinstance(aliases, list):
        problems.append(
            Problem(
                record.path, aliases_line, record.label, "aliases", f"expected a list of {EXAMPLE}, got {kind(aliases)}"
            )
        )
        aliases = []
    by_lang: dict[str, set[str]] = {}
    for index, alias in enumerate(aliases or []):
        label = f"{record.label} aliases[{index}]"
        line = _item_line(aliases, index, aliases_line)
        if not isinstance(alias, CommentedMap):
            got = f"{kind(alias)} ({echo(alias)})" if isinstance(alias, str) else kind(alias)
            problems.append(Problem(record.path, line, label, "-", f"expected an alias written {EXAMPLE}, got {got}"))
            continue
        alias_text, lang = alias.get("name"), alias.get("lang")
        for key in alias:
            if str(key) not in ALIAS_FIELDS:
                problems.append(
                    Problem(record.path, line, label, str(key), f"unknown field{did_you_mean(str(key), ALIAS_FIELDS)}")
                )
        for key, value in (("name", alias_text), ("lang", lang)):
            if error := type_problem("TEXT", False, value):
                problems.append(Problem(record.path, line, label, key, error))
        if not isinstance(alias_text, str) or (lang is not None and not isinstance(lang, str)):
            continue
        alias_text = str(alias_text)
        texts.append(alias_text)
        if error := _script_problem(alias_text):
            # No script to hold the tag to: the name's own problem says it all.
            problems.append(Problem(record.path, line, label, "name", error))
        elif isinstance(record_id, str):
            names.append(_name_record(record, label, line, alias_text, None if lang is None else str(lang), False))
            if lang is not None:
                by_lang.setdefault(str(lang), set()).add(alias_text)
    record.values["aliases"] = texts
    problems.extend(_display(record, display, by_lang, names))
    return names


def _item_line(items: Any, index: int, fallback: int) -> int:
    """The line of a list's item, as ruamel keeps it."""
    if isinstance(items, CommentedSeq):
        return int(items.lc.item(index)[0]) + 1
    return fallback


def _display(record: Record, display: Any, by_lang: dict[str, set[str]], names: list[Record]) -> list[Problem]:
    """Mark the alias each display: entry names as its language's display name;
    a display name that is not among the aliases would be a name search misses."""
    if display is None:
        return []
    if not isinstance(display, CommentedMap):
        return [
            record.problem(
                "display", f"expected a mapping of language: name, such as {{ar: دمشق}}, got {kind(display)}"
            )
        ]
    problems = []
    for lang, text in display.items():
        line, field = display.lc.key(lang)[0] + 1, f"display.{lang}"
        if str(lang) == NAME_LANG:
            message = "the English display name is the record's name; remove this entry"
        elif isinstance(text, str) and str(text) in by_lang.get(str(lang), set()):
            for row in names:
                if row.values.get("lang") == str(lang) and row.values.get("name") == str(text):
                    row.values["display"] = 1
            continue
        else:
            shown = echo(text) if isinstance(text, str) else kind(text)
            message = f"{shown} is not among the aliases tagged {lang}; add it there as {{name: {text}, lang: {lang}}}"
        problems.append(Problem(record.path, line, record.label, field, message))
    return problems


# How pages and the curator's find name a tag's language and script.
LANGUAGE_NAMES = {
    "en": "English",
    "ar": "Arabic",
    "he": "Hebrew",
    "fr": "French",
    "fa": "Persian",
    "tr": "Turkish",
    "az": "Azerbaijani",
    "ru": "Russian",
    "la": "Latin",
    "de": "German",
    "es": "Spanish",
    "ur": "Urdu",
    "yi": "Yiddish",
    "el": "Greek",
    "uk": "Ukrainian",
    "bg": "Bulgarian",
    "ps": "Pashto",
}


def language_name(tag: str) -> str:
    """A tag in words: "Arabic", and for a transliteration "Arabic, in Latin
    letters"; a tag not known here is shown as written."""
    language, _, script = tag.partition("-")
    words = LANGUAGE_NAMES.get(language, language)
    if script:
        words += f", in {SCRIPT_NAMES.get(script, script)} letters"
    return words


def language_order(tag: str) -> tuple[bool, str, str]:
    """English first, then by language, each language's own script before its transliterations."""
    language, _, script = tag.partition("-")
    return (language != NAME_LANG, language, script)


def alias_texts(aliases: Any) -> list[str]:
    """The texts of aliases as sources/ writes them, {name: TEXT, lang: TAG},
    for the desk's tools, which read records half written and without
    validation; an alias still written as plain text counts as its text."""
    texts = []
    for alias in aliases if isinstance(aliases, list) else ():
        text = alias.get("name") if isinstance(alias, dict) else alias
        if isinstance(text, (str, int, float)) and not isinstance(text, bool) and str(text).strip():
            texts.append(str(text))
    return texts


def alias_languages(aliases: Any) -> dict[str, str]:
    """Each alias's text and tag, for those written with one."""
    listed = aliases if isinstance(aliases, list) else []
    return {
        str(alias["name"]): str(alias["lang"])
        for alias in listed
        if isinstance(alias, dict) and alias.get("name") is not None and isinstance(alias.get("lang"), str)
    }
