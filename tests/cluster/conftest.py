"""The cluster's shared pieces, each in its in-process and its Redis form, for contract tests
that hold both to the same behaviour; and a whole cluster of processes (`cluster`) for the tests
of what operators and integrators see."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest
from redis.asyncio import Redis

from sala.cluster.directory import Directory, LocalDirectory
from sala.cluster.nodes import LocalRegistry, NodeRegistry
from sala.cluster.redis import redis_client
from sala.cluster.redis_directory import RedisDirectory
from sala.cluster.redis_nodes import RedisRegistry
from tests.cluster.helpers import SECRET
from tests.support.cluster import LocalCluster
from tests.support.postgres import PostgresServer


@pytest.fixture
def cluster(
    tmp_path: Path, postgres_server: PostgresServer, redis_url: str
) -> Iterator[LocalCluster]:
    """Three front ends (fe1, fe2, fe3), a worker and nginx on a database of their own."""
    name = f"cluster_{uuid.uuid4().hex[:8]}"
    database = postgres_server.create_database(name)
    nodes = LocalCluster(
        tmp_path,
        database,
        redis_url,
        SECRET,
        {"SALA_WEBHOOK_ALLOW": "127.0.0.1", "SALA_RECONNECT_GRACE_AFTER_RESTART_SECONDS": "20"},
    )
    try:
        for index in (1, 2, 3):
            nodes.start_front_end(f"fe{index}")
        nodes.start_worker("worker1")
        nodes.start_proxy()
        yield nodes
    finally:
        nodes.stop()
        postgres_server.drop_database(name)


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    client = redis_client(redis_url, name="tests")
    yield client
    await client.aclose()


@pytest.fixture(params=["local", "redis"])
async def directories(request: pytest.FixtureRequest) -> AsyncIterator[Callable[[], Directory]]:
    """Makes each node's view of one "room" directory: the same object in one process, a
    client of its own per node with Redis (as separate processes have)."""
    if request.param == "local":
        shared = LocalDirectory()
        yield lambda: shared
        return
    url: str = request.getfixturevalue("redis_url")
    clients: list[Redis] = []

    def view() -> Directory:
        clients.append(redis_client(url, name="tests"))
        return RedisDirectory(clients[-1], "room")

    yield view
    for client in clients:
        await client.aclose()


@pytest.fixture(params=["local", "redis"])
async def registries(request: pytest.FixtureRequest) -> AsyncIterator[Callable[[], NodeRegistry]]:
    """As `directories`, for the node registry."""
    if request.param == "local":
        shared = LocalRegistry()
        yield lambda: shared
        return
    url: str = request.getfixturevalue("redis_url")
    clients: list[Redis] = []

    def view() -> NodeRegistry:
        clients.append(redis_client(url, name="tests"))
        return RedisRegistry(clients[-1])

    yield view
    for client in clients:
        await client.aclose()
