"""One browser connection to a room: who it is, and a bounded queue of messages to send it.

A slow client never slows the room: messages go to its queue, and a client whose queue fills
up (it stopped reading) is disconnected instead of buffering without end. The queue is bounded
in messages and in characters: a few hundred small messages are a normal burst, a few hundred
welcomes (each up to the shared notes' budget) would be hundreds of megabytes. How much a connection
may send is counted per user and per meeting, not here (room/limits.py).
"""

from __future__ import annotations

import asyncio
import itertools
import json
from dataclasses import dataclass, field
from typing import Any

from sala.meetings.model import Attendee
from sala.room.close_codes import CloseCode

OUTBOX_SIZE = 512
OUTBOX_CHARS = 8 * 1024 * 1024
"""Characters queued for one connection; one message larger than this still goes alone."""
_ids = itertools.count(1)


def encode(message: dict[str, Any]) -> str:
    return json.dumps(message, ensure_ascii=False, separators=(",", ":"))


@dataclass(eq=False)
class Connection:
    attendee: Attendee
    id: int = field(default_factory=lambda: next(_ids))
    outbox: asyncio.Queue[str | None] = field(
        default_factory=lambda: asyncio.Queue(maxsize=OUTBOX_SIZE)
    )
    refused_in_a_row: int = 0
    closed: bool = False
    close_code: int = CloseCode.NORMAL
    in_lobby: bool = False
    version: int = 1
    """The protocol version the client said in `hello`."""
    users_seq: int = 0
    """The last roster change this connection has (room/presence.py)."""
    queued_chars: int = 0
    written: asyncio.Event = field(default_factory=asyncio.Event)
    """Set once nothing more will be written: the close frame went out, or the socket failed."""

    @property
    def user_id(self) -> str:
        return self.attendee.internal_user_id

    def send_text(self, text: str) -> None:
        if self.closed:
            return
        if self.queued_chars and self.queued_chars + len(text) > OUTBOX_CHARS:
            self.close(CloseCode.TRY_AGAIN_LATER)  # this client is not keeping up
            return
        try:
            self.outbox.put_nowait(text)
        except asyncio.QueueFull:
            self.close(CloseCode.TRY_AGAIN_LATER)
            return
        self.queued_chars += len(text)

    async def next_text(self) -> str | None:
        """The next message to write, or None once the connection is closing."""
        text = await self.outbox.get()
        if text is not None:
            self.queued_chars -= len(text)
        return text

    def send(self, message: dict[str, Any]) -> None:
        self.send_text(encode(message))

    def close(self, code: int = CloseCode.NORMAL) -> None:
        if self.closed:
            return
        self.closed = True
        self.close_code = code
        while True:
            try:
                self.outbox.put_nowait(None)
                return
            except asyncio.QueueFull:
                self.outbox.get_nowait()
