"""Read one YAML file of records, refusing every way it can be unreadable or hostile.

Curators write sources/ by hand and paste text from articles into it, so a
file may be mis-encoded, hold characters YAML reads differently from what
the curator sees, or use YAML features that plain records never need. Each
of those becomes a Problem at its line rather than an exception, and dates
and large integers are kept such that the schema's rules, not the parser,
judge them.
"""

from __future__ import annotations

import copy
import functools
import re
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.constructor import DuplicateKeyError, RoundTripConstructor
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import AliasEvent, CollectionEndEvent, CollectionStartEvent, NodeEvent, ScalarEvent
from ruamel.yaml.parser import RoundTripParser
from ruamel.yaml.reader import ReaderError
from ruamel.yaml.scanner import Scanner

from ..problems import Problem, display_path
from ..rules import UnreadableNumber

MAX_DEPTH = 12  # records are at most four levels deep; anything deeper is a mistake
# A file's size, checked before it is parsed: the round-trip parser holds
# about 100 bytes of memory for each byte of dense records (a 2 MB file peaks
# near 250 MB, a 71 MB one ran out of memory past 3.8 GB), and takes seconds a
# megabyte. The largest curated file is some 75 kB, so this leaves room for
# twenty-five times that; a larger file is split into several, which may sit in
# the same directory.
MAX_FILE_BYTES = 2_000_000
# The largest text whose parse is kept for the next build in the same process
# (parsed()): some three times the largest curated file. A kept tree, and the
# copy a build takes of it, cost memory for as long as the process lives: the
# curated sources' add 5 MB to a build's peak (80 MB against 75), and a file
# near MAX_FILE_BYTES would add some thirty times that.
KEPT_BYTES = 200_000
# YAML reads these as line breaks, so a pasted U+0085 (often a mis-decoded
# '…') silently becomes a space and every later line number is off by one.
YAML_ONLY_LINE_BREAK = re.compile("[\x85\u2028\u2029]")
SURROGATE = re.compile("[\ud800-\udfff]")


class TextTimestamps(RoundTripConstructor):
    """Keep dates as the text the curator wrote, so a date such as 2025-02-30
    reaches the schema's date check instead of failing inside the parser."""


TextTimestamps.add_constructor("tag:yaml.org,2002:timestamp", RoundTripConstructor.construct_yaml_str)


def construct_int(constructor: RoundTripConstructor, node: Any) -> Any:
    """Python refuses to read integers of more than 4,300 digits with a bare
    ValueError. Such a number is kept as its length, so that its field is
    refused and the rest of the file (the records other files refer to) is read."""
    try:
        return RoundTripConstructor.construct_yaml_int(constructor, node)
    except ValueError:
        return UnreadableNumber(sum(c.isdigit() for c in node.value))


TextTimestamps.add_constructor("tag:yaml.org,2002:int", construct_int)


def event_problems(event: Any, path: str, line: int) -> list[Problem]:
    """Refuse what plain records never need: anchors and aliases (a way to
    blow a small file up into a huge one), merge keys, explicit tags, and
    escapes for half a UTF-16 surrogate pair, which no database or terminal
    can store or show."""
    problems = []
    if isinstance(event, AliasEvent):
        problems.append(
            Problem(path, line, "-", "-", f"YAML aliases (*{event.anchor}) are not allowed; write the value out")
        )
    elif isinstance(event, NodeEvent) and event.anchor:
        problems.append(
            Problem(path, line, "-", "-", f"YAML anchors (&{event.anchor}) are not allowed; write the value out")
        )
    if (
        isinstance(event, (ScalarEvent, CollectionStartEvent))
        and event.tag
        and not (isinstance(event, ScalarEvent) and event.tag == "tag:yaml.org,2002:str")
    ):
        problems.append(Problem(path, line, "-", "-", f"YAML tags ({event.tag}) are not allowed"))
    if isinstance(event, ScalarEvent):
        if event.value == "<<" and event.style is None:
            problems.append(Problem(path, line, "-", "-", "YAML merge keys (<<) are not allowed; write the fields out"))
        if match := SURROGATE.search(event.value):
            problems.append(
                Problem(
                    path,
                    line,
                    "-",
                    "-",
                    f"U+{ord(match.group()):04X} is half of a surrogate pair, not a character; write the character itself",
                )
            )
    return problems


def structure_problems(text: str, path: str) -> list[Problem]:
    """Every event_problems of the file, and nesting deeper than records ever are."""
    problems = []
    depth = 0
    for event in YAML(typ="rt").parse(text):
        line = event.start_mark.line + 1
        problems += event_problems(event, path, line)
        if isinstance(event, CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                problems.append(Problem(path, line, "-", "-", f"nested more than {MAX_DEPTH} levels deep"))
                break
        elif isinstance(event, CollectionEndEvent):
            depth -= 1
    return problems


class StructureRefused(Exception):
    """A file holds what structure_problems refuses: raised by CheckedParser,
    caught in parse_file, which then lists every such problem of the file."""


class CheckedParser(RoundTripParser):
    """Stop loading at the first event structure_problems would refuse,
    before the composer acts on it (resolves an alias, nests deeper), so
    that a valid file, nearly every one, is parsed once rather than twice
    (the parse is most of a large file's reading time)."""

    def reset_parser(self) -> None:
        super().reset_parser()
        self.depth = 0

    def get_event(self) -> Any:
        event = super().get_event()
        if isinstance(event, CollectionStartEvent):
            self.depth += 1
        elif isinstance(event, CollectionEndEvent):
            self.depth -= 1
        if self.depth > MAX_DEPTH or event_problems(event, "", 0):
            raise StructureRefused
        return event


def record_yaml() -> YAML:
    """The round-trip loader, for the line of every key and item, with
    ruamel's plain scanner in place of its round-trip one: that one gathers
    every comment and blank line for writing the file back, which records
    are never, and it was a sixth of validating the curated sources (2.1 s
    against 1.8 s, the same records at the same lines)."""
    yaml = YAML(typ="rt")
    yaml.Constructor = TextTimestamps
    yaml.Parser = CheckedParser
    yaml.Scanner = Scanner
    return yaml


@functools.lru_cache(maxsize=256)
def parsed(text: str) -> Any:
    """A text's records as the parser reads them, kept for the next build in
    this process: `serve --reload` rebuilds in its own process after each
    save, and then parses only the file the curator changed, not every file
    again (as do the tests, which build one fixture hundreds of times). A
    text that fails to parse is not kept (lru_cache keeps only what
    returns), so its problems are found afresh."""
    return record_yaml().load(text)


def parse_file(path: Path) -> tuple[Any, list[Problem]]:
    """Parse one YAML file, turning every way it can be unreadable into a Problem."""
    shown = display_path(path)
    try:
        with path.open("rb") as f:
            raw = f.read(MAX_FILE_BYTES + 1)  # no more, whatever size the file says it has
    except OSError as e:
        return None, [Problem(shown, 1, "-", "-", f"cannot be read: {e.strerror or e}")]
    if len(raw) > MAX_FILE_BYTES:
        return None, [
            Problem(
                shown,
                1,
                "-",
                "-",
                f"holds more than {MAX_FILE_BYTES:,} bytes (2 MB), the most a sources file may:"
                " split its records into several files, e.g. one a topic or a year",
            )
        ]
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        return None, [
            Problem(shown, line, "-", "-", f"not valid UTF-8 (byte 0x{raw[e.start]:02x}); save the file as UTF-8")
        ]
    if text.startswith("\ufeff"):
        return None, [
            Problem(
                shown, 1, "-", "-", "begins with two byte-order marks (U+FEFF); save the file as UTF-8 without them"
            )
        ]
    if match := YAML_ONLY_LINE_BREAK.search(text):
        line = text.count("\n", 0, match.start()) + 1
        return None, [
            Problem(
                shown,
                line,
                "-",
                "-",
                f"character U+{ord(match.group()):04X} is not allowed: YAML would read it as a line break",
            )
        ]
    try:
        try:
            # A copy of the kept tree, so that no build's use of it reaches the next one's.
            data = copy.deepcopy(parsed(text)) if len(text) <= KEPT_BYTES else record_yaml().load(text)
        except StructureRefused:
            return None, structure_problems(text, shown)
    except DuplicateKeyError as e:
        return None, [duplicate_key(e, text, shown)]
    except MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark else 1
        return None, [Problem(shown, line, "-", "-", f"YAML syntax error: {syntax_message(e, text)}")]
    except ReaderError as e:
        line = text[: e.position].count("\n") + 1
        return None, [
            Problem(shown, line, "-", "-", f"character U+{e.character:04X} is not allowed in YAML ({e.reason})")
        ]
    except (YAMLError, RecursionError) as e:
        return None, [Problem(shown, 1, "-", "-", f"unreadable YAML: {e}")]
    if data is None:
        return None, [Problem(shown, 1, "-", "-", "the file is empty; give it at least one section such as events:")]
    return data, []


def syntax_message(e: MarkedYAMLError, text: str) -> str:
    """The parser's words, and what the curator most likely has to do: the
    two mistakes a hand-written record makes most are a colon in an
    unquoted value and a tab where YAML needs a space."""
    message = " ".join(str(part) for part in (e.context, e.problem) if part)
    mark = e.problem_mark
    if mark is None:
        return message
    before = text[: mark.index].rstrip("\t")
    if "mapping values are not allowed here" in message:
        return f"{message}: a value that holds ': ' must be put in quotes"
    if "found character '\\t'" in message and before.endswith(":"):
        return "a tab after the colon: YAML needs a space there"
    if "expected <block end>" in message:
        return (
            f"{message}: check the indentation of this line and the one before; a record's fields start in one column"
        )
    return message


def duplicate_key(e: DuplicateKeyError, text: str, shown: str) -> Problem:
    """Name the key and both of its lines, without the values (which may be long)."""
    mark, start = e.problem_mark, e.context_mark
    key = re.match(r"\s*(?:-\s+)?[\"']?([^:\"']*)", text[mark.index :].split("\n", 1)[0]) if mark else None
    name = key.group(1).strip() if key else "?"
    line = mark.line + 1 if mark else 1
    first = start.line + 1 if start else line
    pattern = re.compile(rf"^\s*(?:-\s+)?[\"']?{re.escape(name)}[\"']?\s*:|[{{,]\s*{re.escape(name)}\s*:")
    for number, content in enumerate(text.split("\n")[first - 1 : line - 1], first):
        if pattern.search(content):
            first = number
            break
    return Problem(
        shown, line, "-", name, f"duplicate key '{name}': first at line {first}, again at line {line}; keep one"
    )
