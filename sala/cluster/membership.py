"""This process's membership of the cluster: a heartbeat into the node registry carrying what it
measures of its own load, every HEARTBEAT_S with a TTL of NODE_TTL_S, so that a node that dies
is gone from `sala status` and from placement within that TTL.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Callable

from sala.cluster.nodes import NodeInfo, NodeRegistry
from sala.cluster.periodic import Periodic

log = logging.getLogger(__name__)

HEARTBEAT_S = 1.0
NODE_TTL_S = 4.0
"""Missing three or four heartbeats in a row means the node is gone."""


class CpuMeter:
    """This process's CPU use since the previous reading, as a fraction of one core."""

    def __init__(self) -> None:
        self._cpu = time.process_time()
        self._wall = time.monotonic()

    def read(self) -> float:
        cpu, wall = time.process_time(), time.monotonic()
        used = (cpu - self._cpu) / max(wall - self._wall, 1e-6)
        self._cpu, self._wall = cpu, wall
        return round(used, 3)


class Membership:
    def __init__(
        self,
        registry: NodeRegistry,
        node_id: str,
        role: str,
        url: str,
        load: Callable[[], dict[str, float]] | None = None,
    ) -> None:
        self.registry = registry
        self.node_id = node_id
        self._role = role
        self._url = url
        self._load = load or dict
        self._cpu = CpuMeter()
        self._loop = Periodic("sala-heartbeat", HEARTBEAT_S, self.beat, "heartbeat failed")

    def info(self) -> NodeInfo:
        load = {"cpu": self._cpu.read(), "pid": float(os.getpid()), **self._load()}
        return NodeInfo(self.node_id, self._role, self._url, load)

    async def beat(self) -> None:
        await self.registry.heartbeat(self.info(), NODE_TTL_S)

    def start(self) -> None:
        # Redis away: the node drops out of the registry until it is back, which is what the
        # others should see anyway.
        self._loop.start()

    async def stop(self) -> None:
        await self._loop.stop()
        with contextlib.suppress(Exception):
            await self.registry.remove(self.node_id)
