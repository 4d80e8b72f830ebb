"""The public site: Datasette serving the built database.

- plugins/: the site as one Datasette plugin package (loader.site.plugins),
  registered by the `datasette` entry point in pyproject.toml, with its
  templates/ and static/ as package data, found by Datasette as for any
  installed plugin;
- serve.py: `python -m loader serve`, uvicorn supervising the workers, and
  SETTINGS, the site's Datasette settings;
- replicas.py: renders docs/replicas.md, the recipe for copies of the site.

metadata.yml stays at the project's top, where curators edit it; the
metadata.yml here is a symbolic link to it, which the wheel carries as a
file (setuptools copies what a link points to), so an installed site has it
wherever it is run from.
"""

from pathlib import Path

# Resolved: in a checkout, the top-level file itself (its mtime, its git history).
METADATA_PATH = (Path(__file__).parent / "metadata.yml").resolve()
