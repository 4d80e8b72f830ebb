"""Fuzzed bad input: every class of mutation in tests/mutations.py is refused
with a FILE:LINE message naming the record, and costs nothing.

Hypothesis drives the bulk in process through click's test runner; one case
of every class also runs as `python -m loader build` in a subprocess, where
memory is capped and measured.
"""

from __future__ import annotations

import random
import zlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.bad_input import reference_database, run_case
from tests.support.mutations import MUTATIONS

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return reference_database(tmp_path_factory.mktemp("reference"))


@pytest.mark.parametrize("name", sorted(MUTATIONS))
@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rnd=st.randoms(use_true_random=False))
def test_bad_input_is_refused_and_costs_nothing(
    name: str, rnd: random.Random, reference: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    run_case(MUTATIONS[name], rnd, tmp_path_factory.mktemp(name), reference)


# The classes most likely to cost time or memory, or to fail outside Python.
SUBPROCESS_SAMPLE = [
    "alias-bomb",
    "deep-nesting",
    "very-long-text",
    "huge-number",
    "invalid-utf8",
    "control-character-raw",
    "truncated-yaml",
    "broken-rule",
    "deep-ndjson",
    "import-bad-byte",
    "date-out-of-range",
    "import-date-out-of-range",
    "oversized-file",
    "import-overlong-row",
]


@pytest.mark.parametrize("name", SUBPROCESS_SAMPLE)
def test_the_real_command_refuses_bad_input_in_bounded_memory(name: str, reference: Path, tmp_path: Path) -> None:
    run_case(MUTATIONS[name], random.Random(zlib.crc32(name.encode())), tmp_path, reference, subprocess_=True)
