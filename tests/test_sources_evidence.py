"""Invariants of the real sources/: every citation located and checked
against the project's archive, and every rule of loader/records/evidence.py kept.

The archive lies beside the checkout (CI has it); without it these tests are
skipped, since nothing could be checked. They assert the rules only, never
a count or a particular record.
"""

from __future__ import annotations

import pytest

from loader.errors import InvalidSources
from loader.records.evidence import LOCATED
from loader.records.sources import read_sources, validate
from loader.schema import read_schema
from tests.support.dataset import dataset_archive, dataset_sources

SOURCES = dataset_sources()
ARCHIVE = dataset_archive()
pytestmark = [
    pytest.mark.dataset,
    pytest.mark.skipif(ARCHIVE is None, reason="the project's archive is not beside the checkout"),
]


def test_the_sources_validate_against_the_archive() -> None:
    """Locators, copies' hashes, claimants, previews, inferences and claimed dates, all at once."""
    try:
        dataset = validate(SOURCES, archive=ARCHIVE)
    except InvalidSources as error:
        pytest.fail("\n".join(str(p) for p in error.problems[:40]) + f"\n{error}")
    assert dataset.unchecked() is None


def test_every_citation_and_every_date_has_locators() -> None:
    records, *_ = read_sources(SOURCES, read_schema())
    missing = [
        f"{r.path}:{r.line}: {r.label}"
        for r in records
        if r.table in LOCATED
        and not (r.table == "event_relations" and r.values.get("inferred"))  # the curators' own, cited to no one
        and (
            not isinstance(r.values.get(LOCATED[r.table][0]), list)
            or (r.table != "documents" and not r.values[LOCATED[r.table][0]])
        )
    ]
    assert missing == []


def test_every_document_records_its_archived_copy() -> None:
    assert ARCHIVE is not None
    records, *_ = read_sources(SOURCES, read_schema())
    wrong = []
    for document in (r for r in records if r.table == "documents"):
        copy = ARCHIVE.copy(str(document.values.get("archive_ref")))
        if copy is None or copy.sha256 != document.values.get("archive_sha256"):
            wrong.append(document.label)
        elif not document.values.get("date_paragraphs") and copy.paragraphs:
            wrong.append(f"{document.label}: a date with no paragraph behind it")
    assert wrong == []
