"""The site's Datasette plugins, as one plugin package.

pyproject.toml registers this package under Datasette's `datasette` entry
point, so Datasette loads it as it loads any installed plugin, wherever it
runs (`serve`, `datasette serve`, a container made by `datasette package`),
and serves this package's templates/ and static/ (the static files at
/-/static-plugins/event-store/). Importing the package registers its modules
below with Datasette's plugin manager, as Datasette registers its own
DEFAULT_PLUGINS (datasette/plugins.py): one module, one plugin, named after
the module.

The order is fixed here, not by a directory listing. pluggy calls the hooks
of the plugin registered last first, so MODULES is registered from its end:
a module earlier in the list has its hooks called earlier. The order matters
where several modules implement one hook (extra_template_vars: a later
module's value wins for the same name; register_routes: the first route that
matches serves). Where one of these hooks must run before another installed
plugin's or Datasette's own (which are registered in no fixed order with
respect to this package), it says so itself with `tryfirst`.

Modules that only wrap the ASGI app (csv_bom, disconnect, memory_release,
response_cache, sql_gate, and five of compat_065) implement no hook: the one
asgi_wrapper in middleware.py composes them, in the order it writes down.
"""

from __future__ import annotations

import importlib

from datasette.plugins import pm

MODULES = (
    # Every SQLite connection: length and column limits, no fts3_tokenizer().
    "sql_limits",
    # Errors: the request's fault answered 400/404 (a handle_exception hookwrapper).
    "client_errors",
    # Permission decisions made once per worker (a permission_allowed hookwrapper).
    "compat_065.permission_cache",
    # Pages, in the order their extra_template_vars are merged (later wins).
    "dataset_version",  # the version and build date in every footer
    "site_paths",  # metadata.yml's links under the base_url
    "labels",  # names and links in cells, chosen columns and headings
    "releases",  # a record's history section; 410 for withdrawn ids
    "click_counts",  # a facet click's stored row count (filtered_table_rows_count)
    "disputes",  # disputed claims grouped for the templates
    "history_changes",  # record_history's field diffs in words
    "facet_counts",  # facets answered from the build's counts
    "names_by_language",  # an actor's or place's names grouped by language
    "subject_pages",  # an actor's or place's events, claims, disputes, company, map and timeline
    # Routes of their own, in the order they are matched.
    "csv_export",  # /-/csv/
    "timeline",  # /-/timeline, /-/overview
    "about",  # /-/about: what the site is, its figures read from the database
    "server_map",  # /-/map/
    "follow",  # /-/follow/ feeds of an actor, place, type, process or search; follow_path for pages
    "embed",  # /-/embed/ cards
    "search",  # /-/search: everything, by any spelling, through the desk's matcher
    # Output formats; atom_feeds and geojson_export replace the published
    # plugins' renderers for .atom and .geojson (trylast, so theirs are the last word).
    "calendar_feed",  # .ics
    "atom_feeds",  # .atom, titled in words with absolute links
    "geojson_export",  # .geojson as application/geo+json, whole or saying it is a page
    # The one ASGI wrapper, composing every module's wrapper in its written order.
    "middleware",
)


def register() -> None:
    for name in reversed(MODULES):
        module = importlib.import_module(f"{__name__}.{name}")
        if not pm.is_registered(module):
            pm.register(module, module.__name__)


register()
