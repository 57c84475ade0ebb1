"""Chooses the cluster's pieces from the settings: in-process ones for a single process (no
SALA_REDIS_URL), Redis-backed ones otherwise. The one place sala/app.py asks."""

from __future__ import annotations

from dataclasses import dataclass, field

from redis.asyncio import Redis

from sala.cluster.directory import Directory, LocalDirectory
from sala.cluster.nodes import LocalRegistry, NodeRegistry
from sala.cluster.redis import redis_client
from sala.cluster.redis_bus import RedisBus
from sala.cluster.redis_directory import RedisDirectory
from sala.cluster.redis_nodes import RedisRegistry
from sala.config import Settings
from sala.events.bus import Bus, InProcessBus


@dataclass
class Cluster:
    node_id: str
    bus: Bus
    registry: NodeRegistry
    rooms: Directory
    """Leases "room": meeting → the front end that owns its room."""
    media: Directory
    """Leases "media": meeting → the media node carrying it."""
    _redis_bus: RedisBus | None = field(default=None, repr=False)
    _client: Redis | None = field(default=None, repr=False)

    @property
    def shared(self) -> bool:
        """True when the pieces are shared with other processes through Redis."""
        return self._client is not None

    async def start(self) -> None:
        """Start listening on the bus (returns at once; Redis may still be unreachable)."""
        if self._redis_bus is not None:
            await self._redis_bus.start()

    async def close(self) -> None:
        if self._redis_bus is not None:
            await self._redis_bus.close()
        if self._client is not None:
            await self._client.aclose()


def build_cluster(settings: Settings) -> Cluster:
    node_id = settings.cluster_node_id
    if settings.redis_url is None:
        return Cluster(node_id, InProcessBus(), LocalRegistry(), LocalDirectory(), LocalDirectory())
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
