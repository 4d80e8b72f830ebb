"""The site's one ASGI wrapper: every module's wrapper, composed in a written order.

Datasette 0.65 wraps its app in each plugin's `asgi_wrapper` in the order
pluggy calls them, which for files loaded with --plugins-dir was the order
of a directory listing; and the order matters (the review's §4.3: with
client_errors outside csv_bom, a failed CSV query answered 200 with an empty
file). So no module of this package implements the hook but this one, and
WRAPPERS says, outermost first, where each wrapper stands and why. It is
`trylast`, so it is outside any other installed plugin's wrapper, as
catalog_first had to be. tests/test_middleware.py checks the order and the
failed CSV's 400.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from datasette import hookimpl

from . import click_counts, client_errors, csv_bom, disconnect, memory_release, response_cache, sql_gate
from .compat_065 import cache_control, catalog_first, json_extras, read_only, route_permissions

App = Callable[..., Any]
Wrapper = Callable[[Any], Callable[[App], App]]  # wrapper(datasette)(app) -> app

# Outermost first: a request meets them in this order, and the answer passes
# them back in the reverse order.
WRAPPERS: tuple[tuple[str, Wrapper], ...] = (
    # Every request waits for the first catalog refresh (and the startup hooks),
    # since the wrappers inside read the catalog (route_permissions) or run startup.
    ("catalog_first", catalog_first.wrapper),
    # A repeat is answered before any other work is done for it. Outside the
    # wrappers that rewrite the query string, it keys on the URL the visitor
    # sent; outside sql_gate, a cached answer to a visitor's SQL takes no turn.
    # It keeps only 200s, so the refusals inside (405, 403, 400, 503) pass through.
    ("response_cache", response_cache.wrapper),
    # Inside the cache, so that it keeps a CSV and a static file by the header given here.
    ("cache_control", cache_control.wrapper),
    # Anything but a read is refused before it costs anything more.
    ("read_only", read_only.wrapper),
    # The tile routes' permission checks (they need the catalog, made above).
    ("route_permissions", route_permissions.wrapper),
    # Measures a worker's memory around all the work below, the export and
    # Datasette's answer, and gives back what a large one left.
    ("memory_release", memory_release.wrapper),
    # Slices a download's body as it goes to the socket and cancels it when the
    # reader hangs up: outside csv_bom, so it slices the bytes actually sent.
    ("disconnect", disconnect.wrapper),
    # _bom=on: the mark and the neutralised cells on the CSV on its way out.
    # Outside client_errors, which must see Datasette's own failed-CSV body
    # (a bare line break) before the mark is added, and answer 400 for it.
    ("csv_bom", csv_bom.wrapper),
    # Query-string rewrites, before the parameters are judged: 1.0's _extra=
    # (adds _nofacet/_nocount), then the stored count of a facet click.
    ("json_extras", json_extras.wrapper),
    ("click_counts", click_counts.wrapper),
    # Malformed parameters refused (400) and the failed CSV turned into a 400,
    # before a request takes a turn in the SQL gate.
    ("client_errors", client_errors.wrapper),
    # Innermost: a visitor's SQL or facets wait for their lane's turn, which
    # ends when Datasette's answer starts.
    ("sql_gate", sql_gate.wrapper),
)


def compose(datasette: Any, app: App, wrappers: tuple[tuple[str, Wrapper], ...] = WRAPPERS) -> App:
    """app inside every wrapper, the first of `wrappers` outermost."""
    for _, wrapper in reversed(wrappers):
        app = wrapper(datasette)(app)
    return app


@hookimpl(trylast=True)
def asgi_wrapper(datasette: Any) -> Callable[[App], App]:
    return lambda app: compose(datasette, app)
