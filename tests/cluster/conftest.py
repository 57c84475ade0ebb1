"""The cluster's shared pieces, each in its in-process and its Redis form, for contract tests
that hold both to the same behaviour."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest
from redis.asyncio import Redis

from sala.cluster.directory import Directory, LocalDirectory
from sala.cluster.nodes import LocalRegistry, NodeRegistry
from sala.cluster.redis import redis_client
from sala.cluster.redis_directory import RedisDirectory
from sala.cluster.redis_nodes import RedisRegistry


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
