"""A record's changes in words, for the History section of its page.

record_history keeps each changed field's old and new value as the YAML
gave them: an event's actors, documents and claims are lists of mappings,
aliases are lists, references are ids. Printed as they are, a reader has to
parse them; this plugin says instead which items were added, removed or
changed and how, each field as a "key: value" line, with names in place of
ids. The template (_record_history.html) lays the result out.
"""

from __future__ import annotations

import json
from typing import Any

from datasette import hookimpl

from loader import DATABASE_NAME as DATABASE
from loader.metadata import NamedBy, named_by

# distinct_from holds a list of event ids, shares_names_with a list of ids of
# the record's own table (as its parent_id names one) and a citation's via a
# list of actor ids, which no foreign key can declare; every other field's
# names come from schema.sql and metadata.yml (named_by).
LISTS_OF_IDS = {"distinct_from": "event_id", "shares_names_with": "parent_id", "via": "actor_id"}
# What an item of a list of mappings is called by, in this order: its own words, else the name of its id.
ITEM_TITLES = ("statement", "question", "name", "title", "id", "actor_id", "document_id")
EMPTY = "(empty)"

Names = dict[tuple[str, str], str]  # (table, id) → name


def _names_for(table: str, field: str) -> NamedBy | None:
    return named_by(table, LISTS_OF_IDS.get(field, field))


def _ids(table: str, field: str, value: Any, wanted: dict[tuple[str, str, str], set[str]]) -> None:
    """Collect into `wanted` every id the value holds, by the table that names it."""
    if isinstance(value, dict):
        for name, inner in value.items():
            _ids(table, name, inner, wanted)
    elif isinstance(value, list):
        for inner in value:
            _ids(table, field, inner, wanted)
    elif isinstance(value, str) and (source := _names_for(table, field)):
        wanted.setdefault(source, set()).add(value)


class Describer:
    """Words for the values of one table's records, ids replaced by names."""

    def __init__(self, table: str, names: Names) -> None:
        self.table, self.names = table, names

    def text(self, field: str, value: Any) -> str:
        if value is None or value == [] or value == {}:
            return EMPTY
        if isinstance(value, list):
            return ", ".join(self.text(field, v) for v in value)
        if isinstance(value, dict):
            return "; ".join(f"{self.label(k)}: {self.text(k, v)}" for k, v in value.items())
        if isinstance(value, bool):
            return "yes" if value else "no"
        source = _names_for(self.table, field)
        if source and isinstance(value, str):
            return self.names.get((source[0], value), value)
        return str(value)

    @staticmethod
    def label(field: str) -> str:
        """A nested field's name without the _id that a reader does not need."""
        return field.removesuffix("_id")

    def title(self, item: dict) -> str:
        field = _title_field(item)
        if field is None:
            return self.text("", item)
        shown = self.text(field, item[field])
        return f"{shown}, {item['role']}" if field == "actor_id" and item.get("role") else shown

    def lines(self, item: dict) -> list[str]:
        """What an item holds besides its title, a "key: value" line each."""
        field = _title_field(item)
        left_out = set(item) if field is None else {field, "role"} if field == "actor_id" else {field}
        return [f"{self.label(k)}: {self.text(k, v)}" for k, v in item.items() if k not in left_out]

    def change(self, field: str, old: Any, new: Any) -> dict[str, Any]:
        """One changed field: a summary line (old → new) or the items it gained, lost or changed."""
        if _all_mappings(old) and _all_mappings(new) and (old or new):
            return {"field": field, "summary": None, "parts": self.items_changed(old or [], new or [])}
        if isinstance(old, list) and isinstance(new, list) and old and new:
            gained = [v for v in new if v not in old]
            lost = [v for v in old if v not in new]
            items = [{"change": "added", "text": self.text(field, v), "lines": []} for v in gained]
            items += [{"change": "removed", "text": self.text(field, v), "lines": []} for v in lost]
            return {"field": field, "summary": None if items else "put in another order", "parts": items}
        if isinstance(old, dict) and isinstance(new, dict):
            return {"field": field, "summary": None, "parts": [self.item_changed(old, new)]}
        return {"field": field, "summary": f"{self.text(field, old)} → {self.text(field, new)}", "parts": []}

    def items_changed(self, old: list[dict], new: list[dict]) -> list[dict[str, Any]]:
        before, after = _by_identity(old), _by_identity(new)
        items = [self.whole("added", item) for key, item in after.items() if key not in before]
        items += [self.item_changed(before[key], item) for key, item in after.items() if before.get(key, item) != item]
        items += [self.whole("removed", item) for key, item in before.items() if key not in after]
        return items or [{"change": None, "text": "the same items, put in another order", "lines": []}]

    def whole(self, change: str, item: dict) -> dict[str, Any]:
        """An item added or removed: its title, then what else it holds."""
        return {"change": change, "text": self.title(item), "lines": self.lines(item)}

    def item_changed(self, old: dict, new: dict) -> dict[str, Any]:
        lines = [
            f"{self.label(k)}: {self.text(k, old.get(k))} → {self.text(k, new.get(k))}"
            for k in [*old, *(k for k in new if k not in old)]
            if old.get(k) != new.get(k)
        ]
        return {"change": "changed", "text": self.title(new), "lines": lines}


def _title_field(item: dict) -> str | None:
    return next((f for f in ITEM_TITLES if item.get(f) not in (None, "")), None)


def _all_mappings(value: Any) -> bool:
    return value is None or (isinstance(value, list) and all(isinstance(v, dict) for v in value))


def _identity(item: dict) -> str:
    """What makes an item the same item in two versions of a list: its id, an
    actor and its role, or a document; failing those, the whole item."""
    if item.get("id") is not None:
        return f"id:{item['id']}"
    if item.get("actor_id") is not None:
        return f"actor:{item['actor_id']}:{item.get('role')}"
    if item.get("document_id") is not None:
        return f"document:{item['document_id']}"
    return json.dumps(item, sort_keys=True)


def _by_identity(items: list[dict]) -> dict[str, dict]:
    keyed = {_identity(item): item for item in items}
    if len(keyed) < len(items):  # two items alike by identity: tell them apart by all they hold
        keyed = {json.dumps(item, sort_keys=True): item for item in items}
    return keyed


async def _names(datasette: Any, wanted: dict[tuple[str, str, str], set[str]]) -> Names:
    try:
        db = datasette.get_database(DATABASE)
    except KeyError:
        return {}
    names: Names = {}
    for (table, key, column), ids in wanted.items():
        result = await db.execute(
            f"select [{key}], [{column}] from [{table}] where [{key}] in (select value from json_each(:ids))",
            {"ids": json.dumps(sorted(ids))},
        )
        names.update({(table, row[0]): row[1] for row in result.rows})
    return names


@hookimpl
def extra_template_vars(datasette: Any) -> dict:
    async def history_changes(table: str, history: list[dict]) -> list[list[dict[str, Any]]]:
        """For each row of record_history(table, key), its changed fields in words."""
        wanted: dict[tuple[str, str, str], set[str]] = {}
        changed = [row["fields"] if row["change"] == "changed" else {} for row in history]
        for fields in changed:
            for field, values in fields.items():
                _ids(table, field, [values["old"], values["new"]], wanted)
        describe = Describer(table, await _names(datasette, wanted))
        return [[describe.change(f, v["old"], v["new"]) for f, v in fields.items()] for fields in changed]

    return {"history_changes": history_changes}
