"""The background task that moves events out: log → fan-out → deliveries → receivers.

It runs whenever it is told something changed (the bus in this process; the parent's pipe in
`sala worker`), and otherwise wakes when the next retry is due, or every `idle_seconds` to pick
up what other processes logged. An idle pass costs one query: the log position is kept in memory
and the outbox is only read when deliveries were queued, the outbox changed, or one is due.
Stopping it waits for the requests in flight; whatever is left pending stays in the outbox for
the next start.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from sala.events.bus import Bus
from sala.events.delivery import Deliverer
from sala.events.fanout import Fanout

log = logging.getLogger(__name__)

BATCH_DELAY_S = 0.02
OUTBOX_CHANGED = "outbox.changed"
"""Bus topic: deliveries changed outside the worker (hooks/enable made some due at once)."""


class EventWorker:
    def __init__(
        self,
        fanout: Fanout,
        deliverer: Deliverer,
        bus: Bus,
        idle_seconds: float = 1.0,
        topics: tuple[str, ...] = ("*",),
    ) -> None:
        """`topics`: what wakes it on `bus`; every change in a single process, only the
        outbox's in a worker process (its server wakes it otherwise)."""
        self.fanout = fanout
        self.deliverer = deliverer
        self._idle = idle_seconds
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._unsubscribes = [bus.subscribe(topic, self._on_bus) for topic in topics]

    async def _on_bus(self, topic: str, _message: dict[str, Any]) -> None:
        self.poke(outbox_changed=topic == OUTBOX_CHANGED)

    def poke(self, outbox_changed: bool = False) -> None:
        if outbox_changed:
            self.deliverer.changed()
        self._wake.set()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="sala-events")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.deliverer.drain()
        for unsubscribe in self._unsubscribes:
            unsubscribe()
        self._unsubscribes = []

    async def run_once(self) -> None:
        """One full pass: queue every new event, start every due delivery."""
        while await self.run_step():
            pass

    async def run_step(self) -> bool:
        """One batch of fan-out, then start whatever is due; True if more events wait.

        Alternating keeps deliveries flowing while a burst of events is being queued: with
        many hooks one burst can take the fan-out many seconds."""
        queued = self.fanout.queued
        more = await self.fanout.run_once() > 0
        if self.fanout.queued > queued:
            self.deliverer.changed()
        due = self.deliverer.due_in_ms()
        if self.deliverer.busy or due == 0:
            await self.deliverer.pump()
            await self.deliverer.next_due_in_ms()
        return more

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            # Changes come in bursts (a create, its join, its chat): handle them together.
            await asyncio.sleep(BATCH_DELAY_S)
            try:
                if await self.run_step():
                    self._wake.set()
                due = self.deliverer.due_in_ms()
            except Exception:
                log.exception("event worker pass failed")
                due = None
            timeout = self._idle if due is None else min(self._idle, due / 1000)
            # A finished request frees room for the next one in its ordering key.
            if self.deliverer.busy:
                timeout = min(timeout, 0.05)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=max(timeout, 0.01))
