"""Cutting a citable release from a build: the files other tools read
(CSV, Parquet, GeoJSON, a Data Package, a citation) and what changed since
the release before.
"""

from .. import PROJECT_ROOT

# Where releases are written: a folder of the project, outside git.
DIST = PROJECT_ROOT / "dist"
# The packages a release needs beyond the site's (pyproject.toml's `release`
# extra): Parquet's writer and GeoJSON's, which a server never loads.
EXTRA = "release"
