"""Hold the public site under a fixed load and measure it.

A fixed number of clients, each with its own connection, send requests one
after another for a fixed time, mixing what visitors do: table pages,
facets, full-text search, canned queries, the map's JSON and streamed CSV.
Only 127.0.0.1 is ever sent anything, and the run stops by itself.

    python -m benchmarks.load                       # 50 clients, 60 s, over sources/
    python -m benchmarks.load --clients 10 --seconds 5 --sources tests/fixtures/valid
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import click
import httpx

from loader import PROJECT_ROOT
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


@dataclass
class LoadResult:
    clients: int
    seconds: float
    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: Counter = field(default_factory=Counter)
    error_examples: list[str] = field(default_factory=list)

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
        return (
            f"{self.clients} clients for {self.seconds:.0f} s: {self.requests:,} requests, "
            f"{self.requests / self.seconds:,.1f} requests/s, p50 {self.percentile(50) * 1000:.0f} ms, "
            f"p99 {self.percentile(99) * 1000:.0f} ms, errors {self.error_count}"
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


async def _run(base: str, clients: int, seconds: float) -> LoadResult:
    result = LoadResult(clients, seconds)
    started = time.monotonic()
    await asyncio.gather(*(_client(base, n, started + seconds, result) for n in range(clients)))
    result.seconds = time.monotonic() - started
    return result


def run_load(base: str, clients: int, seconds: float) -> LoadResult:
    """Load a site already serving on 127.0.0.1 for about `seconds`."""
    if httpx.URL(base).host != "127.0.0.1":
        raise click.ClickException("the load test only ever targets 127.0.0.1")
    return asyncio.run(_run(base, clients, seconds))


def serve_and_load(sources: Path, db: Path, clients: int, seconds: float) -> LoadResult:
    with serving(sources, db) as base:
        return run_load(base, clients, seconds)


def table(result: LoadResult) -> str:
    """The figures as a markdown table, one line a kind of request."""
    lines = ["| request | count | p50 ms | p99 ms | errors |", "| --- | ---: | ---: | ---: | ---: |"]
    for kind in MIX:
        count = len(result.latencies.get(kind, []))
        lines.append(
            f"| {kind} | {count:,} | {result.percentile(50, kind) * 1000:.0f} | "
            f"{result.percentile(99, kind) * 1000:.0f} | {result.errors[kind]} |"
        )
    return "\n".join(lines)


@click.command()
@click.option("--clients", default=50, show_default=True)
@click.option("--seconds", default=60.0, show_default=True)
@click.option(
    "--sources",
    type=click.Path(file_okay=False, path_type=Path),
    default=PROJECT_ROOT / "sources",
    show_default="sources/",
)
@click.option(
    "--workdir",
    type=click.Path(file_okay=False, path_type=Path),
    default=PROJECT_ROOT / "build" / "load",
    show_default="build/load",
    help="Where the served events.db is built.",
)
def main(clients: int, seconds: float, sources: Path, workdir: Path) -> None:
    """Serve SOURCES with `python -m loader serve` and load it."""
    workdir.mkdir(parents=True, exist_ok=True)
    result = serve_and_load(sources, workdir / "events.db", clients, seconds)
    click.echo(result.summary())
    click.echo(table(result))
    for example in result.error_examples:
        click.echo(f"  {example}", err=True)
    if result.error_count:
        sys.exit(1)


if __name__ == "__main__":
    main()
