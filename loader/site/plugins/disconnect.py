"""A CSV download lasts only as long as its reader: an export stops within a
moment of the reader hanging up, and a reader that stops taking bytes is let go.

uvicorn's `send` returns without a word once the client has gone (0.55 drops
the bytes), so an export, /-/csv's thread and helper process or Datasette's
own `_stream=on`, read and formatted the whole table for nobody: ten readers
that took 64 KB and hung up cost the workers 50 s of CPU. The one sign of a
hang-up an ASGI app gets is `http.disconnect` from `receive()`, which uvicorn
(h11 and httptools alike) answers once the request's body has been read and
the connection is lost; calling `receive()` also resumes reading the socket,
which is how the hang-up is seen at all. Datasette never calls it for a GET.
So a download runs as a task of its own beside a listener waiting on
`receive()`, and `http.disconnect` cancels the download: /-/csv's `finally`
kills its helper and closes its connections, and Datasette's stream stops at
its next await. (Starlette's StreamingResponse does the same with its
`listen_for_disconnect`.) The listener hands any request body on to the app
one message at a time, so an upload keeps uvicorn's flow control.

A reader that stops reading holds its export too: uvicorn's `send` waits
while the connection's buffer is full, so the export waits, holding a helper
process (one per worker). Each body is therefore sent in slices of SLICE
bytes, and a slice the reader has not taken within SEND_SECONDS ends the
download: the export is cancelled and the connection closed without the
body's last chunk, so the client sees a broken file, never a short one that
looks whole (uvicorn logs "ASGI callable returned without completing
response"). Once the socket's buffers (megabytes) are full, that lets go of
a reader slower than about 64 KB per SEND_SECONDS, 6 KB/s: at that pace a
whole table would take days. A slice is at most the write buffer's
high-water mark (asyncio's default, 64 KB), so a send waits for at most one
slice's worth of reading, whatever size of piece the export hands over.
Small pieces are gathered into slices too: Datasette's `_stream=on` hands
over each row as a message of its own, which uvicorn wrote to the socket as
one chunk and one system call each, thousands for a page of rows. And after
each slice the download lets the event loop run the worker's other requests:
a send that the socket takes at once does not wait, so Datasette formatted a
page of a thousand rows in the event loop in one go, and every other visitor
of the worker waited for it (a whole-list CSV put cached pages' p99 at seconds).

Only downloads (paths ending .csv) are guarded: pages are bounded by
Datasette's row limits, and a task and a timer per request would cost every
cached page.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

SEND_SECONDS = 10.0
SLICE = 64 * 1024

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[MutableMapping[str, Any], Receive, Send], Awaitable[None]]


def is_download(scope: MutableMapping[str, Any]) -> bool:
    return scope["type"] == "http" and scope["path"].endswith(".csv")


async def download(app: App, scope: MutableMapping[str, Any], receive: Receive, send: Send) -> None:
    """Run app for one download until it ends or its reader goes.

    A send the reader has not taken within SEND_SECONDS is ended by
    cancelling the download's task from a timer (asyncio.timeout would do,
    from Python 3.11), not by an Exception from send: Datasette catches every
    Exception around a response and would write it into the body, or try to
    start a 500, each a send that would wait SEND_SECONDS again."""
    inbox: asyncio.Queue[Message] = asyncio.Queue(maxsize=1)
    complete = False
    buffer = bytearray()  # body bytes not yet sent: less than a slice, between two messages

    async def listen() -> None:
        while (message := await receive())["type"] != "http.disconnect":
            await inbox.put(message)

    async def timed(message: Message) -> None:
        timer = asyncio.get_running_loop().call_later(SEND_SECONDS, task.cancel)
        try:
            await send(message)
        finally:
            timer.cancel()

    async def sliced(message: Message) -> None:
        nonlocal complete
        if message["type"] != "http.response.body":
            await timed(message)
            return
        buffer.extend(message.get("body", b""))
        more = message.get("more_body", False)
        while len(buffer) >= SLICE and (more or len(buffer) > SLICE):
            part = bytes(buffer[:SLICE])
            del buffer[:SLICE]
            await timed({"type": "http.response.body", "body": part, "more_body": True})
            await asyncio.sleep(0)  # the others' turn: see the module's docstring
        if not more:
            await timed({"type": "http.response.body", "body": bytes(buffer), "more_body": False})
            buffer.clear()
            complete = True

    task: asyncio.Future[None] = asyncio.ensure_future(app(scope, inbox.get, sliced))
    listener = asyncio.ensure_future(listen())
    try:
        await asyncio.wait([task, listener], return_when=asyncio.FIRST_COMPLETED)
        if listener.done() and complete:  # uvicorn answers http.disconnect once the response is sent, too
            await task
    finally:
        listener.cancel()
        task.cancel()
        await asyncio.gather(task, listener, return_exceptions=True)
    if not task.cancelled():
        task.result()


def wrapper(datasette: Any) -> Callable[[App], App]:
    def wrap(app: App) -> App:
        async def guarded(scope: MutableMapping[str, Any], receive: Receive, send: Send) -> None:
            if is_download(scope):
                await download(app, scope, receive, send)
            else:
                await app(scope, receive, send)

        return guarded

    return wrap
