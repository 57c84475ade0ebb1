"""Every WebSocket close code the room uses, and what the page does on each (docs/protocol.md).

The 4xxx codes are the room's own; the page reconnects after any code not listed as final there.
"""

from __future__ import annotations

from enum import IntEnum


class CloseCode(IntEnum):
    NORMAL = 1000
    INTERNAL_ERROR = 1011
    """Writing to the socket failed."""
    TRY_AGAIN_LATER = 1013
    """The client stopped reading: its queue filled up (room/connection.py)."""
    BAD_HANDSHAKE = 4400
    """No `hello` of this protocol's version in time."""
    UNAUTHENTICATED = 4401
    """No valid room session (cookie or `session` query parameter)."""
    FORBIDDEN = 4403
    """Refused: a foreign origin, removed or banned, denied by a moderator, not in the meeting."""
    REPLACED = 4409
    """A newer socket of the same session or user replaced this one: the page does not
    reconnect (it would only replace the newer one in turn)."""
    GONE = 4410
    """The meeting, or this participation in it, ended."""
    MOVED = 4421
    """Another front end owns this meeting's room now (room/ownership.py): the page asks where
    to connect and reconnects at once."""
    TOO_MANY = 4429
    """Kept sending what was refused, or (re)connected too often."""
