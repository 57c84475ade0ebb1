"""A room participant without a browser: the API join, the hand-off to a room session and the
room WebSocket, as the browser client does them (docs/protocol.md).

For tests, screenshots and benchmarks that need people in a room beside the browsers under
test: a presenter who starts a poll, a crowd of viewers, the synthetic media participants of
tests/support/synthetic. Every message is read as soon as it arrives (the server drops a
connection whose queue fills), and the connection pings as the browser does. A message is parsed
only when somebody waits for it (a request's answer, by `ref`; the next message of a type; a
type somebody watches) or when it changes the roster: it speaks protocol version 3 and keeps the
roster (`users`) from the welcome's snapshot and the batched `users.delta` messages after it, as
the browser client does.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
import json
import secrets
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlencode, urljoin

import httpx
import websockets
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

PING_INTERVAL = 20.0
VERSION = 3
_ROSTER = ('{"type":"users.delta"', '{"type":"users.reset"')

Watcher = Callable[[dict[str, Any]], None]


def signed_url(base: str, secret: str, call: str, params: dict[str, str]) -> str:
    """An API URL with its SHA-1 checksum; `base` is the server's root (http://host:port)."""
    query = urlencode(params)
    digest = hashlib.sha1(f"{call}{query}{secret}".encode()).hexdigest()
    return f"{base}/bigbluebutton/api/{call}?{query}&checksum={digest}"


class RoomSocket:
    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.base = ""
        self.cookie = ""
        self.deflate = True
        self.welcome: dict[str, Any] = {}
        self.you: dict[str, Any] = {}
        self.received = 0
        self.users: dict[str, dict[str, Any]] = {}
        """Who is in the meeting as this participant sees it, by user ID."""
        self.users_seq = 0
        self.follow_roster = True
        """False: roster messages are not parsed once nobody waits (a large crowd's sockets
        would each parse every delta: N² work in the load generator, not in the server)."""
        self._roster_changed = asyncio.Event()
        self._waiting: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._replies: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._watchers: dict[str, Watcher] = {}
        self._refs = itertools.count(1)
        self._ref_prefix = secrets.token_hex(4)
        """Refs unique to this socket: some messages relay their sender's ref to everybody."""
        self._reader = asyncio.create_task(self._read())
        self._pinger = asyncio.create_task(self._ping())

    @classmethod
    async def join(
        cls,
        http: httpx.AsyncClient,
        base: str,
        secret: str,
        meeting_id: str,
        name: str,
        role: str = "VIEWER",
        deflate: bool = True,
        watch: Mapping[str, Watcher] | None = None,
        **extra: str,
    ) -> RoomSocket:
        """Joins and waits for `welcome` (or `lobby.waiting`, for a guest the lobby holds).
        `watch` maps message types to callbacks called with every such message from the first
        one after the hand-off on (the welcome too, when named), so none is missed."""
        params = {"meetingID": meeting_id, "fullName": name, "role": role, "redirect": "false"}
        answer = await http.get(signed_url(base, secret, "join", {**params, **extra}))
        token = ET.fromstring(answer.content).findtext("session_token")
        if not token:
            raise RuntimeError(f"join refused: {answer.text[:300]}")
        handoff = f"{base}/room/join?{urlencode({'sessionToken': token})}"
        return await cls.enter(http, base, handoff, deflate, watch)

    @classmethod
    async def enter(
        cls,
        http: httpx.AsyncClient,
        base: str,
        handoff_url: str,
        deflate: bool = True,
        watch: Mapping[str, Watcher] | None = None,
    ) -> RoomSocket:
        """Enters through a join URL someone else made (the LTI landing page's Join answers
        one, as a path on `base`): the hand-off, then the room WebSocket and its `welcome`."""
        handoff = await http.get(urljoin(base + "/", handoff_url))
        cookie = handoff.cookies.get("sala_room")
        if handoff.status_code != 303 or not cookie:
            raise RuntimeError(f"hand-off answered {handoff.status_code} without a room cookie")
        ws = await _open(http, base, cookie, deflate)
        socket = cls(ws)
        socket.base, socket.cookie, socket.deflate = base, cookie, deflate
        socket._watchers.update(watch or {})  # before the reader runs: nothing is missed
        await socket._hello()
        return socket

    async def _hello(self) -> None:
        first = self.expect("welcome", "lobby.waiting")
        await self.ws.send(json.dumps({"type": "hello", "version": VERSION}))
        welcome = await asyncio.wait_for(first, 30)
        self.welcome = welcome
        self.you = welcome.get("you") or {}

    def _apply(self, message: dict[str, Any]) -> None:
        """The roster: a welcome's or reset's snapshot, or a delta after it (one already
        included in the snapshot, `seq` not after ours, is skipped)."""
        kind = message.get("type")
        if kind in ("welcome", "users.reset"):
            self.users = {u["id"]: u for u in message.get("users", [])}
            self.users_seq = int(message.get("usersSeq", message.get("seq", 0)))
        elif kind == "users.delta" and message["seq"] > self.users_seq:
            for user in message["set"]:
                self.users[user["id"]] = user
            for gone in message["gone"]:
                self.users.pop(gone, None)
            self.users_seq = message["seq"]
        else:
            return
        self._roster_changed.set()

    async def roster(
        self, wanted: Callable[[dict[str, dict[str, Any]]], bool], within: float = 10.0
    ) -> dict[str, dict[str, Any]]:
        """The roster once `wanted(roster)` holds (changes arrive batched, within ~0.1 s)."""
        async with asyncio.timeout(within):
            while not wanted(self.users):
                self._roster_changed.clear()
                await self._roster_changed.wait()
        return self.users

    def names(self) -> set[str]:
        return {u["name"] for u in self.users.values()}

    async def reconnect(self, http: httpx.AsyncClient) -> None:
        """What the page does after its connection dropped: ask where the meeting lives now,
        connect there and say hello again (waits for the welcome)."""
        await self.close()
        self.ws = await _open(http, self.base, self.cookie, self.deflate)
        self._reader = asyncio.create_task(self._read())
        self._pinger = asyncio.create_task(self._ping())
        await self._hello()

    @property
    def closed(self) -> bool:
        return self._reader.done()

    def expect(self, *types: str) -> asyncio.Future[dict[str, Any]]:
        """A future for the next message of one of these types (ask before causing it)."""
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        for kind in types:
            self._waiting[kind] = future
        return future

    def watch(self, kind: str, watcher: Watcher) -> None:
        """Calls `watcher` with every message of type `kind` from now on."""
        self._watchers[kind] = watcher

    async def send(self, message: dict[str, Any]) -> None:
        await self.ws.send(json.dumps(message))

    async def request(self, message: dict[str, Any], within: float = 30.0) -> dict[str, Any]:
        """Sends `message` with a fresh `ref` and returns the message that carries it back:
        the answer, or the room's `error` frame (the caller decides what an error means)."""
        ref = f"{self._ref_prefix}-{next(self._refs)}"
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._replies[ref] = future
        try:
            await self.send({**message, "ref": ref})
            return await asyncio.wait_for(future, within)
        finally:
            self._replies.pop(ref, None)

    async def _read(self) -> None:
        with contextlib.suppress(ConnectionClosed):
            async for raw in self.ws:
                self.received += 1
                roster = self.follow_roster and isinstance(raw, str) and raw.startswith(_ROSTER)
                waited = self._waiting or self._replies or self._watchers
                if not waited and not roster and self.welcome:
                    continue  # nobody waits: not even parsed (a crowd of sockets stays cheap)
                message = json.loads(raw)
                self._apply(message)
                kind = str(message.get("type"))
                watcher = self._watchers.get(kind)
                if watcher is not None:
                    watcher(message)
                reply = self._replies.pop(str(message.get("ref")), None)
                if reply is not None and not reply.done():
                    reply.set_result(message)
                future = self._waiting.pop(kind, None)
                if future is not None and not future.done():
                    future.set_result(message)
        for future in [*self._waiting.values(), *self._replies.values()]:
            if not future.done():
                future.set_exception(ConnectionError("the room closed the connection"))

    async def _ping(self) -> None:
        with contextlib.suppress(ConnectionClosed):
            while True:
                await asyncio.sleep(PING_INTERVAL)
                await self.ws.send('{"type":"ping"}')

    async def close(self) -> None:
        self._pinger.cancel()
        with contextlib.suppress(Exception):
            await self.ws.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._reader, 10)


async def _open(http: httpx.AsyncClient, base: str, cookie: str, deflate: bool) -> ClientConnection:
    """The room WebSocket at the path /room/route names (a cluster node's own path)."""
    path = "/room/ws"
    answer = await http.get(f"{base}/room/route", headers={"Cookie": f"sala_room={cookie}"})
    if answer.status_code == 200:
        path = answer.json()["ws"]
    return await websockets.connect(
        base.replace("http://", "ws://") + path,
        additional_headers={"Cookie": f"sala_room={cookie}"},
        open_timeout=30,
        close_timeout=5,
        ping_interval=None,
        max_size=16 * 2**20,
        compression="deflate" if deflate else None,
    )
