"""A background step repeated at an interval until stopped: a failing step is logged and tried
again next time, never the end of the loop (Redis or the database may be briefly away)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable


class Periodic:
    def __init__(
        self, name: str, every_s: float, step: Callable[[], Awaitable[object]], failed: str
    ) -> None:
        self._name = name
        self._every_s = every_s
        self._step = step
        self._failed = failed
        """What the log says when a step fails."""
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=self._name)

    async def _run(self) -> None:
        log = logging.getLogger(self._step.__module__)
        while True:
            try:
                await self._step()
            except Exception:
                log.warning(self._failed, exc_info=True)
            await asyncio.sleep(self._every_s)

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
