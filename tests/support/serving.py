"""Serve an ASGI app (the simulator's parts, or sala) on a loopback port in the test's event
loop, and stop it after."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import uvicorn
from starlette.types import ASGIApp


@contextlib.asynccontextmanager
async def serve_asgi(app: ASGIApp, port: int, lifespan: str = "off") -> AsyncIterator[str]:
    """`app` at http://127.0.0.1:`port` (the URL yielded) until the block ends."""
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan=lifespan)
    )
    task = asyncio.create_task(server.serve())
    for _ in range(500):
        if server.started or task.done():
            break
        await asyncio.sleep(0.02)
    if task.done():
        task.result()  # raises why it could not start
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await stop_server(server, task)


async def stop_server(server: uvicorn.Server, task: asyncio.Task[None]) -> None:
    """Stop `server` (whose `serve()` runs as `task`) within a bounded time: a graceful stop
    first; then uvicorn's forced exit, which stops waiting for connections a browser or client
    left open (a graceful stop has been seen to wait on one for as long as the run lasted)."""
    server.should_exit = True
    await asyncio.wait({task}, timeout=5)
    if not task.done():
        server.force_exit = True
        await asyncio.wait({task}, timeout=5)
    if not task.done():
        task.cancel()
        await asyncio.wait({task}, timeout=5)
    if task.done() and not task.cancelled():
        task.result()
