"""The room's WebSocket endpoint: authenticate, shake hands, then relay messages to the room.

Two tasks per connection: this one reads, validates and rate-limits what the browser sends;
a writer drains the connection's bounded outbox. A bad message gets an error back and the
connection stays; a client that keeps flooding, or goes silent past the heartbeat, is closed.
Connections are counted, and messages rate-limited, per session, user and meeting
(room/limits.py) before anything else is done with them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from sala.api.admission import ROOMS
from sala.meetings.errors import InvalidSession
from sala.meetings.sessions import RoomSessions
from sala.room import protocol as p
from sala.room.close_codes import CloseCode
from sala.room.connection import Connection
from sala.room.handoff import COOKIE
from sala.room.hub import RoomHub
from sala.room.limits import ConnectionLimits, Lease, Limited
from sala.room.ownership import SINGLE_PROCESS_PATH
from sala.room.room import Room

log = logging.getLogger(__name__)

HELLO_TIMEOUT_S = 10.0
IDLE_TIMEOUT_S = 60.0
"""Clients ping every 20 s; a connection silent for this long is gone."""
FLOOD_LIMIT = 50
"""Refused messages in a row before the connection is closed."""
_GONE = (TimeoutError, WebSocketDisconnect, RuntimeError, KeyError)
"""What receiving raises once the peer left, went silent, or our writer closed the socket."""


class RoomSocket:
    def __init__(
        self,
        sessions: RoomSessions,
        hub: RoomHub,
        public_url: str,
        limits: ConnectionLimits | None = None,
    ) -> None:
        self._sessions = sessions
        self._hub = hub
        self.limits = limits or ConnectionLimits()
        public = urlsplit(public_url)
        self._public_origin = f"{public.scheme}://{public.netloc}"

    def _origin_ok(self, websocket: WebSocket) -> bool:
        # Browsers always send Origin; refusing foreign ones stops other sites from using a
        # visitor's room cookie (cross-site WebSocket hijacking).
        origin = websocket.headers.get("origin")
        if origin is None:
            return True
        host = websocket.headers.get("host", "")
        return origin in (self._public_origin, f"http://{host}", f"https://{host}")

    async def handle(self, websocket: WebSocket) -> None:
        if not self._origin_ok(websocket):
            await websocket.close(code=CloseCode.FORBIDDEN)
            return
        token = websocket.cookies.get(COOKIE) or websocket.query_params.get("session", "")
        try:
            session = await self._sessions.room_session(token)
        except InvalidSession:
            await websocket.close(code=CloseCode.UNAUTHENTICATED)
            return
        user_id = session.attendee.internal_user_id
        ownership = self._hub.ownership
        if ownership is not None and not await ownership.admit(session.meeting.internal_id):
            # Another front end owns this meeting: the page asks /room/route and goes there.
            await websocket.accept()
            await _close(websocket, CloseCode.MOVED)
            return
        if not self.limits.may_connect(user_id):
            # Accepted only to be closed: a browser sees a close code, never an HTTP status.
            await websocket.accept()
            await _close(websocket, CloseCode.TOO_MANY)
            return
        conn = Connection(session.attendee)
        # Counted before the handshake, so sockets that never say hello count too.
        lease = self.limits.admit(conn, token, user_id, session.meeting.internal_id)
        room: Room | None = None
        writer: asyncio.Task[None] | None = None
        try:
            await websocket.accept()
            writer = asyncio.create_task(_write(websocket, conn))
            try:
                raw = await asyncio.wait_for(websocket.receive_text(), HELLO_TIMEOUT_S)
                hello = p.parse(raw)
                if not isinstance(hello, p.Hello) or hello.version not in p.ACCEPTED_VERSIONS:
                    raise p.ProtocolError(
                        "bad_handshake",
                        f'Start with {{"type": "hello", "version": {p.PROTOCOL_VERSION}}}',
                    )
            except (*_GONE, p.ProtocolError) as exc:
                if isinstance(exc, p.ProtocolError):
                    conn.send(_error(exc))
                conn.close(CloseCode.BAD_HANDSHAKE)
                return
            if conn.closed:  # replaced by a newer connection while it shook hands
                return
            conn.version = hello.version
            room = await self._hub.room(session.meeting)
            try:
                await room.attach(conn, session.meeting)
            except p.ProtocolError as exc:
                conn.send(_error(exc))
                conn.close(CloseCode.FORBIDDEN)
                return
            with ROOMS.connected():  # API calls are paced while rooms need the loop
                await self._read(websocket, conn, room, lease)
        finally:
            self.limits.release(lease)
            conn.close(conn.close_code if conn.closed else CloseCode.NORMAL)
            if room is not None:
                await room.detach(conn)
            if writer is not None:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await asyncio.wait_for(writer, 5)

    async def route(self, request: Request) -> Response:
        """GET /room/route: the WebSocket path the page should use for its meeting (a node's
        own path in a cluster, room/ownership.py). Asked before every (re)connection."""
        token = request.cookies.get(COOKIE) or request.query_params.get("session", "")
        try:
            session = await self._sessions.room_session(token)
        except InvalidSession:
            return JSONResponse({"error": "no room session"}, status_code=401, headers=_NO_STORE)
        ownership = self._hub.ownership
        path = (
            SINGLE_PROCESS_PATH
            if ownership is None
            else await ownership.route(session.meeting.internal_id)
        )
        return JSONResponse({"ws": path}, headers=_NO_STORE)

    async def _read(self, websocket: WebSocket, conn: Connection, room: Room, lease: Lease) -> None:
        while not conn.closed:
            try:
                raw = await asyncio.wait_for(websocket.receive_text(), IDLE_TIMEOUT_S)
            except _GONE:
                return
            try:
                pointer = _POINTER.search(raw) is not None
                if pointer:
                    # Its own budget; beyond it the move is dropped (the next supersedes it).
                    if not lease.pointer_allowed():
                        continue
                else:
                    self._check_message(lease, raw)
                message = p.parse(raw)
                if pointer and not isinstance(message, p.PointerMove):
                    self._check_message(lease, raw)  # not a move after all
                if isinstance(message, p.CHAT_WRITES):
                    lease.check_chat(message.ref)
                await room.handle(conn, message)
                conn.refused_in_a_row = 0
            except p.ProtocolError as exc:
                # A meeting's budget running out is not this sender's doing.
                if not isinstance(exc, Limited) or exc.own_fault:
                    conn.refused_in_a_row += 1
                    if conn.refused_in_a_row >= FLOOD_LIMIT:
                        # It keeps sending what it is told is refused.
                        conn.close(CloseCode.TOO_MANY)
                        return
                conn.send(_error(exc))
            except Exception:
                log.exception("room action failed")
                # Echo the ref, as every error does: the page learns which request was not
                # done (a chat message that could not be stored while the database was away).
                failed = p.ProtocolError(
                    "internal", "Something went wrong; it was logged", _ref_of(raw)
                )
                conn.send(_error(failed))

    @staticmethod
    def _check_message(lease: Lease, raw: str) -> None:
        try:
            lease.check_message()
        except Limited as exc:
            exc.ref = _ref_of(raw)
            raise


_NO_STORE = {"Cache-Control": "no-store"}
_POINTER = re.compile(r'"type"\s*:\s*"pointer\.move"')
"""Tells a pointer move before parsing, to count it against its own budget."""
_REF = re.compile(r'"ref"\s*:\s*"([^"\\]{1,64})"')


def _ref_of(raw: str) -> str | None:
    """The `ref` of a message refused unread, so the page knows which request failed (the
    notes start over when one of their edits is refused). A search, not a parse: cheaper."""
    found = _REF.search(raw)
    return found.group(1) if found else None


def _error(exc: p.ProtocolError) -> dict[str, object]:
    return {"type": "error", "code": exc.code, "message": exc.message, "ref": exc.ref}


async def _close(websocket: WebSocket, code: int) -> None:
    if websocket.application_state != WebSocketState.DISCONNECTED:
        with contextlib.suppress(Exception):
            await websocket.close(code=code)


async def _write(websocket: WebSocket, conn: Connection) -> None:
    try:
        while (text := await conn.next_text()) is not None:
            await websocket.send_text(text)
    except Exception:
        conn.close(CloseCode.INTERNAL_ERROR)
    else:
        await _close(websocket, conn.close_code)
    finally:
        conn.written.set()
