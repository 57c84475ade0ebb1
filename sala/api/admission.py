"""Admission control for API calls: how much of the event loop integrations may take at once.

The API and the rooms share one event loop. Integrations poll (getMeetingInfo, isMeetingRunning)
in closed loops, each sending its next request as soon as the last is answered; unchecked, a
few dozen such pollers keep the loop's ready queue full of API work, and every room message
waits behind it. At most `limit` calls are worked on at once and the rest wait their turn in
order, so each turn of the loop does a bounded amount of API work and the rooms' messages are
never more than that far behind. A poller is slowed down, not refused: its answer comes a
little later, which is what closes its loop.

Only the call's own work holds a place: reading the request body happens before (a slow
uploader must not hold the API up for everybody) and writing the answer after (nor a slow
reader).
"""

from __future__ import annotations

import asyncio
from types import TracebackType


class Admission:
    def __init__(self, limit: int) -> None:
        """`limit`: calls worked on at once; 0 lets every call through."""
        self.limit = limit
        self._slots = asyncio.Semaphore(limit) if limit > 0 else None

    async def __aenter__(self) -> None:
        if self._slots is not None:
            await self._slots.acquire()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._slots is not None:
            self._slots.release()
