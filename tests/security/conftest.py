"""The room tests' real server (tests/room/conftest.py) for the security tests, plus helpers
for what they do over and over: open sockets on one cookie, read until a socket closes."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import websockets

from tests.room.conftest import RoomClient, RoomServer, room_server  # noqa: F401  (fixture)


async def opened(server: RoomServer, cookie: str) -> RoomClient:
    """A connection on this room cookie, past its welcome."""
    client = await RoomClient.open(server, cookie)
    await client.welcomed()
    return client


async def close_code(client: RoomClient, within: float = 5.0) -> int | None:
    """Reads (and drops) whatever the server sends until it closes this socket."""
    try:
        async with asyncio.timeout(within):
            while True:
                await client.ws.recv()
    except websockets.ConnectionClosed:
        return client.ws.close_code
    except TimeoutError:
        raise AssertionError("the connection stayed open") from None


async def alive(client: RoomClient, ref: str = "alive") -> bool:
    """Whether the server still answers on this socket."""
    try:
        await client.send({"type": "ping", "ref": ref})
        return (await client.expect_reply(ref, within=3))["type"] == "pong"
    except (websockets.ConnectionClosed, AssertionError, TimeoutError):
        return False


async def drain(client: RoomClient, quiet: float = 0.5) -> list[dict[str, Any]]:
    """Everything this client receives until it has been quiet for `quiet` seconds."""
    got = list(client.inbox)
    client.inbox.clear()
    while True:
        try:
            got.append(json.loads(await asyncio.wait_for(client.ws.recv(), quiet)))
        except (TimeoutError, websockets.ConnectionClosed):
            return got
