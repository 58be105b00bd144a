"""Request limits: bodies over the limit and NUL in URLs are refused before any route runs."""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyLimit:
    """ASGI middleware answering 413 (JSON error) to bodies larger than *max_bytes*.

    The body is read here, up to the limit, before the app sees it: a ``Content-Length``
    over the limit is refused at once, and a chunked body that grows past it is refused as
    soon as it does (an error raised inside the app would be turned into a 400 by FastAPI's
    body parsing). A body within the limit is handed on whole.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check Content-Length, then read and count the body; pass it on within the limit."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(send)
            return
        chunks: list[bytes] = []
        seen = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            chunk = message.get("body", b"")
            seen += len(chunk)
            if seen > self.max_bytes:
                await self._refuse(send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()  # after the body: disconnect notices
            replayed = True
            return {"type": "http.request", "body": b"".join(chunks), "more_body": False}

        await self.app(scope, replay, send)

    async def _refuse(self, send: Send) -> None:
        message = f"request body is larger than {self.max_bytes} bytes"
        await _answer(send, 413, message, "TOO_LARGE")


class RefuseNul:
    """ASGI middleware answering 400 (JSON error) to a URL whose path or query holds a NUL.

    No job name, id or filter can hold one, and PostgreSQL refuses NUL in text, so such a
    request is refused here, the same way whichever store is behind the API.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse ``%00`` in the path or the query string; pass anything else on."""
        if scope["type"] == "http":
            query = bytes(scope.get("query_string", b"")).lower()
            if "\0" in scope["path"] or b"%00" in query or b"\0" in query:
                await _answer(send, 400, "the URL holds a NUL character (%00)", "INVALID")
                return
        await self.app(scope, receive, send)


async def _answer(send: Send, status: int, message: str, code: str) -> None:
    """Send the API's JSON error body with *status*."""
    body = json.dumps({"error": message, "code": code, "details": None}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
