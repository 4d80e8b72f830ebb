"""make reliability's part on the production path by its count of `serve`
processes (benchmarks/reliability.py): the option that sets the counts and the
table docs/replicas.md refers to, from load results made up here."""

from __future__ import annotations

import re

import click
import pytest

from benchmarks.load import LoadResult
from benchmarks.reliability import PRODUCTION_SERVES, SERVE, production_way, scaling, serve_counts


def run(path: str, *, distinct: bool = False, hostile: int = 0, answers: int = 10) -> LoadResult:
    """A run of 2 timed seconds whose browsers got `answers` answers of 10, 20, ... ms."""
    result = LoadResult(5, 2.0, distinct=distinct, hostile=hostile, kind="?sql=" if hostile else "", path=path)
    result.latencies["table"] = [0.01 * n for n in range(1, answers + 1)]
    result.elapsed, result.client_cpu = 4.0, 0.0
    return result


def test_the_table_has_each_counts_browsing_runs_by_count() -> None:
    two, four, one = (production_way(n) for n in (PRODUCTION_SERVES, 4, 1))
    loads = [run(SERVE), run(two), run(two, distinct=True), run(two, hostile=3), run(four, distinct=True)]
    loads += [run(four, answers=40), run(one, distinct=True), run(one)]
    rows = [line.split(" | ") for line in scaling(loads, [1, 4]) if re.match(r"\| \d", line)]
    assert [(row[0], row[1]) for row in rows] == [
        ("| 1", "repeated URLs"),
        ("| 1", "distinct URLs"),
        (f"| {PRODUCTION_SERVES}", "repeated URLs"),
        (f"| {PRODUCTION_SERVES}", "distinct URLs"),
        ("| 4", "repeated URLs"),
        ("| 4", "distinct URLs"),
    ]
    assert rows[4][2:7] == ["20.0", "210", "390", "400", "0"]  # 40 answers in 2 s; p50, p95, p99 ms; errors


def test_the_counts_are_numbers_of_one_or_more() -> None:
    assert serve_counts("1,2,4") == [1, 2, 4]
    for wrong in ("0,2", "two", "1,,2"):
        with pytest.raises(click.BadParameter):
            serve_counts(wrong)
