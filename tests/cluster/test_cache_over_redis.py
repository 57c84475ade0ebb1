"""The live-meeting read cache of one process stays exact across processes over RedisBus: a
change committed elsewhere drops its entry here; while the bus's link is down every read goes
to the database; once it is back the whole cache is read again."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from redis.asyncio import Redis

from sala.cluster.redis_bus import RedisBus
from sala.events.types import MEETING_CHANGED_TOPIC
from sala.meetings.cache import LiveMeetingCache
from sala.meetings.model import Meeting


async def _until(check: Callable[[], bool], timeout_s: float = 10.0) -> None:
    async with asyncio.timeout(timeout_s):
        while not check():  # noqa: ASYNC110 - other tasks' state, polled
            await asyncio.sleep(0.02)


async def test_the_cache_follows_other_processes_and_outages(redis_url: str, redis: Redis) -> None:
    here = RedisBus(redis_url, name="here", ping_interval_s=0.5, backoff_s=(1.0, 1.0))
    there = RedisBus(redis_url, name="there")
    cache = LiveMeetingCache(here)
    loads = 0

    async def load() -> Meeting | None:
        nonlocal loads
        loads += 1
        return None

    try:
        await here.start()
        await there.start()
        assert await here.wait_ready(5)
        await cache.get("room", load)
        await cache.get("room", load)
        assert loads == 1

        # A change committed by another process drops the entry here.
        await there.publish(MEETING_CHANGED_TOPIC, {"external_id": "room", "internal_id": "x"})
        async with asyncio.timeout(5):
            while loads == 1:
                await asyncio.sleep(0.02)  # a cached read yields nothing to the bus's tasks
                await cache.get("room", load)
        assert loads == 2

        # The link drops: changes elsewhere go unheard, so nothing is served from memory.
        for client in await redis.client_list():
            if client.get("name") == "here:bus":
                await redis.client_kill_filter(_id=client["id"])
        await _until(lambda: not here.in_sync)
        await cache.get("room", load)
        await cache.get("room", load)
        assert loads == 4

        # Back: everything is read again once, then kept.
        assert await here.wait_ready(5)
        await cache.get("room", load)
        await cache.get("room", load)
        assert loads == 5
    finally:
        await here.close()
        await there.close()
