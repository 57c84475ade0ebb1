"""The node registry's rules, held alike by LocalRegistry and RedisRegistry: heartbeats make a
node visible with what it reported, a node that stops heartbeating disappears after its TTL,
draining outlives heartbeats, and removal is immediate."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from redis.asyncio import Redis

from sala.cluster.nodes import NodeInfo, NodeRegistry
from sala.cluster.redis_nodes import RedisRegistry


def _front(node_id: str, cpu: float = 0.1) -> NodeInfo:
    return NodeInfo(node_id, "frontend", f"http://{node_id}:8090", {"cpu": cpu, "rooms": 3.0})


async def test_heartbeats_list_live_nodes_by_role(registries: Callable[[], NodeRegistry]) -> None:
    a, b, reader = registries(), registries(), registries()
    before = int(time.time() * 1000)
    await a.heartbeat(_front("fe-b", cpu=0.5), 30)
    await b.heartbeat(
        NodeInfo("media-1", "media", "ws://10.0.0.9:8188", {"handles": 12}, media_host="10.0.1.9"),
        30,
    )
    await b.heartbeat(_front("fe-a"), 30)

    everything = await reader.nodes()
    assert [n.node_id for n in everything] == ["fe-a", "fe-b", "media-1"]
    fronts = await reader.nodes("frontend")
    assert [n.node_id for n in fronts] == ["fe-a", "fe-b"]
    seen = fronts[1]
    assert (seen.role, seen.url, seen.load, seen.draining) == (
        "frontend",
        "http://fe-b:8090",
        {"cpu": 0.5, "rooms": 3.0},
        False,
    )
    assert seen.seen_ms >= before
    assert [n.node_id for n in await reader.nodes("worker")] == []
    # A media node's address for forwarded media travels with it; other nodes have none.
    [media] = await reader.nodes("media")
    assert (media.media_host, seen.media_host) == ("10.0.1.9", "")


async def test_a_node_that_stops_heartbeating_disappears_after_its_ttl(
    registries: Callable[[], NodeRegistry],
) -> None:
    alive, dying, reader = registries(), registries(), registries()
    await alive.heartbeat(_front("fe-alive"), 30)
    await dying.heartbeat(_front("fe-dying"), 0.2)
    assert [n.node_id for n in await reader.nodes()] == ["fe-alive", "fe-dying"]
    await asyncio.sleep(0.4)
    assert [n.node_id for n in await reader.nodes()] == ["fe-alive"]
    # It comes back with its next heartbeat, carrying the newer load.
    await dying.heartbeat(_front("fe-dying", cpu=0.9), 30)
    back = await reader.nodes()
    assert [(n.node_id, n.load["cpu"]) for n in back] == [("fe-alive", 0.1), ("fe-dying", 0.9)]


async def test_repeated_heartbeats_keep_a_node_past_its_ttl(
    registries: Callable[[], NodeRegistry],
) -> None:
    node, reader = registries(), registries()
    for _ in range(4):
        await node.heartbeat(_front("fe-1"), 0.3)
        await asyncio.sleep(0.1)
    assert [n.node_id for n in await reader.nodes()] == ["fe-1"]


async def test_draining_survives_heartbeats_until_lifted(
    registries: Callable[[], NodeRegistry],
) -> None:
    node, operator = registries(), registries()
    await node.heartbeat(_front("fe-1"), 30)
    await operator.set_draining("fe-1", True)
    await node.heartbeat(_front("fe-1"), 30)  # the node itself does not know it drains
    assert [(n.node_id, n.draining) for n in await operator.nodes()] == [("fe-1", True)]
    await operator.set_draining("fe-1", False)
    assert [(n.node_id, n.draining) for n in await operator.nodes()] == [("fe-1", False)]


async def test_remove_forgets_a_node_at_once(registries: Callable[[], NodeRegistry]) -> None:
    node, operator = registries(), registries()
    await node.heartbeat(_front("fe-1"), 30)
    await node.heartbeat(_front("fe-2"), 30)
    await operator.set_draining("fe-1", True)
    await operator.remove("fe-1")
    assert [n.node_id for n in await operator.nodes()] == ["fe-2"]
    await node.heartbeat(_front("fe-1"), 30)  # back as a new node: not draining any more
    assert [(n.node_id, n.draining) for n in await operator.nodes()] == [
        ("fe-1", False),
        ("fe-2", False),
    ]


async def test_lapsed_nodes_are_pruned_from_the_listing_set(redis: Redis) -> None:
    registry = RedisRegistry(redis)
    await registry.heartbeat(_front("fe-1"), 0.1)
    await registry.heartbeat(_front("fe-2"), 30)
    await asyncio.sleep(0.3)
    assert [n.node_id for n in await registry.nodes()] == ["fe-2"]
    assert await redis.smembers("sala:nodes") == {"fe-2"}


async def test_a_heartbeat_written_before_media_hosts_existed_still_reads(redis: Redis) -> None:
    """A node of the previous release (no `media_host` in its record) stays visible during an
    upgrade, as a node that relays nothing."""
    old = '{"node_id":"media-7","role":"media","url":"ws://10.0.0.7:8188","load":{},"seen_ms":1}'
    await redis.set("sala:node:media-7", old, px=30_000)
    await redis.sadd("sala:nodes", "media-7")
    [node] = await RedisRegistry(redis).nodes("media")
    assert (node.node_id, node.url, node.media_host) == ("media-7", "ws://10.0.0.7:8188", "")
