"""`_bom=on` on any CSV download puts a UTF-8 byte-order mark in front of it.

Excel on a default Windows set-up reads a CSV file without a byte-order
mark in the local code page, which garbles "Erdoğan" and every Arabic and
Hebrew name; with the mark it reads UTF-8. The mark is an option rather than
the default because programs that read CSV as plain UTF-8 (Python's csv
module, most command-line tools) would take it for part of the first column's
name. Datasette has no such option, so the mark is added to the response on
its way out. No plugin adds it either: datasette-xlsx and datasette-render-xlsx
write .xlsx instead, a second export format, and leave the CSV as it is.
"""

from __future__ import annotations

from urllib.parse import parse_qs

from datasette import hookimpl

BOM = "\ufeff".encode()


def wants_bom(scope: dict) -> bool:
    if scope["type"] != "http" or not scope["path"].endswith(".csv"):
        return False
    values = parse_qs(scope["query_string"].decode("latin-1")).get("_bom", [])
    return any(value.lower() in ("on", "1", "true") for value in values)


@hookimpl
def asgi_wrapper():
    def wrap(app):
        async def csv_bom(scope, receive, send):
            if not wants_bom(scope):
                await app(scope, receive, send)
                return
            state = {"ok": False, "marked": False}

            async def marked(message):
                if message["type"] == "http.response.start":
                    state["ok"] = message["status"] == 200
                    if state["ok"]:
                        headers = [
                            (name, str(int(value) + len(BOM)).encode() if name.lower() == b"content-length" else value)
                            for name, value in message.get("headers", [])
                        ]
                        message = {**message, "headers": headers}
                elif message["type"] == "http.response.body" and state["ok"] and not state["marked"]:
                    state["marked"] = True
                    message = {**message, "body": BOM + message.get("body", b"")}
                await send(message)

            await app(scope, receive, marked)

        return csv_bom

    return wrap
