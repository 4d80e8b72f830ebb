"""The README's worked example of adding an article, pasted into a copy of
the real sources exactly as the README says, validates."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parent.parent


def example_blocks() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Add an article and its events", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```yaml\n(.*?)```", section, re.S)
    # The blocks sit in a numbered list, indented by three spaces.
    return [re.sub(r"(?m)^   ", "", block) for block in blocks]


def test_the_readme_example_pasted_as_it_says_validates(tmp_path):
    document, event = example_blocks()
    sources = tmp_path / "sources"
    shutil.copytree(ROOT / "sources", sources)
    # Step 1: the record under documents: goes at the end of documents.yml.
    assert document.startswith("documents:\n")
    documents = sources / "documents.yml"
    before = len(YAML(typ="safe").load(documents.read_text(encoding="utf-8"))["documents"])
    documents.write_text(documents.read_text(encoding="utf-8") + "\n" + document.split("\n", 1)[1], encoding="utf-8")
    # Step 3: the event is a new file.
    (sources / "events" / "example.yml").write_text(event, encoding="utf-8")

    result = subprocess.run(
        [sys.executable, "-m", "loader", "validate", "--sources", str(sources)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert "is valid" in result.stdout and f"{before + 1} documents" in result.stdout
    # The warning the README shows, for the round already recorded.
    assert (
        "sources/events/example.yml:2: 2026-01-05-paris-round-example: id: events 2026-01-05-paris-round-example "
        "and 2026-01-paris-fifth-round-of-syria-israel-talks may be one (at paris," in result.stderr
    )
