"""The ceiling for bench/api.py: a bare ASGI app that answers every request with fixed XML.

It runs on the same server stack as `sala serve` (uvicorn, one worker, http/loop "auto" so
httptools and uvloop, access log off, proxy headers on, no Server header, lifespan on) and does
no work of its own, so its throughput is the most any API call can reach on this machine with
this load generator. The body is byte for byte what sala answers to isMeetingRunning for a
meeting nobody is in.

`--app starlette` serves the same answer through a Starlette app routed like sala's API
(`/bigbluebutton/api/{call:path}`, Starlette's default middleware): not a ceiling but a reference
point that shows what the framework alone costs per request.

    python -m bench.ceiling_app --host 127.0.0.1 --port 8091 [--app asgi|starlette]
"""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

BODY = b"<response><returncode>SUCCESS</returncode><running>false</running></response>"
# The headers sala's API endpoint sends (Starlette adds content-length the same way).
HEADERS = [
    (b"content-type", b"text/xml;charset=UTF-8"),
    (b"cache-control", b"no-cache"),
    (b"content-length", str(len(BODY)).encode("ascii")),
]
START: Message = {"type": "http.response.start", "status": 200, "headers": HEADERS}
BODY_MESSAGE: Message = {"type": "http.response.body", "body": BODY}


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "http":
        await send(START)
        await send(BODY_MESSAGE)
    elif scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return


def starlette_app() -> Any:
    """The same answer behind Starlette's router, as sala's API route is."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    async def endpoint(_: Request) -> Response:
        return Response(
            BODY, headers={"Content-Type": "text/xml;charset=UTF-8", "Cache-Control": "no-cache"}
        )

    methods = ["GET", "POST", "HEAD"]
    return Starlette(
        routes=[
            Route("/", endpoint, methods=methods),
            Route("/bigbluebutton/api/{call:path}", endpoint, methods=methods),
        ]
    )


def main() -> int:
    import uvicorn

    parser = argparse.ArgumentParser(prog="python -m bench.ceiling_app", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8091)
    parser.add_argument("--log-level", default="warning")
    parser.add_argument("--app", choices=("asgi", "starlette"), default="asgi")
    args = parser.parse_args()
    # Keep these in step with sala.cli.cmd_serve: the point is the same stack minus sala.
    config = uvicorn.Config(
        app if args.app == "asgi" else starlette_app(),
        host=args.host,
        port=args.port,
        log_level=args.log_level,
        access_log=False,
        proxy_headers=True,
        server_header=False,
        lifespan="on",
    )
    uvicorn.Server(config).run()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
