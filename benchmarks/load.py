"""Hold the public site under a fixed load and measure it.

A fixed number of clients, each with its own connection, send requests one
after another for a fixed time, mixing what visitors do: table pages,
facets, full-text search, canned queries, the map's JSON and streamed CSV.
With `--distinct` every request carries a parameter of its own, so no cache
can answer it: the figure a site is worth when readers do not all ask for the
same seven pages. Some of the clients (`--hostile N --kind KIND`) may instead
do one costly thing without pause (runaway SQL, runaway `_where`, heavy
facets, whole exports, downloads they never read or abandon after 64 KB);
their answers are counted apart, since only the others' must all succeed,
and the others' p99 is what the hostile kind costs them. The server's
processes' memory is sampled throughout: each one's size before, at its
peak and a few seconds after. The client's own CPU time is reported as a
share of the machine's cores, since it runs beside the server. Only
127.0.0.1 is ever sent anything, and the run stops by itself.

    python -m benchmarks.load                                  # 50 clients, 60 s, over sources/
    python -m benchmarks.load --hostile 9 --kind "_where="     # 9 of the 50 send runaway _where
    python -m benchmarks.load --distinct --clients 10 --seconds 5 --sources tests/fixtures/valid
"""

from __future__ import annotations

import asyncio
import itertools
import os
import resource
import socket
import sys
import threading
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import click
import httpx

from benchmarks.options import clients_option, path_option, seconds_option
from benchmarks.proc import rss_by_process
from tests.support.site_helpers import serving_process  # the same `serve` the browser tests start

# What each kind of request asks for; every one must answer 200.
MIX = {
    "table": "/events/events",
    "facet click": "/events/event_list?event_type=meeting",  # a reader clicks a facet; its facets are the page's own
    "search": "/events/event_list?_search=talks",
    "canned query": "/events/timeline?from_date=2025-01&to_date=2025-12",
    "canned query (FTS)": "/events/actor_events?actor=Shaibani",
    "map JSON": "/events/event_list.json?_size=max&_labels=on&_extra=count&_extra=next_url&_shape=objects",
    # The CSV link of a filtered page (every row it matches); a whole table's
    # export is one of the costly kinds below, not browsing.
    "CSV download": "/events/event_list.csv?event_type=meeting&_stream=on&_size=max",
}
# Runaway SQL, each stopped by the time limit (400) or refused its turn (503);
# neither counts as an error.
RUNAWAY = [
    "with recursive c(x) as (select 1 union all select x + 1 from c) select count(*) from c",
    "select count(*) from sqlite_master a, sqlite_master b, sqlite_master c, sqlite_master d, sqlite_master e",
    "select printf('%.*c', 900000000, 'x')",
]
# The same work through a table page's `_where`, which Datasette runs as SQL too.
RUNAWAY_WHERE = [f"({sql}) > 0" for sql in RUNAWAY[:2]]
HEAVY_FACETS = "/events/event_list.json?" + urlencode(
    [
        ("_facet", "place_name"),
        ("_facet", "origin"),
        ("_facet_array", "actor_names"),
        ("_facet_array", "actor_ids"),
        ("_facet_date", "end_date"),
        ("_size", "0"),
    ]
)
EXPORTS = ["/events/event_list.csv?_stream=on&_size=max", "/-/csv/events/events.csv", "/events/events.json?_size=max"]
# A large answer (9 MB) that a visitor's own SQL asks for, as B2 of the red-team report did, within sql_limits.py's cap.
LARGE_SQL_CSV = "/events.csv?" + urlencode(
    {
        "sql": "select printf('%.*c', 15000, 'x') as t from "
        "(with recursive c(x) as (select 1 union all select x + 1 from c limit 600) select x from c)"
    }
)
ABANDON_AFTER = 64 * 1024
SETTLE_SECONDS = 5  # how long after the load the server's memory is read again
# The browsers' first seconds are not timed: every client's first request
# arrives at once at workers whose caches are empty, a burst a site meets
# when it starts, not while it serves. Errors in them still count.
WARMUP_SECONDS = 3.0
SAMPLE_SECONDS = 0.2
_numbers = itertools.count()  # every request's own parameter, for distinct URLs and cache-busting


def fresh(path: str) -> str:
    """The path with a parameter no other request has, so no cache answers it."""
    return f"{path}{'&' if '?' in path else '?'}_rt={next(_numbers)}"


@dataclass
class ProcessMemory:
    pid: int
    before: int | None  # None: started during the run (a replaced worker)
    peak: int
    after: int | None  # None: ended during the run

    def describe(self) -> str:
        def mb(value: int | None) -> str:
            return "–" if value is None else f"{value / 1024**2:.0f}"

        return f"{mb(self.before)}/{mb(self.peak)}/{mb(self.after)}"


@dataclass
class LoadResult:
    clients: int
    seconds: float
    distinct: bool = False
    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: Counter = field(default_factory=Counter)
    error_examples: list[str] = field(default_factory=list)
    hostile: int = 0  # clients doing `kind` instead of browsing
    kind: str = ""
    hostile_answers: Counter = field(default_factory=Counter)  # their statuses or outcomes
    client_cpu: float = 0.0  # seconds of CPU the load-test client used
    elapsed: float = 0.0  # seconds of the whole run, the untimed first seconds included
    memory: list[ProcessMemory] = field(default_factory=list)
    path: str = "serve"  # which way the site was served
    warmup: float = WARMUP_SECONDS  # the untimed first seconds
    timed_from: float = 0.0  # time.monotonic() from which browsers' answers are timed

    @property
    def client_share(self) -> float:
        """The client's share of the machine's cores over the run."""
        return self.client_cpu / (self.elapsed * (os.cpu_count() or 1))

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

    @property
    def largest_rise(self) -> int:
        """The most any process that was there before grew above its size then."""
        return max((m.peak - m.before for m in self.memory if m.before is not None), default=0)

    @property
    def largest_kept(self) -> int:
        """The most any process that was there before kept above its size then, after the load."""
        return max((m.after - m.before for m in self.memory if m.before is not None and m.after is not None), default=0)

    def label(self) -> str:
        urls = "distinct URLs" if self.distinct else "repeated URLs"
        hostile = f", {self.hostile} of them {HOSTILE[self.kind][0]}" if self.hostile else ""
        return f"{self.path}: {self.clients} clients, {urls}{hostile}"

    def summary(self) -> str:
        return (
            f"{self.label()}, {self.seconds:.0f} s: {self.requests:,} requests, "
            f"{self.requests / self.seconds:,.1f} requests/s, p50 {self.percentile(50) * 1000:.0f} ms, "
            f"p95 {self.percentile(95) * 1000:.0f} ms, p99 {self.percentile(99) * 1000:.0f} ms, "
            f"errors {self.error_count}; a process grew at most {self.largest_rise / 1024**2:.0f} MB and kept "
            f"{self.largest_kept / 1024**2:.0f} MB; the client used {self.client_share:.0%} of the cores"
        )


async def _browse(base: str, number: int, deadline: float, result: LoadResult) -> None:
    kinds = list(MIX)
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        i = number  # each client starts at a different kind, so all run at once
        first = True
        while first or time.monotonic() < deadline:  # every client asks at least once, however busy the machine
            first = False
            kind = kinds[i % len(kinds)]
            i += 1
            started = time.perf_counter()
            try:
                response = await client.get(fresh(MIX[kind]) if result.distinct else MIX[kind])
                ok = response.status_code == 200
                problem = f"{kind}: HTTP {response.status_code}"
            except httpx.HTTPError as e:
                ok, problem = False, f"{kind}: {type(e).__name__}: {e}"
            if ok:
                if time.monotonic() >= result.timed_from:
                    result.latencies.setdefault(kind, []).append(time.perf_counter() - started)
            else:
                result.errors[kind] += 1
                if len(result.error_examples) < 10:
                    result.error_examples.append(problem)


async def _asking(paths: Callable[[int], str], base: str, number: int, deadline: float, result: LoadResult) -> None:
    """Ask paths(i) back to back, reading each answer whole, counting statuses."""
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        for i in itertools.count(number):
            if time.monotonic() >= deadline:
                return
            try:
                response = await client.get(paths(i))
                result.hostile_answers[str(response.status_code)] += 1
            except httpx.HTTPError as e:
                result.hostile_answers[type(e).__name__] += 1


async def _raw_get(base: str, path: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A connection that has sent GET path, with a small receive buffer, as a
    client that reads slowly or not at all has."""
    address = urlsplit(base)
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, (address.hostname, address.port))
    reader, writer = await asyncio.open_connection(sock=sock)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: {address.netloc}\r\n\r\n".encode())
    await writer.drain()
    return reader, writer


async def _unread(base: str, number: int, deadline: float, result: LoadResult) -> None:
    """Ask for a large download and never read it, for the whole run."""
    while time.monotonic() < deadline:
        path = LARGE_SQL_CSV if number % 2 else fresh(EXPORTS[0])
        reader, writer = await _raw_get(base, path)
        try:
            await asyncio.wait_for(reader.read(1), timeout=max(0.0, deadline - time.monotonic()))
            # Once the answer has begun, hold it unread until the server gives up or the run ends.
            result.hostile_answers["held unread"] += 1
            while time.monotonic() < deadline and not reader.at_eof():
                await asyncio.sleep(0.5)
            result.hostile_answers["closed by the server" if reader.at_eof() else "held to the end"] += 1
        except asyncio.TimeoutError:
            result.hostile_answers["no answer begun"] += 1
        finally:
            writer.close()


async def _abandon(base: str, number: int, deadline: float, result: LoadResult) -> None:
    """Ask for a large download, read 64 KB of it and hang up; again and again."""
    while time.monotonic() < deadline:
        reader, writer = await _raw_get(base, fresh(EXPORTS[number % 2]))
        try:
            await asyncio.wait_for(reader.readexactly(ABANDON_AFTER), timeout=30)
            result.hostile_answers["abandoned after 64 KB"] += 1
        except asyncio.IncompleteReadError:
            result.hostile_answers["shorter than 64 KB"] += 1
        except asyncio.TimeoutError:
            result.hostile_answers["64 KB not sent in 30 s"] += 1
        finally:
            writer.close()


Hostile = Callable[[str, int, float, LoadResult], Awaitable[None]]


def _asks(paths: Callable[[int], str]) -> Hostile:
    return lambda base, number, deadline, result: _asking(paths, base, number, deadline, result)


# Each costly kind of client: what it does (in words), and how.
HOSTILE: dict[str, tuple[str, Hostile]] = {
    "?sql=": (
        "sending runaway SQL",
        _asks(lambda i: "/events.json?" + urlencode({"sql": RUNAWAY[i % len(RUNAWAY)]})),
    ),
    "_where=": (
        "sending runaway SQL through a table's _where",
        _asks(
            lambda i: (
                "/events/events.json?"
                + urlencode({"_size": 1, "_where": RUNAWAY_WHERE[i % len(RUNAWAY_WHERE)], "_rt": i})
            )
        ),
    ),
    "facets": ("asking heavy facets of their own choosing", _asks(lambda i: fresh(HEAVY_FACETS))),
    "exports": ("downloading whole tables", _asks(lambda i: fresh(EXPORTS[i % len(EXPORTS)]))),
    "unread": ("asking large downloads and never reading them", _unread),
    "abandoned": ("abandoning large downloads after 64 KB", _abandon),
}


async def _run(base: str, result: LoadResult) -> None:
    cpu = resource.getrusage(resource.RUSAGE_SELF)
    begun = time.monotonic()
    result.timed_from = begun + result.warmup
    deadline = result.timed_from + result.seconds
    hostile = HOSTILE[result.kind][1] if result.hostile else None
    await asyncio.gather(
        *(hostile(base, n, deadline, result) for n in range(result.hostile) if hostile),
        *(_browse(base, n, deadline, result) for n in range(result.hostile, result.clients)),
    )
    ended = time.monotonic()
    result.seconds, result.elapsed = ended - result.timed_from, ended - begun
    after = resource.getrusage(resource.RUSAGE_SELF)
    result.client_cpu = after.ru_utime - cpu.ru_utime + after.ru_stime - cpu.ru_stime


@contextmanager
def sampled_memory(servers: list[int], result: LoadResult, settle: float) -> Iterator[None]:
    """Sample the memory of the server's processes (those under the pids
    `servers`) while the block runs and `settle` seconds after it; each one's
    size before, peak and after go into result."""

    def rss() -> dict[int, int]:
        return {pid: size for server in servers for pid, size in rss_by_process(server).items()}

    before = rss()
    peaks = dict(before)
    done = threading.Event()

    def sample() -> None:
        while not done.wait(SAMPLE_SECONDS):
            for pid, size in rss().items():
                peaks[pid] = max(peaks.get(pid, 0), size)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        yield
        time.sleep(settle)
    finally:
        done.set()
        sampler.join()
    after = rss()
    result.memory = [ProcessMemory(pid, before.get(pid), peak, after.get(pid)) for pid, peak in sorted(peaks.items())]


def run_load(
    base: str,
    servers: list[int],
    clients: int,
    seconds: float,
    *,
    distinct: bool = False,
    hostile: int = 0,
    kind: str = "",
    path: str = "serve",
    warmup: float = WARMUP_SECONDS,
    settle: float = SETTLE_SECONDS,
) -> LoadResult:
    """Load a site already serving on 127.0.0.1 (its processes under the pids
    `servers`, served the way `path` names) for about `seconds` after `warmup`
    untimed ones, its memory read again `settle` seconds after; `hostile` of
    the clients do `kind` instead of browsing. The tests, which time nothing,
    shorten warmup and settle; make reliability keeps the defaults."""
    if httpx.URL(base).host != "127.0.0.1":
        raise ValueError("the load test only ever targets 127.0.0.1")
    if hostile >= clients:
        raise ValueError(f"{hostile} hostile clients leave none of the {clients} to browse")
    if hostile and kind not in HOSTILE:
        raise ValueError(f"unknown kind of hostile client {kind!r}: one of {', '.join(HOSTILE)}")
    result = LoadResult(clients, seconds, distinct=distinct, hostile=hostile, kind=kind, path=path, warmup=warmup)
    with sampled_memory(servers, result, settle):
        asyncio.run(_run(base, result))
    return result


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
    if result.hostile:
        answers = ", ".join(f"{count:,} × {status}" for status, count in sorted(result.hostile_answers.items()))
        lines.append(f"| {HOSTILE[result.kind][0]} ({result.hostile} clients; answers {answers or 'none'}) | | | | | |")
    memory = ", ".join(m.describe() for m in result.memory)
    lines += ["", f"Memory of the server's processes, MB before/peak/after (– where a process came or went): {memory}."]
    return "\n".join(lines)


@click.command()
@clients_option
@seconds_option
@click.option("--distinct", is_flag=True, help="Give every request a parameter of its own, so no cache answers it.")
@click.option("--hostile", default=0, show_default=True, help="How many of the clients do --kind instead.")
@click.option("--kind", type=click.Choice(list(HOSTILE)), default="?sql=", show_default=True)
@path_option("--sources", "sources", folder=True, help="What is served.")
@path_option("--workdir", "build/load", folder=True, help="Where the served events.db is built.")
def main(clients: int, seconds: float, distinct: bool, hostile: int, kind: str, sources: Path, workdir: Path) -> None:
    """Serve SOURCES with `python -m loader serve` and load it."""
    workdir.mkdir(parents=True, exist_ok=True)
    with serving_process(sources, workdir / "events.db") as (base, process):
        result = run_load(base, [process.pid], clients, seconds, distinct=distinct, hostile=hostile, kind=kind)
    click.echo(result.summary())
    click.echo(table(result))
    for example in result.error_examples:
        click.echo(f"  {example}", err=True)
    if result.error_count:
        sys.exit(1)


if __name__ == "__main__":
    main()
