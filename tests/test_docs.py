"""The README and docs/ hold together: every link between them reaches a file
and a heading that exist, and every generated part is what its generator
writes now (cog), so neither can drift from the code."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from cogapp import Cog

ROOT = Path(__file__).resolve().parents[1]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)
CODE = re.compile(r"`[^`\n]*`")
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
HEADING = re.compile(r"^#{1,6} +(.+?) *#*$", re.MULTILINE)


def prose(path: Path) -> str:
    """The Markdown of path without its code blocks and code spans, where a
    bracket is not a link."""
    return CODE.sub("", FENCE.sub("", path.read_text(encoding="utf-8")))


def anchor(heading: str) -> str:
    """The id GitHub gives a heading: lower case, punctuation dropped but
    hyphens and underscores, each space a hyphen."""
    text = re.sub(r"`|\*\*|\[([^\]]*)\]\([^)]*\)", r"\1", heading).strip().lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    return {anchor(h) for h in HEADING.findall(prose(path))}


def links() -> list[tuple[Path, str]]:
    return [
        (path, target)
        for path in DOCUMENTS
        for target in LINK.findall(prose(path))
        if not re.match(r"[a-z][a-z0-9+.-]*:", target)  # http:, https:, mailto:
    ]


@pytest.mark.parametrize(("document", "target"), links(), ids=lambda x: str(x).rsplit("/", 1)[-1])
def test_every_link_in_the_docs_reaches_a_file_and_heading_that_exist(document: Path, target: str) -> None:
    name, _, fragment = target.partition("#")
    reached = (document.parent / name).resolve() if name else document
    assert reached.exists(), f"{document.relative_to(ROOT)} links {target}: no such file"
    if fragment:
        assert reached.suffix == ".md", f"{document.relative_to(ROOT)} links {target}: an anchor in a non-Markdown file"
        assert fragment in anchors(reached), f"{document.relative_to(ROOT)} links {target}: no such heading"


def test_the_link_check_sees_links_and_headings() -> None:
    """The check above would be empty if the patterns found nothing."""
    assert len(links()) > 20
    assert "the-schema" in anchors(ROOT / "docs" / "reference.md")


@pytest.mark.parametrize(
    "document", [p for p in DOCUMENTS if "[[[cog" in p.read_text(encoding="utf-8")], ids=lambda p: p.name
)
def test_every_generated_part_of_the_docs_is_up_to_date(document: Path) -> None:
    """`make docs` regenerates these parts; a change to the CLI, schema.sql or
    metadata.yml that was not followed by it fails here."""
    assert Cog().main(["cog", "--check", str(document)]) == 0, f"run `make docs`: {document.name} is out of date"
