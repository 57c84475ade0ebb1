"""RedisBus between processes: two buses stand for two sala processes on one real Redis.

Messages reach the other process once and the publishing one once; topics are subscribed in
Redis only while a handler wants them; a Redis restart or a dropped link is survived, with the
resync callbacks run; publishing while Redis is gone does not raise."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from redis.asyncio import Redis

from sala.cluster.redis_bus import RedisBus
from tests.support.redis import RedisServer

READY_S = 5.0
FAST = {"ping_interval_s": 0.5, "backoff_s": (0.05, 0.2)}


class Inbox:
    """Records what a handler received; waits (bounded) for something to arrive."""

    def __init__(self) -> None:
        self.got: list[tuple[str, dict[str, Any]]] = []
        self._arrived = asyncio.Event()

    async def __call__(self, topic: str, message: dict[str, Any]) -> None:
        self.got.append((topic, message))
        self._arrived.set()

    async def wait_for(self, count: int, timeout_s: float = 5.0) -> None:
        async with asyncio.timeout(timeout_s):
            while len(self.got) < count:
                self._arrived.clear()
                await self._arrived.wait()


async def _until(check: Callable[[], bool], timeout_s: float = 10.0) -> None:
    # Polls: what is awaited happens in other tasks (and in Redis) that signal nothing.
    async with asyncio.timeout(timeout_s):
        while not check():  # noqa: ASYNC110
            await asyncio.sleep(0.02)


@pytest.fixture
async def buses(redis_url: str) -> AsyncIterator[Callable[[], Awaitable[RedisBus]]]:
    made: list[RedisBus] = []

    async def make() -> RedisBus:
        bus = RedisBus(redis_url, **FAST)  # type: ignore[arg-type]
        made.append(bus)
        await bus.start()
        return bus

    yield make
    for bus in made:
        await bus.close()


async def test_two_processes_exchange_messages_by_topic_and_everything(
    buses: Callable[[], Awaitable[RedisBus]],
) -> None:
    a, b = await buses(), await buses()
    a_rooms, b_chat, b_all = Inbox(), Inbox(), Inbox()
    a.subscribe("room.m1", a_rooms)
    b.subscribe("chat", b_chat)
    b.subscribe("*", b_all)
    assert await a.wait_ready(READY_S) and await b.wait_ready(READY_S)

    await a.publish("chat", {"text": "hello", "n": 1})
    await b_chat.wait_for(1)
    await b.publish("room.m1", {"to": None, "message": {"type": "user.joined"}})
    await a_rooms.wait_for(1)
    await b_all.wait_for(2)

    assert b_chat.got == [("chat", {"text": "hello", "n": 1})]
    assert a_rooms.got == [("room.m1", {"to": None, "message": {"type": "user.joined"}})]
    # "*" sees every topic, from this process and the other, once each.
    assert sorted(t for t, _ in b_all.got) == ["chat", "room.m1"]


async def test_own_messages_are_delivered_once_and_at_once(
    buses: Callable[[], Awaitable[RedisBus]],
) -> None:
    a, b = await buses(), await buses()
    mine, everything, theirs, marker = Inbox(), Inbox(), Inbox(), Inbox()
    a.subscribe("t", mine)
    a.subscribe("*", everything)
    b.subscribe("t", theirs)
    a.subscribe("marker", marker)
    assert await a.wait_ready(READY_S) and await b.wait_ready(READY_S)

    await a.publish("t", {"n": 1})
    # Delivered before publish returned, without waiting for Redis.
    assert mine.got == [("t", {"n": 1})]
    assert everything.got == [("t", {"n": 1})]
    await theirs.wait_for(1)
    # Redis delivers in order: once b's marker is in, a's echo of "t" was read (and skipped).
    await b.publish("marker", {})
    await marker.wait_for(1)
    await everything.wait_for(2)
    assert mine.got == [("t", {"n": 1})]
    assert [t for t, _ in everything.got] == ["t", "marker"]
    assert theirs.got == [("t", {"n": 1})]


async def test_topics_are_subscribed_in_redis_only_while_wanted(
    buses: Callable[[], Awaitable[RedisBus]], redis: Redis
) -> None:
    a, b = await buses(), await buses()
    first, second, marker = Inbox(), Inbox(), Inbox()
    stop_first = b.subscribe("room.m1", first)
    stop_second = b.subscribe("room.m1", second)
    b.subscribe("marker", marker)
    assert await b.wait_ready(READY_S)
    assert await redis.pubsub_numsub("sala:bus:room.m1", "sala:bus:room.m2") == [
        ("sala:bus:room.m1", 1),
        ("sala:bus:room.m2", 0),
    ]
    assert await redis.pubsub_numpat() == 0

    stop_first()
    await a.publish("room.m1", {"n": 1})
    await second.wait_for(1)
    assert first.got == []

    stop_second()
    await a.publish("room.m1", {"n": 2})
    await a.publish("marker", {})
    await marker.wait_for(1)
    assert second.got == [("room.m1", {"n": 1})]
    await _until_numsub(redis, "sala:bus:room.m1", 0)

    stop_all = b.subscribe("*", Inbox())
    assert await b.wait_ready(READY_S)
    assert await redis.pubsub_numpat() == 1
    stop_all()
    await _until_async(lambda: _numpat_is(redis, 0))


async def _numpat_is(redis: Redis, count: int) -> bool:
    return int(await redis.pubsub_numpat()) == count


async def _until_numsub(redis: Redis, channel: str, count: int) -> None:
    async def check() -> bool:
        return list(await redis.pubsub_numsub(channel)) == [(channel, count)]

    await _until_async(check)


async def _until_async(check: Callable[[], Awaitable[bool]], timeout_s: float = 5.0) -> None:
    async with asyncio.timeout(timeout_s):
        while not await check():  # noqa: ASYNC110 - Redis' state, polled
            await asyncio.sleep(0.02)


async def test_a_failing_handler_breaks_neither_publisher_nor_the_others(
    buses: Callable[[], Awaitable[RedisBus]], caplog: pytest.LogCaptureFixture
) -> None:
    a, b = await buses(), await buses()

    async def broken(_topic: str, _message: dict[str, Any]) -> None:
        raise RuntimeError("subscriber bug")

    here, there = Inbox(), Inbox()
    a.subscribe("t", broken)
    a.subscribe("t", here)
    b.subscribe("t", broken)
    b.subscribe("t", there)
    assert await a.wait_ready(READY_S) and await b.wait_ready(READY_S)
    with caplog.at_level(logging.ERROR, logger="sala.cluster.redis_bus"):
        await a.publish("t", {"n": 1})
        await a.publish("t", {"n": 2})
        await there.wait_for(2)
        # Each process logged its broken handler's two failures.
        await _until(
            lambda: sum("subscriber failed" in r.getMessage() for r in caplog.records) == 4
        )
    assert [m["n"] for _, m in here.got] == [1, 2]
    assert [m["n"] for _, m in there.got] == [1, 2]


async def test_redis_restart_messages_flow_again_after_a_resync() -> None:
    with RedisServer() as server:
        a = RedisBus(server.url, **FAST)  # type: ignore[arg-type]
        b = RedisBus(server.url, **FAST)  # type: ignore[arg-type]
        resyncs = {"a": 0, "b": 0}

        async def resynced_a() -> None:
            resyncs["a"] += 1

        async def resynced_b() -> None:
            resyncs["b"] += 1

        a.on_resync(resynced_a)
        b.on_resync(resynced_b)
        got = Inbox()
        b.subscribe("t", got)
        mine = Inbox()
        a.subscribe("t", mine)
        try:
            await a.start()
            await b.start()
            assert await a.wait_ready(READY_S) and await b.wait_ready(READY_S)
            assert resyncs == {"a": 1, "b": 1}  # the first connection counts: nothing missed

            server.kill()
            await _until(lambda: not a.in_sync and not b.in_sync)
            # Redis is gone: publishing neither raises nor waits, and this process still hears it.
            async with asyncio.timeout(1):
                await a.publish("t", {"n": "while down"})
            assert mine.got == [("t", {"n": "while down"})]

            server.restart()
            assert await a.wait_ready(10) and await b.wait_ready(10)
            # Each resynchronised on reconnecting (b may also hear a's notice that it dropped a
            # message, if b was back first: one more resync, never one fewer).
            await _until(lambda: resyncs["a"] == 2 and resyncs["b"] >= 2)
            await a.publish("t", {"n": "after"})
            await got.wait_for(1)
            assert got.got == [("t", {"n": "after"})]  # what was published while down is gone
        finally:
            await a.close()
            await b.close()


async def test_a_process_whose_own_link_dropped_resyncs_and_tells_the_others(
    redis_url: str, redis: Redis
) -> None:
    # a reconnects slowly, so a message published during its outage is dropped for sure.
    a = RedisBus(redis_url, name="proc-a", ping_interval_s=0.5, backoff_s=(1.0, 1.0))
    b = RedisBus(redis_url, name="proc-b", **FAST)  # type: ignore[arg-type]
    resyncs = {"a": 0, "b": 0}

    async def resynced_a() -> None:
        resyncs["a"] += 1

    async def resynced_b() -> None:
        resyncs["b"] += 1

    a.on_resync(resynced_a)
    b.on_resync(resynced_b)
    got = Inbox()
    b.subscribe("t", got)
    try:
        await a.start()
        await b.start()
        assert await a.wait_ready(READY_S) and await b.wait_ready(READY_S)
        assert resyncs == {"a": 1, "b": 1}

        killed = await _kill_clients(redis, "proc-a:bus")
        assert killed >= 1
        await _until(lambda: not a.in_sync)
        await a.publish("t", {"n": "lost"})  # b never hears this one...
        assert await a.wait_ready(READY_S)
        # ...so a's notice, once it is back, makes b read the database again.
        await _until(lambda: resyncs == {"a": 2, "b": 2})
        assert b.in_sync
        await a.publish("t", {"n": "after"})
        await got.wait_for(1)
        assert got.got == [("t", {"n": "after"})]
    finally:
        await a.close()
        await b.close()


async def _kill_clients(redis: Redis, name: str) -> int:
    killed = 0
    for client in await redis.client_list():
        if client.get("name") == name:
            await redis.client_kill_filter(_id=client["id"])
            killed += 1
    return killed


async def test_a_message_that_is_not_json_still_reaches_this_process(
    buses: Callable[[], Awaitable[RedisBus]], caplog: pytest.LogCaptureFixture
) -> None:
    a = await buses()
    here = Inbox()
    a.subscribe("t", here)
    with caplog.at_level(logging.ERROR, logger="sala.cluster.redis_bus"):
        await a.publish("t", {"when": object()})
    assert len(here.got) == 1
    assert "not JSON" in caplog.text


async def test_close_stops_listening(
    buses: Callable[[], Awaitable[RedisBus]], redis: Redis
) -> None:
    a = await buses()
    a.subscribe("t", Inbox())
    assert await a.wait_ready(READY_S)
    assert await redis.pubsub_numsub("sala:bus:t") == [("sala:bus:t", 1)]
    await a.close()
    assert not a.in_sync
    await _until_numsub(redis, "sala:bus:t", 0)
