"""An asyncio client for the Janus API over WebSockets.

Requests carry a transaction id and wait for their answer; plugin requests get an `ack` first
and their result later as an `event` with the same transaction, which `message` waits for.
Everything Janus sends on its own (webrtcup, hangup, talking events...) goes to the handler
registered for the handle it concerns. The session is kept alive with a keepalive every 25 s,
since Janus drops sessions after 60 s of silence.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

import websockets
from websockets.asyncio.client import ClientConnection
from websockets.typing import Subprotocol

log = logging.getLogger(__name__)

EventHandler = Callable[[dict[str, Any]], Awaitable[None]]
KEEPALIVE_S = 25.0


class JanusError(Exception):
    def __init__(self, code: int, reason: str) -> None:
        super().__init__(f"Janus error {code}: {reason}")
        self.code = code
        self.reason = reason


class JanusGone(JanusError):
    """The connection to Janus was lost: every pending request fails with this."""

    def __init__(self) -> None:
        super().__init__(0, "connection to Janus lost")


class JanusClient:
    def __init__(
        self, url: str, secret: str, *, admin: bool = False, timeout: float = 10.0
    ) -> None:
        self._url = url
        self._secret = secret
        self._admin = admin
        self._timeout = timeout
        self._ws: ClientConnection | None = None
        self._pending: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._events: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._handlers: dict[int, EventHandler] = {}
        self._reader: asyncio.Task[None] | None = None
        self._keepalive: asyncio.Task[None] | None = None
        self.session_id: int | None = None
        self.closed = asyncio.Event()

    async def connect(self) -> JanusClient:
        protocol = "janus-admin-protocol" if self._admin else "janus-protocol"
        self._ws = await websockets.connect(
            self._url,
            subprotocols=[Subprotocol(protocol)],
            open_timeout=self._timeout,
            max_size=2**22,
        )
        self._reader = asyncio.create_task(self._read(), name="janus-reader")
        return self

    async def close(self) -> None:
        for task in (self._keepalive, self._reader):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        if self._ws is not None:
            await self._ws.close()
        self._fail_all()

    def abort(self) -> None:
        """Drop the connection now, without the closing handshake a dead server would never
        answer (a media node that is gone)."""
        for task in (self._keepalive, self._reader):
            if task is not None:
                task.cancel()
        if self._ws is not None:
            self._ws.transport.abort()
        self.closed.set()
        self._fail_all()

    # --------------------------------------------------------------------------- requests --
    async def request(self, body: dict[str, Any]) -> dict[str, Any]:
        """Send a request and return Janus' direct answer (raising JanusError on `error`)."""
        if self._ws is None or self.closed.is_set():
            raise JanusGone()
        transaction = secrets.token_hex(8)
        message = {**body, "transaction": transaction}
        message["admin_secret" if self._admin else "apisecret"] = self._secret
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[transaction] = future
        try:
            await self._ws.send(json.dumps(message))
            answer = await asyncio.wait_for(future, self._timeout)
        finally:
            self._pending.pop(transaction, None)
        return _checked(answer)

    async def create_session(self) -> int:
        answer = await self.request({"janus": "create"})
        self.session_id = int(answer["data"]["id"])
        self._keepalive = asyncio.create_task(self._keep_alive(), name="janus-keepalive")
        return self.session_id

    async def attach(self, plugin: str, on_event: EventHandler | None = None) -> int:
        answer = await self.request(
            {"janus": "attach", "session_id": self.session_id, "plugin": plugin}
        )
        handle = int(answer["data"]["id"])
        if on_event is not None:
            self._handlers[handle] = on_event
        return handle

    async def detach(self, handle: int) -> None:
        self._handlers.pop(handle, None)
        with contextlib.suppress(JanusError, TimeoutError):
            await self.request(
                {"janus": "detach", "session_id": self.session_id, "handle_id": handle}
            )

    async def message(
        self, handle: int, body: dict[str, Any], jsep: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """A plugin request. Synchronous plugin requests answer at once (`success` with
        `plugindata`); asynchronous ones are acknowledged and answered by an `event`."""
        if self._ws is None or self.closed.is_set():
            raise JanusGone()
        transaction = secrets.token_hex(8)
        payload: dict[str, Any] = {
            "janus": "message",
            "session_id": self.session_id,
            "handle_id": handle,
            "body": body,
            "transaction": transaction,
            "apisecret": self._secret,
        }
        if jsep is not None:
            payload["jsep"] = jsep
        loop = asyncio.get_running_loop()
        direct: asyncio.Future[dict[str, Any]] = loop.create_future()
        later: asyncio.Future[dict[str, Any]] = loop.create_future()
        self._pending[transaction] = direct
        self._events[transaction] = later
        try:
            await self._ws.send(json.dumps(payload))
            answer = _checked(await asyncio.wait_for(direct, self._timeout))
            if answer.get("janus") == "ack":
                answer = _checked(await asyncio.wait_for(later, self._timeout))
        finally:
            self._pending.pop(transaction, None)
            self._events.pop(transaction, None)
        data = answer.get("plugindata", {}).get("data", {})
        if "error_code" in data:
            raise JanusError(int(data["error_code"]), str(data.get("error", "")))
        return answer

    async def admin(self, request: str, **fields: Any) -> dict[str, Any]:
        """An Admin API request (this client must connect to the admin endpoint)."""
        return await self.request({"janus": request, **fields})

    # ----------------------------------------------------------------------------- reading --
    async def _read(self) -> None:
        assert self._ws is not None
        try:
            async for raw in self._ws:
                message = json.loads(raw)
                transaction = message.get("transaction")
                kind = message.get("janus")
                if transaction in self._events and kind == "event":
                    future = self._events[transaction]
                elif transaction in self._pending and kind != "event":
                    future = self._pending[transaction]
                else:
                    future = None
                if future is not None and not future.done():
                    future.set_result(message)
                    continue
                handler = self._handlers.get(int(message.get("sender", 0) or 0))
                if handler is not None:
                    try:
                        await handler(message)
                    except Exception:
                        log.exception("Janus event handler failed")
        except websockets.ConnectionClosed:
            pass
        finally:
            self.closed.set()
            self._fail_all()

    def _fail_all(self) -> None:
        for future in [*self._pending.values(), *self._events.values()]:
            if not future.done():
                future.set_exception(JanusGone())

    async def _keep_alive(self) -> None:
        while not self.closed.is_set():
            await asyncio.sleep(KEEPALIVE_S)
            with contextlib.suppress(JanusError, TimeoutError):
                await self.request({"janus": "keepalive", "session_id": self.session_id})


def _checked(answer: dict[str, Any]) -> dict[str, Any]:
    if answer.get("janus") == "error":
        error = answer.get("error", {})
        raise JanusError(int(error.get("code", 0)), str(error.get("reason", "")))
    return answer
