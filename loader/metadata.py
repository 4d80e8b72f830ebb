"""metadata.yml: Datasette's metadata and the plugins' configuration, which
the build (the facets it counts ahead), the release (titles, descriptions,
the permalink) and the reference (what each column means) read too.

It stays at the project's top, where curators edit it; loader/metadata.yml is
a symbolic link to it, which the wheel carries as a file (setuptools copies
what a link points to), so an installed site has it wherever it is run from.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

# Resolved: in a checkout, the top-level file itself (its mtime, its git history).
METADATA_PATH = (Path(__file__).parent / "metadata.yml").resolve()


def read_metadata(path: Path = METADATA_PATH) -> dict[str, Any]:
    """The file as parsed: YAML's safe subset, as Datasette reads it."""
    return YAML(typ="safe").load(path.read_text(encoding="utf-8")) or {}
