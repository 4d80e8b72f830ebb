"""Answer every request that could write with 405 Method Not Allowed.

The database is served immutable, so nothing can be written whatever a
request says; but Datasette 0.65 answers a POST to a table or to a read-only
canned query with a 500 error and a logged traceback. The public site takes
no form posts at all, so anything but a read is refused here, before it
reaches Datasette, with a plain answer. datasette-block refuses paths
whatever the method, not methods whatever the path.

Standard counterpart: in production, deploy/nginx.conf refuses any method
but GET and HEAD with 405 before a request reaches a `serve` process, so this
wrapper never sees one there. `make serve` has no nginx in front, so it stays
for that; Datasette 1.0a's own 405 removes it (see compat_065/__init__.py).
"""

from __future__ import annotations

from typing import Any

READ_METHODS = ("GET", "HEAD", "OPTIONS")


def wrapper(datasette: Any) -> Any:
    def wrap(app):
        async def read_only(scope, receive, send):
            if scope["type"] != "http" or scope["method"] in READ_METHODS:
                await app(scope, receive, send)
                return
            body = b"This site is read-only: it answers GET and HEAD requests only.\n"
            await send(
                {
                    "type": "http.response.start",
                    "status": 405,
                    "headers": [
                        (b"allow", ", ".join(READ_METHODS).encode()),
                        (b"content-type", b"text/plain; charset=utf-8"),
                        (b"content-length", str(len(body)).encode()),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})

        return read_only

    return wrap
