"""What can only be seen across records: duplicate ids, references to records
that do not exist, and events that cite no document.

These run once every file is read, since a record may refer to one defined
in any other file; a reference that misses is pointed at the id it most
likely means, matched against ids, names and aliases alike.
"""

from __future__ import annotations

import difflib
from collections import Counter

from ..problems import Problem
from ..rules import Record, slug
from ..schema import Schema, Table

# An event must cite at least one document, whichever file cites it.
REQUIRED_CHILDREN = {("events", "event_documents"): "documents"}

# Columns holding a JSON list of ids of a table, which no foreign key can
# declare: each id is checked as a foreign key's value would be. A citation's
# via names the actors it relays (schema.sql, event_documents.via).
ID_LISTS = {
    ("events", "distinct_from"): "events",
    ("actors", "shares_names_with"): "actors",
    ("places", "shares_names_with"): "places",
    ("event_documents", "via"): "actors",
    ("event_actor_documents", "via"): "actors",
    ("claims", "via"): "actors",
}

# What to do about an id like no recorded one: a newcomer citing a person,
# place or article for the first time must record it before citing it.
NEW_RECORD_HINTS = {
    table: f" (a new one? record it in sources/{table}.yml first)" for table in ("actors", "places", "documents")
}


def record_key(table: Table, record: Record) -> tuple:
    return tuple(record.values.get(column) for column in table.primary_key)


def cross_check(records: list[Record], schema: Schema, references: bool = True) -> list[Problem]:
    """Duplicates always; references, cited documents and parent chains only
    with references set, which the caller clears when a file could not be
    read and the records it holds are missing."""
    problems: list[Problem] = []
    first: dict[tuple[str, tuple], Record] = {}
    for record in records:
        table = schema.tables[record.table]
        key = record_key(table, record)
        if None in key:
            continue
        if (record.table, key) in first:
            seen = first[(record.table, key)]
            column = table.primary_key[-1] if len(key) > 1 else table.primary_key[0]
            what = "/".join(str(k) for k in key)
            problems.append(
                record.problem(
                    column,
                    f"duplicate {record.table} {'/'.join(table.primary_key)} '{what}'; first defined at {seen.path}:{seen.line}",
                )
            )
        else:
            first[(record.table, key)] = record

    if not references:
        return problems
    # Every id, and every name and alias slugged, so a reference written as
    # a name ("tom-barack") can be pointed at the id it means.
    known: dict[str, dict[str, str]] = {name: {} for name in schema.tables}
    for (table_name, key), record in first.items():
        if len(key) != 1:
            continue
        guesses = known[table_name]
        for text in [record.values.get("name"), *(record.values.get("aliases") or [])]:
            if isinstance(text, str):
                guesses.setdefault(slug(text), key[0])
    for table_name, key in first:
        if len(key) == 1:
            known[table_name][key[0]] = key[0]

    def unknown(record: Record, column: str, value: object, table: str, target: str) -> None:
        if (table, (value,)) in first:
            return
        guesses = known[table]
        match = difflib.get_close_matches(slug(str(value)), list(guesses), n=1, cutoff=0.6)
        hint = f" (did you mean '{guesses[match[0]]}'?)" if match else NEW_RECORD_HINTS.get(table, "")
        problems.append(record.problem(column, f"'{value}' is not a known {table} {target}{hint}"))

    for record in records:
        for fk in schema.tables[record.table].foreign_keys:
            value = record.values.get(fk.column)
            if value is not None:
                unknown(record, fk.column, value, fk.table, fk.target)
        for (table_name, column), target_table in ID_LISTS.items():
            listed = record.values.get(column) if record.table == table_name else None
            for value in listed if isinstance(listed, list) else []:
                unknown(record, column, value, target_table, schema.tables[target_table].primary_key[0])

    problems += circles(first, schema)

    for (parent, child), nested_key in REQUIRED_CHILDREN.items():
        parent_column = next(fk.column for fk in schema.tables[child].foreign_keys if fk.table == parent)
        cited = Counter(r.values.get(parent_column) for r in records if r.table == child)
        for (table_name, key), record in first.items():
            if table_name == parent and cited[key[0]] == 0:
                problems.append(
                    record.problem(nested_key, f"every {parent[:-1]} needs at least one entry in {nested_key}")
                )
    return problems


def circles(first: dict[tuple[str, tuple], Record], schema: Schema) -> list[Problem]:
    """Chains of a table's reference to itself (a place's parent_id) that come
    back round to where they started, each named whole once, at the record
    of the circle that sorts first. A record that is its own parent is
    schema.sql's CHECK to refuse."""
    problems = []
    for table in schema.tables.values():
        for fk in (fk for fk in table.foreign_keys if fk.table == table.name):
            parent = {
                key[0]: record.values.get(fk.column)
                for (name, key), record in first.items()
                if name == table.name and len(key) == 1
            }
            seen: set[str] = set()
            for start in sorted(parent):
                chain: list[str] = []
                node: str | None = start
                while node is not None and node not in seen and node not in chain:
                    chain.append(node)
                    node = parent.get(node)
                if node is not None and node in chain and len(chain) - chain.index(node) > 1:
                    circle = chain[chain.index(node) :]
                    circle = circle[circle.index(min(circle)) :] + circle[: circle.index(min(circle))]
                    path = " → ".join(f"'{id_}'" for id_ in [*circle, circle[0]])
                    record = first[(table.name, (circle[0],))]
                    problems.append(record.problem(fk.column, f"goes round in a circle: {path}"))
                seen.update(chain)
    return problems
