"""The lifecycle reaper: a background task that ends meetings whose deadlines passed, and
deletes session tokens long expired.

It only asks MeetingService.expire_due() at an interval (and RoomSessions.purge_expired() every
PURGE_EVERY_S); the rules live in rules.py and the deadlines in the database, so tests call
expire_due() after moving a ManualClock.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from sala.meetings.service import MeetingService
from sala.meetings.sessions import RoomSessions

log = logging.getLogger(__name__)


PURGE_EVERY_S = 3600.0


class Reaper:
    def __init__(
        self,
        meetings: MeetingService,
        interval_seconds: float,
        sessions: RoomSessions | None = None,
    ) -> None:
        self._meetings = meetings
        self._interval = interval_seconds
        self._sessions = sessions
        self._purged_at = -PURGE_EVERY_S
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="sala-reaper")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        while True:
            try:
                await self._meetings.expire_due()
                now = asyncio.get_running_loop().time()
                if self._sessions is not None and now - self._purged_at >= PURGE_EVERY_S:
                    self._purged_at = now
                    await self._sessions.purge_expired()
            except Exception:
                # A database hiccup must not stop the reaper for good; it tries again next tick.
                log.exception("lifecycle check failed")
            await asyncio.sleep(self._interval)
