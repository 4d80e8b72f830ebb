"""Cutting a citable release from a build: the files other tools read
(CSV, Parquet, GeoJSON, a Data Package, a citation) and what changed since
the release before.
"""

from pathlib import Path

from .. import PROJECT_ROOT

# Where releases are written: a folder of the project, outside git.
DIST = PROJECT_ROOT / "dist"
# The packages a release needs beyond the site's (pyproject.toml's `release`
# extra): Parquet's writer and GeoJSON's, which a server never loads.
EXTRA = "release"
# The checksum list a release ends with: every file of its folder, the
# database among them.
CHECKSUMS = "SHA256SUMS"


def is_released_copy(path: Path) -> bool:
    """Whether path is a release's own file, listed in the checksums beside
    it: what a citation names, so nothing may rebuild it in place, wherever
    the release's folder has been copied to."""
    checksums = path.with_name(CHECKSUMS)
    if not checksums.is_file():
        return False
    return any(line.split("  ", 1)[-1] == path.name for line in checksums.read_text(encoding="utf-8").splitlines())
