"""The internal event bus: how one part of sala tells the others that something changed.

Messages are published after the change is committed. The in-process bus serves one sala
process; the Redis-backed one (cluster/redis_bus.py) connects several. A `TappedBus` around
either also tells taps what this process published (how a front end wakes its workers).
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

log = logging.getLogger(__name__)

Handler = Callable[[str, dict[str, Any]], Awaitable[None]]


class Bus(Protocol):
    async def publish(self, topic: str, message: dict[str, Any]) -> None: ...

    def subscribe(self, topic: str, handler: Handler) -> Callable[[], None]:
        """Call `handler(topic, message)` for each message; returns an unsubscribe function."""
        ...


class InProcessBus:
    def __init__(self) -> None:
        self._handlers: dict[str, list[Handler]] = defaultdict(list)

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
