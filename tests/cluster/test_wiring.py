"""The settings choose the cluster's pieces: without SALA_REDIS_URL none (one process owns
everything); with it, two processes configured alike share the bus, the registry and the
leases."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from sala.cluster.nodes import NodeInfo
from sala.cluster.wiring import Cluster, open_cluster
from sala.config import load_settings
from sala.events.bus import InProcessBus
from sala.services import build_foundation


async def test_without_redis_there_is_no_cluster(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path, secret="s", port=8093)
    assert open_cluster(settings) is None
    assert settings.cluster_node_id.endswith(":8093")
    base = build_foundation(settings)
    assert isinstance(base.bus.inner, InProcessBus)
    await base.close()


def build_cluster(settings: object) -> Cluster:
    cluster = open_cluster(settings)  # type: ignore[arg-type]
    assert cluster is not None
    return cluster


async def test_with_redis_two_processes_share_bus_registry_and_leases(
    tmp_path: Path, redis_url: str
) -> None:
    one = build_cluster(
        load_settings(data_dir=tmp_path, secret="s", redis_url=redis_url, node_id="fe-1")
    )
    two = build_cluster(
        load_settings(data_dir=tmp_path, secret="s", redis_url=redis_url, node_id="fe-2")
    )
    heard: list[dict[str, Any]] = []
    arrived = asyncio.Event()

    async def handler(_topic: str, message: dict[str, Any]) -> None:
        heard.append(message)
        arrived.set()

    two.bus.subscribe("t", handler)
    try:
        await one.start()
        await two.start()
        async with asyncio.timeout(5):
            while not two.bus.in_sync:  # noqa: ASYNC110 - the bus's own task connects
                await asyncio.sleep(0.02)
        await one.bus.publish("t", {"from": "fe-1"})
        async with asyncio.timeout(5):
            await arrived.wait()
        assert heard == [{"from": "fe-1"}]

        await one.registry.heartbeat(NodeInfo("fe-1", "frontend", "http://10.0.0.1:8090"), 10)
        assert [n.node_id for n in await two.registry.nodes("frontend")] == ["fe-1"]
        assert await one.rooms.claim("m1", "fe-1", 10_000) == "fe-1"
        assert await two.rooms.claim("m1", "fe-2", 10_000) == "fe-1"
        assert await two.media.claim("m1", "media-9", 10_000) == "media-9"
    finally:
        await one.close()
        await two.close()
