"""A real sala server in this event loop, and WebSocket clients that join it like browsers."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
import uvicorn
import websockets
from websockets.asyncio.client import ClientConnection

from sala.app import build_app
from sala.clock import Clock
from sala.config import Settings
from sala.services import Services
from tests.conftest import free_port
from tests.support.serving import stop_server


@dataclass
class RoomServer:
    base: str
    secret: str
    services: Services
    http: httpx.AsyncClient

    def signed(self, call: str, params: dict[str, str]) -> str:
        query = urlencode(params)
        digest = hashlib.sha1(f"{call}{query}{self.secret}".encode()).hexdigest()
        return f"{self.base}/bigbluebutton/api/{call}?{query}&checksum={digest}"

    async def api(self, call: str, **params: str) -> str:
        return (await self.http.get(self.signed(call, params))).text

    async def create(self, **params: str) -> str:
        meeting_id = f"room-{uuid.uuid4()}"
        body = await self.api(
            "create", name="Room", meetingID=meeting_id, attendeePW="ap", moderatorPW="mp", **params
        )
        assert "<returncode>SUCCESS</returncode>" in body, body
        return meeting_id

    async def session(self, meeting_id: str, name: str, role: str = "VIEWER", **extra: str) -> str:
        """A join through the API and the hand-off, as a browser does: the room cookie."""
        response = await self.http.get(
            self.signed("join", {"meetingID": meeting_id, "fullName": name, "role": role, **extra})
        )
        assert response.status_code == 302, response.text
        handoff = await self.http.get(response.headers["location"])
        assert handoff.status_code == 303, handoff.text
        return handoff.cookies["sala_room"]

    async def client(
        self, meeting_id: str, name: str, role: str = "VIEWER", **extra: str
    ) -> RoomClient:
        return await RoomClient.open(self, await self.session(meeting_id, name, role, **extra))

    async def joined(self, meeting_id: str, name: str, role: str = "VIEWER") -> RoomClient:
        """A client past its welcome."""
        client = await self.client(meeting_id, name, role)
        await client.welcomed()
        return client


@dataclass
class RoomClient:
    ws: ClientConnection
    inbox: list[dict[str, Any]] = field(default_factory=list)
    me: str = ""
    """This participant's internal user ID, once `welcomed`."""

    @classmethod
    async def open(cls, server: RoomServer, cookie: str, hello: bool = True) -> RoomClient:
        ws = await websockets.connect(
            server.base.replace("http", "ws") + "/room/ws",
            additional_headers={"Cookie": f"sala_room={cookie}"},
            open_timeout=5,
        )
        client = cls(ws)
        if hello:
            await client.send({"type": "hello", "version": 1})
        return client

    async def send(self, message: dict[str, Any] | str) -> None:
        await self.ws.send(message if isinstance(message, str) else json.dumps(message))

    async def expect(
        self,
        type_: str,
        within: float = 5.0,
        where: Callable[[dict[str, Any]], bool] = lambda _m: True,
        **match: Any,
    ) -> dict[str, Any]:
        """The next message of this type (with these fields, passing `where`); messages
        skipped on the way stay in the inbox."""

        def wanted(message: dict[str, Any]) -> bool:
            return (
                message.get("type") == type_
                and all(message.get(k) == v for k, v in match.items())
                and where(message)
            )

        for index, message in enumerate(self.inbox):
            if wanted(message):
                return self.inbox.pop(index)
        deadline = asyncio.get_running_loop().time() + within
        while True:
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise AssertionError(f"no {type_} {match} in time; got {self.inbox}")
            raw = await asyncio.wait_for(self.ws.recv(), remaining)
            message = json.loads(raw)
            if wanted(message):
                return message
            self.inbox.append(message)

    async def welcomed(self) -> dict[str, Any]:
        welcome = await self.expect("welcome")
        self.me = welcome["you"]["id"]
        return welcome

    async def expect_reply(self, ref: str, within: float = 15.0) -> dict[str, Any]:
        """The answer (or error) to the request sent with this `ref`."""
        for index, message in enumerate(self.inbox):
            if message.get("ref") == ref:
                return self.inbox.pop(index)
        deadline = asyncio.get_running_loop().time() + within
        while True:
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise AssertionError(f"no reply to {ref} in time; got {self.inbox}")
            message = json.loads(await asyncio.wait_for(self.ws.recv(), remaining))
            if message.get("ref") == ref:
                return message
            self.inbox.append(message)

    async def nothing_of(
        self,
        type_: str,
        wait: float = 0.3,
        where: Callable[[dict[str, Any]], bool] = lambda _m: True,
    ) -> None:
        try:
            found = await self.expect(type_, within=wait, where=where)
        except (AssertionError, TimeoutError):
            return
        raise AssertionError(f"unexpected {found}")

    async def close(self) -> None:
        await self.ws.close()


@contextlib.asynccontextmanager
async def serve_room(settings: Settings, clock: Clock | None = None) -> AsyncIterator[RoomServer]:
    """sala with these settings on a free loopback port, in this event loop (on `clock`, if
    given, else the system's)."""
    port = free_port()
    settings = settings.model_copy(update={"public_url": f"http://127.0.0.1:{port}"})
    app = build_app(settings, clock=clock, run_reaper=False)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    task = asyncio.create_task(server.serve())
    for _ in range(500):
        if server.started or task.done():
            break
        await asyncio.sleep(0.02)
    async with httpx.AsyncClient(timeout=10) as http:
        yield RoomServer(
            f"http://127.0.0.1:{port}", settings.shared_secret, app.state.services, http
        )
    await stop_server(server, task)


@pytest.fixture
async def room_server(settings: Settings) -> AsyncIterator[RoomServer]:
    async with serve_room(settings) as server:
        yield server
