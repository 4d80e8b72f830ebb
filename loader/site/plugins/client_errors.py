"""Answer a request Datasette or a plugin cannot serve with a 400 or 404 that
says why, instead of a 500.

Datasette 0.65 and the plugins it runs here turn many malformed requests into
"500 Internal Server Error": an unknown `_sort` column, `_timelimit=abc`, a
`_next` token the site never issued, a row URL on a view, a tile outside the
world, an export that does not fit the data. A 500 tells a reader the site is
broken when it is the request, and it hides real faults among them. This
hook sees every exception a page raises (Datasette's `handle_exception`),
names the parameter or the limit that caused it, and answers a client
error with Datasette's own error template, so the answer looks and reads
(HTML or JSON) like every other error the site gives, without the
traceback Datasette's handler prints for it (see client_error_page). An
exception it cannot pin on the request stays a 500, answered by the
handle_exception hooks, Datasette's own included, which it wraps so that
each runs while the exception is being handled: Datasette's page prints it
with rich (installed here with the test tools), which fails otherwise. No
plugin on PyPI does this: datasette-show-errors goes the other way,
showing a 500's traceback.

A parameter that cannot be right is refused before Datasette reads it
(malformed_parameter, from an ASGI wrapper): Datasette 0.65 would fail on it
with a 500 only after counting the table and its facets, some half a second
of a worker's CPU each time, and a few clients asking again and again made
every other reader wait (issue 23). They are a `_facet…` value that starts
with "{", which Datasette parses as JSON naming the facet's column, a
`_through` that is not such an object, an `__in` list that is not JSON, a
`_timelimit` that is not a number, and a number of more digits than Python
will read (its limit against quadratic-time conversion), which Datasette's
numeric filters and `_facet_size` convert.

One error raises nothing: Datasette 0.65 answers the CSV of a query whose SQL
fails with "200 OK" and an empty file, a line break and no header, so a
spreadsheet opens an empty sheet and a script cannot tell. An ASGI wrapper
holds back the first part of every query's CSV answer and, when it is that
empty line, answers 400 instead and names the JSON page that shows the error.
"""

from __future__ import annotations

import json
import sqlite3
import sys
import traceback
from collections.abc import Callable
from typing import Any

from datasette import hookimpl
from datasette.database import QueryInterrupted
from datasette.handle_exception import handle_exception as datasette_error_page
from datasette.utils import await_me_maybe, urlsafe_components
from datasette.utils.asgi import Base400, Request, Response
from datasette.views.base import DatasetteError
from markupsafe import Markup

from loader.site.plugins.site_paths import routed_path

# Datasette's table and query views raise DatasetteError without a status
# (so 500) only for what the request asked: a sort column, a filter, its SQL.
REQUEST_ERRORS_FROM = ("datasette/views/table.py", "datasette/views/base.py", "datasette/filters.py")
SHOWN_CHARACTERS = 60  # of a bad value in a message
MESSAGE_CHARACTERS = 120  # of a plugin's own message
DATASETTES_PAGE = datasette_error_page.__module__  # where Datasette's own handler makes its answer


def shown(value: str) -> str:
    """A parameter's value as a message quotes it: short, on one line."""
    value = " ".join(value.split())
    return repr(value if len(value) <= SHOWN_CHARACTERS else value[:SHOWN_CHARACTERS] + "…")


def _parsed(value: str) -> Any:
    """value read as JSON; ValueError if it is not JSON, as when it nests
    deeper than Python's parser goes (RecursionError)."""
    try:
        return json.loads(value)
    except RecursionError:
        raise ValueError("nested too deeply") from None


def _integer(value: str) -> bool:
    try:
        int(value)
    except ValueError:
        return False
    return True


def _through(value: str) -> bool:
    """Datasette reads `_through` as JSON naming a table, a column and a value it binds as SQL."""
    try:
        through = _parsed(value)
    except ValueError:
        return False
    return (
        isinstance(through, dict)
        and isinstance(through.get("table"), str)
        and isinstance(through.get("column"), str)
        and isinstance(through.get("value"), (str, int, float))
    )


def _facet(value: str) -> bool:
    """Datasette reads a `_facet…` value that starts with "{" as JSON whose
    "column" (or else "simple") names the column to count."""
    if not value.startswith("{"):
        return True
    try:
        config = _parsed(value)
    except ValueError:
        return False
    return isinstance(config, dict) and isinstance(config.get("column") or config.get("simple"), str)


def _json_list(value: str) -> bool:
    try:
        return isinstance(_parsed(value), list)
    except ValueError:
        return False


def _readable_number(value: str) -> bool:
    """Whether Python would read these digits as a number, if they are a number;
    a longer one could be no row's value (SQLite's integers have 19 digits)."""
    digits = value.strip().lstrip("+-")
    return not (digits.isdigit() and 0 < sys.get_int_max_str_digits() < len(digits))


def malformed_parameter(request: Request) -> str | None:
    """What is wrong with the request's parameters, as Datasette reads them;
    None if nothing is."""
    for key in request.args:
        rules: list[tuple[Callable[[str], bool], str]] = [
            (_readable_number, "is too large a number (SQLite integers have 64 bits)")
        ]
        if key == "_timelimit":
            rules.append((_integer, "must be a whole number of milliseconds"))
        elif key == "_through":
            rules.append((_through, 'must be JSON like {"table": ..., "column": ..., "value": ...}'))
        elif key.startswith("_facet"):
            rules.append((_facet, 'must be a column\'s name or JSON like {"column": ...}'))
        elif key.endswith(("__in", "__notin")):
            rules.append((lambda v: not v.startswith("[") or _json_list(v), "must be a JSON list or a, b, c"))
        for value in request.args.getlist(key):
            for valid, rule in rules:
                if not valid(value):
                    return f"{key}={shown(value)} {rule}"
    return None


async def missing_keys(datasette: Any, url_vars: dict) -> str | None:
    """Why a row's URL names no row when it gives fewer values than its
    table's primary key has columns: Datasette 0.65 binds only the values
    given and fails on the rest (simonw/datasette#2811, fixed in 1.0a by
    pull request #2815, which answers 400)."""
    table = url_vars["table"]
    keys = await datasette.get_database(url_vars["database"]).primary_keys(table)
    if len(urlsafe_components(url_vars["pks"])) >= len(keys):
        return None
    return f"no such row: a row of {table} is named by its {len(keys)} keys, {', '.join(keys)}, joined by commas"


def _raised_in(exception: BaseException, functions: list[Callable]) -> bool:
    """Whether one of these functions is on the exception's traceback."""
    codes = {getattr(f, "__code__", None) for f in functions}
    tb = exception.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code in codes:
            return True
        tb = tb.tb_next
    return False


def _raised_from(exception: BaseException, paths: tuple[str, ...]) -> bool:
    frames = traceback.extract_tb(exception.__traceback__)
    return bool(frames) and frames[-1].filename.replace("\\", "/").endswith(paths)


async def client_error(datasette: Any, request: Request, exception: BaseException) -> tuple[int, str] | None:
    """The status and one-line message this exception deserves, if the request caused it."""
    path = routed_path(datasette, request.path)
    if path.startswith(("/-/tiles/", "/-/tiles-tms/", "/-/tiles-stack")) and isinstance(
        exception, (OverflowError, ValueError)
    ):
        return 404, "no such tile: the zoom, x and y are outside the map"
    if isinstance(exception, QueryInterrupted):
        return 400, f"SQL query took too long: the time limit is {datasette.setting('sql_time_limit_ms')} ms"
    if isinstance(exception, sqlite3.DataError):  # "string or blob too big"
        return 400, str(exception)
    if isinstance(exception, MemoryError):
        return 503, "the server is short of memory for this request: ask for fewer rows or columns"
    if isinstance(exception, sqlite3.OperationalError) and str(exception).startswith("fts5: syntax error"):
        return 400, f"the search is not valid full-text search syntax ({exception}): put words in double quotes"
    column = str(exception).removeprefix("no such column: ")
    if isinstance(exception, sqlite3.OperationalError) and column in request.args:  # a filter on no column
        return 400, f"no such column: {shown(column)}"
    if isinstance(exception, OverflowError):
        return 400, "a number in the request is too large (SQLite integers have 64 bits)"
    url_vars = request.url_vars
    if "_next" in request.args and isinstance(exception, (ValueError, sqlite3.IntegrityError)):  # bad offset
        return 400, f"_next={shown(request.args['_next'])} is not a page link this site issued"
    if url_vars.get("pks") and url_vars.get("table") and isinstance(exception, LookupError):
        database = datasette.get_database(url_vars["database"])
        if url_vars["table"] in await database.view_names():
            return 404, f"{url_vars['table']} is a view: its rows have no pages of their own"
    if url_vars.get("pks") and url_vars.get("table") and isinstance(exception, sqlite3.ProgrammingError):
        missing = await missing_keys(datasette, url_vars)
        if missing:
            return 404, missing
    renderers = [render for render, _ in datasette.renderers.values()]
    if not isinstance(exception, DatasetteError) or exception.status == 500:
        if _raised_in(exception, renderers):
            fmt = url_vars.get("format") or path.rsplit(".", 1)[-1]
            message = exception.message if isinstance(exception, DatasetteError) else str(exception)
            reason = message.splitlines()[0][:MESSAGE_CHARACTERS] if message else type(exception).__name__
            return 400, f"this data cannot be given as {fmt}: {reason}"
    if (
        isinstance(exception, DatasetteError)
        and exception.status == 500
        and _raised_from(exception, REQUEST_ERRORS_FROM)
    ):
        return 400, exception.message
    return None


def failed_csv(datasette: Any, scope: dict) -> bool:
    """Whether this is a CSV of SQL that Datasette may answer with a silent empty file."""
    return (
        scope["type"] == "http"
        and scope["path"].endswith(".csv")
        and not routed_path(datasette, scope["path"]).startswith("/-/")
    )


async def bad_request(send: Any, message: str) -> None:
    await Response.text(message + "\n", status=400).asgi_send(send)


def wrapper(datasette: Any) -> Callable:
    def wrap(app: Callable) -> Callable:
        async def client_errors(scope: dict, receive: Any, send: Any) -> None:
            if scope["type"] == "http":
                # Ahead of Datasette's app, which would give the page its CSRF
                # token and run the startup hooks its templates need.
                request = Request({**scope, "csrftoken": lambda: ""}, receive)
                problem = malformed_parameter(request)
                if problem:
                    await datasette.invoke_startup()
                    await (await error_answer(datasette, request, 400, problem)).asgi_send(send)
                    return
            if not failed_csv(datasette, scope):
                await app(scope, receive, send)
                return
            start: dict = {}
            state = {"decided": False, "failed": False}

            async def hold(message: dict) -> None:
                if message["type"] == "http.response.start":
                    start.update(message)  # sent with the first body, once it is known to be a real file
                    return
                if state["failed"]:
                    return
                if message["type"] == "http.response.body" and not state["decided"]:
                    state["decided"] = True
                    if start.get("status") == 200 and message.get("body", b"") == b"\r\n":
                        state["failed"] = True
                        query = scope["query_string"].decode("latin-1")
                        page = scope["path"][: -len(".csv")] + ".json" + (f"?{query}" if query else "")
                        await bad_request(send, f"the SQL query failed: {page} shows why")
                        return
                    await send(start)
                await send(message)

            await app(scope, receive, hold)

        return client_errors

    return wrap


def answered_here(exception: BaseException) -> DatasetteError | None:
    """A client error Datasette itself names (a 4xx), as the DatasetteError
    client_error_page shows; None for an exception that is the site's fault."""
    if isinstance(exception, Base400):
        return DatasetteError(exception.args[0] if exception.args else "", status=exception.status)
    if isinstance(exception, DatasetteError) and exception.status < 500:
        return exception
    return None


async def client_error_page(datasette: Any, request: Request, error: DatasetteError) -> Response:
    """Datasette's error page (error.html, or the JSON it gives) for an error
    the request caused, made here rather than by Datasette's handler: that
    handler prints the exception's traceback with rich where rich is
    installed (frictionless brings it in with the test tools), highlighting
    the source of every frame, which took half a second of a worker's CPU
    for every 404 and two seconds for a query stopped by its time limit; a
    visitor could ask again and again. A client's error is no fault of the
    site's, so it leaves no traceback; a 500 still gets Datasette's page."""
    message = Markup(error.message) if error.message_is_html else error.message
    info = {**error.error_dict, "ok": False, "error": message, "status": error.status, "title": error.title}
    if request.path.endswith(".json"):
        return Response.json(info, status=error.status)
    page = await datasette.render_template([f"{error.status}.html", "error.html"], info, request=request)
    return Response.html(page, status=error.status)


async def error_answer(datasette: Any, request: Request, status: int, message: str) -> Response:
    """client_error_page for an error this plugin names."""
    title = {404: "Not found", 503: "Service unavailable"}.get(status, "Bad request")
    return await client_error_page(datasette, request, DatasetteError(message, status=status, title=title))


@hookimpl(hookwrapper=True)
def handle_exception(datasette: Any, request: Request, exception: BaseException) -> Any:
    """Wraps every handle_exception hook, Datasette's own error page among
    them: a client error this plugin names is answered with
    client_error_page; any other exception goes to the hooks in turn, the
    first answer kept, as Datasette keeps it (releases.py answers a
    withdrawn id's 404), with the exception being handled: Datasette's page
    prints it with rich where rich is installed, and rich fails when no
    exception is. Where Datasette's page would answer a 4xx of its own,
    client_error_page answers it instead."""
    outcome = yield
    hooks = outcome.get_result()

    async def inner() -> Any:
        answer = await client_error(datasette, request, exception)
        if answer is not None:
            return await error_answer(datasette, request, *answer)
        own = answered_here(exception)
        try:
            raise exception
        except BaseException:
            for hook in hooks:
                if own is not None and getattr(hook, "__module__", None) == DATASETTES_PAGE:
                    return await client_error_page(datasette, request, own)
                response = await await_me_maybe(hook)
                if response is not None:
                    return response
        return None

    outcome.force_result([inner])
