"""GeoJSON that a map program or a script reads as it stands: .geojson on any page with a geometry column.

datasette-geojson 0.4 (the published plugin this replaces for the extension)
answers `application/json` rather than RFC 7946's `application/geo+json`,
leaves a column of JSON text (the event list's actor_ids, actor_names and
popup, a place's aliases) as a string that has to be parsed a second time,
and writes a page of rows with nothing to say that more exist: the event
list's GeoJSON link held its first 100 events of thousands. Here:

- the media type is `application/geo+json`;
- the columns that metadata.yml's `datasette-geojson: json_columns` names
  (and any a request names with `_json=`, as Datasette's own JSON takes it)
  are arrays and objects in the properties, not text;
- `url_columns` (a column, or `column.key` inside a JSON column such as the
  popup's link) are absolute URLs, built by loader.site.downloads, since a file read
  away from the site has no base to resolve the view's `events/<id>` (relative
  to the database's address) against;
  a row of a view of records (the event list) gets its page's as `url`;
- `_stream=on` gives every row that matches the page's filters, search and
  sort, page after page of Datasette's own pagination (each read as that
  page's JSON through datasette.client, so permissions, limits and keys
  are those of the pages), written out as they come with the memory of one
  page; the table pages' GeoJSON link carries it;
- a file without `_stream=on` that holds only a page says so inside, in
  OGC API Features' terms: `numberReturned`, `numberMatched` when the page
  counted its rows, a `links` entry `rel: next` to the next page, and a
  sentence that names the `_stream=on` URL for all of them.

The upstream fix for the first two and the page markers is
docs/upstream/datasette-geojson-media-type-json-columns-paging.patch;
absolute URLs and streaming stay here, being this site's. Last, so that this
renderer wins over datasette-geojson's, which stays installed for its
SpatiaLite helpers: the last renderer registered for an extension is kept.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from datasette import hookimpl
from datasette.utils import CustomJSONEncoder
from datasette.utils.asgi import Response

from loader.site.downloads import (
    PAGING_ARGS,
    RECORDS_OF,
    StreamedResponse,
    absolute_url,
    database_link,
    later_pages,
    record_path,
    wants_stream,
    with_args,
)

CONFIG = "datasette-geojson"
MEDIA_TYPE = "application/geo+json"

encoder = CustomJSONEncoder()


def can_render(columns: list[str]) -> bool:
    return "geometry" in columns


def dumps(value: Any) -> str:
    return json.dumps(value, default=encoder.default, ensure_ascii=False)


class Features:
    """How a page's rows become features: which columns hold JSON, which hold links."""

    def __init__(self, datasette: Any, request: Any, database: str, table: str | None):
        # A table's own `plugins:` hides the site's whole, so the site's is asked for by itself too.
        config = (
            datasette.plugin_config(CONFIG, database=database, table=table) or datasette.plugin_config(CONFIG) or {}
        )
        self.db = datasette.get_database(database)
        self.json_columns = set(config.get("json_columns") or []) | set(request.args.getlist("_json"))
        self.url_columns = [str(column).split(".", 1) for column in config.get("url_columns") or []]
        # A row that is a record's (an event of the event list) links its page as `url`.
        self.records = RECORDS_OF.get(table or "")
        self.datasette = datasette

        def absolute(path: str) -> str:
            return absolute_url(datasette, request, path)

        self.absolute: Callable[[str], str] = absolute

    async def geometry(self, value: Any) -> Any:
        """The geometry column as a GeoJSON geometry: JSON text, a dict, or a SpatiaLite blob."""
        if value is None or isinstance(value, dict):
            return value
        if isinstance(value, bytes):
            value = (await self.db.execute("SELECT AsGeoJSON(:geometry)", {"geometry": value})).single_value()
        return json.loads(value)

    async def feature(self, row: Any, columns: list[str]) -> dict:
        properties = dict(row) if hasattr(row, "keys") else dict(zip(columns, row, strict=True))
        geometry = await self.geometry(properties.pop("geometry", None))
        for column in self.json_columns:
            value = properties.get(column)
            if isinstance(value, str):
                try:
                    properties[column] = json.loads(value)
                except ValueError:
                    pass  # not JSON after all: the text as it is
        for path in self.url_columns:
            holder = properties
            for key in path[:-1]:
                holder = holder.get(key) if isinstance(holder, dict) else None  # type: ignore[assignment]
            if isinstance(holder, dict) and isinstance(holder.get(path[-1]), str):
                holder[path[-1]] = self.absolute(database_link(self.datasette, holder[path[-1]]))
        if self.records and properties.get("id") is not None:
            properties["url"] = self.absolute(record_path(self.datasette, self.records, str(properties["id"])))
        return {"type": "Feature", "geometry": geometry, "properties": properties}


def page_markers(request: Any, data: dict, returned: int, absolute: Callable[[str], str]) -> dict:
    """What a file holding one page of rows says about the rest: nothing when it holds them all."""
    next_token, truncated = data.get("next"), data.get("truncated")
    if not next_token and not truncated:
        return {}
    matched = data.get("filtered_table_rows_count")
    markers: dict[str, Any] = {"numberReturned": returned}
    if matched is not None:
        markers["numberMatched"] = matched
    if next_token:
        everything = absolute(with_args(request, ".geojson", PAGING_ARGS - {"_labels", "_json"}, [("_stream", "on")]))
        following = absolute(with_args(request, ".geojson", {"_next"}, [("_next", str(next_token))]))
        markers["links"] = [{"rel": "next", "type": MEDIA_TYPE, "href": following}]
        markers["description"] = (
            f"This file holds {returned:,} features"
            + (f" of {matched:,}" if matched is not None else "")
            + f": one page. The next page is {following} and every feature is in one file at {everything}"
        )
    else:
        markers["description"] = (
            f"This file holds the first {returned:,} rows of the query, the most the site returns at once; "
            "narrow the query (WHERE, LIMIT and OFFSET) for the rest."
        )
    return markers


async def render(
    datasette: Any, columns: list[str], rows: list, request: Any, database: str, table: str | None, data: dict
) -> Any:
    if not can_render(columns):
        raise ValueError("GeoJSON needs a column named geometry")
    features = Features(datasette, request, database, table)
    newline = bool(request.args.get("_nl"))
    stream = wants_stream(request, data)
    first = [await features.feature(row, columns) for row in rows]
    if not stream:
        if newline:
            body = "\n".join(dumps(feature) for feature in first)
            return Response(body, content_type="application/x-ndjson; charset=utf-8")
        collection = {"type": "FeatureCollection", **page_markers(request, data, len(first), features.absolute)}
        collection["features"] = first
        return Response(dumps(collection), content_type=MEDIA_TYPE + "; charset=utf-8")

    async def write_all(writer: Any) -> None:
        written = 0

        async def write(page: list[dict]) -> None:
            nonlocal written
            if not page:
                return
            separator = "\n" if newline else ",\n"
            text = separator.join(dumps(feature) for feature in page)
            await writer.write(("" if not written else separator) + text)
            written += len(page)

        if not newline:
            await writer.write('{"type": "FeatureCollection", "features": [\n')
        await write(first)
        async for page in later_pages(datasette, request, str(data["next"]), "GeoJSON"):
            await write([await features.feature(row, columns) for row in page])
        await writer.write("\n]}\n" if not newline else "\n")

    return StreamedResponse(
        write_all, content_type="application/x-ndjson; charset=utf-8" if newline else MEDIA_TYPE + "; charset=utf-8"
    )


@hookimpl(trylast=True)
def register_output_renderer() -> dict:
    return {"extension": "geojson", "render": render, "can_render": can_render}
