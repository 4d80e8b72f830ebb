"""The table of spelling variants that `find` must rank first: read by its
test (tests/test_desk_names.py) and by the curation benchmark."""

from __future__ import annotations

from pathlib import Path

VARIANTS = Path(__file__).resolve().parent.parent / "fixtures" / "desk" / "name_variants.tsv"


def variant_rows(path: Path = VARIANTS) -> list[tuple[str, str, str]]:
    """(query, kind:id, origin) of each row; # lines are comments."""
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            query, record, origin = line.split("\t")
            rows.append((query, record, origin))
    return rows
