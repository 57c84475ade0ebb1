"""Chooses the cluster's pieces from the settings: Redis-backed ones when SALA_REDIS_URL is set,
none at all for a single process (which uses the in-process bus and owns everything)."""

from __future__ import annotations

from dataclasses import dataclass, field

from redis.asyncio import Redis

from sala.cluster.directory import Directory
from sala.cluster.nodes import NodeRegistry
from sala.cluster.redis import redis_client
from sala.cluster.redis_bus import RedisBus
from sala.cluster.redis_directory import RedisDirectory
from sala.cluster.redis_nodes import RedisRegistry
from sala.config import Settings
from sala.events.bus import Bus


@dataclass
class Cluster:
    node_id: str
    bus: Bus
    registry: NodeRegistry
    rooms: Directory
    """Leases "room": meeting → the front end that owns its room (room/ownership.py)."""
    media: Directory
    """Leases "media": meeting → the media node carrying it (media/nodes.py)."""
    _redis_bus: RedisBus | None = field(default=None, repr=False)
    _client: Redis | None = field(default=None, repr=False)

    async def start(self) -> None:
        """Start listening on the bus (returns at once; Redis may still be unreachable)."""
        if self._redis_bus is not None:
            await self._redis_bus.start()

    async def close(self) -> None:
        if self._redis_bus is not None:
            await self._redis_bus.close()
        if self._client is not None:
            await self._client.aclose()


def open_cluster(settings: Settings) -> Cluster | None:
    if settings.redis_url is None:
        return None
    node_id = settings.cluster_node_id
    bus = RedisBus(settings.redis_url, name=node_id)
    client = redis_client(settings.redis_url, name=node_id)
    return Cluster(
        node_id,
        bus,
        RedisRegistry(client),
        RedisDirectory(client, "room"),
        RedisDirectory(client, "media"),
        _redis_bus=bus,
        _client=client,
    )


@dataclass
class RegistryOnly:
    """The registry alone, for a media node (it needs no bus and no database)."""

    registry: NodeRegistry
    client: Redis

    async def close(self) -> None:
        await self.client.aclose()


def open_registry(settings: Settings) -> RegistryOnly:
    if settings.redis_url is None:
        raise ValueError("a media node needs SALA_REDIS_URL")
    client = redis_client(settings.redis_url, name=settings.cluster_node_id)
    return RegistryOnly(RedisRegistry(client), client)
