"""The throwaway PostgreSQL helper really starts, serves asyncpg, and leaves nothing behind."""

from __future__ import annotations

import asyncio
import os

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from .postgres import PostgresServer, postgres_available

pytestmark = pytest.mark.postgres


async def _select_one(url: str) -> int:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            return int((await conn.execute(text("select 1"))).scalar_one())
    finally:
        await engine.dispose()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_server_round_trip() -> None:
    if reason := postgres_available():
        pytest.skip(reason)

    server = PostgresServer()
    with server:
        pid = server.pid
        base_dir = server.base_dir
        assert pid is not None and _alive(pid)
        assert base_dir is not None and base_dir.is_dir()

        url = server.create_database("sala_support_check")
        assert url == f"postgresql+asyncpg://postgres@127.0.0.1:{server.port}/sala_support_check"
        assert asyncio.run(_select_one(url)) == 1

        server.drop_database("sala_support_check")
        left = server.execute("select datname from pg_database where datname like 'sala_%'")
        assert left.strip() == ""

    assert server.pid is None
    assert not _alive(pid)
    assert not base_dir.exists()


def test_rejects_unsafe_database_name() -> None:
    with pytest.raises(ValueError):
        PostgresServer._check_name('x"; drop database postgres; --')


def test_shut_down_and_start_again_keep_port_and_data() -> None:
    if reason := postgres_available():
        pytest.skip(reason)

    with PostgresServer() as server:
        url = server.create_database("sala_support_restart")
        server.execute(
            "create table kept (n int); insert into kept values (7)", "sala_support_restart"
        )
        port, pid = server.port, server.pid
        assert pid is not None

        server.shut_down()
        assert server.pid is None and not _alive(pid)
        with pytest.raises(OSError):
            asyncio.run(_select_one(url))

        server.start_again()
        assert server.port == port
        assert server.execute("select n from kept", "sala_support_restart").strip() == "7"
        assert asyncio.run(_select_one(url)) == 1
