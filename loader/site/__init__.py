"""The public site: Datasette serving the built database.

- plugins/: the site as one Datasette plugin package (loader.site.plugins),
  registered by the `datasette` entry point in pyproject.toml, with its
  templates/ and static/ as package data, found by Datasette as for any
  installed plugin;
- serve.py: `python -m loader serve`, uvicorn supervising the workers;
- worker.py: what each worker runs, Datasette with SETTINGS, the site's
  Datasette settings, and imports no more than a worker needs;
- replicas.py: renders docs/replicas.md, the recipe for copies of the site;
- production.py: deploy/'s nginx in front of several `serve` processes, as
  a public site runs, on loopback for `make reliability` and the tests;
- downloads.py: what the site's downloads share (absolute links, streamed
  responses).
"""
