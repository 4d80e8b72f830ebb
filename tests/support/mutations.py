"""Ways a curator's hand can break a valid sources tree, one named class each.

Every mutation takes a copy of valid sources and a random generator, breaks
the copy in one way a person could, and says where the refusal must point:
the file, the lines it may name and the record it must name. The fuzz tests
and the reliability report draw from this one registry, so the report can
say exactly which classes of bad input were tried.
"""

from __future__ import annotations

import copy
import csv
import datetime
import io
import json
import random
import re
import string
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.reader import ReaderError
from ruamel.yaml.scalarstring import ScalarString

from loader.imports.rows import MAX_ROW
from loader.records.sources import NESTED
from loader.records.yaml_files import MAX_FILE_BYTES, YAML_ONLY_LINE_BREAK
from loader.schema import read_schema

SCHEMA = read_schema()
DATE_COLUMNS = ("start_date", "end_date", "published_date")


@dataclass(frozen=True)
class Target:
    """Where a refusal must point. record is None for problems with the file
    itself (bad bytes, YAML syntax), which name no record."""

    file: str  # relative to the sources directory, with forward slashes
    lines: range
    record: frozenset[str] | None = None  # any of these names will do
    arguments: tuple[str, ...] = ()  # added to the build command, relative to the sources' parent

    def describe(self) -> str:
        names = "any record" if self.record is None else " or ".join(sorted(self.record))
        return f"{self.file}:{self.lines.start}-{self.lines.stop - 1} naming {names}"


@dataclass(frozen=True)
class Mutation:
    name: str
    description: str
    apply: Callable[[Tree, random.Random], Target]


MUTATIONS: dict[str, Mutation] = {}


def mutation(description: str) -> Callable[[Callable[[Tree, random.Random], Target]], Callable]:
    def register(apply: Callable[[Tree, random.Random], Target]) -> Callable:
        name = apply.__name__.replace("_", "-")
        MUTATIONS[name] = Mutation(name, description, apply)
        return apply

    return register


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 10**6  # never fold a long value over several lines
    return yaml


_DOCUMENTS: dict[str, Any] = {}


def _parsed(text: str) -> Any:
    """The round-trip document of a file's text, a fresh copy for each call.
    Every case breaks a copy of the same valid fixture, and parsing its files
    took as long as the build under test; a deep copy keeps the line and
    column marks, comments and styles the mutations use, at a fraction."""
    if text not in _DOCUMENTS:
        _DOCUMENTS[text] = _yaml().load(text)
    return copy.deepcopy(_DOCUMENTS[text])


@dataclass
class Rec:
    """One record of a sources file, as ruamel's round-trip loader sees it."""

    file: str
    path: tuple  # keys from the document root down to the record
    table: str
    node: Any
    depth: int  # 0 for a record at the top of a section, 1 for one nested in an event
    position: str  # how a record without a usable id is named: events[1], actors[0]

    @property
    def line(self) -> int:
        return self.node.lc.line + 1

    def names(self) -> set[str]:
        names = {self.position}
        key = SCHEMA.tables[self.table].primary_key
        if len(key) == 1 and isinstance(self.node.get(key[0]), str) and self.node[key[0]].strip():
            names.add(self.node[key[0]])
        return names


def _records(file: str, document: Any) -> Iterator[Rec]:
    if not isinstance(document, dict):
        return
    for section, items in document.items():
        if section not in SCHEMA.tables or not isinstance(items, list):
            continue
        for index, item in enumerate(items):
            if not isinstance(item, dict):
                continue
            yield Rec(file, (section, index), section, item, 0, f"{section}[{index}]")
            for key, child_table in NESTED.get(section, {}).items():
                children = item.get(key)
                if isinstance(children, list):
                    for child_index, child in enumerate(children):
                        if isinstance(child, dict):
                            yield Rec(
                                file, (section, index, key, child_index), child_table, child, 1, f"{key}[{child_index}]"
                            )


class Tree:
    """A sources directory, open for breaking."""

    def __init__(self, root: Path):
        self.root = root
        self.files = sorted(p.relative_to(root).as_posix() for p in root.rglob("*.yml"))
        self.documents = {file: _parsed(self.text(file)) for file in self.files}
        self.records = [rec for file in self.files for rec in _records(file, self.documents[file])]

    def text(self, file: str) -> str:
        return (self.root / file).read_text(encoding="utf-8")

    def write(self, file: str, content: str | bytes) -> None:
        path = self.root / file
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")

    def save(self, file: str, document: Any | None = None) -> None:
        out = io.StringIO()
        _yaml().dump(self.documents[file] if document is None else document, out)
        self.write(file, out.getvalue())

    def ids(self, table: str) -> set[str]:
        key = SCHEMA.tables[table].primary_key[0]
        return {r.node.get(key) for r in self.records if r.table == table}

    def pick(self, rnd: random.Random, fits: Callable[[Rec], object]) -> Rec:
        return rnd.choice([r for r in self.records if fits(r)])

    def target(self, rec: Rec, extra_names: frozenset[str] = frozenset()) -> Target:
        """Save the record's file, then find the lines the record spans in what was written.

        ruamel's dumper writes some characters (C1 controls such as U+0091,
        and U+0085) as they are, which its own reader or the loader then
        refuses: the refusal is of the file at that character's line, naming
        no record."""
        self.save(rec.file)
        text = self.text(rec.file)
        lines = text.count("\n") + 2
        if match := YAML_ONLY_LINE_BREAK.search(text):
            line = text.count("\n", 0, match.start()) + 1
            return Target(rec.file, range(line, line + 1), None)
        try:
            saved = list(_records(rec.file, _yaml().load(text)))
        except ReaderError as e:
            line = text[: e.position].count("\n") + 1
            return Target(rec.file, range(line, line + 1), None)
        index = next(i for i, r in enumerate(saved) if r.path == rec.path)
        after = [r.line for r in saved[index + 1 :] if r.depth <= rec.depth]
        end = after[0] if after else lines
        return Target(rec.file, range(saved[index].line, end), frozenset(rec.names() | extra_names))

    def value_positions(self, fits: Callable[[Rec, str, Any], bool]) -> list[tuple[Rec, str, int, int]]:
        """(record, field, line, column) of every one-line, block-style plain
        value that fits: where raw text can be put without a dumper's help."""
        found = []
        for rec in self.records:
            if rec.node.fa.flow_style():
                continue
            for key, value in rec.node.items():
                if isinstance(value, (dict, list, ScalarString)) or not fits(rec, key, value):
                    continue
                line, column = rec.node.lc.value(key)
                found.append((rec, key, line, column))
        return found


def _slug(rnd: random.Random, length: int = 12) -> str:
    return "".join(rnd.choice(string.ascii_lowercase + string.digits) for _ in range(length))


def _column(rec: Rec, key: str):
    return SCHEMA.tables[rec.table].columns.get(key)


def _text_columns(rec: Rec) -> list[str]:
    table = SCHEMA.tables[rec.table]
    implied = {fk.column for fk in table.foreign_keys if rec.depth and fk.table == "events"}
    return [c.name for c in table.columns.values() if c.type == "TEXT" and not c.json and c.name not in implied]


def _replace_value(
    tree: Tree,
    rnd: random.Random,
    fits: Callable[[Rec, str, Any], bool],
    literal: Callable[[str], str],
    named: bool = False,
) -> Target:
    """Rewrite one block-style value as raw YAML text, for what a dumper would
    never write. named: the refusal names the record, not just the file's line."""
    rec, key, line, column = rnd.choice(tree.value_positions(fits))
    lines = tree.text(rec.file).split("\n")
    lines[line] = lines[line][:column] + literal(lines[line][column:])
    tree.write(rec.file, "\n".join(lines))
    return Target(rec.file, range(line + 1, line + 2), frozenset(rec.names()) if named else None)


def _insert_line(tree: Tree, rnd: random.Random, make: Callable[[Rec, str], str]) -> Target:
    """Insert a line into a block-style record, just after one of its fields."""
    rec, key, line, _ = rnd.choice(tree.value_positions(lambda r, k, v: True))
    indent = rec.node.lc.key(key)[1]
    lines = tree.text(rec.file).split("\n")
    lines.insert(line + 1, " " * indent + make(rec, key))
    tree.write(rec.file, "\n".join(lines))
    return Target(rec.file, range(rec.line, line + 3), None)


# --- records: fields and values ---------------------------------------------


@mutation("a required field is left out")
def missing_field(tree: Tree, rnd: random.Random) -> Target:
    def required(rec: Rec) -> list[str]:
        table = SCHEMA.tables[rec.table]
        implied = {fk.column for fk in table.foreign_keys if rec.depth and fk.table == "events"}
        return [c.name for c in table.columns.values() if c.required and c.name in rec.node and c.name not in implied]

    rec = tree.pick(rnd, required)
    del rec.node[rnd.choice(required(rec))]
    return tree.target(rec)


@mutation("a field name is mistyped, so it is unknown")
def unknown_field(tree: Tree, rnd: random.Random) -> Target:
    rec = tree.pick(rnd, lambda r: len(r.node) > 0)
    keys = list(rec.node)
    key = rnd.choice(keys)
    typo = rnd.choice(
        [
            key + rnd.choice(string.ascii_lowercase),
            key[:-1],
            key.upper(),
            key.replace("_", "-") if "_" in key else key + "s",
            _slug(rnd, rnd.randint(1, 40)),
        ]
    )
    known = set(SCHEMA.tables[rec.table].columns) | set(NESTED.get(rec.table, {}))
    if typo in known or typo in rec.node or not typo:
        typo = "x" + _slug(rnd) + "-field"
    value = rec.node.pop(key)
    rec.node.insert(keys.index(key), typo, value)
    return tree.target(rec)


def _wrong_value(column_type: str, is_json: bool, rnd: random.Random) -> Any:
    if is_json:
        return rnd.choice(["just text", 7, {"a": "b"}, ["text", 3], [["nested"]], [True]])
    if column_type == "TEXT":
        return rnd.choice(
            [rnd.randint(-(10**9), 10**9), rnd.random() * 1e6, True, False, ["a", "b"], {"key": "value"}, []]
        )
    if column_type == "INTEGER":
        return rnd.choice(["12", "twelve", 1.5, True, ["1"], {"n": 1}])
    return rnd.choice(["48.8", "north", True, [1.0], {"lat": 1}])


@mutation("a value has the wrong type: a number for text, text for a number, a list or mapping for a scalar")
def wrong_type(tree: Tree, rnd: random.Random) -> Target:
    def columns(rec: Rec) -> list[str]:
        return [k for k in rec.node if _column(rec, k) is not None and not (rec.depth and k == "event_id")]

    rec = tree.pick(rnd, columns)
    key = rnd.choice(columns(rec))
    column = _column(rec, key)
    rec.node[key] = _wrong_value(column.type, column.json, rnd)
    return tree.target(rec)


@mutation("a reference names a record that does not exist")
def unknown_reference(tree: Tree, rnd: random.Random) -> Target:
    def references(rec: Rec) -> list:
        return [fk for fk in SCHEMA.tables[rec.table].foreign_keys if not (rec.depth and fk.table == "events")]

    rec = tree.pick(rnd, references)
    fk = rnd.choice(references(rec))
    value = rnd.choice([_slug(rnd, rnd.randint(1, 30)), "Paris", "tom-barack", "", "nonexistent"])
    while value in tree.ids(fk.table):
        value += "-x"
    rec.node[fk.column] = value
    return tree.target(rec)


def _impossible_date(rnd: random.Random) -> str:
    year = rnd.randint(1, 9999)
    return rnd.choice(
        [
            f"{year:04d}-02-{rnd.randint(30, 31)}",
            f"{rnd.choice([2023, 2025, 2100, 1900])}-02-29",
            f"{year:04d}-{rnd.choice([4, 6, 9, 11]):02d}-31",
            f"{year:04d}-{rnd.randint(13, 99):02d}-01",
            f"{year:04d}-01-{rnd.randint(32, 99)}",
            f"{year:04d}-00-00",
            f"{year}-{rnd.randint(1, 9)}-{rnd.randint(1, 9)}",
            f"{rnd.randint(1, 28):02d}/{rnd.randint(1, 12):02d}/{year}",
            f"{year:04d}-08-19T10:00:00",
            "yesterday",
            "",
            " 2025-08-19",
        ]
    )


@mutation("a date that is not a real calendar date written YYYY-MM-DD")
def impossible_date(tree: Tree, rnd: random.Random) -> Target:
    rec = tree.pick(rnd, lambda r: any(c in r.node for c in DATE_COLUMNS))
    key = rnd.choice([c for c in DATE_COLUMNS if c in rec.node])
    rec.node[key] = _impossible_date(rnd)
    return tree.target(rec)


def _date_out_of_range(rnd: random.Random) -> str:
    """A real calendar date outside the store's 1800-01-01 to 2100-12-31:
    a typo of the year, or one at an end of SQLite's or Python's calendar."""
    year = rnd.choice([rnd.randint(0, 1799), rnd.randint(2101, 9999), 1, 250, 300, 1799, 2101, 9999])
    month, day = rnd.choice([(1, 1), (2, 1), (6, 1), (12, 31), (rnd.randint(1, 12), rnd.randint(1, 28))])
    return f"{year:04d}-{month:02d}-{day:02d}"


@mutation("a real date outside 1800-01-01 to 2100-12-31, such as 0250-06-01 or 0001-01-01 (the build hung on them)")
def date_out_of_range(tree: Tree, rnd: random.Random) -> Target:
    rec = tree.pick(rnd, lambda r: any(c in r.node for c in DATE_COLUMNS))
    date = _date_out_of_range(rnd)
    if rec.table == "events":
        rec.node.update(start_date=date, end_date=date, date_precision="day")
    else:
        rec.node[rnd.choice([c for c in DATE_COLUMNS if c in rec.node])] = date
    return tree.target(rec)


@mutation("an event ends before it starts")
def reversed_dates(tree: Tree, rnd: random.Random) -> Target:
    rec = tree.pick(rnd, lambda r: r.table == "events")
    start = datetime.date(2025, 1, 1) + datetime.timedelta(days=rnd.randint(0, 3000))
    end = start - datetime.timedelta(days=rnd.randint(1, 4000))
    rec.node["start_date"], rec.node["end_date"] = start.isoformat(), end.isoformat()
    return tree.target(rec)


@mutation("two records share an id, in the same file or in another")
def duplicate_id(tree: Tree, rnd: random.Random) -> Target:
    rec = tree.pick(rnd, lambda r: r.depth == 0 and len(SCHEMA.tables[r.table].primary_key) == 1)
    twin = copy.deepcopy(rec.node)
    if rnd.random() < 0.5:
        file = "zz-duplicate.yml"
        tree.documents[file] = CommentedMap({rec.table: CommentedSeq([twin])})
        path = (rec.table, 0)
    else:
        file = rec.file
        items = tree.documents[file][rec.table]
        items.append(twin)
        path = (rec.table, len(items) - 1)
    copy_rec = Rec(file, path, rec.table, twin, 0, f"{rec.table}[{path[1]}]")
    return tree.target(copy_rec)


@mutation("two documents share an archive reference, which must be unique")
def duplicate_unique_value(tree: Tree, rnd: random.Random) -> Target:
    documents = [r for r in tree.records if r.table == "documents"]
    first, second = rnd.sample(documents, 2)
    second.node["archive_ref"] = first.node.get("archive_ref") or "shared.txt"
    first.node["archive_ref"] = second.node["archive_ref"]
    tree.save(first.file)
    target = tree.target(second)
    if first.file == second.file:  # either of the two may be the one refused
        other = tree.target(first)
        return Target(
            target.file,
            range(min(target.lines.start, other.lines.start), max(target.lines.stop, other.lines.stop)),
            (target.record or frozenset()) | (other.record or frozenset()),
        )
    return target


def _broken_rules(rec: Rec, rnd: random.Random) -> list[Callable[[], None]]:
    """Values of the right type that break one CHECK of schema.sql."""
    node, columns = rec.node, SCHEMA.tables[rec.table].columns
    rules: list[Callable[[], None]] = []

    def set_(key: str, value: Any) -> Callable[[], None]:
        return lambda: node.__setitem__(key, value)

    for key in ("title", "summary", "name", "label", "description", "statement"):
        if key in columns and key in node and columns[key].required:
            rules.append(set_(key, rnd.choice(["", " ", "\t", "   \n  "])))
    if "id" in columns and columns["id"].type == "TEXT":
        rules.append(
            set_("id", rnd.choice(["Has Space", "UPPER", "-leading-hyphen", "under_score", "é-accent", "a.b", ""]))
        )
    vocabularies = {
        "kind": "mayor",
        "status": "rumoured",
        "date_precision": "decade",
        "role": "spectator",
        "stance": "believes",
        "geo_precision": "approximate",
        "plover": "CHAT",
    }
    for key, bad in vocabularies.items():
        if key in columns:
            rules.append(set_(key, rnd.choice([bad, bad.upper(), ""])))
    if "cameo" in columns:
        rules.append(set_("cameo", rnd.choice(["1", "12345", "04a", ""])))
    if "country_code" in columns:
        rules.append(set_("country_code", rnd.choice(["usa", "us", "U", "U1", ""])))
    if "language" in columns:
        rules.append(set_("language", rnd.choice(["eng", "EN", "e", "e1"])))
    if "url" in columns:
        rules.append(
            set_("url", rnd.choice(["javascript:alert(1)", "ftp://example.org", "www.example.org", "https://", ""]))
        )
    if "latitude" in columns:
        rules.append(set_("latitude", rnd.choice([90.0001, -91.0, 1e300, -1e300])))
        rules.append(set_("longitude", rnd.choice([180.5, -181.0, 1e300])))
        if "latitude" in node:
            rules.append(lambda: node.pop("longitude", None))
            rules.append(lambda: node.pop("geo_precision", None))
    if "geonames_id" in columns:
        rules.append(set_("geonames_id", rnd.choice([0, -1, -(2**63)])))
    if "parent_id" in columns and isinstance(node.get("id"), str):
        rules.append(set_("parent_id", node["id"]))
    if rec.table == "events":
        start = datetime.date(2025, 1, 1) + datetime.timedelta(days=rnd.randint(0, 700))
        for precision, days in (
            ("days", rnd.choice([0, 7, 14])),
            ("week", rnd.choice([0, 14, 30])),
            ("month", rnd.choice([0, 5, 29])),
            ("year", rnd.choice([0, 100, 364])),
        ):
            end = (start + datetime.timedelta(days=days)).isoformat()

            def span(precision: str = precision, end: str = end) -> None:
                node.update(date_precision=precision, start_date=start.isoformat(), end_date=end)

            rules.append(span)

        def unplaced() -> None:
            node.pop("place_id", None)
            node.pop("place_unknown", None)

        rules.append(unplaced)
    return rules


@mutation("a value of the right type breaks a rule of schema.sql: blank, bad slug, outside a vocabulary, out of range")
def broken_rule(tree: Tree, rnd: random.Random) -> Target:
    rec = tree.pick(rnd, lambda r: bool(_broken_rules(r, random.Random(0))))
    rnd.choice(_broken_rules(rec, rnd))()
    return tree.target(rec)


@mutation("an event cites no document")
def event_without_document(tree: Tree, rnd: random.Random) -> Target:
    rec = tree.pick(rnd, lambda r: r.table == "events" and "documents" in r.node)
    rec.node.pop("documents")
    return tree.target(rec)


@mutation("a nested record repeats the field its event already implies")
def implied_field(tree: Tree, rnd: random.Random) -> Target:
    rec = tree.pick(rnd, lambda r: r.depth == 1)
    rec.node["event_id"] = rnd.choice(list(tree.ids("events")))
    return tree.target(rec)


@mutation("a text field far longer than any real one (20,001 to 300,000 characters)")
def very_long_text(tree: Tree, rnd: random.Random) -> Target:
    rec = tree.pick(rnd, _text_columns)
    key = rnd.choice(_text_columns(rec))
    length = rnd.choice([20_001, rnd.randint(20_001, 300_000)])
    words = " ".join(_slug(rnd, rnd.randint(1, 12)) for _ in range(8))
    rec.node[key] = (words * (length // len(words) + 1))[:length]
    return tree.target(rec)


@mutation("a text field holding a control character, written as an escape")
def control_character_escaped(tree: Tree, rnd: random.Random) -> Target:
    rec = tree.pick(rnd, _text_columns)
    key = rnd.choice(_text_columns(rec))
    char = chr(rnd.choice([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), *range(0x7F, 0xA0)]))
    text = str(rec.node.get(key) or "text")
    at = rnd.randint(0, len(text))
    rec.node[key] = text[:at] + char + text[at:]
    return tree.target(rec)


@mutation("a record that is not a mapping, a section that is not a list, or a file that is not a mapping of sections")
def wrong_shape(tree: Tree, rnd: random.Random) -> Target:
    file = rnd.choice(tree.files)
    document = tree.documents[file]
    section = rnd.choice(list(document))
    choice = rnd.randrange(3)
    if choice == 0:
        document[section][0] = rnd.choice(["just text", 42, ["a", "list"], None])
        if document[section][0] is None:
            document[section][0] = True
        names = frozenset({f"{section}[0]"})
    elif choice == 1:
        document[section] = rnd.choice(["text", 3, CommentedMap({"id": "x"})])
        names = None
    else:
        tree.save(file, rnd.choice([CommentedSeq([document]), "plain text", 12]))
        return Target(file, range(1, 3), None)
    tree.save(file)
    return Target(file, range(1, tree.text(file).count("\n") + 2), names)


@mutation("a section name is mistyped")
def unknown_section(tree: Tree, rnd: random.Random) -> Target:
    file = rnd.choice(tree.files)
    document = tree.documents[file]
    section = rnd.choice(list(document))
    typo = rnd.choice([section[:-1], section + "s", section.upper(), "event", "actor", _slug(rnd, 8)])
    if typo in SCHEMA.tables:
        typo += "-x"
    tree.save(file, CommentedMap({typo if k == section else k: v for k, v in document.items()}))
    return Target(file, range(1, tree.text(file).count("\n") + 2), None)


@mutation("a record key that is not text: a number, true, null or a list")
def non_text_key(tree: Tree, rnd: random.Random) -> Target:
    return _insert_line(
        tree,
        rnd,
        lambda rec, key: rnd.choice(
            ["1: one", "1.5: x", "true: yes", "null: nothing", "? [a, b]\n" + " " * rec.node.lc.key(key)[1] + ": pair"]
        ),
    )


# --- numbers ----------------------------------------------------------------


@mutation("a number too large to store: beyond 64 bits, beyond a float, or thousands of digits")
def huge_number(tree: Tree, rnd: random.Random) -> Target:
    def numeric(rec: Rec, key: str, value: Any) -> bool:
        column = _column(rec, key)
        return column is not None and column.type in ("INTEGER", "REAL")

    digits = rnd.choice([19, 20, 40, 400, 4300, 4301, 5000, 20_000])
    literal = rnd.choice(
        [
            str(2**63),
            str(-(2**63) - 1),
            "9" * digits,
            "-" + "9" * digits,
            "1e400",
            "-1e400",
            ".inf",
            "-.inf",
            ".nan",
            "1" + "0" * digits + ".5",
            "0x" + "f" * digits,
        ]
    )
    # Python reads no decimal integer of more than 4,300 digits, so only the file's line can be named.
    unreadable = re.fullmatch(r"-?\d{4301,}", literal) is not None
    return _replace_value(tree, rnd, numeric, lambda rest: literal, named=not unreadable)


# --- the YAML itself -------------------------------------------------------


@mutation("a file cut short inside a quoted string or a [list] or {mapping}")
def truncated_yaml(tree: Tree, rnd: random.Random) -> Target:
    spans = [
        (file, match)
        for file in tree.files
        for match in re.finditer(r'"[^"\n]*"|\[[^\]\n]*\]|\{[^}\n]*\}', tree.text(file))
    ]
    file, match = rnd.choice(spans)
    text = tree.text(file)
    cut = rnd.randint(match.start() + 1, match.end() - 1)
    tree.write(file, text[:cut] + rnd.choice(["", "\n"]))
    return Target(file, range(text.count("\n", 0, cut) + 1, text.count("\n", 0, cut) + 3), None)


@mutation("bytes that are not UTF-8: a Latin-1 file, a stray byte, a lone continuation byte, an encoded surrogate")
def invalid_utf8(tree: Tree, rnd: random.Random) -> Target:
    file = rnd.choice(tree.files)
    raw = tree.text(file).encode("utf-8")
    at = rnd.randint(0, len(raw))
    while 0 < at < len(raw) and raw[at] & 0xC0 == 0x80:  # never inside a character
        at -= 1
    bad = rnd.choice(
        [b"\xff", b"\xfe", b"\xc3", b"\x80", b"\xe9t\xe9", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80", b"\xc0\xaf"]
    )
    tree.write(file, raw[:at] + bad + raw[at:])
    line = raw[:at].count(b"\n") + 1
    return Target(file, range(line, line + 1), None)


@mutation("a raw control character or YAML-only line break (NUL, BEL, ESC, DEL, U+0085, U+2028) pasted into a value")
def control_character_raw(tree: Tree, rnd: random.Random) -> Target:
    char = rnd.choice(
        ["\x00", "\x01", "\x07", "\x08", "\x0b", "\x0c", "\x1b", "\x7f", "\x85", "\x9b", "\u2028", "\u2029"]
    )
    rec, key, line, column = rnd.choice(tree.value_positions(lambda r, k, v: isinstance(v, str)))
    lines = tree.text(rec.file).split("\n")
    at = rnd.randint(column + 1, max(column + 1, len(lines[line]) - 1))
    lines[line] = lines[line][:at] + char + lines[line][at:]
    tree.write(rec.file, "\n".join(lines))
    return Target(rec.file, range(line + 1, line + 2), None)


@mutation("a quoted escape for half a UTF-16 surrogate pair (\\ud800), which no database can store")
def surrogate_escape(tree: Tree, rnd: random.Random) -> Target:
    half = rnd.choice(["\\ud800", "\\udfff", "\\udc00x", "a\\ud83d"])
    return _replace_value(tree, rnd, lambda r, k, v: isinstance(v, str), lambda rest: f'"{half}"')


@mutation("the same key twice in one record")
def duplicate_yaml_key(tree: Tree, rnd: random.Random) -> Target:
    return _insert_line(tree, rnd, lambda rec, key: f"{key}: {rnd.choice(['again', '2', 'x y'])}")


@mutation("an explicit YAML tag: !!python/object, !!binary, !!set, a custom !tag, a numeric cast")
def yaml_tag(tree: Tree, rnd: random.Random) -> Target:
    tag = rnd.choice(
        [
            "!!python/object/apply:os.system",
            "!!python/name:os.system",
            "!!binary",
            "!!set",
            "!!omap",
            "!!int",
            "!!float",
            "!!bool",
            "!!null",
            "!custom",
            "!<tag:example.org,2025:x>",
            "!!timestamp",
        ]
    )
    return _replace_value(tree, rnd, lambda r, k, v: True, lambda rest: f"{tag} {rest}")


@mutation("a YAML merge key (<<) that pulls fields in from elsewhere")
def merge_key(tree: Tree, rnd: random.Random) -> Target:
    return _insert_line(tree, rnd, lambda rec, key: rnd.choice(["<<: {notes: merged}", "<<: [{notes: a}, {notes: b}]"]))


@mutation("a YAML anchor on one value and an alias to it in another")
def anchor_and_alias(tree: Tree, rnd: random.Random) -> Target:
    positions = tree.value_positions(lambda r, k, v: True)
    (rec, _, line, column), (rec2, _, line2, column2) = sorted(
        rnd.sample(positions, 2), key=lambda p: (p[0].file, p[2])
    )
    if rec.file != rec2.file:
        rec2, line2, column2 = rec, line, column
    lines = tree.text(rec.file).split("\n")
    if line2 != line:
        lines[line2] = lines[line2][:column2] + "*copied"
    lines[line] = lines[line][:column] + "&copied " + lines[line][column:]
    tree.write(rec.file, "\n".join(lines))
    return Target(rec.file, range(line + 1, max(line, line2) + 2), None)


@mutation("a billion-laughs file: aliases that expand a few lines into billions of values")
def alias_bomb(tree: Tree, rnd: random.Random) -> Target:
    levels, width = rnd.randint(6, 12), rnd.randint(5, 10)
    lines = [f'a0: &a0 ["{"lol" * rnd.randint(1, 20)}"]']
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * width)}]" for i in range(1, levels)]
    lines.append(f"events: *a{levels - 1}")
    file = rnd.choice(["bomb.yml", "events/bomb.yml"])
    tree.write(file, "\n".join(lines) + "\n")
    return Target(file, range(1, len(lines) + 1), None)


@mutation("nesting far deeper than a record needs, as [[[...]]], {a: {a: ...}} or indented - - -")
def deep_nesting(tree: Tree, rnd: random.Random) -> Target:
    depth = rnd.choice([13, 14, 100, 1_000, 50_000, rnd.randint(13, 100_000)])
    style = rnd.randrange(3)
    if style == 2:
        depth = min(depth, 400)
        rec, key, line, column = rnd.choice(tree.value_positions(lambda r, k, v: True))
        indent = rec.node.lc.key(key)[1]
        block = "".join("\n" + " " * (indent + 2 + 2 * i) + "-" for i in range(depth)) + " deep"
        lines = tree.text(rec.file).split("\n")
        lines[line] = lines[line][:column].rstrip() + block
        tree.write(rec.file, "\n".join(lines))
        return Target(rec.file, range(line + 1, line + depth + 2), None)
    nested = "[" * depth + "x" + "]" * depth if style == 0 else "{a: " * depth + "x" + "}" * depth
    return _replace_value(tree, rnd, lambda r, k, v: True, lambda rest: nested)


@mutation("an indentation written with a tab")
def tab_indentation(tree: Tree, rnd: random.Random) -> Target:
    rec, key, line, _ = rnd.choice(
        tree.value_positions(lambda r, k, v: r.node.lc.key(k)[1] > 0 and r.node.lc.key(k)[0] != r.line - 1)
    )
    lines = tree.text(rec.file).split("\n")
    lines[line] = rnd.choice(["\t", "\t  ", "  \t"]) + lines[line].lstrip(" ")
    tree.write(rec.file, "\n".join(lines))
    return Target(rec.file, range(line, line + 3), None)


@mutation("a second YAML document (---) in one file")
def several_documents(tree: Tree, rnd: random.Random) -> Target:
    file = rnd.choice(tree.files)
    text = tree.text(file)
    tree.write(file, text + rnd.choice(["---\n", "---\nevents: []\n", "...\n---\nplaces:\n"]))
    return Target(file, range(text.count("\n") + 1, text.count("\n") + 4), None)


@mutation("a sources file over the 2 MB limit: pasted data, or records that belong in several files")
def oversized_file(tree: Tree, rnd: random.Random) -> Target:
    file = rnd.choice([*tree.files, "big.yml"])
    text = tree.text(file) if file in tree.files else "places:\n"
    filler = rnd.choice(["# " + "x" * 97 + "\n", "  - {id: p, name: P, kind: town}\n"])
    size = rnd.choice([MAX_FILE_BYTES + 1, rnd.randint(MAX_FILE_BYTES, 8 * MAX_FILE_BYTES)])
    tree.write(file, text + filler * (size // len(filler) + 1))
    return Target(file, range(1, 2), None)


@mutation("an empty file, or one with only a comment, --- or null")
def empty_file(tree: Tree, rnd: random.Random) -> Target:
    file = rnd.choice([*tree.files, "new.yml", "events/new.yaml"])
    tree.write(file, rnd.choice(["", "\n\n", "# nothing here yet\n", "---\n", "...\n", "~\n", "null\n", "\ufeff"]))
    return Target(file, range(1, 2), None)


# --- files, names and links -------------------------------------------------


@mutation("a parent_id chain of places or actors that comes back round to where it started")
def circular_parents(tree: Tree, rnd: random.Random) -> Target:
    table = rnd.choice(["places", "actors"])
    records = [r for r in tree.records if r.table == table and isinstance(r.node.get("id"), str)]
    circle = rnd.sample(records, rnd.randint(2, min(4, len(records))))
    for rec, parent in zip(circle, circle[1:] + circle[:1], strict=True):
        rec.node["parent_id"] = parent.node["id"]
    for file in {rec.file for rec in circle}:
        tree.save(file)
    first = min(circle, key=lambda r: r.node["id"])
    return Target(first.file, range(1, tree.text(first.file).count("\n") + 2), frozenset({first.node["id"]}))


@mutation("a link in sources/ to a file outside it (which must not be read or shown), or to nothing")
def bad_link(tree: Tree, rnd: random.Random) -> Target:
    outside = tree.root.parent / rnd.choice(["secret.yml", "notes.txt", "passwd"])
    outside.write_text(rnd.choice(["events:\n  - id: secret\n", "root:x:0:0\n", "- just a list\n"]), encoding="utf-8")
    broken = tree.root / rnd.choice(["gone.yml", "events/renamed.yml"])
    file = rnd.choice(["linked.yml", "events/linked.yaml", "linked.YML"])
    (tree.root / file).parent.mkdir(parents=True, exist_ok=True)
    (tree.root / file).symlink_to(rnd.choice([outside, broken]))
    return Target(file, range(1, 2), None)


@mutation("a bad record in a file whose extension is in capitals (.YML, .Yaml)")
def upper_case_extension(tree: Tree, rnd: random.Random) -> Target:
    file = rnd.choice(["EXTRA.YML", "events/extra.Yaml", "more.YAML"])
    tree.write(file, "places:\n  - id: extra-place\n    name: Extra\n    kind: nowhere\n")
    return Target(file, range(4, 5), frozenset({"extra-place"}))


@mutation("a second byte-order mark at the start of a file")
def doubled_byte_order_mark(tree: Tree, rnd: random.Random) -> Target:
    file = rnd.choice(tree.files)
    tree.write(file, "\ufeff\ufeff".encode() + tree.text(file).encode("utf-8"))
    return Target(file, range(1, 2), None)


@mutation("a tab instead of a space after a colon")
def tab_after_colon(tree: Tree, rnd: random.Random) -> Target:
    rec, key, line, column = rnd.choice(tree.value_positions(lambda r, k, v: True))
    lines = tree.text(rec.file).split("\n")
    before = lines[line][:column].rstrip()
    lines[line] = before + rnd.choice(["\t", "\t\t", " \t"]) + lines[line][column:]
    tree.write(rec.file, "\n".join(lines))
    return Target(rec.file, range(line + 1, line + 2), None)


@mutation("an unquoted value holding ': ' (a title such as Paris: talks resume)")
def unquoted_colon(tree: Tree, rnd: random.Random) -> Target:
    return _replace_value(
        tree, rnd, lambda r, k, v: isinstance(v, str), lambda rest: rnd.choice(["Paris: ", "Update: ", "a: b "]) + rest
    )


@mutation("a file name holding a newline or another control character, with a bad record in it")
def control_character_in_file_name(tree: Tree, rnd: random.Random) -> Target:
    name = rnd.choice(["bad\nname.yml", "tab\tname.yml", "cr\rname.yml", "esc\x1bname.yml"])
    tree.write(name, "places:\n  - id: extra-place\n    name: Extra\n    kind: nowhere\n")
    shown = name.encode("unicode_escape").decode()  # as the loader prints it, on one line
    return Target(shown, range(4, 5), frozenset({"extra-place"}))


# --- imported files ---------------------------------------------------------

ACLED_SAMPLE = Path(__file__).resolve().parents[1] / "fixtures" / "acled" / "syria.csv"


def _import_file(tree: Tree, name: str, content: str | bytes, line: int, *flags: str) -> Target:
    """Write a file to import beside the sources, and expect its refusal at line."""
    path = tree.root.parent / "imports" / name
    path.parent.mkdir(exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return Target(f"../imports/{name}", range(line, line + 1), None, ("--import", f"imports/{name}", *flags))


def _acled_rows(rnd: random.Random) -> tuple[list[str], list[list[str]]]:
    rows = list(csv.reader(ACLED_SAMPLE.read_text(encoding="utf-8").splitlines()))
    return rows[0], [list(row) for row in rows[1:] for _ in range(rnd.randint(1, 3))]


def _csv(header: list[str], rows: list[list[str]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([header, *rows])
    return out.getvalue()


@mutation("an ACLED value SQLite cannot hold: a death toll beyond 64 bits, a nan or infinite coordinate")
def acled_value_out_of_reach(tree: Tree, rnd: random.Random) -> Target:
    header, rows = _acled_rows(rnd)
    for n, row in enumerate(rows):
        row[0] = f"SYR{n:05d}"
    bad = rnd.randrange(len(rows))
    column, value = rnd.choice(
        [
            ("fatalities", "9" * rnd.randint(20, 400)),
            ("fatalities", str(2**63)),
            ("latitude", rnd.choice(["nan", "NaN", "inf", "-inf", "1e999"])),
            ("longitude", rnd.choice(["nan", "-Infinity"])),
        ]
    )
    rows[bad][header.index(column)] = value
    return _import_file(tree, "acled.csv", _csv(header, rows), bad + 2)


@mutation("an NDJSON line nested thousands of levels deep")
def deep_ndjson(tree: Tree, rnd: random.Random) -> Target:
    depth = rnd.choice([1_000, 10_000, 100_000])
    good = '{"id": "2025-09-01-x", "title": "x", "summary": "x", "event_type": "meeting", "start_date": "2025-09-01", "end_date": "2025-09-01", "date_precision": "day"}'
    lines = [good] * rnd.randint(0, 3)
    at = len(lines) + 1
    lines.append('{"id": ' + rnd.choice(["[", '{"a": ']) * depth + "1" + rnd.choice(["]", "}"]) * depth + "}")
    return _import_file(tree, "deep.ndjson", "\n".join(lines) + "\n", at)


@mutation("a byte that is not UTF-8 in an imported CSV, far into the file, with or without --skip-invalid")
def import_bad_byte(tree: Tree, rnd: random.Random) -> Target:
    header, rows = _acled_rows(rnd)
    rows = [list(rows[n % len(rows)]) for n in range(rnd.choice([10, 3_000, 12_000]))]
    for n, row in enumerate(rows):
        row[0] = f"SYR{n:05d}"
    bad = rnd.randrange(len(rows))
    text = _csv(header, rows).encode("utf-8").split(b"\n")
    text[bad + 1] = text[bad + 1].replace(b",", rnd.choice([b"\xff", b"\xe9", b"\xc3("]) + b",", 1)
    return _import_file(tree, "acled.csv", b"\n".join(text), bad + 2, *rnd.choice([(), ("--skip-invalid",)]))


@mutation("an imported file without one of the columns its format needs, or with one the import sets (origin)")
def import_missing_column(tree: Tree, rnd: random.Random) -> Target:
    if rnd.random() < 0.3:
        return _import_file(tree, "extra.csv", "id,title,origin\nx,y,z\n", 1)
    header, rows = _acled_rows(rnd)
    drop = rnd.choice(["fatalities", "event_date", "latitude", "iso", "notes"])
    index = header.index(drop)
    trimmed = [[v for i, v in enumerate(row) if i != index] for row in [header, *rows]]
    return _import_file(tree, "acled.csv", _csv(trimmed[0], trimmed[1:]), 1)


@mutation("an imported row dated outside 1800-01-01 to 2100-12-31, in an ACLED export or the events' own columns")
def import_date_out_of_range(tree: Tree, rnd: random.Random) -> Target:
    date = _date_out_of_range(rnd)
    if rnd.random() < 0.5:
        header, rows = _acled_rows(rnd)
        for n, row in enumerate(rows):
            row[0] = f"SYR{n:05d}"
        bad = rnd.randrange(len(rows))
        rows[bad][header.index("event_date")] = date
        rows[bad][header.index("time_precision")] = "1"
        return _import_file(tree, "acled.csv", _csv(header, rows), bad + 2)
    columns = ["id", "title", "summary", "event_type", "start_date", "end_date", "date_precision", "place_id"]
    rows = [
        [f"2025-09-{n + 1:02d}-x", "x", "x", "meeting", f"2025-09-{n + 1:02d}", f"2025-09-{n + 1:02d}", "day", "paris"]
        for n in range(rnd.randint(1, 5))
    ]
    bad = rnd.randrange(len(rows))
    rows[bad][4:6] = [date, date]
    if rnd.random() < 0.5:
        return _import_file(tree, "events.csv", _csv(columns, rows), bad + 2)
    text = "".join(json.dumps(dict(zip(columns, row, strict=True))) + "\n" for row in rows)
    return _import_file(tree, "events.ndjson", text, bad + 1)


@mutation(
    "an imported row longer than 1,000,000 characters: a line of commas, a huge JSON string, endless quoted lines"
)
def import_overlong_row(tree: Tree, rnd: random.Random) -> Target:
    header, rows = _acled_rows(rnd)
    length = rnd.choice([MAX_ROW + 1, rnd.randint(MAX_ROW, 20 * MAX_ROW)])
    kind = rnd.randrange(3)
    if kind == 0:
        text = _csv(header, rows)
        return _import_file(tree, "acled.csv", text + "," * length + "\n", text.count("\n") + 1)
    if kind == 1:
        return _import_file(tree, "events.ndjson", '{"id": "' + "x" * length + '"}\n', 1)
    # Quoted line breaks: lines of four characters (","a), one record.
    return _import_file(tree, "acled.csv", ",".join(header) + "\n" + '"a\n",' * (MAX_ROW // 2) + "\n", 2 + MAX_ROW // 4)
