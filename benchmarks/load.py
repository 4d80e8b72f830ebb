"""Hold the public site under a fixed load and measure it.

A fixed number of clients, each with its own connection, send requests one
after another for a fixed time, mixing what visitors do: table pages,
facets, full-text search, canned queries, the map's JSON and streamed CSV.
Some of them (`--runaway`) may instead send runaway SQL without pause, each
stopped by the time limit; their answers are counted apart, since only the
others' must all succeed. The client's own CPU time is reported as a share
of the machine's cores, since it runs beside the server. Only 127.0.0.1 is
ever sent anything, and the run stops by itself.

    python -m benchmarks.load                       # 50 clients, 60 s, over sources/
    python -m benchmarks.load --runaway 3           # 3 of the 50 send runaway SQL
    python -m benchmarks.load --clients 10 --seconds 5 --sources tests/fixtures/valid
"""

from __future__ import annotations

import asyncio
import os
import resource
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import click
import httpx

from benchmarks.options import clients_option, path_option, seconds_option
from tests.support.site_helpers import serving  # the same `serve` the browser tests start

# What each kind of request asks for; every one must answer 200.
MIX = {
    "table": "/events/events",
    "facets": "/events/event_list?_facet=event_type&_facet=status&_facet_date=start_date",
    "search": "/events/event_list?_search=talks",
    "canned query": "/events/timeline?from_date=2025-01&to_date=2025-12",
    "canned query (FTS)": "/events/actor_events?actor=Shaibani",
    "map JSON": "/events/event_list.json?_size=max&_labels=on&_extra=count&_extra=next_url&_shape=objects",
    "CSV stream": "/events/event_list.csv?_stream=on&_size=max",
}
# What a runaway client sends, in turn: each runs until the time limit stops it
# (400) or waits its turn too long (503); neither counts as an error.
RUNAWAY = [
    "with recursive c(x) as (select 1 union all select x + 1 from c) select count(*) from c",
    "select count(*) from sqlite_master a, sqlite_master b, sqlite_master c, sqlite_master d, sqlite_master e",
    "select printf('%.*c', 900000000, 'x')",
]


@dataclass
class LoadResult:
    clients: int
    seconds: float
    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: Counter = field(default_factory=Counter)
    error_examples: list[str] = field(default_factory=list)
    runaway: int = 0  # clients sending runaway SQL
    runaway_answers: Counter = field(default_factory=Counter)  # their statuses
    client_cpu: float = 0.0  # seconds of CPU the load-test client used

    @property
    def client_share(self) -> float:
        """The client's share of the machine's cores over the run."""
        return self.client_cpu / (self.seconds * (os.cpu_count() or 1))

    @property
    def requests(self) -> int:
        return sum(len(v) for v in self.latencies.values()) + sum(self.errors.values())

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    def percentile(self, p: float, kind: str | None = None) -> float:
        values = sorted(self.latencies[kind] if kind else [x for v in self.latencies.values() for x in v])
        if not values:
            return float("nan")
        return values[min(len(values) - 1, int(p / 100 * len(values)))]

    def summary(self) -> str:
        runaway = f" ({self.runaway} of them sending runaway SQL)" if self.runaway else ""
        return (
            f"{self.clients} clients{runaway} for {self.seconds:.0f} s: {self.requests:,} requests, "
            f"{self.requests / self.seconds:,.1f} requests/s, p50 {self.percentile(50) * 1000:.0f} ms, "
            f"p95 {self.percentile(95) * 1000:.0f} ms, p99 {self.percentile(99) * 1000:.0f} ms, "
            f"errors {self.error_count}; the client used {self.client_share:.0%} of the cores"
        )


async def _client(base: str, number: int, deadline: float, result: LoadResult) -> None:
    kinds = list(MIX)
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        i = number  # each client starts at a different kind, so all run at once
        while time.monotonic() < deadline:
            kind = kinds[i % len(kinds)]
            i += 1
            started = time.perf_counter()
            try:
                response = await client.get(MIX[kind])
                ok = response.status_code == 200
                problem = f"{kind}: HTTP {response.status_code}"
            except httpx.HTTPError as e:
                ok, problem = False, f"{kind}: {type(e).__name__}: {e}"
            if ok:
                result.latencies.setdefault(kind, []).append(time.perf_counter() - started)
            else:
                result.errors[kind] += 1
                if len(result.error_examples) < 10:
                    result.error_examples.append(problem)


async def _runaway(base: str, number: int, deadline: float, result: LoadResult) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        i = number
        while time.monotonic() < deadline:
            try:
                response = await client.get("/events.json", params={"sql": RUNAWAY[i % len(RUNAWAY)]})
                result.runaway_answers[str(response.status_code)] += 1
            except httpx.HTTPError as e:
                result.runaway_answers[type(e).__name__] += 1
            i += 1


async def _run(base: str, clients: int, seconds: float, runaway: int) -> LoadResult:
    result = LoadResult(clients, seconds, runaway=runaway)
    started = time.monotonic()
    cpu = resource.getrusage(resource.RUSAGE_SELF)
    await asyncio.gather(
        *(_runaway(base, n, started + seconds, result) for n in range(runaway)),
        *(_client(base, n, started + seconds, result) for n in range(runaway, clients)),
    )
    result.seconds = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_SELF)
    result.client_cpu = after.ru_utime - cpu.ru_utime + after.ru_stime - cpu.ru_stime
    return result


def run_load(base: str, clients: int, seconds: float, runaway: int = 0) -> LoadResult:
    """Load a site already serving on 127.0.0.1 for about `seconds`; `runaway`
    of the clients send runaway SQL instead of browsing."""
    if httpx.URL(base).host != "127.0.0.1":
        raise ValueError("the load test only ever targets 127.0.0.1")
    return asyncio.run(_run(base, clients, seconds, runaway))


def serve_and_load(sources: Path, db: Path, clients: int, seconds: float, runaway: int = 0) -> LoadResult:
    with serving(sources, db) as base:
        return run_load(base, clients, seconds, runaway)


def table(result: LoadResult) -> str:
    """The figures as a markdown table, one line a kind of request."""
    lines = [
        "| request | count | p50 ms | p95 ms | p99 ms | errors |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for kind in MIX:
        count = len(result.latencies.get(kind, []))
        lines.append(
            f"| {kind} | {count:,} | {result.percentile(50, kind) * 1000:.0f} | "
            f"{result.percentile(95, kind) * 1000:.0f} | {result.percentile(99, kind) * 1000:.0f} | "
            f"{result.errors[kind]} |"
        )
    if result.runaway:
        answers = ", ".join(f"{count:,} × {status}" for status, count in sorted(result.runaway_answers.items()))
        lines.append(f"| runaway SQL ({result.runaway} clients; answers {answers or 'none'}) | | | | | |")
    return "\n".join(lines)


@click.command()
@clients_option
@seconds_option
@click.option("--runaway", default=0, show_default=True, help="How many of the clients send runaway SQL.")
@path_option("--sources", "sources", folder=True, help="What is served.")
@path_option("--workdir", "build/load", folder=True, help="Where the served events.db is built.")
def main(clients: int, seconds: float, runaway: int, sources: Path, workdir: Path) -> None:
    """Serve SOURCES with `python -m loader serve` and load it."""
    workdir.mkdir(parents=True, exist_ok=True)
    result = serve_and_load(sources, workdir / "events.db", clients, seconds, runaway)
    click.echo(result.summary())
    click.echo(table(result))
    for example in result.error_examples:
        click.echo(f"  {example}", err=True)
    if result.error_count:
        sys.exit(1)


if __name__ == "__main__":
    main()
