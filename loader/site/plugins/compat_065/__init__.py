"""Patches over Datasette 0.65 and over published plugins, kept in one place.

Each module here does what the stable 0.65 line (pyproject pins
datasette>=0.65.1,<0.66) or a published plugin does not, and each goes when
the version or the fix named below is what the project installs. Nothing
else in loader.site.plugins imports them but middleware.py (the five ASGI
wrappers) and the package's registration (permission_cache).

- catalog_first: every request waits for the first `_internal` refresh and
  the startup hooks. 0.65's refresh_schemas returns at once when another
  request holds its lock, so a fresh worker's first tile requests read a
  catalog not yet made. Removed by Datasette 1.0a (the catalog is filled in
  invoke_startup, which now refreshes the catalog before the startup hooks
  run: simonw/datasette#2666, merged 2026-03; #2847 makes the refresh atomic).
- permission_cache: each permission decision made once per worker. 0.65's
  default permission hook deep-copies the whole metadata on every check.
  Removed by Datasette 1.0a20, which removes the permission_allowed hook
  (simonw/datasette#2528) and
  resolves permissions in SQL (the module would then be dead code).
- cache_control: a CSV answer's and a static file's Cache-Control, the
  pages' own; 0.65 sends both with none, so no cache keeps them. Removed
  for static files by Datasette 1.0a's static() helper
  (simonw/datasette#2804, closing #974), and for CSV when Datasette sends
  it (1.0a does not).
- json_extras: 1.0's `_extra=` honoured by switching off, with 0.65's
  `_nofacet`/`_nocount`, the facets and count a JSON request did not ask
  for. Removed by Datasette 1.0 (1.0a0 onwards compute only what `_extra`
  asks for).
- read_only: 405 for any method but GET, HEAD and OPTIONS; 0.65 answers a
  POST to a table with a 500. Removed by Datasette 1.0a (its table view
  answers 405); behind deploy/nginx.conf the proxy refuses those methods
  already, and the wrapper stays for `make serve`, which has no proxy.
- route_permissions: Datasette's view-instance/view-database checks on
  datasette-tiles' routes, which check none. Removed by a fix in
  datasette-tiles: docs/upstream/datasette-tiles-permissions.patch, ready
  to send (against 0.6.1).

Also patches over 0.65, but features of the site first and so kept with
the other modules: client_errors (a bad `_sort` is a 500 in 0.65,
simonw/datasette#1950, fixed in 1.0a2; most of the rest of it stays),
facet_counts and click_counts (0.65 has no hook to supply counts; 1.0a caps
a filtered count at count_limit + 1), and sql_gate's refusal of Atom for a
visitor's SQL (datasette-atom 0.9 cleans HTML on the event loop:
docs/upstream/datasette-atom-clean-in-thread.patch).

One patch over 0.65 is outside the plugin package, as it must run before
Datasette loads any plugin: loader/site/worker.py's unit_registry_deferred
(0.65 builds pint's unit registry at import; removed by Datasette 1.0a,
simonw/datasette#2400).
"""
