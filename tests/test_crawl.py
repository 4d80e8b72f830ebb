"""Crawl the served site: every page it links to, each with a corpus of
hostile and malformed parameters, must answer below 500 and must never echo
markup unescaped.

The site is `python -m loader serve` over the hostile fixture, whose every
text field is already HTML meant to run; the parameters add their own. The
crawl follows every same-site link from the home page (and from the map's JSON,
which scripts fetch), breadth first, up to
MAX_PAGES pages, and sends each page once as linked; then each kind of page
once with each entry of PARAMETERS added to the query it was first linked
with. A kind is a path (sort, facet and page links differ only in their
query). Before all that, it sends PROBES, requests no page links to. `make reliability` sets CRAWL_EVERY_PATH=1 and sends the whole corpus
to every path. Under `make test`, which has minutes rather than a quarter of
an hour, the rows of one table count as one kind, and each kind gets every
SAMPLE-th parameter set, starting at its own place in the corpus, so every set
still reaches SAMPLE-th of the kinds and every kind a share of the sets. The
number of requests is printed for docs/reliability.md
(benchmarks/reliability.py runs this module).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import httpx
import pytest

from tests.support.site_helpers import serving

pytestmark = pytest.mark.slow

MAX_PAGES = 400
CONCURRENT = 6
MARKUP = '"><script>alert(1)</script><img src=x onerror=alert(2)>'
HUGE = "9" * 40
DIGITS = "9" * 5000  # more than Python reads as a number
RUNAWAY = "with recursive c(x) as (select 1 union all select x + 1 from c) select count(*) from c"
# The classes of issue 15 and more: unknown columns, foreign tokens, bad JSON,
# values that do not parse, numbers beyond 64 bits, huge values, markup.
PARAMETERS: list[dict[str, str]] = [
    {"_sort": "nonexistent"},
    {"_sort_desc": "nonexistent"},
    {"_sort": "rowid"},
    {"_sort": MARKUP},
    {"_next": "abc"},
    {"_next": "' OR 1=1 --"},
    {"_next": HUGE},
    {"_through": "abc"},
    {"_through": '{"table": "x"}'},
    {"_timelimit": "abc"},
    {"_timelimit": HUGE},
    {"id__in": "[bad json"},
    {"id__in": '["a", ' * 50},
    {"_where": "randomblob(1000000000)"},
    {"_where": RUNAWAY.join(["id in (", ")"])},
    {"_where": "1=1) union select sql from sqlite_master --"},
    {"_facet": "nonexistent"},
    {"_facet_array": "nonexistent"},
    {"_facet_date": "nonexistent"},
    {"_facet": MARKUP},
    {"_size": "-1"},
    {"_size": "abc"},
    {"_size": HUGE},
    {"_col": "nonexistent"},
    {"_nocol": "nonexistent"},
    {"_label": MARKUP},
    {"_shape": "nonsense"},
    {"_extra": MARKUP},
    {"_search": '"'},
    {"_search": MARKUP},
    {"_search_title": "NEAR("},
    {"_json": "nonexistent"},
    {"_stream": "on", "_next": "abc"},
    {"_nl": "on"},
    {"_trace": "1"},
    {"_dl": "1"},
    {"_hash": "1"},
    {"sql": "select 1/0, zeroblob(999000) from (select 1) limit 1000"},
    {"sql": MARKUP},
    {"start_date__gt": "\x00"},
    {"start_date__date": "not a date"},
    {"title__notin": "[1"},
    {"latitude__gt": HUGE},
    {MARKUP: MARKUP},
    # Issue 23's answers of 500 (red team B8): facets as bad JSON, a _through
    # that is no object, numbers of more digits than Python reads.
    {"_facet": "{"},
    {"_facet_array": "{}"},
    {"_facet_date": '{"a": 1}'},
    {"_facet_size": "{"},
    {"_through": "0"},
    {"_through": "[]"},
    {"_through": "null"},
    {"_through": "1e999"},
    {"start_date__gt": DIGITS},
    {"rowid__gt": DIGITS},
]
# Requests no page links to, each of which answered 500 (issue 23), sent
# first, while the server's workers are fresh: the stacked tiles read the
# catalog a worker fills on its first requests.
PROBES = [
    *[f"/-/tiles-stack/1/{x}/{y}.png" for x in range(2) for y in range(2)],
    "/-/timeline?month=2999-02",
    "/-/timeline?month=abc",
    "/-/timeline?month=9999-99",
    "/events/withdrawals/zzz",
    "/events/record_history/zzz",
    "/-/map/events.json?place_id__arraycontains=x",
    "/-/map/events.json?" + urlencode({"start_date__gt": DIGITS}),
]
SKIPPED = ("/-/static", "/-/static-plugins")
# The home page, and what the pages' scripts fetch rather than link to.
SEEDS = ["/", "/-/map/events.json"]
EVERY_PATH = os.environ.get("CRAWL_EVERY_PATH") == "1"
SAMPLE = 1 if EVERY_PATH else 4


def kind(url: str) -> str:
    """What makes a page a page of its own for the parameter sweep."""
    path = urlsplit(url).path
    if EVERY_PATH:
        return path
    parts = path.split("/")
    if len(parts) == 4 and not parts[1].startswith("-"):  # /database/table/row: one row stands for all
        return "/".join(parts[:3]) + "/ROW" + os.path.splitext(parts[3])[1]
    return path


class Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("href", "src") and value:
                self.found.append(value)


def same_site(link: str) -> str | None:
    """The path and query of a link into this site, or None."""
    parts = urlsplit(link)
    if parts.scheme or parts.netloc or not parts.path.startswith("/") or parts.path.startswith(SKIPPED):
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def with_parameters(url: str, parameters: dict[str, str]) -> str:
    return url + ("&" if "?" in url else "?") + urlencode(parameters)


def error_of(response: httpx.Response) -> str:
    """The one line an error page gives as its reason."""
    text = response.text
    marker = 'border: 3px solid red;">'
    if marker in text:
        return text.split(marker, 1)[1].split("<", 1)[0].strip()[:200]
    return text[:200]


def reflected(response: httpx.Response) -> bool:
    """Whether an HTML page carries the corpus's markup as markup."""
    return "text/html" in response.headers.get("content-type", "") and (
        "<script>alert(1)</script>" in response.text or "<img src=x onerror=alert(2)>" in response.text
    )


async def crawl(base: str) -> tuple[list[str], list[str], int]:
    """Pages found, problems, and requests made."""
    pages: list[str] = []
    problems: list[str] = []
    queue, requests = list(SEEDS), 0
    seen = set(SEEDS)
    limit = asyncio.Semaphore(CONCURRENT)
    async with httpx.AsyncClient(base_url=base, timeout=120) as client:

        async def get(url: str) -> httpx.Response | None:
            nonlocal requests
            async with limit:
                requests += 1
                try:
                    response = await client.get(url)
                except httpx.HTTPError as e:
                    problems.append(f"{url}: {type(e).__name__}")
                    return None
            if response.status_code >= 500:
                problems.append(f"{url}: {response.status_code} {error_of(response)}")
            if reflected(response):
                problems.append(f"{url}: markup echoed unescaped")
            return response

        await asyncio.gather(*(get(url) for url in PROBES))
        while queue and len(pages) < MAX_PAGES:
            batch, queue = queue[: MAX_PAGES - len(pages)], queue[MAX_PAGES - len(pages) :]
            pages += batch
            responses = await asyncio.gather(*(get(url) for url in batch))
            for response in responses:
                if response is None or "text/html" not in response.headers.get("content-type", ""):
                    continue
                parser = Links()
                parser.feed(response.text)
                for link in map(same_site, parser.found):
                    if link and link not in seen:
                        seen.add(link)
                        queue.append(link)
        distinct = sorted({kind(url): url for url in reversed(pages)}.items())
        await asyncio.gather(
            *(
                get(with_parameters(url, parameters))
                for place, (_, url) in enumerate(distinct)
                for parameters in PARAMETERS[place % SAMPLE :: SAMPLE]
            )
        )
    return pages, problems, requests


@pytest.fixture(scope="module")
def site(hostile_db: Path) -> Iterator[str]:
    with serving(hostile_db.parent / "sources", hostile_db) as base:
        yield base


def test_no_page_or_parameter_gets_a_server_error_or_echoes_markup(site: str) -> None:
    pages, problems, requests = asyncio.run(crawl(site))
    print(
        f"\ncrawl: {len(pages)} pages, {len({kind(url) for url in pages})} kinds, {len(PARAMETERS)} parameter sets, {requests} requests, {len(problems)} problems"
    )
    assert len(pages) > 30  # the crawl reached the site's tables, rows, queries and exports
    assert not problems, "\n".join(problems[:30])
