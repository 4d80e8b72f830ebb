"""What the site's downloads share: absolute links, and a response written as it is made.

A file downloaded or subscribed to is read away from the page it came from,
where a link such as `/events/events/<id>` leads nowhere (feedparser and
calendar programs do not resolve it, and a GeoJSON file has no base URL).
Every export builds its absolute links with absolute_url(), on the site's
permalink base (metadata.yml's `event-store-site: permalink`, see
loader/citation.py) as the citations and Atom feeds do, and on the address
the request came to only when no base is set.

A download of every row (a GeoJSON or calendar file of thousands of events)
is written page by page as the pages are read, so a worker holds one page at
a time: StreamedResponse is that, in the shape a Datasette output renderer
must return (0.65 accepts only a Response from one, not its AsgiStream).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin

from datasette.utils import tilde_encode
from datasette.utils.asgi import AsgiWriter, Response

from loader import DATABASE_NAME
from loader.citation import permalink, site_permalink

# Arguments of a page that say how it is paged or shaped, not which rows it holds.
PAGING_ARGS = {
    "_stream",
    "_next",
    "_size",
    "_shape",
    "_nl",
    "_nocount",
    "_nofacet",
    "_extra",
    "_labels",
    "_json",
    "_plain",
}


def absolute_url(datasette: Any, request: Any, path: str) -> str:
    """path on this site as an absolute URL; a URL that already names its host is left as it is."""
    if "://" in path:
        return path
    base = site_permalink(datasette)
    if base:
        return permalink(base, path, datasette.setting("base_url"))
    return datasette.absolute_url(request, path) if request is not None else path


# The views whose rows are each a record of a table, so that the site links
# a row's page by its id: the views give ids, never the site's paths, and
# the links are made with Datasette's urls, with the site's base_url in them.
RECORDS_OF = {"event_list": "events", "place_list": "places"}


def record_path(datasette: Any, table: str, key: str) -> str:
    """A record's page on the site, under its base_url."""
    return datasette.urls.row(DATABASE_NAME, table, tilde_encode(key))


def database_link(datasette: Any, link: str) -> str:
    """A link that a view gives relative to the database's address (the map
    popups' `events/ID`, which datasette-cluster-map's pages, beside the
    database's address, resolve as they are) as a path on the site, under
    its base_url; a path or URL of its own is left as it is."""
    return urljoin(datasette.urls.database(DATABASE_NAME) + "/", link)


def event_path(datasette: Any, event_id: str) -> str:
    return record_path(datasette, "events", event_id)


def entry_path(datasette: Any, row: Mapping[str, Any]) -> str | None:
    """The page a feed's row links, by the feed views' link_page: the
    event's page, its history (an event removed before any release
    published it), or the dataset's version; a visitor's own query may give
    atom_link itself."""
    page, event = row.get("link_page"), row.get("event_id")
    if page == "event" and event:
        return event_path(datasette, str(event))
    if page == "history" and event:
        query = urlencode({"table_name": "events", "record_id": event})
        return f"{datasette.urls.table(DATABASE_NAME, 'record_history')}?{query}"
    if page == "version":
        return datasette.urls.table(DATABASE_NAME, "dataset_release")
    return row.get("atom_link") or None


class StreamedResponse(Response):
    """A response whose body `write_body(writer)` writes as it goes, in HTTP's chunks.
    An exception in write_body after the first byte leaves the body without its
    last chunk, so a client sees a broken file, never a short one that looks whole."""

    def __init__(self, write_body: Callable[[AsgiWriter], Awaitable[None]], content_type: str) -> None:
        super().__init__(b"", content_type=content_type)
        self.write_body = write_body

    async def asgi_send(self, send: Callable[[dict], Awaitable[None]]) -> None:
        headers = {**self.headers, "content-type": self.content_type}
        raw = [[key.encode("utf-8"), value.encode("utf-8")] for key, value in headers.items()]
        raw += [[b"set-cookie", cookie.encode("utf-8")] for cookie in self._set_cookie_headers]
        await send({"type": "http.response.start", "status": self.status, "headers": raw})
        await self.write_body(AsgiWriter(send))
        await send({"type": "http.response.body", "body": b""})


def with_args(request: Any, extension: str, drop: set[str], add: list[tuple[str, str]]) -> str:
    """The request's path with another extension, its arguments but `drop`, and `add`."""
    path = request.path.rsplit(".", 1)[0] + extension
    args = [(key, value) for key, value in parse_qsl(request.query_string, keep_blank_values=True) if key not in drop]
    query = urlencode(args + add)
    return f"{path}?{query}" if query else path


async def later_pages(datasette: Any, request: Any, after: str, what: str) -> AsyncIterator[list[dict]]:
    """The rows of a table page's pages after the token `after`, the site's most
    rows at a time, as that page's JSON gives them to the same reader: Datasette's
    own pagination, so the filters, search, sort, permissions and limits are the
    page's. A page that fails ends the download broken (see StreamedResponse)."""
    headers = {"cookie": request.headers["cookie"]} if "cookie" in request.headers else {}
    token: str | None = after
    while token:
        path = with_args(
            request,
            ".json",
            PAGING_ARGS - {"_labels"},
            [("_size", "max"), ("_shape", "objects"), ("_nocount", "1"), ("_nofacet", "1"), ("_next", token)],
        )
        response = await datasette.client.request("GET", path, headers=headers, avoid_path_rewrites=True)
        if response.status_code != 200:
            raise RuntimeError(f"{what} download: {path} answered {response.status_code}")
        page = response.json()
        yield page["rows"]
        token = page.get("next")


def wants_stream(request: Any, data: dict) -> bool:
    """Whether a table page's download is to hold every row: `_stream=on`, and more than one page."""
    return request.args.get("_stream", "").lower() in ("on", "1", "true") and bool(data.get("next"))
