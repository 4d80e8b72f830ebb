"""Citable and stable: what a build says it is, and how the site cites it.

A throwaway git repository of the valid fixture is released, and its
bookkeeping committed, as `make release` asks; builds of it then name the
release, and builds of anything else say plainly that no release holds them.
The event page's citation (in an in-process site) is read back as BibTeX and
compared with the release's CITATION.cff, parsed as YAML.
"""

from __future__ import annotations

import asyncio
import html
import re
import shutil
import sqlite3
from pathlib import Path

import pytest
import yaml
from datasette.app import Datasette

from loader.build.database import build
from loader.citation import AUTHOR, PermalinkError, metadata_permalink, permalink_base
from loader.release.cut import ReleaseResult, release
from loader.site.worker import site_options
from tests.support.git import commit_all, git, new_repository
from tests.support.site import in_process_site

FIXTURES = Path(__file__).parent / "fixtures"
PERMALINK = "https://events.example.org/"


def dataset_release(db: Path) -> tuple:
    conn = sqlite3.connect(db)
    try:
        return conn.execute("SELECT version, released, built_from FROM dataset_release").fetchone()
    finally:
        conn.close()


def site(db: Path, permalink: str = PERMALINK) -> Datasette:
    """The site as serve configures it, with the given permalink base."""
    return in_process_site(db, permalink=permalink)


def page(ds: Datasette, path: str) -> str:
    response = asyncio.run(ds.client.get(path))
    assert response.status_code == 200, (path, response.status_code)
    return response.text


def footer(text: str) -> str:
    words = text.split('<footer class="ft">', 1)[1].split("</footer>", 1)[0]
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", words)).split())


def citations(text: str) -> tuple[str, dict[str, str]]:
    """The plain-text citation, and the BibTeX entry's fields."""
    plain = html.unescape(re.search(r'<pre class="citation-text"[^>]*>(.*?)</pre>', text, re.S)[1])  # type: ignore[index]
    bibtex = html.unescape(re.search(r'<pre class="citation-bibtex"[^>]*>(.*?)</pre>', text, re.S)[1])  # type: ignore[index]
    assert bibtex.startswith("@misc{") and bibtex.count("{") == bibtex.count("}")
    fields = dict(re.findall(r"^\s+(\w+) = \{(.*)\},?$", bibtex, re.M))
    return " ".join(plain.split()), fields


@pytest.fixture(scope="module")
def repository(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ReleaseResult]:
    """Sources released on 2026-01-05 from their first commit, then the
    release's bookkeeping committed."""
    directory = tmp_path_factory.mktemp("citation")
    sources = directory / "sources"
    shutil.copytree(FIXTURES / "valid", sources)
    new_repository(sources, "First records", date="2026-01-05T09:00:00+00:00")
    cut = release(sources, directory / "none.db", directory / "dist", released="2026-01-05")
    return sources, cut


def test_a_build_of_released_sources_names_the_release(repository: tuple[Path, ReleaseResult], tmp_path: Path) -> None:
    sources, cut = repository
    db = tmp_path / "events.db"
    head = git(sources, "rev-parse", "HEAD").strip()
    # Right after the release, its bookkeeping not yet committed ...
    build(sources, db)
    assert dataset_release(db) == (cut.version, "2026-01-05", head)
    # ... and once it is: a new commit, the same sources, the same release.
    commit_all(sources, "Release", date="2026-01-05T10:00:00+00:00")
    build(sources, db)
    assert dataset_release(db) == (cut.version, "2026-01-05", git(sources, "rev-parse", "HEAD").strip())
    text = page(site(db), "/")
    assert f"Dataset version {cut.version}, released 2026-01-05" in footer(text)
    # Releasing those sources again keeps their version rather than inventing a second one.
    again = release(sources, tmp_path / "none.db", tmp_path / "dist", released="2026-01-06")
    assert again.version == cut.version


def test_uncommitted_and_unreleased_sources_are_said_plainly(
    repository: tuple[Path, ReleaseResult], tmp_path: Path
) -> None:
    sources = tmp_path / "sources"
    shutil.copytree(repository[0], sources)
    places = sources / "places.yml"
    places.write_text(places.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    db = tmp_path / "events.db"
    build(sources, db)
    version, released, built_from = dataset_release(db)
    assert (version, released) == ("unreleased", None) and built_from.endswith("-dirty")
    ds = site(db)
    event = sqlite3.connect(db).execute("SELECT id FROM events ORDER BY id LIMIT 1").fetchone()[0]
    text = page(ds, f"/events/events/{event}")
    said = footer(text)
    assert "no release holds these records" in said and "uncommitted changes" in said
    assert built_from[:12] in said
    plain, bibtex = citations(text)
    assert "unreleased dataset, built from uncommitted changes" in plain
    assert "uncommitted changes" in bibtex["note"] and "version" not in bibtex

    git(sources, "commit", "-q", "-am", "A later change", date="2026-01-07T09:00:00+00:00")
    build(sources, db)
    assert dataset_release(db)[:2] == ("unreleased", None)
    said = footer(page(site(db), "/"))
    assert "no release holds these records" in said and "uncommitted" not in said


def test_the_citation_is_on_the_permalink_and_agrees_with_citation_cff(
    repository: tuple[Path, ReleaseResult],
) -> None:
    _, cut = repository
    cff = yaml.safe_load((cut.directory / "CITATION.cff").read_text(encoding="utf-8"))
    ds = site(cut.directory / "events.db", PERMALINK)
    event = sqlite3.connect(cut.directory / "events.db").execute("SELECT id FROM events LIMIT 1").fetchone()[0]
    plain, bibtex = citations(page(ds, f"/events/events/{event}"))
    url = f"{PERMALINK}events/events/{event}"
    assert plain.endswith(url) and bibtex["url"] == url and "localhost" not in plain
    assert f"dataset version {cut.version}" in plain and bibtex["version"] == cut.version == cff["version"]
    # One body as author, in double braces so BibTeX does not read a person named "curators".
    assert [author["name"] for author in cff["authors"]] == [AUTHOR]
    assert bibtex["author"] == "{" + AUTHOR + "}"
    assert plain.startswith(cff["authors"][0]["name"])
    # CITATION.cff and the Data Package carry the site's address as metadata.yml sets it.
    configured = metadata_permalink(site_options()["metadata"])
    assert configured and cff["url"] == configured + "/"
    package = (cut.directory / "datapackage.json").read_text(encoding="utf-8")
    assert f'"homepage": "{configured}/"' in package
    assert f"<{configured}/>" in (cut.directory / "README.md").read_text(encoding="utf-8")


def test_a_permalink_must_be_an_absolute_address() -> None:
    assert permalink_base({"permalink": "https://events.example.org/"}) == "https://events.example.org"
    assert permalink_base({}) is None and permalink_base(None) is None
    for wrong in ("events.example.org", "/events", "ftp://example.org/", "https://example.org/?x=1"):
        with pytest.raises(PermalinkError, match="permalink"):
            permalink_base({"permalink": wrong})
