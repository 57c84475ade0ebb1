"""The node registry in Redis (or Valkey), shared by every sala process of a cluster.

Each heartbeat writes `<prefix>node:<node_id>` (the NodeInfo as JSON) with a time to live, so a
node that stops heartbeating drops out by itself when its TTL lapses, by Redis' clock: the nodes'
clocks need not agree. The set `<prefix>nodes` names the nodes for listing (no SCAN over a shared
keyspace); names whose key has lapsed are pruned from it when listed. Draining is a set of its
own, `<prefix>nodes:draining`, so an operator's `set_draining` survives the node's next
heartbeat, as in LocalRegistry.
"""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from typing import Any

from redis.asyncio import Redis

from sala.cluster.nodes import NodeInfo, now_ms
from sala.cluster.redis import DEFAULT_PREFIX, unavailable_as_cluster_error

log = logging.getLogger(__name__)

# KEYS[1]: the set of names; KEYS[2..]: node keys; ARGV: their names. Atomic, so a node that
# heartbeats again between the listing and the pruning is not forgotten.
_PRUNE = """
for i = 2, #KEYS do
  if redis.call('EXISTS', KEYS[i]) == 0 then
    redis.call('SREM', KEYS[1], ARGV[i - 1])
  end
end
return 0
"""


class RedisRegistry:
    """Implements `sala.cluster.nodes.NodeRegistry`; raises ClusterUnavailable when Redis
    cannot be reached."""

    def __init__(self, client: Redis, *, prefix: str = DEFAULT_PREFIX) -> None:
        self._client = client
        self._names = f"{prefix}nodes"
        self._draining = f"{prefix}nodes:draining"
        self._node_prefix = f"{prefix}node:"
        self._prune = client.register_script(_PRUNE)

    async def heartbeat(self, info: NodeInfo, ttl_s: float) -> None:
        ttl_ms = int(ttl_s * 1000)
        if ttl_ms < 1:
            raise ValueError("ttl_s must be at least a millisecond")
        payload = json.dumps(_encode(replace(info, seen_ms=now_ms())), separators=(",", ":"))
        with unavailable_as_cluster_error("heartbeat"):
            async with self._client.pipeline(transaction=True) as pipe:
                pipe.set(self._node_prefix + info.node_id, payload, px=ttl_ms)
                pipe.sadd(self._names, info.node_id)
                await pipe.execute()

    async def nodes(self, role: str | None = None) -> list[NodeInfo]:
        with unavailable_as_cluster_error("list nodes"):
            names = sorted(map(str, await self._client.smembers(self._names)))
            if not names:
                return []
            async with self._client.pipeline(transaction=False) as pipe:
                pipe.mget([self._node_prefix + name for name in names])
                pipe.smembers(self._draining)
                values, draining = await pipe.execute()
            draining = set(map(str, draining))
            lapsed = [name for name, value in zip(names, values, strict=True) if value is None]
            if lapsed:
                keys = [self._names, *(self._node_prefix + name for name in lapsed)]
                await self._prune(keys=keys, args=lapsed)
        found = []
        for name, value in zip(names, values, strict=True):
            if value is None:
                continue
            info = _decode(value)
            if info is None:
                log.warning("unreadable heartbeat of node %r ignored", name)
                continue
            if role is None or info.role == role:
                found.append(replace(info, draining=name in draining))
        return found

    async def remove(self, node_id: str) -> None:
        with unavailable_as_cluster_error("remove node"):
            async with self._client.pipeline(transaction=True) as pipe:
                pipe.delete(self._node_prefix + node_id)
                pipe.srem(self._names, node_id)
                pipe.srem(self._draining, node_id)
                await pipe.execute()

    async def set_draining(self, node_id: str, draining: bool) -> None:
        with unavailable_as_cluster_error("set draining"):
            if draining:
                await self._client.sadd(self._draining, node_id)
            else:
                await self._client.srem(self._draining, node_id)


def _encode(info: NodeInfo) -> dict[str, Any]:
    # draining lives in its own set (see the module docstring), not in the heartbeat.
    return {
        "node_id": info.node_id,
        "role": info.role,
        "url": info.url,
        "load": info.load,
        "seen_ms": info.seen_ms,
        "media_host": info.media_host,
    }


def _decode(value: str) -> NodeInfo | None:
    try:
        data = json.loads(value)
        return NodeInfo(
            node_id=str(data["node_id"]),
            role=str(data["role"]),
            url=str(data["url"]),
            load={str(k): float(v) for k, v in data["load"].items()},
            seen_ms=int(data["seen_ms"]),
            # Heartbeats written before media nodes announced it have none.
            media_host=str(data.get("media_host") or ""),
        )
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
