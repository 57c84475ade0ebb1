"""How a front end stops: its rooms are handed over while their sockets are still open.

uvicorn, told to stop (SIGTERM from systemd, Ctrl+C), first closes every connection itself,
WebSockets with 1012, and only then runs the application's shutdown. For a cluster's front end
that would drop its people with no word of where their meeting went, while the meeting's lease
still named this node: the pages would retry against a node that no longer listens until the
shutdown released it. `HandOverFirst` runs a hook before uvicorn's own shutdown, the room hub's
`hand_over_all`, which sends every room's people on with MOVED to the front end taking the
meeting; uvicorn then closes what is left as usual.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Awaitable, Callable

import uvicorn

log = logging.getLogger(__name__)

BEFORE_STOP_S = 10.0
"""The hook's budget: a stop is never held up longer than this by the hand-over."""


class HandOverFirst(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, before_stop: Callable[[], Awaitable[None]]) -> None:
        super().__init__(config)
        self._before_stop = before_stop

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        try:
            await asyncio.wait_for(self._before_stop(), BEFORE_STOP_S)
        except Exception:
            # Stopping goes on regardless: the leases lapse and the pages find the new owner.
            log.exception("handing the rooms over before stopping failed")
        await super().shutdown(sockets)
