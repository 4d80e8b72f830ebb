"""Honour Datasette 1.0's `_extra=` on JSON pages: compute only what is asked for.

Clients written for Datasette 1.0, datasette-cluster-map's map among them,
ask for the parts of a JSON page they need with `_extra=count`,
`_extra=facet_results` and so on; 1.0 computes nothing else. Datasette 0.65
ignores `_extra` and computes every default facet and the count for every
JSON page, so each page of the map's markers paid for six GROUP BYs over the
whole event list (see docs/performance.md). When a request says `_extra`, the
facets and the count it does not ask for are switched off with 0.65's own
`_nofacet` and `_nocount`. Requests without `_extra` are left as they are.

It backports what 1.0 does; no plugin does it for 0.65. Delete this plugin
when pyproject.toml moves to Datasette 1.0, which does this itself.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode

FACET_EXTRAS = {"facet_results", "facets_timed_out", "suggested_facets"}


def rewrite(query: str) -> str:
    """The query string 0.65 should see for a 1.0-style request."""
    pairs = parse_qsl(query, keep_blank_values=True)
    extras = {part for key, value in pairs if key == "_extra" for part in value.split(",")}
    if not extras:
        return query
    keys = {key for key, _ in pairs}
    asks_facets = any(key.startswith("_facet") for key in keys)  # _facet, _facet_array, _facet_date
    if not extras & FACET_EXTRAS and not asks_facets and "_nofacet" not in keys:
        pairs.append(("_nofacet", "1"))
    if "count" not in extras and "_nocount" not in keys:
        pairs.append(("_nocount", "1"))
    return urlencode(pairs)


def wrapper(datasette: Any) -> Any:
    def wrap(app):
        async def json_extras(scope, receive, send):
            if scope["type"] == "http" and scope["path"].endswith(".json") and b"_extra=" in scope["query_string"]:
                query = rewrite(scope["query_string"].decode("latin-1"))
                scope = {**scope, "query_string": query.encode("latin-1")}
            await app(scope, receive, send)

        return json_extras

    return wrap
