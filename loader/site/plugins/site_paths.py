"""metadata.yml's links under the site's base_url, and requests' paths without it.

metadata.yml writes the site's pages as paths from its root (`href="/-/timeline"`
in a description_html, `about_url: /-/about`, the maps' `tile_layer`), as a
curator reads them; a site served under a prefix (Datasette's base_url, behind
a proxy at example.org/prefix/) has them under the prefix. Datasette 0.65
renders the metadata as it is given, and its get_metadata hook cannot change
it: local metadata takes precedence over a plugin's. So the pages rewrite it
here, in one place, through Datasette's own urls.path: the `site_paths`
filter gives the metadata a template renders (the description, source, licence
and about links of _description_source_license.html, _footer.html and
about.html), and the body script below the maps' tile layer. A path that
already names a host (`//host/`) or a URL is left as it is, and without a
base_url every path is as written.

The other way round, a request reaches the site's ASGI wrappers and its
handle_exception with the prefix still in its path (a proxy may pass it on;
Datasette's router strips it later, for itself): code that reads a path as a
route (/-/tiles/..., /-/csv/..., /events/TABLE/ID) reads routed_path(). A
wrapper that reads only how a path ends (.csv, .json, .atom) reads the same
ending with the prefix or without, and the response cache keys on the URL
as the visitor sent it. tests/test_prefix_wrappers.py holds every wrapper
to its job under a prefix.
"""

from __future__ import annotations

import json
import re
from typing import Any

from datasette import hookimpl

# The metadata keys that hold a link, and the one that holds HTML.
URL_KEYS = ("license_url", "source_url", "about_url")
HTML_KEY = "description_html"
# An attribute of curated HTML whose value is a path from the site's root.
ROOT_PATH_ATTRIBUTE = re.compile(r'(\s(?:href|src|action)=")(/(?!/)[^"]*)"')


def site_path(datasette: Any, url: str) -> str:
    """A path from the site's root under its base_url; anything else as it is."""
    return str(datasette.urls.path(url)) if url.startswith("/") and not url.startswith("//") else url


def routed_path(datasette: Any, path: str) -> str:
    """A request's path as Datasette's router reads it: without the base_url."""
    base = datasette.setting("base_url")
    return "/" + path[len(base) :] if base != "/" and path.startswith(base) else path


def in_html(datasette: Any, html: str) -> str:
    return ROOT_PATH_ATTRIBUTE.sub(lambda m: f'{m[1]}{site_path(datasette, m[2])}"', html)


def with_site_paths(datasette: Any, metadata: Any) -> Any:
    """A copy of a page's metadata with its links under the base_url."""
    if not isinstance(metadata, dict):
        return metadata
    rewritten = dict(metadata)
    for key in URL_KEYS:
        if isinstance(rewritten.get(key), str):
            rewritten[key] = site_path(datasette, rewritten[key])
    if isinstance(rewritten.get(HTML_KEY), str):
        rewritten[HTML_KEY] = in_html(datasette, rewritten[HTML_KEY])
    return rewritten


@hookimpl
def prepare_jinja2_environment(env: Any, datasette: Any) -> None:
    env.filters["site_paths"] = lambda metadata: with_site_paths(datasette, metadata)


@hookimpl(trylast=True)
def extra_body_script(database: str | None, table: str | None, datasette: Any) -> str:
    """The maps' tile layer (datasette-cluster-map's setting, which the
    server's map reads too) under the base_url: trylast, so that this comes
    after datasette-cluster-map's own script, which sets it as written."""
    layer = (datasette.plugin_config("datasette-cluster-map", database=database, table=table) or {}).get("tile_layer")
    if not isinstance(layer, str) or site_path(datasette, layer) == layer:
        return ""
    return (
        "if (window.DATASETTE_CLUSTER_MAP_TILE_LAYER) "
        f"window.DATASETTE_CLUSTER_MAP_TILE_LAYER = {json.dumps(site_path(datasette, layer))};"
    )
