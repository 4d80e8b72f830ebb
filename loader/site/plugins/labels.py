"""Names, not ids or JSON, in every cell and heading a reader sees.

The views keep ids and JSON because exports, the map and SQL need them; the
HTML pages should not show them. Datasette labels a table's foreign keys by
itself (label_column), but a view has no foreign keys and an array of ids is
no foreign key at all, so this plugin renders those cells: a name that links
to its row, a list of names for a JSON array, the link of a map popup.
Which columns a table page shows, and under which heading, is read from
metadata.yml (plugins: event-store-pages: columns; headings for columns
only faceted on; sort_as for a column in words sorted by its source), so the
page of a wide view fits a laptop screen while its
CSV and JSON keep every column. A view's facets on a key column (event_type,
place_id) are labelled by name here too, so they can filter by the indexed
key while readers see names.

datasette-json-html renders a cell only when the data itself holds its
link-or-HTML JSON shape, and datasette-render-html renders HTML a cell holds:
either would put presentation into the views, and so into every export.
"""

from __future__ import annotations

import json
from typing import Any
from weakref import WeakKeyDictionary

from datasette import hookimpl
from datasette.utils import to_css_class
from markupsafe import Markup, escape

from loader import DATABASE_NAME as DATABASE
from loader.metadata import referring_columns
from loader.schema import read_schema
from loader.site.downloads import database_link
from loader.site.plugins.search import TABLES as SEARCHED

CONFIG = "event-store-pages"

# A name column and the id column beside it in the same row, with the table
# its row is in: a column that refers to a labelled table (actor_id) beside
# its name, called by the id column's stem and the label (actor_name). The
# views' columns no foreign key declares are named here: the two sides of a
# pair of actors, and a place's parent.
NAME_LINKS = {
    f"{column.removesuffix('_id')}_{named.label}": (column, named.table)
    for column, named in referring_columns().items()
    if column.endswith("_id")
} | {
    "actor_a_name": ("actor_a", "actors"),
    "actor_b_name": ("actor_b", "actors"),
    "parent_name": ("parent_id", "places"),
}

# Key columns of views (event_type, place_id) whose facet values are shown by the name they stand for.
FACET_LABELS = referring_columns()

# Tables whose event_id is a foreign key, which Datasette labels with the event's title itself.
EVENT_KEYED_TABLES = {
    table.name for table in read_schema().tables.values() if any(fk.column == "event_id" for fk in table.foreign_keys)
}

# The events a cell of event ids names by title; past these it says how many
# more there are, which the CSV and JSON list: the busiest pair of actors
# has thousands of events at scale, and a page of such cells would be all links.
EVENT_LINKS = 10

# Cells that hold a JSON array of ids no foreign key can declare, and the
# table and label column their names are in: a citation's via (schema.sql).
ID_LISTS = {"via": ("actors", "name")}

# Lists whose name column names the row's own record.
OWN_NAMES = {"place_list": "places", "actors": "actors"}

# What a cell the page does not show is rendered as: anything but None or
# empty, which would leave Datasette to render it after all.
NOT_SHOWN = Markup("…")

# For each Datasette, the columns of each view that its page does not show:
# {(database, view): columns}, found at startup (see hidden_cells).
HIDDEN: WeakKeyDictionary[Any, dict[tuple[str, str], frozenset[str]]] = WeakKeyDictionary()


@hookimpl
def startup(datasette: Any) -> Any:
    async def hidden_cells() -> None:
        """Datasette renders every cell of a page's rows, through render_cell,
        although the page shows a few columns: 27 columns of 100 rows on the
        event list, which showed 7 of them, and whose popup and geometry
        cells parse JSON. A view's columns that its page does not show are
        rendered as NOT_SHOWN at once. Only views: a table's row page shows
        every column through the same hook, which cannot tell the two pages
        apart, and a view has no row pages."""
        hidden = {}
        for name, db in datasette.databases.items():
            for view in await db.view_names():
                shown = (datasette.plugin_config(CONFIG, database=name, table=view) or {}).get("columns")
                if shown:
                    hidden[(name, view)] = frozenset(await db.table_columns(view)) - set(shown)
        HIDDEN[datasette] = hidden

    return hidden_cells


# For each Datasette, each table's address, which every link to one of its
# rows begins with: {table: escaped path}, worked out at the first link.
TABLE_PATHS: WeakKeyDictionary[Any, dict[str, str]] = WeakKeyDictionary()


def _link(datasette: Any, table: str, key: str, text: str) -> Markup:
    # A page of the event list makes ~900 links: the table's path is worked
    # out once, and escape() runs in an f-string (Markup.format escapes
    # through string.Formatter, several times slower). A key is a row's id,
    # as urls.row takes it.
    paths = TABLE_PATHS.setdefault(datasette, {})
    if table not in paths:
        paths[table] = str(escape(datasette.urls.table(DATABASE, table)))
    return Markup(f'<a href="{paths[table]}/{escape(key)}">{escape(text)}</a>')


def _json_list(value: Any) -> list | None:
    if not isinstance(value, str) or not value.startswith("["):
        return None
    try:
        parsed = json.loads(value)
    except ValueError:
        return None
    return parsed if isinstance(parsed, list) else None


def _event_key(row: Any, table: str | None) -> str | None:
    """The event a row's title names: its event_id, or its id in a list of events."""
    keys = row.keys()
    if "event_id" in keys:
        return row["event_id"]
    if "id" in keys and "date_label" in keys and table != "events":
        return row["id"]
    return None


async def _labels(datasette: Any, table: str, label: str, ids: list) -> dict[str, str]:
    placeholders = ", ".join("?" for _ in ids)
    result = await datasette.get_database(DATABASE).execute(
        f"select id, [{label}] from [{table}] where id in ({placeholders})", [str(i) for i in ids]
    )
    return {row[0]: row[1] for row in result.rows}


@hookimpl
def render_cell(row: Any, value: Any, column: str, table: str | None, database: str, datasette: Any) -> Any:
    if database != DATABASE or value is None:
        return None
    if table is not None and column in HIDDEN.get(datasette, {}).get((database, table), ()):
        return NOT_SHOWN
    keys = row.keys()
    if column == "title" and (key := _event_key(row, table)):
        return _link(datasette, "events", key, value)
    if column == "name" and table in OWN_NAMES and "id" in keys:
        return _link(datasette, OWN_NAMES[table], row["id"], value)
    if column == "event_id" and table not in EVENT_KEYED_TABLES:
        return _link(datasette, "events", value, value)
    if column == "name" and table is None and "kind" in keys and "id" in keys and row["kind"] in SEARCHED:  # search
        return _link(datasette, SEARCHED[row["kind"]], row["id"], value)
    if column in NAME_LINKS:
        id_column, target = NAME_LINKS[column]
        if id_column in keys and row[id_column]:
            return _link(datasette, target, row[id_column], value)
        return None
    if column == "popup" and isinstance(value, str):
        try:
            popup = json.loads(value)
        except ValueError:
            return None
        if not isinstance(popup, dict) or not popup.get("link"):
            return None
        # Only a link to a page of the database (the views' is relative to its address).
        path = database_link(datasette, str(popup["link"]))
        if not path.startswith(datasette.urls.database(DATABASE) + "/"):
            return None
        return Markup('<a href="{}">{}</a>').format(path, popup.get("title", ""))
    if column == "geometry" and isinstance(value, str):
        try:
            longitude, latitude = json.loads(value)["coordinates"]
            return f"{float(latitude):.4f}, {float(longitude):.4f}"
        except (ValueError, TypeError, KeyError):
            return None  # not a GeoJSON point (a query of one's own may name any column so)
    items = _json_list(value)
    if items is None:
        return None
    if not items:
        return Markup("—")  # Datasette shows the raw value for an empty rendering
    if column == "actor_names" and "actor_ids" in keys and len(ids := _json_list(row["actor_ids"]) or []) == len(items):
        return Markup(", ").join(_link(datasette, "actors", i, name) for i, name in zip(ids, items, strict=True))
    if column == "event_ids":

        async def titled() -> Markup:
            shown = items[:EVENT_LINKS]
            titles = await _labels(datasette, "events", "title", shown)
            links = Markup("; ").join(_link(datasette, "events", i, titles.get(i, i)) for i in shown)
            more = len(items) - len(shown)
            return links + Markup("; and {} more").format(more) if more else links

        return titled
    if column in ID_LISTS:
        target, label = ID_LISTS[column]

        async def named() -> Markup:
            names = await _labels(datasette, target, label, items)
            return Markup(", ").join(_link(datasette, target, str(i), names.get(i, str(i))) for i in items)

        return named
    # Each name is isolated, so an Arabic or Hebrew spelling does not reorder its neighbours.
    return Markup(", ").join(Markup("<bdi>{}</bdi>").format(str(item)) for item in items)


@hookimpl
def extra_template_vars(datasette: Any, database: str | None, table: str | None, view_name: str) -> dict:
    """The columns a table page shows and their headings; every column when
    none are configured, and on a row's own page."""
    config = (datasette.plugin_config(CONFIG, database=database, table=table) or {}) if table else {}
    listed: dict[str, str] = config.get("columns") or {}
    headings = {**(config.get("headings") or {}), **listed}
    # The list page shows the listed columns; a record's own page (the row
    # page, drawn by the same _table.html) shows every one of its fields.
    shown = listed if view_name == "table" else {}

    def heading(column: str) -> str:
        return headings.get(column, column.replace("_", " ").capitalize())

    columns: dict[str, tuple[str, str]] = {}  # each column's cell attributes but its type, worked out once

    def shown_row(row: list[dict]) -> Markup:
        """The cells of a row the page shows, as HTML: written here rather
        than by a loop in the template, which Datasette renders
        asynchronously at a cost for every cell of every row (a third of the
        event list's template time went on its 700 cells)."""
        cells = []
        for cell in row:
            column = cell["column"]
            if shown and column not in shown:
                continue
            if column not in columns:
                columns[column] = (escape(to_css_class(column)), escape(heading(column)))
            css_class, title = columns[column]
            cells.append(
                f'<td class="col-{css_class} type-{escape(cell["value_type"])}" data-column="{title}">'
                f"{escape(cell['value'])}</td>"
            )
        return Markup("".join(cells))

    async def facet_labels(column: str, values: list) -> dict:
        """The names that a facet's key values stand for; none for other columns."""
        if column not in FACET_LABELS or database != DATABASE or not values:
            return {}
        target, key, name = FACET_LABELS[column]
        placeholders = ", ".join("?" for _ in values)
        result = await datasette.get_database(DATABASE).execute(
            f"select [{key}], [{name}] from [{target}] where [{key}] in ({placeholders})", [str(v) for v in values]
        )
        return {row[0]: row[1] for row in result.rows}

    titled = bool(table and (datasette.table_metadata(database, table) or {}).get("title"))

    def described(database: str, name: str) -> dict:
        return datasette.table_metadata(database, name) or {}

    extra: dict[str, Any] = {
        "described": described,
        "shown_columns": list(shown),
        "shown_row": shown_row,
        "sort_as": config.get("sort_as") or {},
        "facet_labels": facet_labels,
        "column_heading": heading,
        "site_title": datasette.metadata("title") or "Datasette",
    }
    if titled:
        # A view with a title in words is a page for readers; "(view)" is an internal.
        extra["is_view"] = False
    return extra
