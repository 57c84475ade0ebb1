"""The lease directory in Redis (or Valkey), shared by every sala process of a cluster.

A lease is the key `<prefix>lease:<namespace>:<key>` holding the node ID, with a time to live
(PX), so it lapses by itself when its holder stops renewing, by Redis' clock. Claim, renew and
release are Lua scripts, each one atomic compare-and-set on the holder: a node never extends or
drops a lease that lapsed and went to another node, even if its renewal arrives late.

`held_by` reads a per-node index, the set `<prefix>held:<namespace>:<node_id>`, kept by the same
scripts and living at least as long as the leases it names; names whose lease lapsed or moved
are pruned from it when read.
"""

from __future__ import annotations

import re
from typing import Any, cast

from redis.asyncio import Redis

from sala.cluster.redis import DEFAULT_PREFIX, unavailable_as_cluster_error

NAMESPACE = re.compile(r"[A-Za-z0-9_.\-]{1,64}")

# The index lives as long as the longest lease it names: only ever lengthened.
_KEEP_INDEX = """
local function keep_index(index, ttl)
  if redis.call('PTTL', index) < ttl then redis.call('PEXPIRE', index, ttl) end
end
"""

# KEYS: lease, index of the claimer. ARGV: node, ttl_ms, key. Returns the holder after it.
_CLAIM = (
    _KEEP_INDEX
    + """
local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] then return holder end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('SADD', KEYS[2], ARGV[3])
keep_index(KEYS[2], tonumber(ARGV[2]))
return ARGV[1]
"""
)

# KEYS: index of the node, then the leases. ARGV: node, ttl_ms, then the keys. Returns the
# positions (1-based) of the leases the node still held, now extended.
_RENEW = (
    _KEEP_INDEX
    + """
local kept = {}
for i = 2, #KEYS do
  if redis.call('GET', KEYS[i]) == ARGV[1] then
    redis.call('PEXPIRE', KEYS[i], ARGV[2])
    redis.call('SADD', KEYS[1], ARGV[i + 1])
    kept[#kept + 1] = i - 1
  end
end
if #kept > 0 then keep_index(KEYS[1], tonumber(ARGV[2])) end
return kept
"""
)

# KEYS: lease, index of the node. ARGV: node, key.
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
redis.call('SREM', KEYS[2], ARGV[2])
return 0
"""

# KEYS: index of the node, then the leases it names. ARGV: node, then the keys. Returns the
# keys still held; prunes the others from the index.
_HELD = """
local held = {}
for i = 2, #KEYS do
  if redis.call('GET', KEYS[i]) == ARGV[1] then
    held[#held + 1] = ARGV[i]
  else
    redis.call('SREM', KEYS[1], ARGV[i])
  end
end
return held
"""


class RedisDirectory:
    """Implements `sala.cluster.directory.Directory` for one namespace ("room", "media");
    raises ClusterUnavailable when Redis cannot be reached."""

    def __init__(self, client: Redis, namespace: str, *, prefix: str = DEFAULT_PREFIX) -> None:
        if not NAMESPACE.fullmatch(namespace):
            raise ValueError(f"namespace must match {NAMESPACE.pattern}: {namespace!r}")
        self._client = client
        self._leases = f"{prefix}lease:{namespace}:"
        self._index = f"{prefix}held:{namespace}:"
        self._claim = client.register_script(_CLAIM)
        self._renew = client.register_script(_RENEW)
        self._release = client.register_script(_RELEASE)
        self._held = client.register_script(_HELD)

    async def owner(self, key: str) -> str | None:
        with unavailable_as_cluster_error("lease owner"):
            return cast(str | None, await self._client.get(self._leases + key))

    async def claim(self, key: str, node_id: str, ttl_ms: int) -> str:
        _check_ttl(ttl_ms)
        with unavailable_as_cluster_error("claim lease"):
            holder = await self._claim(
                keys=[self._leases + key, self._index + node_id], args=[node_id, ttl_ms, key]
            )
        return str(holder)

    async def renew(self, node_id: str, keys: list[str], ttl_ms: int) -> list[str]:
        _check_ttl(ttl_ms)
        if not keys:
            return []
        with unavailable_as_cluster_error("renew leases"):
            kept: list[Any] = await self._renew(
                keys=[self._index + node_id, *(self._leases + key for key in keys)],
                args=[node_id, ttl_ms, *keys],
            )
        return [keys[int(position) - 1] for position in kept]

    async def release(self, key: str, node_id: str) -> None:
        with unavailable_as_cluster_error("release lease"):
            await self._release(
                keys=[self._leases + key, self._index + node_id], args=[node_id, key]
            )

    async def held_by(self, node_id: str) -> list[str]:
        with unavailable_as_cluster_error("leases held"):
            index = self._index + node_id
            names = sorted(map(str, await self._client.smembers(index)))
            if not names:
                return []
            held: list[Any] = await self._held(
                keys=[index, *(self._leases + name for name in names)], args=[node_id, *names]
            )
        return [str(name) for name in held]


def _check_ttl(ttl_ms: int) -> None:
    if ttl_ms < 1:
        raise ValueError("ttl_ms must be at least 1")
