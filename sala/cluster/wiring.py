"""The cluster pieces one process uses, built from the settings: with `redis_url`, the Redis bus,
node registry and lease directories; without it, nothing (a single process needs none).
"""

from __future__ import annotations

import socket
from dataclasses import dataclass

from sala.cluster.directory import Directory
from sala.cluster.nodes import NodeRegistry
from sala.config import Settings
from sala.events.bus import Bus


@dataclass
class Cluster:
    node_id: str
    bus: Bus
    registry: NodeRegistry
    rooms: Directory
    """Meeting → the front end owning its room (room/ownership.py)."""
    media: Directory
    """Meeting → the media node carrying its media (media/placement.py)."""

    async def close(self) -> None:
        close = getattr(self.bus, "close", None)
        if close is not None:
            await close()


def default_node_id(settings: Settings) -> str:
    return f"{socket.gethostname()}-{settings.port}"


def open_cluster(settings: Settings) -> Cluster | None:
    if not settings.redis_url:
        return None
    from sala.cluster.redis_bus import RedisBus
    from sala.cluster.redis_directory import RedisDirectory
    from sala.cluster.redis_nodes import RedisRegistry

    node_id = settings.node_id or default_node_id(settings)
    return Cluster(
        node_id=node_id,
        bus=RedisBus(settings.redis_url),
        registry=RedisRegistry(settings.redis_url),
        rooms=RedisDirectory(settings.redis_url, namespace="room"),
        media=RedisDirectory(settings.redis_url, namespace="media"),
    )
