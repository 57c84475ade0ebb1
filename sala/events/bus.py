"""The internal event bus: how one part of sala tells the others that something changed.

Messages are published after the change is committed. The in-process bus serves one sala
process; the Redis-backed bus (sala/cluster/redis_bus.py) with the same interface connects
several. That one can miss messages while Redis is unreachable: `in_sync` says when, and the
`on_resync` callbacks run once nothing is missed any more, so subscribers that keep state
(caches) read it again from the database. A `TappedBus` around either also tells taps what this
process published (how a front end wakes its workers).
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

log = logging.getLogger(__name__)

Handler = Callable[[str, dict[str, Any]], Awaitable[None]]
ResyncCallback = Callable[[], Awaitable[None]]


class Bus(Protocol):
    async def publish(self, topic: str, message: dict[str, Any]) -> None: ...

    def subscribe(self, topic: str, handler: Handler) -> Callable[[], None]:
        """Call `handler(topic, message)` for each message; returns an unsubscribe function."""
        ...

    def on_resync(self, callback: ResyncCallback) -> Callable[[], None]:
        """Call `callback()` whenever messages may have been missed and delivery is whole
        again; returns a function that removes it."""
        ...

    @property
    def in_sync(self) -> bool:
        """False while messages may be missed (the shared bus lost its link)."""
        ...


class InProcessBus:
    def __init__(self) -> None:
        self._handlers: dict[str, list[Handler]] = defaultdict(list)

    @property
    def in_sync(self) -> bool:
        return True  # nothing between publisher and subscriber can lose a message

    def on_resync(self, callback: ResyncCallback) -> Callable[[], None]:
        return lambda: None  # never called: see in_sync

    async def publish(self, topic: str, message: dict[str, Any]) -> None:
        handlers = [*self._handlers.get(topic, ()), *self._handlers.get("*", ())]
        if not handlers:
            return
        results = await asyncio.gather(
            *(h(topic, message) for h in handlers), return_exceptions=True
        )
        for result in results:
            # A failing subscriber must not break the publisher, whose change is committed.
            if isinstance(result, BaseException):
                log.error("bus subscriber failed on %s", topic, exc_info=result)

    def subscribe(self, topic: str, handler: Handler) -> Callable[[], None]:
        self._handlers[topic].append(handler)

        def unsubscribe() -> None:
            if handler in self._handlers[topic]:
                self._handlers[topic].remove(handler)

        return unsubscribe


class TappedBus:
    """A bus that also hands every message published through it to its taps: the changes made
    in this process, as opposed to everything the bus carries from other processes."""

    def __init__(self, inner: Bus) -> None:
        self.inner = inner
        self._taps: list[Handler] = []

    def tap(self, handler: Handler) -> None:
        self._taps.append(handler)

    async def publish(self, topic: str, message: dict[str, Any]) -> None:
        await self.inner.publish(topic, message)
        for tap in self._taps:
            try:
                await tap(topic, message)
            except Exception:
                log.exception("bus tap failed on %s", topic)

    def subscribe(self, topic: str, handler: Handler) -> Callable[[], None]:
        return self.inner.subscribe(topic, handler)

    def on_resync(self, callback: ResyncCallback) -> Callable[[], None]:
        return self.inner.on_resync(callback)

    @property
    def in_sync(self) -> bool:
        return self.inner.in_sync
