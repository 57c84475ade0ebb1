"""The lifecycle reaper: a background task that ends meetings whose deadlines passed.

It only asks MeetingService.expire_due() at an interval; the rules live in rules.py and the
deadlines in the database, so tests call expire_due() after moving a ManualClock.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from sala.meetings.service import MeetingService

log = logging.getLogger(__name__)


class Reaper:
    def __init__(self, meetings: MeetingService, interval_seconds: float) -> None:
        self._meetings = meetings
        self._interval = interval_seconds
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
            except Exception:
                # A database hiccup must not stop the reaper for good; it tries again next tick.
                log.exception("lifecycle check failed")
            await asyncio.sleep(self._interval)
