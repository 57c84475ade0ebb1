"""Request bodies are bounded while they are read, before anything parses them.

A declared Content-Length says nothing about a chunked body, and a multipart parser spools what
it reads to temporary files: the only place a limit holds for every body is the ASGI `receive`
channel itself. `limit_body` wraps it; reading past the limit raises `BodyTooLarge`, which each
kind of endpoint turns into its own answer (a BBB `sizeError` for the API, 413 elsewhere).
"""

from __future__ import annotations

from starlette.types import Message, Receive, Scope


class BodyTooLarge(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(f"The request body is larger than {limit} bytes")
        self.limit = limit


def declared_length(scope: Scope) -> int | None:
    for key, value in scope.get("headers", ()):
        if key == b"content-length":
            text = value.decode("latin-1").strip()
            return int(text) if text.isdigit() else None
    return None


def limit_body(scope: Scope, receive: Receive, limit: int) -> Receive:
    """`receive`, raising BodyTooLarge as soon as the body passes `limit` bytes (or at once, if
    its declared length does)."""
    declared = declared_length(scope)
    if declared is not None and declared > limit:

        async def refuse() -> Message:
            raise BodyTooLarge(limit)

        return refuse
    seen = 0

    async def bounded() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise BodyTooLarge(limit)
        return message

    return bounded
