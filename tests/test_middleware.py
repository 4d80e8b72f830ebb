"""loader/site/plugins/middleware.py: the site's one ASGI wrapper composes the
modules' wrappers in the order it writes down, and that order is the one in
which a failed CSV query is a 400 (the review's §4.3: with client_errors
outside csv_bom, it was 200 and an empty file)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest
from datasette.app import Datasette
from datasette.plugins import pm

from loader.site.plugins import middleware
from tests.support.site import datasettes_failed_csv, in_process_site

# Outermost first, as middleware.py explains each position.
ORDER = [
    "catalog_first",
    "response_cache",
    "cache_control",
    "read_only",
    "route_permissions",
    "memory_release",
    "disconnect",
    "csv_bom",
    "json_extras",
    "click_counts",
    "client_errors",
    "sql_gate",
]
FAILED_CSV = "/events.csv?sql=select+nonsense+from+nowhere"


def test_the_package_has_one_asgi_wrapper_outside_every_other() -> None:
    ours = [impl for impl in pm.hook.asgi_wrapper.get_hookimpls() if impl.plugin_name.startswith("loader.")]
    assert [impl.plugin_name for impl in ours] == ["loader.site.plugins.middleware"]
    assert ours[0].trylast


def test_the_wrappers_are_in_the_written_order() -> None:
    assert [name for name, _ in middleware.WRAPPERS] == ORDER
    for name, wrapper in middleware.WRAPPERS:
        assert wrapper.__module__.rsplit(".", 1)[-1] == name


def test_compose_puts_the_first_wrapper_outermost() -> None:
    met: list[str] = []

    def tracing(name: str) -> Any:
        def wrapper(datasette: Any) -> Any:
            def wrap(app: Any) -> Any:
                async def traced(scope: dict, receive: Any, send: Any) -> None:
                    met.append(name)
                    await app(scope, receive, send)

                return traced

            return wrap

        return wrapper

    async def app(scope: dict, receive: Any, send: Any) -> None:
        met.append("app")

    composed = middleware.compose(None, app, tuple((name, tracing(name)) for name in ORDER))
    asyncio.run(composed({"type": "http"}, None, None))
    assert met == [*ORDER, "app"]


def answer(wrappers: tuple, path: str) -> httpx.Response:
    app = middleware.compose(Datasette([]), datasettes_failed_csv, wrappers)

    async def get() -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://site") as client:
            return await client.get(path)

    return asyncio.run(get())


@pytest.mark.parametrize("path", [FAILED_CSV, FAILED_CSV + "&_bom=on"])
def test_a_failed_csv_is_a_400_in_the_written_order_and_was_not_in_the_other(path: str) -> None:
    pair = tuple(pair for pair in middleware.WRAPPERS if pair[0] in ("csv_bom", "client_errors"))
    assert [name for name, _ in pair] == ["csv_bom", "client_errors"]
    assert answer(pair, path).status_code == 400
    if "_bom=on" in path:
        swapped = answer(pair[::-1], path)
        assert (swapped.status_code, swapped.content) == (200, b"\xef\xbb\xbf\r\n")


@pytest.mark.parametrize("path", [FAILED_CSV, FAILED_CSV + "&_bom=on", FAILED_CSV + "&_stream=on"])
def test_the_site_answers_a_failed_csv_query_with_400(published_db: Path, path: str) -> None:
    response = asyncio.run(in_process_site(published_db).client.get(path))
    assert response.status_code == 400
    assert "the SQL query failed" in response.text
