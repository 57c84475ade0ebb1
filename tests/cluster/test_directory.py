"""The lease directory's rules, held alike by LocalDirectory and RedisDirectory: one holder per
key, leases lapse when not renewed and then go to whoever claims, and a node never renews or
releases a lease it lost."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from redis.asyncio import Redis

from sala.cluster.directory import Directory
from sala.cluster.errors import ClusterUnavailable
from sala.cluster.redis import redis_client
from sala.cluster.redis_directory import RedisDirectory
from tests.support.redis import RedisServer

LONG = 60_000
SHORT = 150
"""A lease that lapses within the test: 150 ms, waited out with LAPSE."""
LAPSE = 0.4


async def test_first_claim_wins_and_the_holder_reclaims(
    directories: Callable[[], Directory],
) -> None:
    a, b = directories(), directories()
    assert await a.owner("m1") is None
    assert await a.claim("m1", "node-a", LONG) == "node-a"
    assert await b.claim("m1", "node-b", LONG) == "node-a"
    assert await b.owner("m1") == "node-a"
    assert await a.claim("m1", "node-a", LONG) == "node-a"
    assert await b.held_by("node-a") == ["m1"]
    assert await b.held_by("node-b") == []


async def test_a_lease_lapses_and_another_node_takes_it_over(
    directories: Callable[[], Directory],
) -> None:
    a, b = directories(), directories()
    assert await a.claim("m1", "node-a", SHORT) == "node-a"
    await asyncio.sleep(LAPSE)
    assert await b.owner("m1") is None
    assert await a.held_by("node-a") == []
    assert await b.claim("m1", "node-b", LONG) == "node-b"
    assert await a.owner("m1") == "node-b"


async def test_renewing_keeps_a_lease_past_its_first_ttl(
    directories: Callable[[], Directory],
) -> None:
    a, b = directories(), directories()
    await a.claim("m1", "node-a", 300)
    await a.claim("m2", "node-a", 300)
    for _ in range(3):
        await asyncio.sleep(0.15)
        assert sorted(await a.renew("node-a", ["m1", "m2"], 300)) == ["m1", "m2"]
    # 450 ms after the claims, beyond their 300 ms: still held, still refused to others.
    assert await b.claim("m1", "node-b", LONG) == "node-a"
    assert sorted(await b.held_by("node-a")) == ["m1", "m2"]


async def test_renew_refuses_a_lease_that_was_lost(directories: Callable[[], Directory]) -> None:
    a, b = directories(), directories()
    await a.claim("m1", "node-a", SHORT)
    await a.claim("m2", "node-a", LONG)
    await asyncio.sleep(LAPSE)
    assert await b.claim("m1", "node-b", LONG) == "node-b"
    # node-a's late renewal keeps what it still holds and leaves node-b's lease alone.
    assert await a.renew("node-a", ["m1", "m2", "never-claimed"], LONG) == ["m2"]
    assert await b.owner("m1") == "node-b"
    assert await b.held_by("node-a") == ["m2"]
    assert await b.held_by("node-b") == ["m1"]


async def test_release_frees_the_key_but_only_for_its_holder(
    directories: Callable[[], Directory],
) -> None:
    a, b = directories(), directories()
    await a.claim("m1", "node-a", LONG)
    await b.release("m1", "node-b")  # not node-b's: nothing happens
    assert await a.owner("m1") == "node-a"
    await a.release("m1", "node-a")
    assert await b.owner("m1") is None
    assert await a.held_by("node-a") == []
    assert await b.claim("m1", "node-b", LONG) == "node-b"


async def test_a_lost_lease_is_not_released_by_its_former_holder(
    directories: Callable[[], Directory],
) -> None:
    a, b = directories(), directories()
    await a.claim("m1", "node-a", SHORT)
    await asyncio.sleep(LAPSE)
    await b.claim("m1", "node-b", LONG)
    await a.release("m1", "node-a")
    assert await b.owner("m1") == "node-b"


async def test_namespaces_are_apart(redis: Redis) -> None:
    rooms, media = RedisDirectory(redis, "room"), RedisDirectory(redis, "media")
    await rooms.claim("m1", "frontend-1", LONG)
    assert await media.owner("m1") is None
    assert await media.claim("m1", "media-1", LONG) == "media-1"
    assert await rooms.owner("m1") == "frontend-1"
    assert await rooms.held_by("media-1") == []
    with pytest.raises(ValueError):
        RedisDirectory(redis, "room:evil")


async def test_an_unreachable_redis_raises_cluster_unavailable() -> None:
    with RedisServer() as server:
        client = redis_client(server.url, name="tests")
        directory = RedisDirectory(client, "room")
        await directory.claim("m1", "node-a", LONG)
        server.kill()
        try:
            with pytest.raises(ClusterUnavailable):
                await directory.renew("node-a", ["m1"], LONG)
            with pytest.raises(ClusterUnavailable):
                await directory.owner("m1")
        finally:
            await client.aclose()
