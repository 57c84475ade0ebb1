"""The live-meeting read cache stays exact: invalidated by the bus, never storing a raced read."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sala.events.bus import InProcessBus
from sala.events.types import MEETING_CHANGED_TOPIC
from sala.meetings.cache import LiveMeetingCache
from sala.meetings.model import Meeting


async def test_bus_change_drops_the_entry() -> None:
    bus = InProcessBus()
    cache = LiveMeetingCache(bus)
    loads = 0

    async def load() -> Meeting | None:
        nonlocal loads
        loads += 1
        return None

    await cache.get("room", load)
    await cache.get("room", load)
    assert loads == 1
    await bus.publish(MEETING_CHANGED_TOPIC, {"external_id": "room", "internal_id": "x"})
    await cache.get("room", load)
    assert loads == 2


async def test_a_read_that_raced_with_a_change_is_not_kept() -> None:
    bus = InProcessBus()
    cache = LiveMeetingCache(bus)
    loads = 0

    async def racing_load() -> Meeting | None:
        nonlocal loads
        loads += 1
        if loads == 1:
            # A write commits while this (now stale) read is in flight.
            await bus.publish(MEETING_CHANGED_TOPIC, {"external_id": "room", "internal_id": "x"})
        return None

    await cache.get("room", racing_load)
    await cache.get("room", racing_load)
    assert loads == 2


async def test_drop_all_forgets_every_entry_and_every_read_in_flight() -> None:
    bus = InProcessBus()
    cache = LiveMeetingCache(bus)
    loads = 0

    async def load() -> Meeting | None:
        nonlocal loads
        loads += 1
        return None

    async def racing_load() -> Meeting | None:
        nonlocal loads
        loads += 1
        cache.drop_all()  # e.g. the shared bus came back while this read was in flight
        return None

    await cache.get("a", load)
    await cache.get_all(lambda: _no_meetings(load))
    assert loads == 2
    cache.drop_all()
    await cache.get("a", load)
    await cache.get_all(lambda: _no_meetings(load))
    assert loads == 4
    await cache.get("b", racing_load)
    await cache.get("b", load)
    assert loads == 6


async def _no_meetings(load: Callable[[], Awaitable[Meeting | None]]) -> tuple[Meeting, ...]:
    await load()
    return ()
