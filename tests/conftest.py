"""Fixtures shared across the test modules."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def sources(tmp_path: Path) -> Path:
    """A private copy of the valid fixture sources, free to be broken by a test."""
    target = tmp_path / "sources"
    shutil.copytree(FIXTURES / "valid", target)
    return target
